"""The back office's one admin site: its index, the need dashboard and the staff login.

Installed as the default site by core.apps.ProBonoAdminConfig, so `admin.site` and
`@admin.register` in every app reach this class; nothing else changes the site's URLs or login.
"""

from typing import Any

from django.contrib import admin, messages
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.contrib.admin.options import IncorrectLookupParameters
from django.contrib.admin.widgets import AutocompleteSelect, AutocompleteSelectMultiple
from django.core.exceptions import ValidationError
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


class _KnownKeys:
    """An autocomplete widget that shows only the values that are keys of the related model."""

    field: Any

    def optgroups(self, name, value, attr=None):
        remote = self.field.remote_field
        name = getattr(remote, "field_name", None)  # a foreign key's to_field, else the pk
        key = remote.model._meta.get_field(name) if name else remote.model._meta.pk
        return super().optgroups(name, [v for v in value if _is_key(key, v)], attr)


def _is_key(field, value) -> bool:
    try:
        field.to_python(value)
    except ValidationError:
        return False
    return True


class KnownKeysAutocompleteSelect(_KnownKeys, AutocompleteSelect):
    pass


class KnownKeysAutocompleteSelectMultiple(_KnownKeys, AutocompleteSelectMultiple):
    pass


ROWS_NOT_IN_LIST = "Those rows are not in this list: nothing was changed. Tick rows and try again."


class RefusesMalformedInput:
    """What Django's admin leaves to a 500 on a hand-made request, answered as it answers other
    bad input (SEC-17). Mixed into every ModelAdmin of the site by ProBonoAdminSite.register.

    - An action posted with a selected row that is no id ("abc", "") fails in ``filter(pk__in=)``
      before the action runs: refused with a message, nothing done.
    - A date-hierarchy year, month or day that no datetime holds (``?occurred_at__year=10000``,
      or 2**63) raises ValueError or OverflowError building the list's bounds: treated as any
      other invalid filter (the list again with ``?e=1``).
    - A form sent back with an autocomplete field holding no id (``court=abc``) failed again
      rendering the form's errors: the widget looks the value up to show its label. The
      widgets here leave out what is no key of the related model (the field says "Select a
      valid choice").
    """

    # What the admin options of the ModelAdmin it is mixed into give it.
    model: Any
    admin_site: Any
    message_user: Any
    get_autocomplete_fields: Any

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        self._known_keys(db_field, request, kwargs, KnownKeysAutocompleteSelect)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        self._known_keys(db_field, request, kwargs, KnownKeysAutocompleteSelectMultiple)
        return super().formfield_for_manytomany(db_field, request, **kwargs)

    def _known_keys(self, db_field, request, kwargs, widget) -> None:
        if "widget" not in kwargs and db_field.name in self.get_autocomplete_fields(request):
            kwargs["widget"] = widget(db_field, self.admin_site, using=kwargs.get("using"))

    def response_action(self, request, queryset, *args, **kwargs):
        try:
            for value in request.POST.getlist(ACTION_CHECKBOX_NAME):
                self.model._meta.pk.to_python(value)
        except ValidationError:
            self.message_user(request, ROWS_NOT_IN_LIST, messages.WARNING)
            return None
        return super().response_action(request, queryset, *args, **kwargs)

    def get_changelist_instance(self, request):
        try:
            return super().get_changelist_instance(request)
        except (ValueError, OverflowError) as error:
            raise IncorrectLookupParameters(error) from error


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

    def register(self, model_or_iterable, admin_class=None, **options):
        """Every ModelAdmin, the project's and Django's (users, groups), refuses malformed input
        with a message, never a 500 (RefusesMalformedInput)."""
        admin_class = admin_class or admin.ModelAdmin
        if not issubclass(admin_class, RefusesMalformedInput):
            bases = (RefusesMalformedInput, admin_class)
            admin_class = type(admin_class.__name__, bases, {"__module__": admin_class.__module__})
        super().register(model_or_iterable, admin_class, **options)

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
