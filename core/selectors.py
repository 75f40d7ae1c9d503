from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from django.db import connection
from django.db.models import Count, F, Q, Sum
from django.db.models.functions import TruncWeek
from django.utils import timezone

from cases.models import CaseRequest, ImmigrationCourt, Language
from core.models import DomainEvent
from matching.in_flight import run_queued_since
from matching.models import Match, MatchingRun, StatusRequest
from pledges.models import Pledge
from volunteers.models import AttorneyLanguage, AttorneyProfile, Organization


@dataclass(frozen=True)
class SiteTotals:
    open_cases: int
    volunteers: int
    # Cases an attorney accepted and still carries (case status "represented"). Never the
    # active matches: those include a run's unreviewed proposals, and one run would multiply a
    # public figure that must say how many people have a lawyer.
    represented: int
    pledged_hours: int


def site_totals(*, status_counts: dict[str, int]) -> SiteTotals:
    """The public figures on the home page: counts only, nothing about any person. Computed with
    the need dashboard's figures (the case counts by status are among them), never per request."""
    pledged = Pledge.objects.filter(
        status=Pledge.Status.APPROVED, kind=Pledge.Kind.HOURS
    ).aggregate(total=Sum("amount"))
    return SiteTotals(
        open_cases=status_counts.get(CaseRequest.Status.OPEN, 0),
        volunteers=AttorneyProfile.objects.filter(
            verification=AttorneyProfile.Verification.VERIFIED
        ).count(),
        represented=status_counts.get(CaseRequest.Status.REPRESENTED, 0),
        pledged_hours=pledged["total"] or 0,
    )


# The coordinators' need dashboard (core/dashboard.py): a fixed set of grouped queries, whatever
# the number of cases, each served by an index on its grouping columns.

HEAT_LANGUAGES = 10
HEAT_COURTS = 10
CAPACITY_LANGUAGES = 15
WEEKS_SHOWN = 12


@dataclass(frozen=True)
class NeedDashboard:
    status_counts: dict[str, int]
    heat_languages: list[str]
    heat_courts: list[str]
    heat: list[list[int]]  # rows follow heat_languages, columns heat_courts
    by_case_type: list[tuple[str, int]]
    capacity_by_language: list[tuple[str, int]]
    matches_by_week: list[tuple[str, int]]
    decline_reasons: list[tuple[str, int]]
    median_hours_to_answer: float | None
    totals: SiteTotals  # the home page's public figures
    # Outcomes next to placements (issue 16): coordinators see exact counts (no suppression:
    # the public wall and open data suppress small cells, pledges/suppression.py).
    # kind, placed, closed, *outcomes; then name, kind, placed, closed, *outcomes
    outcomes_by_kind: list[list[str | int]] = field(default_factory=list)
    outcomes_by_organization: list[list[str | int]] = field(default_factory=list)


def need_dashboard(*, today: date | None = None) -> NeedDashboard:
    """Figures for coordinators: counts only, nothing that identifies a person."""
    today = today or timezone.localdate()
    languages, courts, heat = _open_heat()
    status_counts = dict(
        CaseRequest.objects.order_by().values_list("status").annotate(n=Count("pk"))
    )
    return NeedDashboard(
        status_counts=status_counts,
        heat_languages=languages,
        heat_courts=courts,
        heat=heat,
        by_case_type=list(
            CaseRequest.objects.filter(status=CaseRequest.Status.OPEN)
            .order_by()
            .values_list("case_type__name")
            .annotate(n=Count("pk"))
            .order_by("-n")
        ),
        capacity_by_language=_capacity_by_language(today),
        matches_by_week=_matches_by_week(today),
        decline_reasons=_decline_reasons(),
        median_hours_to_answer=_median_hours_to_answer(),
        totals=site_totals(status_counts=status_counts),
        outcomes_by_kind=_outcomes_by_kind(),
        outcomes_by_organization=_outcomes_by_organization(),
    )


OUTCOME_ORGANIZATIONS = 25


def _outcome_counts(
    group: str, *, organizations_only: bool = False, limit: int | None = None
) -> list[dict[str, Any]]:
    """Placed and closed matches, and each outcome, grouped by ``group``, most placed first:
    one query."""
    counts = {
        "placed": Count("pk"),
        "closed": Count("pk", filter=Q(status=Match.Status.COMPLETED)),
        **{
            outcome: Count("pk", filter=Q(status=Match.Status.COMPLETED, case__outcome=outcome))
            for outcome in CaseRequest.Outcome.values
        },
    }
    placed = Match.objects.filter(status__in=Match.PLACED_STATUSES)
    if organizations_only:
        placed = placed.filter(attorney__organization__isnull=False)
    rows = placed.order_by().values(group).annotate(**counts).order_by(F("placed").desc(), group)
    return list(rows[:limit] if limit is not None else rows)


