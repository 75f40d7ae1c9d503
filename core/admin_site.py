"""The back office's one admin site: its index, the need dashboard and the staff login.

Installed as the default site by core.apps.ProBonoAdminConfig, so `admin.site` and
`@admin.register` in every app reach this class; nothing else changes the site's URLs or login.
"""

from django.contrib import admin, messages
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.http import urlencode
from django.views.decorators.cache import never_cache

from core.roles import COORDINATOR_PERMISSION, staff_has_totp
from core.selectors import coordinator_worklist
from core.staff_enrollment import staff_enrollment_begin, staff_enrollment_user
from core.staff_security import StaffAuthenticationForm

THROTTLED = "too_many_login_attempts"  # allauth's error code once "login_failed" is over


class ProBonoAdminSite(admin.AdminSite):
    site_header = "Pro Bono Match"
    site_title = "Pro Bono Match"
    index_title = "Coordinator back office"
    # Email, password and authenticator code checked together, throttled (SEC-6, SEC-9).
    login_form = StaffAuthenticationForm
    login_template = "admin/staff_login.html"
    # The index is the coordinator's work list (queues, the last run, recent activity) above the
    # usual list of models; staff without the coordinators' permission see the list only.
    index_template = "admin/coordinator_home.html"
    # No model list down the side of every page: it took 280 px from the review queue, whose
    # columns then scrolled sideways at 1280 px. The home page and the breadcrumbs lead everywhere.
    enable_nav_sidebar = False

    def has_permission(self, request):
        """Active staff with an authenticator (SEC-9): a password alone never opens the admin."""
        return super().has_permission(request) and staff_has_totp(request.user)

    def get_urls(self):
        # /admin/dashboard/ (name "admin:dashboard"): behind the admin login, coordinators only.
        dashboard = path("dashboard/", self.admin_view(self.dashboard_view), name="dashboard")
        # The e-mailed link that lets new staff set up their authenticator (core.staff_security).
        enrollment = path(
            "authenticator/<str:token>/", never_cache(self.enrollment_view), name="staff_enrollment"
        )
        return [dashboard, enrollment, *super().get_urls()]

    def login(self, request, extra_context=None):
        response = super().login(request, extra_context)
        form = getattr(response, "context_data", {}).get("form")
        if form is not None and form.has_error("__all__", THROTTLED):
            response.status_code = 429
        return response

    def index(self, request, extra_context=None):
        extra = dict(extra_context or {})
        if request.user.has_perm(COORDINATOR_PERMISSION):
            extra["worklist"] = coordinator_worklist()
        return super().index(request, extra)

    def dashboard_view(self, request):
        # Imported here: the dashboard's selectors (volunteers', interpreters', the board's) are
        # request-time code that every process loading the admin (commands, the worker) skips.
        from core.dashboard import dashboard_view

        return dashboard_view(request, self)

    def enrollment_view(self, request, token):
        """GET shows a button (mail scanners fetch links); POST spends the link and signs in."""
        user = staff_enrollment_user(token=token)
        if user is None:
            messages.error(request, "This link has expired or was used. Sign in to get another.")
            return redirect(_admin_login_url())
        if request.method == "POST":
            staff_enrollment_begin(request, user=user)
            query = urlencode({"next": reverse("admin:index")})
            return redirect(f"{reverse('mfa_activate_totp')}?{query}")
        context = {**self.each_context(request), "title": "Set up your authenticator"}
        return TemplateResponse(request, "admin/staff_enrollment.html", context)


def _admin_login_url() -> str:
    return f"{reverse('admin:login')}?{urlencode({'next': reverse('admin:index')})}"
