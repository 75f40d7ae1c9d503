"""The coordinator's review queue and run history. State changes only through matching.services."""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.views.main import ChangeList
from django.core.exceptions import PermissionDenied
from django.db.models import OuterRef, QuerySet, Subquery
from django.db.models.fields.json import KeyTransform
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.views.decorators.http import require_http_methods, require_POST

from cases.admin import LanguageInUseFilter, PriorityBandFilter
from cases.models import CaseRequest, CaseType, ImmigrationCourt, Language
from core.admin_lists import LargeTableAdminMixin, rows_decided, rows_serially
from core.errors import DomainError
from core.exports import csv_export, iso
from core.roles import COORDINATOR_PERMISSION
from core.types import Actor
from matching.checkins import status_requests_create
from matching.models import Match, MatchingRun, StatusRequest
from matching.selectors import (
    match_distance,
    match_explanation,
    miles_or_none,
    next_best_attorneys,
)
from matching.services import (
    REJECTABLE,
    match_approve,
    match_case_close,
    match_offer,
    match_put_back_deadline_set,
    match_reject,
    match_swap,
)

Status = Match.Status
# What the coordinator's "let them put it back" action grants, counted from now.
PUT_BACK_EXTENSION_DAYS = 7
EXPORT_HEADER = [
    "match", "status", "case", "language", "court", "case type", "hearing", "attorney email",
    "miles", "score", "run", "created",
]  # fmt: skip


@admin.register(MatchingRun)
class MatchingRunAdmin(admin.ModelAdmin):
    list_display = [
        "id", "progress", "trigger", "started_at", "finished_at", "cases_considered",
        "attorneys_considered", "proposals", "objective", "greedy_objective",
    ]  # fmt: skip
    list_filter = ["status", "trigger"]
    search_fields = ["=id"]
    list_select_related = ["triggered_by"]
    # Not the plan: a binary blob of ids, kept only while a run writes (pipeline/plan.py).
    readonly_fields = ["progress"] + [
        f.name for f in MatchingRun._meta.fields if f.name != "plan"
    ] + ["phase_seconds", "gain"]  # fmt: skip
    change_form_template = "admin/matching/matchingrun/change_form.html"
    change_list_template = "admin/matching/matchingrun/change_list.html"

    def has_add_permission(self, request):
        return False  # runs are started by the scheduler or the "run now" button, not by hand

    def get_queryset(self, request):
        return super().get_queryset(request).defer("plan")

    def has_change_permission(self, request, obj=None):
        return False

    def get_urls(self):
        view = self.admin_site.admin_view(require_POST(self.run_now_view))
        name = f"{self.opts.app_label}_{self.opts.model_name}_run_now"
        return [path("run-now/", view, name=name), *super().get_urls()]

    def run_now_view(self, request):
        """Queue a run on Celery after commit, unless one is already queued or running: then
        say so, and queue nothing (a second run could only skip or find nothing new)."""
        if not request.user.has_perm(COORDINATOR_PERMISSION):
            raise PermissionDenied
        from matching.tasks.runs import matching_run_now

        in_flight = matching_run_now(user_id=request.user.pk)
        if in_flight is None:
            self.message_user(request, "Matching run queued; it appears below when it starts.")
        else:
            since = date_format(timezone.localtime(in_flight.since), "H:i")
            self.message_user(
                request,
                f"A matching run is already {in_flight.state} (since {since}); its proposals "
                "will appear in the review queue. No other run was queued.",
                messages.WARNING,
            )
        return HttpResponseRedirect(reverse("admin:matching_matchingrun_changelist"))

    @admin.display(description="progress")
    def progress(self, obj):
        """Where a running run is; for a finished one, that it is done."""
        if obj.status != MatchingRun.Status.RUNNING:
            return obj.get_status_display()
        now = (obj.stats or {}).get("progress") or {}
        text = str(now.get("phase", "starting")).capitalize()
        if "batches" in now:
            text += f": batch {now['batch']:,} of {now['batches']:,}, {now['written']:,} written"
        elif "cases" in now:
            text += f": {now['cases']:,} open cases, {now['attorneys']:,} attorneys"
        return text

    @admin.display(description="seconds per phase")
    def phase_seconds(self, obj):
        phases = (obj.stats or {}).get("seconds") or (obj.stats or {}).get("phases") or {}
        if not isinstance(phases, dict) or not phases:
            return "-"
        return ", ".join(f"{name}: {value}" for name, value in phases.items())

    @admin.display(description="objective over greedy")
    def gain(self, obj):
        if not obj.objective or not obj.greedy_objective:
            return "-"
        ratio = obj.objective / obj.greedy_objective - 1
        return f"{obj.objective:,} vs {obj.greedy_objective:,} ({ratio:+.1%})"