def _outcome_row(label: str, row: dict[str, Any]) -> list[str | int]:
    return [label, row["placed"], row["closed"], *(row[o] for o in CaseRequest.Outcome.values)]


def _outcomes_by_kind() -> list[list[str | int]]:
    labels = dict(Organization.Kind.choices)
    return [
        _outcome_row(labels.get(row["attorney__organization__kind"], "No organization"), row)
        for row in _outcome_counts("attorney__organization__kind")
    ]


def _outcomes_by_organization() -> list[list[str | int]]:
    """The organizations with the most placements, each with its kind (two queries)."""
    labels = dict(Organization.Kind.choices)
    rows = _outcome_counts(
        "attorney__organization_id", organizations_only=True, limit=OUTCOME_ORGANIZATIONS
    )
    organizations = Organization.objects.in_bulk([r["attorney__organization_id"] for r in rows])
    result: list[list[str | int]] = []
    for row in rows:
        organization = organizations[row["attorney__organization_id"]]
        kind = labels.get(organization.kind, organization.kind)
        result.append([organization.name, *_outcome_row(kind, row)])
    return result


def _open_heat() -> tuple[list[str], list[str], list[list[int]]]:
    """Open cases by language and court, cut to the busiest languages and courts (3 queries)."""
    rows = list(
        CaseRequest.objects.filter(status=CaseRequest.Status.OPEN)
        .order_by()
        .values_list("language_id", "court_id")
        .annotate(n=Count("pk"))
    )
    per_language: Counter[str] = Counter()
    per_court: Counter[int] = Counter()
    for language, court, n in rows:
        per_language[language] += n
        per_court[court] += n
    top_languages = [code for code, _ in per_language.most_common(HEAT_LANGUAGES)]
    top_courts = [pk for pk, _ in per_court.most_common(HEAT_COURTS)]
    cells = {(language, court): n for language, court, n in rows}
    heat = [[cells.get((lang, court), 0) for court in top_courts] for lang in top_languages]
    language_names = dict(
        Language.objects.filter(code__in=top_languages).values_list("code", "name")
    )
    court_names = dict(ImmigrationCourt.objects.filter(pk__in=top_courts).values_list("pk", "name"))
    return (
        [language_names.get(code, code) for code in top_languages],
        [court_names.get(pk, str(pk)) for pk in top_courts],
        heat,
    )


def _capacity_by_language(today: date) -> list[tuple[str, int]]:
    free = F("attorney__capacity") - F("attorney__active_cases")
    return list(
        AttorneyLanguage.objects.filter(
            Q(attorney__paused_until__isnull=True) | Q(attorney__paused_until__lte=today),
            attorney__verification=AttorneyProfile.Verification.VERIFIED,
            attorney__active_cases__lt=F("attorney__capacity"),
        )
        .order_by()
        .values_list("language__name")
        .annotate(free=Sum(free))
        .order_by("-free")[:CAPACITY_LANGUAGES]
    )


def _matches_by_week(today: date) -> list[tuple[str, int]]:
    start = today - timedelta(weeks=WEEKS_SHOWN)
    since = timezone.make_aware(datetime.combine(start, datetime.min.time()))
    rows = (
        Match.objects.filter(created_at__gte=since)
        .order_by()
        .annotate(week=TruncWeek("created_at"))
        .values_list("week")
        .annotate(n=Count("pk"))
        .order_by("week")
    )
    return [(week.date().isoformat(), n) for week, n in rows]


def _decline_reasons() -> list[tuple[str, int]]:
    labels = dict(Match.DeclineReason.choices)
    rows = (
        Match.objects.filter(status=Match.Status.DECLINED)
        .order_by()
        .values_list("decline_reason")
        .annotate(n=Count("pk"))
        .order_by("-n")
    )
    return [(labels.get(reason, reason), n) for reason, n in rows]


def _median_hours_to_answer() -> float | None:
    """Median hours from offer to accept or decline: one aggregate on PostgreSQL."""
    if connection.vendor == "postgresql":
        table = connection.ops.quote_name(Match._meta.db_table)
        sql = f"""
            SELECT percentile_cont(0.5) WITHIN GROUP (
                ORDER BY EXTRACT(EPOCH FROM responded_at - offered_at))
            FROM {table} WHERE offered_at IS NOT NULL AND responded_at IS NOT NULL
        """  # noqa: S608 - the table name comes from the model, not from input
        with connection.cursor() as cursor:
            cursor.execute(sql)
            value = cursor.fetchone()[0]
        return None if value is None else round(float(value) / 3600, 1)
    answered = Match.objects.filter(offered_at__isnull=False, responded_at__isnull=False)
    seconds = sorted(
        (responded - offered).total_seconds()
        for offered, responded in answered.values_list("offered_at", "responded_at")
        if offered is not None and responded is not None  # (the filter's already)
    )
    if not seconds:
        return None
    middle = len(seconds) // 2
    value = seconds[middle] if len(seconds) % 2 else (seconds[middle - 1] + seconds[middle]) / 2
    return round(value / 3600, 1)


