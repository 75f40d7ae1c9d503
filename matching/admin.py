from django.contrib import admin

from matching.models import Match, MatchingRun


@admin.register(MatchingRun)
class MatchingRunAdmin(admin.ModelAdmin):
    list_display = [
        "id", "status", "trigger", "started_at", "finished_at", "cases_considered",
        "attorneys_considered", "proposals", "objective", "greedy_objective",
    ]  # fmt: skip
    list_filter = ["status", "trigger"]
    search_fields = ["=id"]
    list_select_related = ["triggered_by"]
    readonly_fields = [f.name for f in MatchingRun._meta.fields]

    def has_add_permission(self, request):
        return False  # runs are started by the scheduler or the "run now" action, not by hand

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Match)
class MatchAdmin(admin.ModelAdmin):
    list_display = ["case", "attorney", "status", "score", "run", "created_at", "expires_at"]
    list_filter = [
        "status",
        ("case__language", admin.RelatedOnlyFieldListFilter),
        "case__case_type",
        "case__detained",
    ]
    search_fields = ["=case__reference", "attorney__user__email", "attorney__user__last_name"]
    list_select_related = ["case", "attorney__user", "run"]
    raw_id_fields = ["case", "attorney", "run"]
    readonly_fields = [
        "case", "attorney", "run", "status", "score", "breakdown", "created_at",
        "status_changed_at", "offered_at", "expires_at", "responded_at",
    ]  # fmt: skip
    show_full_result_count = False

    def has_add_permission(self, request):
        return False  # matches come from runs; their state changes only through the services