class ReviewStatusFilter(admin.SimpleListFilter):
    """Status, defaulting to proposed matches (the live work); "All" clears it."""

    title = "status"
    parameter_name = "status"
    DEFAULT = Status.PROPOSED
    ALL = "all"

    def lookups(self, request, model_admin):
        return [*Status.choices, (self.ALL, "All")]

    def queryset(self, request, queryset):
        value = self.value() or self.DEFAULT
        return queryset if value == self.ALL else queryset.filter(status=value)

    def choices(self, changelist):
        value = self.value() or self.DEFAULT
        for lookup, title in self.lookup_choices:
            yield {
                "selected": value == lookup,
                "query_string": changelist.get_query_string({self.parameter_name: lookup}),
                "display": title,
            }


class MatchLanguageFilter(LanguageInUseFilter):
    def queryset(self, request, queryset):
        return queryset.filter(case__language_id=self.value()) if self.value() else queryset


class MatchPriorityBandFilter(PriorityBandFilter):
    def queryset(self, request, queryset):
        for value, _, low, high in self.BANDS:
            if self.value() == value:
                bounds = {"case__priority__gte": low, "case__priority__lte": high}
                return queryset.filter(**{k: v for k, v in bounds.items() if v is not None})
        return queryset


class RecentRunFilter(admin.SimpleListFilter):
    """The latest runs only: the history grows by one row every scheduled run."""

    title = "run"
    parameter_name = "run"
    SHOWN = 20

    def lookups(self, request, model_admin):
        runs = MatchingRun.objects.order_by("-started_at")[: self.SHOWN]
        return [(str(run.pk), f"Run {run.pk}, {run.started_at:%Y-%m-%d %H:%M}") for run in runs]

    def queryset(self, request, queryset):
        value = self.value()
        return queryset.filter(run_id=value) if value and value.isdigit() else queryset


class AcceptedAgeFilter(admin.SimpleListFilter):
    """How long ago the attorney accepted: picks the cases to ask about (issue 16)."""

    title = "accepted"
    parameter_name = "accepted_age"
    BANDS = [  # (value, label, at least days, under days)
        ("lt30", "less than 30 days ago", None, 30),
        ("30-60", "30 to 60 days ago", 30, 60),
        ("60-90", "60 to 90 days ago", 60, 90),
        ("90+", "more than 90 days ago", 90, None),
    ]

    def lookups(self, request, model_admin):
        return [(value, label) for value, label, _, _ in self.BANDS]

    def queryset(self, request, queryset):
        now = timezone.now()
        for value, _, low, high in self.BANDS:
            if self.value() == value:
                bounds = {"responded_at__isnull": False}
                if low is not None:
                    bounds["responded_at__lte"] = now - timedelta(days=low)
                if high is not None:
                    bounds["responded_at__gt"] = now - timedelta(days=high)
                return queryset.filter(status=Status.ACCEPTED, **bounds)
        return queryset


class RejectForm(forms.Form):
    reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), max_length=1000)


class OutcomeForm(forms.Form):
    """How an accepted case ended, as a coordinator records it (match_case_close checks the
    rest: a relief type exactly when relief was granted, a date neither in the future nor
    before the attorney accepted)."""

    outcome = forms.ChoiceField(choices=[("", "Choose…"), *CaseRequest.Outcome.choices])
    relief_type = forms.ChoiceField(
        label="Relief granted",
        required=False,
        choices=[("", "Choose…"), *CaseRequest.Relief.choices],
        help_text="Only when the outcome is relief granted.",
    )
    outcome_date = forms.DateField(
        label="Date the case ended", widget=forms.DateInput(attrs={"type": "date"})
    )

    def outcome_label(self) -> str:
        outcome = CaseRequest.Outcome(self.cleaned_data["outcome"]).label
        relief = self.cleaned_data.get("relief_type")
        return f"{outcome} ({CaseRequest.Relief(relief).label})" if relief else str(outcome)


