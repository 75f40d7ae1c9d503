from django.contrib import admin

from cases.models import CaseRequest, CaseType, ImmigrationCourt, Language


@admin.register(Language)
class LanguageAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "common_rank"]
    list_filter = [("common_rank", admin.EmptyFieldListFilter)]
    search_fields = ["code", "name"]


@admin.register(CaseType)
class CaseTypeAdmin(admin.ModelAdmin):
    list_display = [
        "name",
        "code",
        "detained_only",
        "remote_capable",
        "needs_state_admission",
        "sort_order",
    ]
    list_editable = ["sort_order"]
    search_fields = ["code", "name"]


@admin.register(ImmigrationCourt)
class ImmigrationCourtAdmin(admin.ModelAdmin):
    list_display = ["name", "state", "city", "zip_code", "detained_only", "active"]
    list_filter = ["state", "detained_only", "active"]
    search_fields = ["name", "city", "code", "zip_code"]


@admin.register(CaseRequest)
class CaseRequestAdmin(admin.ModelAdmin):
    list_display = [
        "reference", "status", "language", "court", "case_type", "detained",
        "next_hearing_date", "priority", "created_at",
    ]  # fmt: skip
    list_filter = ["status", "detained", "remote_ok", "source", "case_type", "court__state"]
    search_fields = ["=reference"]
    list_select_related = ["language", "court", "case_type"]
    autocomplete_fields = ["language", "relay_language", "court", "case_type", "organization"]
    readonly_fields = ["reference", "priority", "created_at", "updated_at"]
    date_hierarchy = "created_at"
    list_per_page = 50
    show_full_result_count = False  # a COUNT(*) over the backlog on every page is wasted work
