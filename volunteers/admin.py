from django.contrib import admin

from volunteers.models import (
    AttorneyLanguage,
    AttorneyProfile,
    BarAdmission,
    Organization,
    Pledge,
    PracticeArea,
)


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
    list_display = [
        "__str__", "organization", "verification", "home_zip", "travel_radius_miles", "remote_ok",
        "capacity", "active_cases", "paused_until",
    ]  # fmt: skip
    list_filter = ["verification", "remote_ok", "organization__kind"]
    search_fields = ["user__email", "user__first_name", "user__last_name", "eoir_id", "home_zip"]
    list_select_related = ["user", "organization"]
    autocomplete_fields = ["organization"]
    raw_id_fields = ["user"]
    readonly_fields = ["active_cases", "verified_at", "created_at", "updated_at"]
    inlines = [BarAdmissionInline, AttorneyLanguageInline, PracticeAreaInline]


@admin.register(BarAdmission)
class BarAdmissionAdmin(admin.ModelAdmin):
    list_display = ["attorney", "jurisdiction", "bar_number", "status", "verified_at"]
    list_filter = ["status", "jurisdiction"]
    search_fields = ["bar_number", "attorney__user__email", "attorney__user__last_name"]
    list_select_related = ["attorney__user"]
    raw_id_fields = ["attorney"]


@admin.register(Pledge)
class PledgeAdmin(admin.ModelAdmin):
    list_display = [
        "organization",
        "kind",
        "amount",
        "period_start",
        "period_end",
        "status",
        "public",
        "created_at",
    ]
    list_filter = ["status", "kind", "public", "organization__kind"]
    search_fields = ["organization__name", "contact_name", "contact_email"]
    list_select_related = ["organization"]
    autocomplete_fields = ["organization", "courts", "languages", "case_types"]
    date_hierarchy = "created_at"