# Which field a refused outcome points at (match_case_close's error codes); others: the form's.
OUTCOME_ERROR_FIELDS = {
    "outcome_required": "outcome", "relief_type_required": "relief_type",
    "relief_type_unused": "relief_type", "date_required": "outcome_date",
    "future_date": "outcome_date", "before_acceptance": "outcome_date",
}  # fmt: skip


class MatchChangeList(ChangeList):
    def get_results(self, request):
        """The page's rows with their columns only (_list_columns); a page that is shown (a GET:
        an action's POST hands its own queryset to the services) is read at once, without
        parallel workers (core.admin_lists.rows_serially), and its matches are picked first,
        by id (_page_by_ids)."""
        super().get_results(request)
        if request.method != "GET":
            self.result_list = _list_columns(self.result_list)
            return
        rows = self.apply_select_related(self.root_queryset)
        self.result_list = rows_serially(_list_columns(_page_by_ids(self.result_list, rows)))


@admin.register(Match)
class MatchAdmin(LargeTableAdminMixin, admin.ModelAdmin):
    list_display = [
        "case_reference", "language", "court", "case_type", "hearing_date", "attorney_name",
        "distance", "score", "status", "source", "run",
    ]  # fmt: skip
    list_filter = [
        ReviewStatusFilter,
        "source",  # "Requested by attorney": the opportunity board's requests
        MatchLanguageFilter,
        # Plain related filters, not RelatedOnly: those scan every match for distinct values.
        "case__court",
        "case__case_type",
        "case__detained",
        MatchPriorityBandFilter,
        RecentRunFilter,
        "attorney__organization",
        AcceptedAgeFilter,
    ]
    search_fields = ["=case__reference", "=attorney__user__email"]
    # Not the language, court and case type: joined too, the eight tables took PostgreSQL
    # 20-70 ms to plan (the cases table's 16 indexes), more than running the query; their names
    # come from one-row subqueries instead (_list_columns), run for the page's rows only.
    list_select_related = ["case", "attorney__user", "run"]
    # Most urgent first; the admin appends -pk for a total order.
    ordering = ["-case__priority", "created_at"]
    raw_id_fields = ["case", "attorney", "run"]
    # The breakdown is shown in plain words above the fields (change_form.html), not as JSON.
    readonly_fields = [
        "case", "attorney", "run", "status", "score", "reject_reason",
        "decline_reason", "decline_note", "created_at", "status_changed_at", "offered_at",
        "expires_at", "responded_at", "source", "put_back_until", "put_back_reason",
    ]  # fmt: skip
    fields = tuple(readonly_fields)
    list_per_page = 100
    actions = [
        "approve_selected", "reject_selected", "offer_selected", "put_back_extend_selected",
        "put_back_close_selected", "request_status_selected", "export_selected",
    ]  # fmt: skip
    change_form_template = "admin/matching/match/change_form.html"
    change_list_template = "admin/matching/match/change_list.html"

    def has_add_permission(self, request):
        return False  # matches come from runs; their state changes only through the services

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        """The change form is read-only: decisions go through the actions and the swap."""

    def get_changelist(self, request, **kwargs):
        return MatchChangeList

    # Columns

    @admin.display(description="case", ordering="case__reference")
    def case_reference(self, obj):
        return obj.case.reference

    @admin.display(description="language")
    def language(self, obj):
        return obj.language_name

    @admin.display(description="court")
    def court(self, obj):
        return obj.court_name

    @admin.display(description="case type")
    def case_type(self, obj):
        return obj.case_type_name

    @admin.display(description="hearing", ordering="case__next_hearing_date")
    def hearing_date(self, obj):
        return obj.case.next_hearing_date

    @admin.display(description="attorney", ordering="attorney__user__email")
    def attorney_name(self, obj):
        return obj.attorney.user.get_full_name() or obj.attorney.user.email

    @admin.display(description="miles")
    def distance(self, obj):
        miles = miles_or_none(obj.miles)
        return "-" if miles is None else f"{miles:,.0f}"

    # Bulk decisions

    def _decide_each_match(self, request, queryset, decide, done: str) -> None:
        rows_decided(self, request, queryset, decide, done)

    @admin.action(description="Approve selected proposals", permissions=["change"])
    def approve_selected(self, request, queryset):
        self._decide_each_match(
            request, queryset, lambda m: match_approve(match=m, actor=request.user), "approved"
        )

    @admin.action(description="Offer selected approved matches", permissions=["change"])
    def offer_selected(self, request, queryset):
        self._decide_each_match(
            request, queryset, lambda m: match_offer(match=m, actor=request.user), "offered"
        )

    @admin.action(
        description=f"Let attorneys put selected cases back for {PUT_BACK_EXTENSION_DAYS} days",
        permissions=["change"],
    )
    def put_back_extend_selected(self, request, queryset):
        until = timezone.now() + timedelta(days=PUT_BACK_EXTENSION_DAYS)
        self._decide_each_match(
            request, queryset,
            lambda m: match_put_back_deadline_set(match=m, until=until, actor=request.user),
            f"may be put back until {until:%Y-%m-%d}",
        )  # fmt: skip

    @admin.action(description="Close the put-back window of selected cases", permissions=["change"])
    def put_back_close_selected(self, request, queryset):
        now = timezone.now()
        self._decide_each_match(
            request, queryset,
            lambda m: match_put_back_deadline_set(match=m, until=now, actor=request.user),
            "can no longer be put back",
        )  # fmt: skip

    @admin.action(description="Reject selected matches (asks for a reason)", permissions=["change"])
    def reject_selected(self, request, queryset):
        """An intermediate page asks for the reason, then rejects each match."""
        if not request.user.has_perm(COORDINATOR_PERMISSION):
            raise PermissionDenied
        form = RejectForm(request.POST if "reason" in request.POST else None)
        if form.is_bound and form.is_valid():
            reason = form.cleaned_data["reason"]
            self._decide_each_match(
                request,
                queryset,
                lambda m: match_reject(match=m, actor=request.user, reason=reason),
                "rejected",
            )
            return None
        context = {
            **self.admin_site.each_context(request),
            "title": "Reject matches",
            "opts": self.opts,
            "form": form,
            "matches": queryset.select_related("case", "attorney__user")[:500],
            "selected": request.POST.getlist(admin.helpers.ACTION_CHECKBOX_NAME),
            "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME,
        }
        return TemplateResponse(request, "admin/matching/match/reject.html", context)

    @admin.action(
        description="Ask the attorneys of selected accepted cases for a status update",
        permissions=["change"],
    )
    def request_status_selected(self, request, queryset):
        """One request per accepted match, one e-mail per attorney (matching.checkins)."""
        if not request.user.has_perm(COORDINATOR_PERMISSION):
            raise PermissionDenied
        made = status_requests_create(matches=queryset.order_by("pk"), actor=request.user)
        text = (
            f"{made.created} status update{'s' if made.created != 1 else ''} requested from "
            f"{made.attorneys} attorney{'s' if made.attorneys != 1 else ''} (one e-mail each)"
        )
        if made.skipped:
            text += f"; {made.skipped} skipped (not accepted, or a request already waits)"
        level = messages.WARNING if made.skipped and not made.created else messages.SUCCESS
        self.message_user(request, text + ".", level)

    @admin.action(description="Export selected matches to CSV", permissions=["view"])
    def export_selected(self, request, queryset):
        """No respondent identifiers: a match row names the case only by its reference."""
        return csv_export(
            request,
            model="match",
            queryset=queryset.select_related(*EXPORT_RELATED).order_by("pk"),
            header=EXPORT_HEADER,
            row=_export_row,
            filename="matches",
        )

    # Detail and swap

    def get_urls(self):
        swap = self.admin_site.admin_view(require_POST(self.swap_view))
        decide = self.admin_site.admin_view(require_POST(self.decide_view))
        outcome = self.admin_site.admin_view(require_http_methods(["GET", "POST"])(
            self.outcome_view
        ))  # fmt: skip
        prefix = f"{self.opts.app_label}_{self.opts.model_name}"
        return [
            path("<int:match_id>/swap/", swap, name=f"{prefix}_swap"),
            path("<int:match_id>/decide/", decide, name=f"{prefix}_decide"),
            path("<int:match_id>/outcome/", outcome, name=f"{prefix}_outcome"),
            *super().get_urls(),
        ]

    def change_view(self, request, object_id, form_url="", extra_context=None):
        match = self.get_object(request, object_id)
        extra = dict(extra_context or {}, show_save=False, show_save_and_continue=False)
        extra["show_save_and_add_another"] = False
        if match is not None:
            extra["title"] = f"Match for case {match.case.reference}"
            extra["decisions"] = _decisions(match, request.user)
            extra["reject_form"] = RejectForm()
            extra["explanation"] = match_explanation(match)
            can_swap = match.status == Status.PROPOSED and request.user.has_perm(
                COORDINATOR_PERMISSION
            )
            extra["can_swap"] = can_swap
            extra["can_close"] = match.status == Status.ACCEPTED and request.user.has_perm(
                COORDINATOR_PERMISSION
            )
            extra["next_best"] = next_best_attorneys(case=match.case) if can_swap else []
        return super().change_view(request, object_id, form_url, extra)

    def decide_view(self, request, match_id: int):
        """Approve, offer or reject one match from its page, through the same services as the
        list actions; a refusal (the match moved on meanwhile) is said, not raised."""
        if not request.user.has_perm(COORDINATOR_PERMISSION):
            raise PermissionDenied
        match = get_object_or_404(Match, pk=match_id)
        page = HttpResponseRedirect(reverse("admin:matching_match_change", args=[match.pk]))
        decision = request.POST.get("decision", "")
        if decision not in DECISIONS:
            self.message_user(request, "Choose approve, offer or reject.", messages.ERROR)
            return page
        reason = ""
        if decision == "reject":
            form = RejectForm(request.POST)
            if not form.is_valid():
                message = "Not rejected: say why, in at most 1,000 characters."
                self.message_user(request, message, messages.ERROR)
                return page
            reason = form.cleaned_data["reason"]
        try:
            DECISIONS[decision].decide(match, request.user, reason)
        except DomainError as error:
            self.message_user(request, f"Not done: {error.message}", messages.ERROR)
        else:
            self.message_user(request, f"Match {DECISIONS[decision].done}.", messages.SUCCESS)
        return page

    def outcome_view(self, request, match_id: int):
        """Record how an accepted case ended (match_case_close): the case closes with its
        outcome, the match completes, the attorney's slot frees. A refusal comes back as a
        message next to its field, with nothing written."""
        if not request.user.has_perm(COORDINATOR_PERMISSION):
            raise PermissionDenied
        match = get_object_or_404(Match.objects.select_related("case", "attorney__user"),
                                  pk=match_id, status=Status.ACCEPTED)  # fmt: skip
        form = OutcomeForm(request.POST if request.method == "POST" else None)
        if form.is_valid():
            try:
                match_case_close(match=match, actor=request.user, **form.cleaned_data)
            except DomainError as error:
                form.add_error(OUTCOME_ERROR_FIELDS.get(error.code), error.message)
            else:
                closed = f"Case {match.case.reference} closed: {form.outcome_label()}."
                self.message_user(request, closed, messages.SUCCESS)
                return HttpResponseRedirect(reverse("admin:matching_match_change", args=[match_id]))
        context = {
            **self.admin_site.each_context(request),
            "title": f"Record the outcome of case {match.case.reference}",
            "opts": self.opts,
            "original": match,
            "form": form,
        }
        return TemplateResponse(request, "admin/matching/match/outcome.html", context)

    def swap_view(self, request, match_id: int):
        if not request.user.has_perm(COORDINATOR_PERMISSION):
            raise PermissionDenied
        match = get_object_or_404(Match, pk=match_id)
        try:
            attorney_id = int(request.POST.get("attorney", ""))
        except ValueError:
            attorney_id = 0
        try:
            new = match_swap(match=match, attorney_id=attorney_id, actor=request.user)
        except DomainError as error:
            self.message_user(request, f"Not swapped: {error.message}", messages.ERROR)
            return HttpResponseRedirect(reverse("admin:matching_match_change", args=[match.pk]))
        self.message_user(request, "Swapped: the new proposal is below.", messages.SUCCESS)
        return HttpResponseRedirect(reverse("admin:matching_match_change", args=[new.pk]))


