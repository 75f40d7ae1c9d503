"""The back office's one admin site: its index, the need dashboard and the staff login.

Installed as the default site by core.apps.ProBonoAdminConfig, so `admin.site` and
`@admin.register` in every app reach this class; nothing else changes the site's URLs or login.
"""

from django.contrib import admin
from django.urls import path

from core.dashboard import dashboard_view
from core.roles import COORDINATOR_PERMISSION
from core.selectors import coordinator_worklist
from core.staff_security import StaffAuthenticationForm


class ProBonoAdminSite(admin.AdminSite):
    site_header = "Pro Bono Match"
    site_title = "Pro Bono Match"
    index_title = "Coordinator back office"
    # The admin login asks for the TOTP code (SEC-9); core.staff_security also throttles it (SEC-6).
    login_form = StaffAuthenticationForm
    login_template = "admin/staff_login.html"
    # The index is the coordinator's work list (queues, the last run, recent activity) above the
    # usual list of models; staff without the coordinators' permission see the list only.
    index_template = "admin/coordinator_home.html"
    # No model list down the side of every page: it took 280 px from the review queue, whose
    # columns then scrolled sideways at 1280 px. The home page and the breadcrumbs lead everywhere.
    enable_nav_sidebar = False

    def get_urls(self):
        # /admin/dashboard/ (name "admin:dashboard"): behind the admin login, coordinators only.
        dashboard = path("dashboard/", self.admin_view(self.dashboard_view), name="dashboard")
        return [dashboard, *super().get_urls()]

    def index(self, request, extra_context=None):
        extra = dict(extra_context or {})
        if request.user.has_perm(COORDINATOR_PERMISSION):
            extra["worklist"] = coordinator_worklist()
        return super().index(request, extra)

    def dashboard_view(self, request):
        return dashboard_view(request, self)
