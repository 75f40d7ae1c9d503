"""Reads for the pledge wall and the open-data endpoint. Public figures only: no contact data.

The wall runs a constant number of queries whatever the number of pledges: the totals are one
grouped aggregate (cached, invalidated when a pledge is approved, edited or withdrawn, and
expiring after TOTALS_TTL so new placements show), the page is one slice, and the progress of
the pledges on the page is one grouped count over accepted matches.
"""

from collections.abc import Collection, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.contrib.auth.models import User
from django.core.cache import cache
from django.core.paginator import Page, Paginator
from django.db.models import Count, Q, QuerySet, Sum
from django.shortcuts import get_object_or_404

from cases.models import CaseRequest
from matching.models import Match
from pledges.models import OrganizationManager, Pledge
from pledges.services import WALL_CACHE_VERSION_KEY
from pledges.suppression import THRESHOLD, Cell, cells, suppressed_cells
from volunteers.models import AttorneyProfile, CaseHours, Organization

TOTALS_TTL = 300
WALL_PAGE_SIZE = 50


def pledges_confirmation_unsent(*, created_before: datetime) -> list[int]:
    """Submitted pledges whose confirmation email was never sent (sweeper, REL-2)."""
    return list(
        Pledge.objects.filter(
            status=Pledge.Status.UNCONFIRMED,
            confirmation_sent_at__isnull=True,
            created_at__lt=created_before,
        )
        .order_by("created_at")
        .values_list("pk", flat=True)[:500]
    )


def _wall_pledges() -> QuerySet[Pledge]:
    return Pledge.objects.filter(status=Pledge.Status.APPROVED, public=True)


@dataclass
class KindTotals:
    """Pledged (hours, cases, attorneys) and placed (placed_*) figures of one kind of
    organization; placed counts what attorneys of the organizations on the wall did."""

    key: str
    label: str
    pledges: int = 0
    hours: int = 0
    cases: int = 0
    attorneys: int = 0
    placed_hours: int = 0
    placed_cases: int = 0
    placed_attorneys: int = 0


@dataclass
class WallTotals:
    by_kind: list[KindTotals] = field(default_factory=list)
    overall: KindTotals = field(default_factory=lambda: KindTotals("all", "All organizations"))

    def as_dict(self) -> dict[str, Any]:
        """The open-data payload: public figures only."""
        return {
            "totals": _figures(self.overall),
            "by_organization_kind": {
                t.key: {"label": t.label, **_figures(t)} for t in self.by_kind
            },
        }


def _figures(t: KindTotals) -> dict[str, int]:
    return {"pledges": t.pledges, "hours": t.hours, "cases": t.cases, "attorneys": t.attorneys}


def wall_totals() -> WallTotals:
    """Totals by kind of organization, cached under the wall's current version."""
    key = f"pledges:wall-totals:v2:{cache.get(WALL_CACHE_VERSION_KEY, 0)}"
    cached = cache.get(key)
    if cached is None:
        cached = (_totals_rows(), _placed_rows())
        cache.set(key, cached, TOTALS_TTL)
    return _totals_build(*cached)


def _placed_rows() -> list[tuple[str, int, int, int]]:
    """(organization kind, cases, attorneys, hours) placed by attorneys of the organizations
    on the wall: two grouped queries, plain data."""
    on_wall = _wall_pledges().values("organization_id")
    placed = (
        Match.objects.filter(
            status__in=Match.PLACED_STATUSES, attorney__organization_id__in=on_wall
        )
        .values_list("attorney__organization__kind")
        .annotate(cases=Count("pk"), attorneys=Count("attorney", distinct=True))
        .order_by()
    )
    hours = dict(
        CaseHours.objects.filter(match__attorney__organization_id__in=on_wall)
        .values_list("match__attorney__organization__kind")
        .annotate(total=Sum("hours"))
        .order_by()
    )
    by_kind = {kind: (cases, attorneys) for kind, cases, attorneys in placed}
    return [
        (kind, *by_kind.get(kind, (0, 0)), round(hours.get(kind) or 0))
        for kind in by_kind.keys() | hours.keys()
    ]


def _totals_rows() -> list[tuple[str, str, int, int]]:
    """(organization kind, pledge kind, amount, pledges): plain data, cheap to cache."""
    rows = (
        _wall_pledges()
        .values_list("organization__kind", "kind")
        .annotate(total=Sum("amount"), pledges=Count("pk"))
        .order_by()
    )
    return [tuple(row) for row in rows]