@dataclass(frozen=True)
class Decision:
    label: str
    done: str
    allowed_from: tuple[str, ...]
    decide: Callable[[Match, Actor, str], Match]  # (match, actor, reason)


# The buttons on a match's page: each is one service call, offered only where it can succeed.
DECISIONS = {
    "approve": Decision(
        "Approve", "approved", (Status.PROPOSED,),
        lambda m, actor, _: match_approve(match=m, actor=actor),
    ),
    "offer": Decision(
        "Offer to the attorney", "offered", (Status.APPROVED,),
        lambda m, actor, _: match_offer(match=m, actor=actor),
    ),
    "reject": Decision(
        "Reject", "rejected", REJECTABLE,
        lambda m, actor, reason: match_reject(match=m, actor=actor, reason=reason),
    ),
}  # fmt: skip


def _decisions(match: Match, user) -> dict[str, Decision]:
    if not user.has_perm(COORDINATOR_PERMISSION):
        return {}
    return {key: d for key, d in DECISIONS.items() if match.status in d.allowed_from}


# What the list's columns read of each row, and of the rows it selects with it (the case's
# reference serves str(match) too, for the row's checkbox label). Leaves out the run's plan (a
# blob of ids while a run writes), the match's breakdown (~0.7 kB of JSON a row, of which the
# list shows the miles) and the case's encrypted identifiers (the list never shows them).
LIST_FIELDS = (
    "case", "attorney", "run", "status", "score", "source", "created_at",
    "case__reference", "case__next_hearing_date", "case__priority",
    "attorney__user__first_name", "attorney__user__last_name", "attorney__user__username",
    "attorney__user__email", "run__status",
)  # fmt: skip
EXPORT_RELATED = ["case__language", "case__court", "case__case_type", "attorney__user", "run"]