# The coordinator home (the admin index, core.admin_site): the day's work as counts and links.
# Every count is served by an index on the match or attorney table, whatever the backlog's size.

RECENT_EVENTS = 15
HELP_DAYS = 14


@dataclass(frozen=True)
class CoordinatorWorklist:
    awaiting_verification: int
    proposals_to_review: int
    offers_expiring: int
    declined_since_yesterday: int
    expired_since_yesterday: int
    last_run: MatchingRun | None
    # The last run that made proposals (the last run itself, or an earlier one when the last
    # found nothing new, skipped, failed or is still running) and how many of its proposals
    # still await review: without it, a second run straight after a productive one would hide
    # that run's work behind "0 proposals".
    last_productive_run: MatchingRun | None
    last_productive_awaiting: int
    # When an admin "Run matching now" waiting for a worker was queued (None: none is).
    run_queued_since: datetime | None
    # Open cases no eligible attorney could take in the last finished run (None: not recorded).
    unreachable_cases: int | None
    recent_events: list[DomainEvent]
    # The opportunity board (issue 13): proposals attorneys asked for, cases they put back.
    requested_to_review: int = 0
    put_back_since_yesterday: int = 0
    # Status check-ins (issue 16): reminded once and still unanswered; attorneys asking for
    # help in the last HELP_DAYS. Both served by the open-request index or a short scan.
    checkins_unanswered: int = 0
    help_requested: int = 0


def _checkin_counts(now: datetime) -> dict[str, int]:
    """Check-ins reminded once and still unanswered, and recent calls for help: one query."""
    reminded = Q(answered_at__isnull=True, reminded_at__isnull=False)
    help_asked = Q(
        answer=StatusRequest.Answer.NEED_HELP, answered_at__gte=now - timedelta(days=HELP_DAYS)
    )
    counts = StatusRequest.objects.filter(reminded | help_asked).aggregate(
        checkins_unanswered=Count("pk", filter=reminded),
        help_requested=Count("pk", filter=help_asked),
    )
    return {name: counts[name] or 0 for name in ("checkins_unanswered", "help_requested")}


def _last_productive_run(last_run: MatchingRun | None) -> tuple[MatchingRun | None, int]:
    """The last run that proposed something and how many of its proposals still await review
    (one query, or two when the last run proposed nothing)."""
    if last_run is None:
        return None, 0
    run: MatchingRun | None = last_run
    if not last_run.proposals:
        # Newest first by id (the primary key's index; runs are numbered as they start),
        # stopping at the first run with proposals, however long the history.
        run = (
            MatchingRun.objects.filter(status=MatchingRun.Status.FINISHED, proposals__gt=0)
            .defer("plan")
            .order_by("-pk")
            .first()
        )
    awaiting = Match.objects.filter(run=run, status=Match.Status.PROPOSED).count() if run else 0
    return run, awaiting


def coordinator_worklist(*, now: datetime | None = None) -> CoordinatorWorklist:
    """What needs a coordinator today: queues with counts, the last run, recent activity."""
    now = now or timezone.now()
    since = now - timedelta(days=1)
    ended = Match.objects.filter(status_changed_at__gte=since).order_by()
    # The last run that loaded the whole backlog (a small run cannot count unreachable cases).
    last_finished = MatchingRun.objects.filter(
        status=MatchingRun.Status.FINISHED, stats__has_key="unreachable_cases"
    ).first()
    last_run = MatchingRun.objects.defer("plan").first()
    productive, awaiting = _last_productive_run(last_run)
    return CoordinatorWorklist(
        awaiting_verification=AttorneyProfile.objects.filter(
            verification=AttorneyProfile.Verification.PENDING
        ).count(),
        proposals_to_review=Match.objects.filter(status=Match.Status.PROPOSED).count(),
        offers_expiring=Match.objects.filter(
            status=Match.Status.OFFERED, expires_at__lte=now + timedelta(hours=24)
        ).count(),
        declined_since_yesterday=ended.filter(status=Match.Status.DECLINED).count(),
        expired_since_yesterday=ended.filter(status=Match.Status.EXPIRED).count(),
        last_run=last_run,
        last_productive_run=productive,
        last_productive_awaiting=awaiting,
        run_queued_since=run_queued_since(),
        unreachable_cases=(last_finished.stats or {}).get("unreachable_cases")
        if last_finished
        else None,
        recent_events=list(DomainEvent.objects.select_related("target_type")[:RECENT_EVENTS]),
        requested_to_review=Match.objects.filter(
            status=Match.Status.PROPOSED, source=Match.Source.ATTORNEY
        ).count(),
        put_back_since_yesterday=ended.filter(status=Match.Status.RETURNED).count(),
        **_checkin_counts(now),
    )
