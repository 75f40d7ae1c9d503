"""The opportunity board's reads: open cases a verified attorney may take, most urgent first.

Eligibility is the matcher's, not a second rule (issue 13):

1. :func:`board_scope` asks :func:`matching.scoring.eligibility` about every kind of cell this
   attorney could meet (case type x court x detained x remote handling, in a language the
   attorney speaks) and turns the answers into one SQL condition. A hard constraint added to the
   scorer (a preference, say) reaches the board through the same call.
2. :func:`board_page` reads one page with that condition, never-paired-with-this-attorney and
   the attorney's filters, in the urgency order of the case changelist, keyset-paged.
3. Each row is checked once more with the scorer on its own CellFacts (which also words why it
   fits), and a request goes through ``candidate_for_case`` (matching.services), which checks
   again under the proposal's locks.

Languages are the one dimension not enumerated: the scorer's language test is "speaks one of the
client's routes" (main language, relay language, and other languages when those are matched),
which is exactly ``language IN spoken OR relay_language IN spoken [OR other IN spoken]``.
"""

import hashlib
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Final

from django.conf import settings
from django.core.cache import cache
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone

from cases.models import CaseRequest, CaseType, ImmigrationCourt
from matching.models import Match
from matching.pipeline.load import other_languages_matched
from matching.pipeline.load.attorneys import offers_left_this_month, preference_types
from matching.scoring import (
    MIN_PROFICIENCY,
    AttorneyFacts,
    CellFacts,
    Constraint,
    affinity,
    eligibility,
    explain,
    haversine_miles,
)
from matching.selectors import _cell, _name_of, _type_of
from volunteers.models import AttorneyLanguage, AttorneyProfile, PracticeArea
from volunteers.timezones import attorney_paused

# Constraints about the attorney, not the case: when one fails, it fails for every cell, and the
# board says why instead of listing nothing.
ATTORNEY_WIDE: Final = frozenset(
    {Constraint.NOT_VERIFIED, Constraint.UNAVAILABLE, Constraint.NO_CAPACITY}
)
# Bump when the shape of a cached scope changes; entries also expire on their own, so a
# deploy that changes scoring.py shows its new rule within SCOPE_CACHE_SECONDS.
SCOPE_VERSION: Final = 1
SCOPE_CACHE_SECONDS: Final = 300
# Fields a board row reads: no respondent name, A-number or contact route (SEC-15), as an offer.
ROW_FIELDS: Final = (
    "reference", "language", "relay_interpreter_ok", "relay_language", "court", "case_type",
    "detained", "remote_ok", "next_hearing_date", "filing_deadline", "summary", "priority",
    "created_at", "status",
    "language__name", "relay_language__name", "case_type__name",
    "court__name", "court__state", "court__latitude", "court__longitude",
)  # fmt: skip


@dataclass(frozen=True)
class Court:
    pk: int
    name: str
    state: str
    latitude: float
    longitude: float


@dataclass(frozen=True)
class BoardScope:
    """What the matcher lets this attorney take, as data the page query and the form use."""

    facts: AttorneyFacts
    refused: Constraint | None  # an attorney-wide reason: the board is closed
    languages: tuple[tuple[str, str], ...]  # (code, name) the attorney speaks
    courts: tuple[Court, ...]
    case_types: tuple[tuple[str, str], ...]  # (code, name) eligible somewhere
    condition: Q | None  # the eligible cells, without the language test; None: no cell at all
    spoken: tuple[str, ...] = ()
    cells_checked: int = 0

    @property
    def open(self) -> bool:
        return self.refused is None and self.condition is not None


@dataclass(frozen=True)
class BoardFilters:
    language: str | None = None
    court: int | None = None
    case_type: str | None = None
    detained: bool | None = None
    hearing_within_days: int | None = None
    remote_only: bool = False