def _name_of(model, key: str, outer: str) -> Subquery:
    return Subquery(model.objects.filter(**{key: OuterRef(outer)}).order_by().values("name"))


def _list_columns(queryset: QuerySet[Match]) -> QuerySet[Match]:
    """The list's page with its columns only: names of the reference rows by one-row subqueries
    (PostgreSQL runs them after the sort, for the page's rows only) and the miles out of the
    breakdown, in SQL."""
    return queryset.only(*LIST_FIELDS).annotate(
        language_name=_name_of(Language, "code", "case__language_id"),
        court_name=_name_of(ImmigrationCourt, "pk", "case__court_id"),
        case_type_name=_name_of(CaseType, "code", "case__case_type_id"),
        miles=KeyTransform("miles", KeyTransform("affinity", "breakdown")),
    )


def _page_by_ids(page: QuerySet[Match], rows: QuerySet[Match]) -> QuerySet[Match]:
    """The page's matches, by id, out of ``rows``, in the page's order.

    The page is most urgent case first: PostgreSQL walks the cases' priority index and looks
    up each case's matches until the page is full. Asked for the page's ids alone, it reads that
    index only (the case's id and priority are in it); asked for the page's columns, it reads
    each case walked past: under a filter that keeps few matches ("Put back by attorney": 100
    of them came from 11,400 cases at 1,000,000 cases), that was most of the page's time. So
    the ids are picked in a subquery (its LIMIT keeps PostgreSQL from merging it into the
    outer query) and the columns read for those rows only, in the same order (the list's
    order ends with the id: a total order).
    """
    return rows.filter(pk__in=page.values("pk")).order_by(*page.query.order_by)