def _totals_build(
    rows: Iterable[tuple[str, str, int, int]], placed: Iterable[tuple[str, int, int, int]] = ()
) -> WallTotals:
    totals = {key: KindTotals(key, label) for key, label in Organization.Kind.choices}
    overall = KindTotals("all", "All organizations")
    for org_kind, kind, amount, pledges in rows:
        for target in (totals.get(org_kind), overall):
            if target is not None:
                setattr(target, kind, getattr(target, kind) + amount)
                target.pledges += pledges
    for org_kind, cases, attorneys, hours in placed:
        for target in (totals.get(org_kind), overall):
            if target is not None:
                target.placed_cases += cases
                target.placed_attorneys += attorneys
                target.placed_hours += hours
    return WallTotals(by_kind=[t for t in totals.values() if t.pledges], overall=overall)


# Outcomes (issue 16): how placed cases ended, by kind of organization and per organization on
# the wall, every count through small-cell suppression (pledges/suppression.py, threshold 5).

NO_ORGANIZATION = ("none", "No organization")
type CellKey = tuple[Any, ...]
# (kind, outcome, n), (relief type, n), (organization, kind, closed, relief), (organization, kind)
type OutcomeRows = tuple[
    list[tuple[str | None, str, int]],
    list[tuple[str, int]],
    list[tuple[int, str, int, int]],
    list[tuple[int, str]],
]


@dataclass(frozen=True)
class OutcomeTable:
    """Published outcome counts: rows are kinds of organization (the accepting attorney's),
    columns the outcomes; totals both ways; relief granted by type; two counts per organization
    on the wall (closed, relief granted). Every value a suppression.Cell."""

    kinds: list[tuple[str, str]]
    outcomes: list[tuple[str, str]]
    cells: dict[tuple[str, str], Cell]
    kind_totals: dict[str, Cell]
    outcome_totals: dict[str, Cell]
    total: Cell
    relief: list[tuple[str, str, Cell]]
    by_organization: dict[int, tuple[Cell, Cell]]
    threshold: int = THRESHOLD

    def rows(self) -> list[tuple[str, list[tuple[str, Cell]], Cell]]:
        """(kind label, (outcome label, cell) per outcome, the kind's total): the wall's table."""
        return [
            (label, [(o_label, self.cells[(kind, o)]) for o, o_label in self.outcomes],
             self.kind_totals[kind])
            for kind, label in self.kinds
        ]  # fmt: skip

    def totals_row(self) -> list[tuple[str, Cell]]:
        return [(label, self.outcome_totals[o]) for o, label in self.outcomes]

    def as_dict(self) -> dict[str, Any]:
        """The open-data payload: counts only, suppressed cells as null."""
        return {
            "suppression": {
                "threshold": self.threshold,
                "rule": (
                    f"Counts from 1 to {self.threshold - 1} are null with suppressed: true; "
                    "further counts are suppressed where a published total would otherwise "
                    "give one back by subtraction."
                ),
            },
            "outcome_labels": dict(self.outcomes),
            "by_organization_kind": {
                kind: {
                    "label": label,
                    "closed": self.kind_totals[kind].as_dict(),
                    "outcomes": {o: self.cells[(kind, o)].as_dict() for o, _ in self.outcomes},
                }
                for kind, label in self.kinds
            },
            "totals": {
                "closed": self.total.as_dict(),
                "outcomes": {o: self.outcome_totals[o].as_dict() for o, _ in self.outcomes},
            },
            "relief_granted_by_type": {key: cell.as_dict() for key, _, cell in self.relief},
        }


def outcome_table() -> OutcomeTable:
    """The outcome counts, suppressed; cached under the wall's version like its totals."""
    key = f"pledges:wall-outcomes:v1:{cache.get(WALL_CACHE_VERSION_KEY, 0)}"
    cached = cache.get(key)
    if cached is None:
        cached = _outcome_rows()
        cache.set(key, cached, TOTALS_TTL)
    return _outcome_table_build(*cached)


def _outcome_rows() -> OutcomeRows:
    """Plain data, three grouped queries: (kind, outcome, n), (relief type, n),
    (organization, kind, closed, relief granted), and the organizations on the wall."""
    closed = Match.objects.filter(status=Match.Status.COMPLETED).exclude(case__outcome="")
    by_kind = list(
        closed.values_list("attorney__organization__kind", "case__outcome")
        .annotate(n=Count("pk"))
        .order_by()
    )
    relief = list(
        closed.filter(case__outcome=CaseRequest.Outcome.RELIEF_GRANTED)
        .values_list("case__relief_type")
        .annotate(n=Count("pk"))
        .order_by()
    )
    granted = Count("pk", filter=Q(case__outcome=CaseRequest.Outcome.RELIEF_GRANTED))
    per_org = list(
        closed.filter(attorney__organization__isnull=False)
        .values_list("attorney__organization_id", "attorney__organization__kind")
        .annotate(n=Count("pk"), relief=granted)
        .order_by()
    )
    on_wall = list(_wall_pledges().values_list("organization_id", "organization__kind").distinct())
    return by_kind, relief, per_org, on_wall


