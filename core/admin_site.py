"""The back office's one admin site: its index, the need dashboard and the staff login.

Installed as the default site by core.apps.ProBonoAdminConfig, so `admin.site` and
`@admin.register` in every app reach this class; nothing else changes the site's URLs or login.
"""

from django.contrib import admin
from django.urls import path

from core.dashboard import dashboard_view
from core.staff_security import StaffAuthenticationForm


class ProBonoAdminSite(admin.AdminSite):
    site_header = "Pro Bono Match"
    site_title = "Pro Bono Match"
    index_title = "Coordinator back office"
    # The admin login asks for the TOTP code (SEC-9); core.staff_security also throttles it (SEC-6).
    login_form = StaffAuthenticationForm
    login_template = "admin/staff_login.html"

    def get_urls(self):
        # /admin/dashboard/ (name "admin:dashboard"): behind the admin login, coordinators only.
        dashboard = path("dashboard/", self.admin_view(self.dashboard_view), name="dashboard")
        return [dashboard, *super().get_urls()]

    def dashboard_view(self, request):
        return dashboard_view(request, self)