def _export_row(match: Match) -> list:
    case = match.case
    return [
        match.pk, match.status, case.reference, case.language.name, case.court.name,
        case.case_type.name, case.next_hearing_date or "", match.attorney.user.email,
        match_distance(match) or "", match.score, match.run_id or "", match.created_at.isoformat(),
    ]  # fmt: skip


class StatusRequestAnsweredFilter(admin.SimpleListFilter):
    """Waiting (the default: the live work), reminded and still waiting, answered, or all."""

    title = "state"
    parameter_name = "state"
    CHOICES = [
        ("waiting", "Waiting for an answer"),
        ("reminded", "Reminded, still waiting"),
        ("help", "Asked for help"),
        ("answered", "Answered"),
        ("all", "All"),
    ]

    def lookups(self, request, model_admin):
        return self.CHOICES

    def queryset(self, request, queryset):
        value = self.value() or "waiting"
        if value == "waiting":
            return queryset.filter(answered_at__isnull=True)
        if value == "reminded":
            return queryset.filter(answered_at__isnull=True, reminded_at__isnull=False)
        if value == "help":
            return queryset.filter(answer=StatusRequest.Answer.NEED_HELP)
        if value == "answered":
            return queryset.filter(answered_at__isnull=False)
        return queryset

    def choices(self, changelist):
        value = self.value() or "waiting"
        for lookup, title in self.lookup_choices:
            yield {
                "selected": value == lookup,
                "query_string": changelist.get_query_string({self.parameter_name: lookup}),
                "display": title,
            }


