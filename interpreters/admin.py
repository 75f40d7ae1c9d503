"""Interpreters in the back office: verification, the teams, and "Run interpreter teams".
State changes only through interpreters.services."""

from functools import partial

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import HttpResponseRedirect
from django.urls import path, reverse
from django.views.decorators.http import require_POST

from core.roles import COORDINATOR_PERMISSION
from interpreters import tasks
from interpreters.models import InterpreterLanguage, InterpreterProfile, TeamInterpreter
from interpreters.services import interpreter_verify, team_run


class InterpreterLanguageInline(admin.TabularInline):
    model = InterpreterLanguage
    extra = 0
    readonly_fields = ["language", "proficiency"]
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(InterpreterProfile)
class InterpreterProfileAdmin(admin.ModelAdmin):
    list_display = ["__str__", "verification", "home_zip", "remote_ok", "capacity",
                    "active_assignments", "created_at"]  # fmt: skip
    # The languages interpreters speak, not all ~7,000 of the reference list: a link each made
    # the page ~1 MB (and 70 MB with a long query repeated in every link).
    list_filter = [
        "verification", "remote_ok", ("language_skills__language", admin.RelatedOnlyFieldListFilter)
    ]  # fmt: skip
    # No "Show counts": a count per language is one column each, past PostgreSQL's 1,664 once
    # enough languages are spoken (a 500 with the whole reference list, SEC-17).
    show_facets = admin.ShowFacets.NEVER
    search_fields = ["user__email", "user__last_name"]
    list_select_related = ["user"]
    readonly_fields = [f.name for f in InterpreterProfile._meta.fields]
    inlines = [InterpreterLanguageInline]
    actions = ["verify_selected", "reject_selected"]

    def has_add_permission(self, request):
        return False  # interpreters sign up themselves

    def has_delete_permission(self, request, obj=None):
        return False

    def _decide(self, request, queryset, verified: bool) -> None:
        if not request.user.has_perm(COORDINATOR_PERMISSION):
            raise PermissionDenied
        done = 0
        for profile in queryset.order_by("pk"):
            interpreter_verify(interpreter=profile, actor=request.user, verified=verified)
            done += 1
        self.message_user(request, f"{done} {'verified' if verified else 'rejected'}.")

    @admin.action(description="Verify selected interpreters", permissions=["change"])
    def verify_selected(self, request, queryset):
        self._decide(request, queryset, True)

    @admin.action(description="Reject selected interpreters", permissions=["change"])
    def reject_selected(self, request, queryset):
        self._decide(request, queryset, False)


class TeamWithoutInterpreterFilter(admin.SimpleListFilter):
    """Teams whose interpreters all declined (or were withdrawn) while the attorney's match is
    still open: the rows "Search again for an interpreter" is for."""

    title = "team"
    parameter_name = "team"

    def lookups(self, request, model_admin):
        return [("unfilled", "Without an interpreter, match still open")]

    def queryset(self, request, queryset):
        if self.value() != "unfilled":
            return queryset
        # Imported where used: every process loads the admin, and the selectors come with the
        # need dashboard's (tests/matching/test_commands.py).
        from interpreters.selectors import SEARCHABLE

        return queryset.filter(match__status__in=SEARCHABLE).exclude(
            match__team_interpreters__status__in=TeamInterpreter.LIVE_STATUSES
        )


@admin.register(TeamInterpreter)
class TeamInterpreterAdmin(admin.ModelAdmin):
    list_display = ["id", "match", "interpreter", "bridge_language", "status", "score",
                    "created_at"]  # fmt: skip
    list_filter = [TeamWithoutInterpreterFilter, "status",
                   ("bridge_language", admin.RelatedOnlyFieldListFilter)]  # fmt: skip
    show_facets = admin.ShowFacets.NEVER  # as InterpreterProfileAdmin's: one column per language
    list_select_related = ["interpreter__user", "match__case", "match__attorney__user",
                           "bridge_language"]  # fmt: skip
    readonly_fields = [f.name for f in TeamInterpreter._meta.fields]
    actions = ["search_again_selected"]
    change_list_template = "admin/interpreters/teaminterpreter/change_list.html"

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.action(
        description="Search again for an interpreter for the selected teams",
        permissions=["change"],
    )
    def search_again_selected(self, request, queryset):
        """One search per team left without an interpreter (a task after commit, ids only:
        interpreters.services.team_search_again); teams with an interpreter, or whose
        attorney's match is no longer open, are skipped and counted."""
        if not request.user.has_perm(COORDINATOR_PERMISSION):
            raise PermissionDenied
        from interpreters.selectors import teams_without_interpreter  # see the filter above

        chosen = set(queryset.values_list("match_id", flat=True))
        queued = teams_without_interpreter(match_ids=chosen)
        for match_id in queued:
            # A broker that refuses loses nothing: the team stays unfilled, to be asked again.
            task = partial(tasks.search_again.delay, match_id, request.user.pk)
            transaction.on_commit(task, robust=True)
        skipped = len(chosen) - len(queued)
        text = f"Interpreter search queued for {len(queued)} team{'s' if len(queued) != 1 else ''}"
        if skipped:
            text += (f"; {skipped} skipped (an interpreter is on the team, or the attorney's "
                     "match is no longer open)")  # fmt: skip
        level = messages.WARNING if skipped and not queued else messages.SUCCESS
        self.message_user(request, text + ".", level)

    def get_urls(self):
        view = self.admin_site.admin_view(require_POST(self.run_view))
        return [path("run/", view, name="interpreters_teaminterpreter_run"), *super().get_urls()]

    def run_view(self, request):
        """The team stage now, in the request: it considers only what the main run left."""
        if not request.user.has_perm("interpreters.change_teaminterpreter"):
            raise PermissionDenied
        result = team_run(actor=request.user)
        self.message_user(
            request,
            f"Interpreter teams: {result.teams} team(s) proposed for {result.cases} case(s) in a "
            "language no attorney in range speaks. Approve and offer the attorneys' matches in "
            "the review queue; each interpreter sees the offer with their attorney.",
        )
        return HttpResponseRedirect(reverse("admin:interpreters_teaminterpreter_changelist"))
