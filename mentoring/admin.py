"""The coordinator's mentoring back office: the review queue of proposed pairings and the
"Run mentor matching" button. State changes only through mentoring.services."""

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseRedirect
from django.urls import path, reverse
from django.views.decorators.http import require_POST

from core.admin_lists import rows_decided
from mentoring.models import CaseShare, MentoringProfile, Mentorship
from mentoring.services import mentoring_run, mentorship_approve, mentorship_reject


@admin.register(Mentorship)
class MentorshipAdmin(admin.ModelAdmin):
    list_display = ["id", "mentee", "mentor", "status", "score", "created_at", "status_changed_at"]
    list_filter = ["status"]
    search_fields = ["=id", "mentor__user__email", "mentee__user__email"]
    list_select_related = ["mentor__user", "mentee__user"]
    raw_id_fields = ["mentor", "mentee"]
    readonly_fields = [f.name for f in Mentorship._meta.fields]
    actions = ["approve_selected", "reject_selected"]
    change_list_template = "admin/mentoring/mentorship/change_list.html"

    def has_add_permission(self, request):
        return False  # pairs come from a run, which is exact; nobody pairs by hand

    def has_delete_permission(self, request, obj=None):
        return False

    def get_urls(self):
        view = self.admin_site.admin_view(require_POST(self.run_view))
        return [path("run/", view, name="mentoring_mentorship_run"), *super().get_urls()]

    def run_view(self, request):
        """Run mentor matching now, in the request: the instance is small (mentors x mentees)."""
        if not request.user.has_perm("mentoring.change_mentorship"):
            raise PermissionDenied
        result = mentoring_run(actor=request.user)
        self.message_user(
            request,
            f"Mentor matching: {result.proposals} pairing(s) proposed from {result.mentees} "
            f"waiting mentee(s) and {result.mentors} available mentor(s).",
        )
        url = reverse("admin:mentoring_mentorship_changelist") + "?status__exact=proposed"
        return HttpResponseRedirect(url)

    def _decide(self, request, queryset, decide, done: str) -> None:
        rows_decided(self, request, queryset, decide, done)

    @admin.action(
        description="Approve selected pairings (offers them to the mentor)", permissions=["change"]
    )
    def approve_selected(self, request, queryset):
        self._decide(
            request,
            queryset,
            lambda m: mentorship_approve(mentorship=m, actor=request.user),
            "approved",
        )

    @admin.action(description="Reject selected pairings", permissions=["change"])
    def reject_selected(self, request, queryset):
        self._decide(
            request,
            queryset,
            lambda m: mentorship_reject(mentorship=m, actor=request.user),
            "rejected",
        )


@admin.register(MentoringProfile)
class MentoringProfileAdmin(admin.ModelAdmin):
    """Who asks for a mentor and who mentors: read-only, the attorneys set it themselves."""

    list_display = [
        "attorney",
        "wants_mentor",
        "wants_mentor_since",
        "mentee_capacity",
        "active_mentees",
    ]
    list_filter = ["wants_mentor"]
    search_fields = ["attorney__user__email"]
    list_select_related = ["attorney__user"]
    readonly_fields = [f.name for f in MentoringProfile._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(CaseShare)
class CaseShareAdmin(admin.ModelAdmin):
    list_display = ["id", "mentorship", "match", "shared_at", "conflict_attested_at"]
    list_select_related = ["mentorship__mentor__user", "mentorship__mentee__user", "match"]
    readonly_fields = [f.name for f in CaseShare._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