def _outcome_table_build(
    by_kind: list[tuple[str | None, str, int]],
    relief: list[tuple[str, int]],
    per_org: list[tuple[int, str, int, int]],
    on_wall: list[tuple[int, str]],
) -> OutcomeTable:
    """Count every cell, write the equations the published totals make, suppress."""
    outcomes = list(CaseRequest.Outcome.choices)
    kinds = [*Organization.Kind.choices, NO_ORGANIZATION]
    counts: dict[CellKey, int] = {}
    for kind, outcome, n in by_kind:
        key = ("cell", kind or NO_ORGANIZATION[0], outcome)
        counts[key] = counts.get(key, 0) + n
    shown_kinds = [(k, label) for k, label in kinds if any(c[1] == k for c in counts)]
    for kind, _ in shown_kinds:
        for outcome, _ in outcomes:
            counts.setdefault(("cell", kind, outcome), 0)
        counts[("kind", kind)] = sum(counts[("cell", kind, o)] for o, _ in outcomes)
    for outcome, _ in outcomes:
        counts[("outcome", outcome)] = sum(counts[("cell", k, outcome)] for k, _ in shown_kinds)
    counts[("all",)] = sum(counts[("kind", k)] for k, _ in shown_kinds)
    relief_counts = dict(relief)
    for relief_type, _ in CaseRequest.Relief.choices:
        counts[("relief", relief_type)] = relief_counts.get(relief_type, 0)
    org_kind, hidden = _organization_counts(counts, per_org, on_wall)
    withheld = suppressed_cells(
        counts, _outcome_equations(shown_kinds, outcomes, org_kind), hidden=hidden
    )
    published = cells(counts, withheld)
    wall_orgs = {org for org, _ in on_wall}
    return OutcomeTable(
        kinds=shown_kinds,
        outcomes=outcomes,
        cells={(k, o): published[("cell", k, o)] for k, _ in shown_kinds for o, _ in outcomes},
        kind_totals={k: published[("kind", k)] for k, _ in shown_kinds},
        outcome_totals={o: published[("outcome", o)] for o, _ in outcomes},
        total=published[("all",)],
        relief=[
            (key, label, published[("relief", key)]) for key, label in CaseRequest.Relief.choices
        ],
        by_organization={
            org: (published[("org", org)], published[("org_relief", org)]) for org in wall_orgs
        },
    )


def _organization_counts(
    counts: dict[CellKey, int],
    per_org: list[tuple[int, str, int, int]],
    on_wall: list[tuple[int, str]],
) -> tuple[dict[int, str], set[CellKey]]:
    """Per-organization counts into ``counts``; those not on the wall are never published."""
    org_kind: dict[int, str] = {}
    for org, kind, n, granted in per_org:
        counts[("org", org)], counts[("org_relief", org)] = n, granted
        org_kind[org] = kind
    for org, kind in on_wall:
        counts.setdefault(("org", org), 0)
        counts.setdefault(("org_relief", org), 0)
        org_kind[org] = kind
    wall = {org for org, _ in on_wall}
    hidden = {(name, org) for org in org_kind if org not in wall for name in ("org", "org_relief")}
    return org_kind, hidden


def _outcome_equations(
    shown_kinds: list[tuple[str, str]], outcomes: list[tuple[str, str]], org_kind: dict[int, str]
) -> list[list[CellKey]]:
    """Every sum a reader could form from what is published: rows, columns, the grand total,
    the relief types, and a kind's organizations."""
    kinds = [k for k, _ in shown_kinds]
    outcome_keys = [o for o, _ in outcomes]
    granted = CaseRequest.Outcome.RELIEF_GRANTED
    equations: list[list[CellKey]] = [
        [("kind", k), *(("cell", k, o) for o in outcome_keys)] for k in kinds
    ]
    equations += [[("outcome", o), *(("cell", k, o) for k in kinds)] for o in outcome_keys]
    equations.append([("all",), *(("outcome", o) for o in outcome_keys)])
    equations.append([("all",), *(("kind", k) for k in kinds)])
    equations.append(
        [("outcome", granted), *(("relief", r) for r, _ in CaseRequest.Relief.choices)]
    )
    for kind in kinds:
        orgs = [org for org, k in org_kind.items() if k == kind]
        if kind == NO_ORGANIZATION[0] or not orgs:
            continue
        # The kind's count includes organizations not on the wall: they are hidden members.
        equations.append([("kind", kind), *(("org", org) for org in orgs)])
        equations.append([("cell", kind, granted), *(("org_relief", org) for org in orgs)])
    return equations


@dataclass(frozen=True)
class Progress:
    cases: int = 0
    attorneys: int = 0
    hours: int = 0


