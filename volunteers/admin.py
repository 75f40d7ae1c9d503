from allauth.account.models import EmailAddress
from allauth.mfa.models import Authenticator
from django.contrib import admin, messages
from django.db import transaction
from django.utils.html import format_html_join

from core.errors import DomainError
from core.exports import csv_export, iso
from volunteers.models import (
    AttorneyLanguage,
    AttorneyProfile,
    BarAdmission,
    Organization,
    PracticeArea,
)
from volunteers.services import attorney_affiliation_decide, attorney_reject, attorney_verify


@admin.register(Organization)
class OrganizationAdmin(admin.ModelAdmin):
    list_display = ["name", "kind", "city", "state", "confirmed", "created_at"]
    list_filter = ["kind", "confirmed", "state"]
    search_fields = ["name", "city"]


class BarAdmissionInline(admin.TabularInline):
    model = BarAdmission
    extra = 0


class AttorneyLanguageInline(admin.TabularInline):
    model = AttorneyLanguage
    extra = 0
    autocomplete_fields = ["language"]


class PracticeAreaInline(admin.TabularInline):
    model = PracticeArea
    extra = 0


@admin.register(AttorneyProfile)
class AttorneyProfileAdmin(admin.ModelAdmin):
    # What verification decides on (the bar admissions) and what matching needs at a glance, in
    # columns that fit a 1280-px screen beside the filters.
    list_display = ["__str__", "bar_admissions", "organization", "verification", "load", "reach"]
    list_filter = [
        "verification", "remote_ok", "detained_ok", "digest_enabled", "organization__kind",
        ("organization_requested", admin.EmptyFieldListFilter),
    ]  # fmt: skip
    search_fields = ["user__email", "user__first_name", "user__last_name", "eoir_id", "home_zip"]
    list_select_related = ["user", "organization"]
    autocomplete_fields = ["organization"]
    raw_id_fields = ["user"]
    # Verification changes only through the actions above (a service, an event, an email).
    readonly_fields = [
        "verification", "organization_requested", "active_cases", "verified_at", "created_at",
        "updated_at",
    ]  # fmt: skip
    inlines = [BarAdmissionInline, AttorneyLanguageInline, PracticeAreaInline]
    actions = [
        "verify_selected", "reject_selected", "approve_affiliation_selected",
        "decline_affiliation_selected", "export_selected",
    ]  # fmt: skip

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("bar_admissions")

    @admin.display(description="bar admissions")
    def bar_admissions(self, obj):
        admissions = obj.bar_admissions.all()
        if not admissions:
            return "none"
        return format_html_join(
            "; ",
            "{} {} ({})",
            ((a.jurisdiction, a.bar_number, a.get_status_display()) for a in admissions),
        )

    @admin.display(description="cases", ordering="active_cases")
    def load(self, obj):
        text = f"{obj.active_cases} of {obj.capacity}"
        return f"{text}, paused until {obj.paused_until:%b %-d}" if obj.paused_until else text

    @admin.display(description="reach", ordering="travel_radius_miles")
    def reach(self, obj):
        text = f"{obj.home_zip}, {obj.travel_radius_miles} mi"
        if not obj.remote_ok:
            return text
        return f"{text}, remote preferred" if obj.remote_preferred else f"{text}, remote"

    def _each(self, request, queryset, service, done: str):
        """Call the service per attorney; one refusal does not undo the others."""
        count = refused = 0
        for attorney in queryset.select_related("user"):
            try:
                with transaction.atomic():
                    service(attorney=attorney, actor=request.user)
            except DomainError as error:
                refused += 1
                self.message_user(request, f"{attorney}: {error.message}", messages.WARNING)
            else:
                count += 1
        if count:
            self.message_user(request, f"{count} attorney(s) {done}; they are told by email.")
        if refused:
            self.message_user(request, f"{refused} could not be {done}.", messages.WARNING)

    @admin.action(description="Verify bar admission of selected attorneys", permissions=["change"])
    def verify_selected(self, request, queryset):
        self._each(request, queryset, attorney_verify, "verified")

    @admin.action(
        description="Reject selected attorneys (bar admission not verified)", permissions=["change"]
    )
    def reject_selected(self, request, queryset):
        self._each(request, queryset, attorney_reject, "rejected")

    @admin.action(
        description="Approve selected attorneys' requests to join an organization",
        permissions=["change"],
    )
    def approve_affiliation_selected(self, request, queryset):
        self._decide_affiliation(request, queryset, approve=True)

    @admin.action(
        description="Decline selected attorneys' requests to join an organization",
        permissions=["change"],
    )
    def decline_affiliation_selected(self, request, queryset):
        self._decide_affiliation(request, queryset, approve=False)

    def _decide_affiliation(self, request, queryset, *, approve: bool):
        count = 0
        for attorney in queryset.filter(organization_requested__isnull=False):
            attorney_affiliation_decide(attorney=attorney, actor=request.user, approve=approve)
            count += 1
        done = "joined their organization" if approve else "had their request declined"
        self.message_user(request, f"{count} attorney(s) {done}.")

    @admin.action(description="Export selected attorneys to CSV", permissions=["view"])
    def export_selected(self, request, queryset):
        return csv_export(
            request,
            model="attorneyprofile",
            queryset=queryset.select_related("user", "organization").order_by("pk"),
            header=ATTORNEY_EXPORT_HEADER,
            row=_attorney_export_row,
            filename="attorneys",
        )


@admin.register(BarAdmission)
class BarAdmissionAdmin(admin.ModelAdmin):
    list_display = ["attorney", "jurisdiction", "bar_number", "status", "verified_at"]
    list_filter = ["status", "jurisdiction"]
    search_fields = ["bar_number", "attorney__user__email", "attorney__user__last_name"]
    list_select_related = ["attorney__user"]
    raw_id_fields = ["attorney"]


ATTORNEY_EXPORT_HEADER = [
    "id", "name", "email", "organization", "EOIR ID", "verification", "verified", "home zip",
    "travel radius (miles)", "remote", "years of experience", "capacity", "active cases",
    "paused until", "created",
]  # fmt: skip


def _attorney_export_row(attorney: AttorneyProfile) -> list:
    user = attorney.user
    return [
        attorney.pk, user.get_full_name(), user.email,
        attorney.organization.name if attorney.organization is not None else "", attorney.eoir_id,
        attorney.verification, iso(attorney.verified_at), attorney.home_zip,
        attorney.travel_radius_miles, "yes" if attorney.remote_ok else "no",
        attorney.years_experience, attorney.capacity, attorney.active_cases,
        iso(attorney.paused_until), iso(attorney.created_at),
    ]  # fmt: skip


# allauth registers its email-address and MFA-device models in the admin. Coordinators have no
# business reading or editing sign-in credentials (and core.roles grants them no permission to),
# so they are taken out; a superuser resets an attorney's MFA from `manage.py shell`.
for _model in (EmailAddress, Authenticator):
    if admin.site.is_registered(_model):
        admin.site.unregister(_model)