STATUS_EXPORT_HEADER = [
    "request", "case", "court", "case type", "attorney email", "organization", "trigger",
    "asked", "e-mailed", "reminded", "answered", "answer", "case status", "outcome",
    "relief", "outcome date", "next hearing",
]  # fmt: skip


@admin.register(StatusRequest)
class StatusRequestAdmin(admin.ModelAdmin):
    """Check-ins: read-only here (answers come from the attorney's form); the note is shown
    escaped like every stored text (SEC-20)."""

    list_display = [
        "case_reference", "attorney_name", "trigger", "created_at", "notified_at",
        "reminded_at", "answered_at", "answer",
    ]  # fmt: skip
    list_filter = [StatusRequestAnsweredFilter, "trigger", "answer", "match__case__court"]
    search_fields = ["=match__case__reference", "=match__attorney__user__email"]
    list_select_related = ["match__case__court", "match__attorney__user"]
    readonly_fields = [
        "match", "trigger", "requested_by", "created_at", "expires_at", "notified_at",
        "reminded_at", "answered_at", "answer", "note",
    ]  # fmt: skip
    fields = tuple(readonly_fields)
    ordering = ["-created_at"]
    actions = ["export_selected"]

    def has_add_permission(self, request):
        return False  # asked from the match list (its action) or by the monthly check-in

    def has_delete_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    @admin.display(description="case", ordering="match__case__reference")
    def case_reference(self, obj):
        return obj.match.case.reference

    @admin.display(description="attorney", ordering="match__attorney__user__email")
    def attorney_name(self, obj):
        user = obj.match.attorney.user
        return user.get_full_name() or user.email

    @admin.action(description="Export selected check-ins to CSV", permissions=["view"])
    def export_selected(self, request, queryset):
        """Outcomes and dates, no respondent identifier and no free-text note."""
        related = ["match__case__court", "match__case__case_type", "match__attorney__user",
                   "match__attorney__organization"]  # fmt: skip
        return csv_export(
            request,
            model="status_request",
            queryset=queryset.select_related(*related).order_by("pk"),
            header=STATUS_EXPORT_HEADER,
            row=_status_export_row,
            filename="check-ins",
        )


def _status_export_row(row: StatusRequest) -> list:
    case, attorney = row.match.case, row.match.attorney
    organization = attorney.organization.name if attorney.organization else ""
    return [
        row.pk, case.reference, case.court.name, case.case_type.name, attorney.user.email,
        organization, row.trigger, iso(row.created_at), iso(row.notified_at),
        iso(row.reminded_at), iso(row.answered_at), row.answer, case.status, case.outcome,
        case.relief_type, iso(case.outcome_date), iso(case.next_hearing_date),
    ]  # fmt: skip