def _progress_for(organization_ids: Collection[int]) -> dict[int, Progress]:
    """Cases accepted by, and hours logged by, attorneys affiliated with each organization:
    two grouped queries, whatever the number of pledges on the page."""
    hours = dict(
        CaseHours.objects.filter(match__attorney__organization_id__in=organization_ids)
        .values_list("match__attorney__organization_id")
        .annotate(total=Sum("hours"))
        .order_by()
    )
    rows = (
        Match.objects.filter(
            status__in=Match.PLACED_STATUSES, attorney__organization_id__in=organization_ids
        )
        .values_list("attorney__organization_id")
        .annotate(cases=Count("pk"), attorneys=Count("attorney", distinct=True))
        .order_by()
    )
    placed = {org: (cases, attorneys) for org, cases, attorneys in rows}
    return {
        org: Progress(*placed.get(org, (0, 0)), round(hours.get(org) or 0))
        for org in placed.keys() | hours.keys()
    }


@dataclass(frozen=True)
class WallEntry:
    pledge: Pledge
    progress: Progress

    @property
    def achieved(self) -> int:
        """Progress in the pledge's own unit."""
        if self.pledge.kind == Pledge.Kind.ATTORNEYS:
            return self.progress.attorneys
        if self.pledge.kind == Pledge.Kind.HOURS:
            return self.progress.hours
        return self.progress.cases

    @property
    def percent(self) -> int:
        return min(100, round(100 * self.achieved / self.pledge.amount))


def pledge_wall(*, page: int | str = 1) -> tuple[Page[Pledge], list[WallEntry]]:
    """One page of approved, consenting pledges with their progress, newest decisions first."""
    pledges = _wall_pledges().select_related("organization").order_by("-decided_at", "-id")
    paginator = Paginator(pledges, WALL_PAGE_SIZE)
    paginator.count = wall_totals().overall.pledges  # the cached total: no COUNT(*) per view
    page_obj = paginator.get_page(page)
    progress = _progress_for({p.organization_id for p in page_obj.object_list})
    entries = [
        WallEntry(p, progress.get(p.organization_id, Progress())) for p in page_obj.object_list
    ]
    return page_obj, entries


@dataclass(frozen=True)
class ManagedOrganization:
    organization: Organization
    entries: list[WallEntry]
    manager_requests: list[OrganizationManager] = field(default_factory=list)
    attorney_requests: list[AttorneyProfile] = field(default_factory=list)


def _managed_ids(user: User) -> QuerySet[OrganizationManager, Any]:
    """Organizations the user manages with approval (a pending claim sees nothing)."""
    return OrganizationManager.objects.filter(user=user, approved_at__isnull=False).values(
        "organization_id"
    )


def organizations_managed(*, user: User) -> list[ManagedOrganization]:
    """The organizations the user manages, each with all its pledges and their progress, and
    the requests to manage or join it (five queries whatever the numbers)."""
    organizations = list(Organization.objects.filter(pk__in=_managed_ids(user)))
    if not organizations:
        return []
    by_org: dict[int, list[Pledge]] = {o.pk: [] for o in organizations}
    for pledge in Pledge.objects.filter(organization__in=organizations).order_by("-created_at"):
        by_org[pledge.organization_id].append(pledge)
    managers: dict[int, list[OrganizationManager]] = {o.pk: [] for o in organizations}
    for manager in OrganizationManager.objects.filter(
        organization__in=organizations, approved_at__isnull=True
    ).select_related("user"):
        managers[manager.organization_id].append(manager)
    attorneys: dict[int, list[AttorneyProfile]] = {o.pk: [] for o in organizations}
    for attorney in AttorneyProfile.objects.filter(
        organization_requested__in=organizations
    ).select_related("user"):
        if attorney.organization_requested_id is not None:  # (the filter's already)
            attorneys[attorney.organization_requested_id].append(attorney)
    progress = _progress_for(by_org.keys())
    return [
        ManagedOrganization(
            o,
            [WallEntry(p, progress.get(o.pk, Progress())) for p in by_org[o.pk]],
            managers[o.pk],
            attorneys[o.pk],
        )
        for o in organizations
    ]


def manager_request_get_for_manager(*, user: User, manager_id: int) -> OrganizationManager:
    """A pending claim on an organization the user manages; 404 for anyone else (SEC-12)."""
    return get_object_or_404(
        OrganizationManager.objects.select_related("organization"),
        pk=manager_id,
        approved_at__isnull=True,
        organization_id__in=_managed_ids(user),
    )


def attorney_request_get_for_manager(*, user: User, attorney_id: int) -> AttorneyProfile:
    """An attorney asking to join an organization the user manages; 404 for anyone else."""
    return get_object_or_404(
        AttorneyProfile, pk=attorney_id, organization_requested_id__in=_managed_ids(user)
    )