@dataclass(frozen=True, order=True)
class Cursor:
    """The last row's sort key: (priority, created_at, pk); no identifier of the person."""

    priority: int
    created_us: int  # microseconds since the epoch, exact for PostgreSQL timestamps
    pk: int

    def encode(self) -> str:
        return f"{self.priority}.{self.created_us}.{self.pk}"

    @classmethod
    def decode(cls, text: str) -> "Cursor":
        """Raises ValueError on anything but three integers."""
        parts = text.split(".")
        if len(parts) != 3 or len(text) > 60:
            raise ValueError("bad cursor")
        priority, created_us, pk = (int(part) for part in parts)
        if not 1 <= pk < 2**63 or not -(2**31) <= priority < 2**31:
            raise ValueError("bad cursor")
        try:
            _EPOCH + timedelta(microseconds=created_us)  # a time no datetime holds: a 500 later
        except OverflowError:
            raise ValueError("bad cursor") from None
        return cls(priority, created_us, pk)

    @property
    def created_at(self) -> datetime:
        return _EPOCH + timedelta(microseconds=self.created_us)

    @classmethod
    def of(cls, case: CaseRequest) -> "Cursor":
        delta = case.created_at - _EPOCH
        return cls(case.priority, delta // timedelta(microseconds=1), case.pk)


_EPOCH: Final = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class BoardRow:
    case: CaseRequest  # loaded with ROW_FIELDS only
    reasons: tuple[str, ...]  # why it fits, in the scorer's words


@dataclass(frozen=True)
class BoardPage:
    rows: list[BoardRow]
    next_cursor: Cursor | None
    dropped: int = 0  # rows the scorer refused on the recheck (a board/scorer disagreement)


def attorney_facts(
    attorney: AttorneyProfile, *, now: datetime, languages: dict[str, int] | None = None
) -> AttorneyFacts:
    """The attorney as the matcher's loader sees them (matching.pipeline.load.attorneys): paused
    on their own date, free capacity within what is left of a monthly cap on new offers, the
    preferences. Three to five small queries."""
    if languages is None:
        languages = dict(
            AttorneyLanguage.objects.filter(attorney=attorney)
            .order_by("language_id")
            .values_list("language_id", "proficiency")
        )
    areas = dict(
        PracticeArea.objects.filter(attorney=attorney)
        .order_by("case_type_id")
        .values_list("case_type_id", "cases_handled")
    )
    free = attorney.capacity - attorney.active_cases
    if attorney.monthly_offer_cap is not None:
        free = min(free, offers_left_this_month([attorney.pk], now=now).get(attorney.pk, 0))
    preferred, excluded = preference_types([attorney.pk])
    return AttorneyFacts(
        id=attorney.pk,
        languages=languages,
        practice_areas=areas,
        years_experience=attorney.years_experience,
        latitude=float(attorney.latitude),
        longitude=float(attorney.longitude),
        travel_radius_miles=attorney.travel_radius_miles,
        remote_ok=attorney.remote_ok,
        verified=attorney.verification == AttorneyProfile.Verification.VERIFIED,
        available=not attorney_paused(attorney, now=now),
        free_capacity=free,
        remote_preferred=attorney.remote_preferred,
        detained_ok=attorney.detained_ok,
        preferred_types=frozenset(preferred.get(attorney.pk, ())),
        excluded_types=frozenset(excluded.get(attorney.pk, ())),
    )


def board_scope(*, attorney: AttorneyProfile, now: datetime | None = None) -> BoardScope:
    """Ask the scorer about every kind of cell; a handful of small queries (the attorney's
    facts, courts, case types), however many cases there are."""
    now = now or timezone.now()
    skills: list[tuple[str, int, str]] = list(
        AttorneyLanguage.objects.filter(attorney=attorney)
        .order_by("language_id")
        .values_list("language_id", "proficiency", "language__name")
    )
    names = {code: name for code, _, name in skills}
    facts = attorney_facts(attorney, now=now, languages={code: level for code, level, _ in skills})
    courts = tuple(
        Court(pk, name, state, float(lat), float(lon))
        for pk, name, state, lat, lon in ImmigrationCourt.objects.order_by(
            "state", "name"
        ).values_list("pk", "name", "state", "latitude", "longitude")
    )
    types = list(CaseType.objects.values_list("code", "name"))
    spoken = tuple(code for code, level, _ in skills if level >= MIN_PROFICIENCY)
    if not spoken or not courts or not types:
        refused = _attorney_wide(facts)
        return BoardScope(facts, refused, tuple(names.items()), courts, (), None)
    allowed, refused, checked = _eligible_cells_cached(
        facts, spoken[0], courts, [t for t, _ in types]
    )
    condition = _condition(allowed, {c.pk for c in courts}) if allowed else None
    eligible_types = {t for (_, _, t), _ in allowed.items()}
    return BoardScope(
        facts=facts,
        refused=refused,
        languages=tuple(sorted(((c, names.get(c, c)) for c in spoken), key=lambda p: p[1])),
        courts=courts,
        case_types=tuple((code, name) for code, name in types if code in eligible_types),
        condition=condition,
        spoken=spoken,
        cells_checked=checked,
    )


def _attorney_wide(facts: AttorneyFacts) -> Constraint | None:
    for constraint, broken in (
        (Constraint.NOT_VERIFIED, not facts.verified),
        (Constraint.UNAVAILABLE, not facts.available),
        (Constraint.NO_CAPACITY, facts.free_capacity <= 0),
    ):
        if broken:
            return constraint
    return None


def _eligible_cells_cached(facts, language, courts, types):
    """_eligible_cells, memoised in the cache under a digest of everything it reads (the
    attorney's facts, the courts, the case types, the language setting): a pure function of
    its key, so a hit is exactly what a fresh call would give. A few thousand scorer calls
    (~50 ms) become one cache read on every page after the first."""
    key = repr((SCOPE_VERSION, facts, language, courts, types, other_languages_matched()))
    key = "board-scope:" + hashlib.sha256(key.encode()).hexdigest()
    found = cache.get(key)
    if found is None:
        found = _eligible_cells(facts, language, courts, types)
        cache.set(key, found, SCOPE_CACHE_SECONDS)
    return found


def _eligible_cells(facts, language, courts, types):
    """{(detained, remote, case type): eligible court pks} from scoring.eligibility, one call
    per (case type, court, detained, remote) in a language the attorney speaks; and the
    attorney-wide refusal, if the scorer gave one. Distances are computed once per court with
    scoring's haversine and passed in (eligibility's ``miles``)."""
    allowed: dict[tuple[bool, bool, str], set[int]] = defaultdict(set)
    refused, checked = None, 0
    for court in courts:
        miles = haversine_miles(facts.latitude, facts.longitude, court.latitude, court.longitude)
        for case_type in types:
            for detained in (False, True):
                for remote in (False, True):
                    cell = CellFacts(
                        language=language, relay_language=None, case_type=case_type,
                        court_id=court.pk, court_latitude=court.latitude,
                        court_longitude=court.longitude, detained=detained, remote_ok=remote,
                    )  # fmt: skip
                    verdict = eligibility(facts, cell, miles=miles)
                    checked += 1
                    if verdict.failed in ATTORNEY_WIDE:
                        return {}, verdict.failed, checked
                    if verdict.ok:
                        allowed[(detained, remote, case_type)].add(court.pk)
    return {key: frozenset(pks) for key, pks in allowed.items()}, refused, checked


def _condition(allowed, every_court: set[int]) -> Q:
    """The eligible cells as one SQL condition, compressed: cells sharing their court set share
    a term, a term over every court drops the court test, and equal terms for detained and not
    detained (or remote and not) merge."""
    terms: dict[tuple[bool, bool], frozenset] = {}
    for detained in (False, True):
        for remote in (False, True):
            by_courts: dict[frozenset[int], set[str]] = defaultdict(set)
            for (d, r, case_type), pks in allowed.items():
                if (d, r) == (detained, remote):
                    by_courts[pks].add(case_type)
            terms[(detained, remote)] = frozenset(
                (pks, frozenset(kinds)) for pks, kinds in by_courts.items()
            )
    condition = Q(pk__in=[])
    for (detained, remote), term in _merged(terms).items():
        part = Q(pk__in=[])
        for pks, kinds in term:
            piece = Q(case_type_id__in=sorted(kinds))
            if set(pks) != every_court:
                piece &= Q(court_id__in=sorted(pks))
            part |= piece
        if detained is not None:
            part &= Q(detained=detained)
        if remote is not None:
            part &= Q(remote_ok=remote)
        condition |= part
    return condition


def _merged(terms):
    """Merge equal terms over detained, then over remote (None: either value)."""
    merged = {}
    for remote in (False, True):
        pair = terms[(False, remote)], terms[(True, remote)]
        if pair[0] == pair[1]:
            merged[(None, remote)] = pair[0]
        else:
            merged[(False, remote)], merged[(True, remote)] = pair
    if {k[0] for k in merged} == {None} and merged[(None, False)] == merged[(None, True)]:
        merged = {(None, None): merged[(None, False)]}
    return {key: term for key, term in merged.items() if term}


def _speaks(spoken: tuple[str, ...]) -> Q:
    """scoring._language_routes in SQL: the main language, the relay language when the case
    accepts a relay, and the other languages when the matcher counts them."""
    routes = Q(language_id__in=spoken) | Q(relay_interpreter_ok=True, relay_language_id__in=spoken)
    if other_languages_matched():
        routes |= Q(other_languages__code__in=spoken)  # distinct rows: see board_page
    return routes


def board_page(
    *,
    scope: BoardScope,
    filters: BoardFilters,
    after: Cursor | None = None,
    size: int | None = None,
    today: date | None = None,
) -> BoardPage:
    """One page of the board: two queries (the rows, their other languages)."""
    size = size or settings.OPPORTUNITY_BOARD_PAGE_SIZE
    if not scope.open:
        return BoardPage(rows=[], next_cursor=None)
    cases = board_queryset(scope=scope, filters=filters, after=after, today=today)
    found = list(cases[: size + 1])
    more = len(found) > size
    found = found[:size]
    rows, dropped = _rechecked(scope.facts, found)
    cursor = Cursor.of(found[-1]) if more and found else None
    return BoardPage(rows=rows, next_cursor=cursor, dropped=dropped)


def board_queryset(
    *,
    scope: BoardScope,
    filters: BoardFilters,
    after: Cursor | None = None,
    today: date | None = None,
) -> QuerySet[CaseRequest]:
    """The hot query: open, eligible, never paired with this attorney, filtered, in the
    changelist's urgency order (-priority, created_at, -pk: case_list_order_idx) from the
    cursor on."""
    today = today or timezone.localdate()
    paired = Match.objects.filter(case=OuterRef("pk"), attorney_id=scope.facts.id)
    if filters.language in scope.spoken:
        # The case's own language, one the attorney speaks: the route test holds, and leaving
        # it out keeps the planner's row estimate honest.
        language = Q(language_id=filters.language)
    elif filters.language:  # reached through a relay or another language the client speaks
        language = Q(language_id=filters.language) & _speaks(scope.spoken)
    else:
        language = _speaks(scope.spoken)
    cases = CaseRequest.objects.filter(scope.condition, language, status=CaseRequest.Status.OPEN)
    cases = cases.filter(_filters_q(filters, today)).exclude(Exists(paired))
    if after is not None:
        cases = cases.filter(_after_q(after))
    if other_languages_matched():
        cases = cases.distinct()
    return (
        cases.select_related("language", "relay_language", "case_type", "court")
        .only(*ROW_FIELDS)
        .prefetch_related("other_languages")
        .order_by("-priority", "created_at", "-pk")
    )


def _filters_q(filters: BoardFilters, today: date) -> Q:
    q = Q()
    if filters.court:
        q &= Q(court_id=filters.court)
    if filters.case_type:
        q &= Q(case_type_id=filters.case_type)
    if filters.detained is not None:
        q &= Q(detained=filters.detained)
    if filters.hearing_within_days is not None:
        horizon = today + timedelta(days=filters.hearing_within_days)
        q &= Q(next_hearing_date__gte=today, next_hearing_date__lte=horizon)
    if filters.remote_only:
        q &= Q(remote_ok=True)
    return q


def _after_q(after: Cursor) -> Q:
    """Rows after the cursor in (-priority, created_at, -pk) order. The first term is the
    index condition; the rest settle ties on the cursor's priority."""
    created = after.created_at
    return Q(priority__lte=after.priority) & (
        Q(priority__lt=after.priority)
        | Q(priority=after.priority, created_at__gt=created)
        | Q(priority=after.priority, created_at=created, pk__lt=after.pk)
    )


def _rechecked(facts: AttorneyFacts, cases: list[CaseRequest]) -> tuple[list[BoardRow], int]:
    """Each row through the scorer on its own CellFacts: kept if eligible, with the sentences
    that say why it fits (no query: the relations are loaded)."""
    rows, dropped = [], 0
    for case in cases:
        cell = _cell(case)
        if not eligibility(facts, cell).ok:
            dropped += 1
            continue
        parts = affinity(facts, cell)
        sentences = explain(parts, language_name=_name_of(case), case_type_name=_type_of(case))
        rows.append(BoardRow(case=case, reasons=tuple(sentences)))
    return rows, dropped
