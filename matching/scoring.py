"""Who may take which cases, and how well they fit: the attorney-to-cell half of a match's score.

A *cell* is a set of cases that no attorney can tell apart: same languages (main, other and
relay), court, case type, detained flag and remote handling. Matching scores a pair as
``affinity(attorney, cell) + priority(case)`` and lets the solver work on cells instead of single
cases (ARCHITECTURE.md, matching pipeline, steps 2-4).

Pure: frozen plain-data facts in, frozen plain-data results out. The loader builds the facts from
``values_list`` rows; nothing here touches the ORM, so the scorer runs in tests and benchmarks
without a database.
"""

import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import asdict, dataclass, field, fields
from enum import StrEnum
from typing import Final

import numpy as np
import numpy.typing as npt

# Mean Earth radius; the spherical model is within ~0.5% of the ellipsoid, far below what a travel
# radius typed in whole miles can resolve.
EARTH_RADIUS_MILES: Final = 3958.8

# volunteers.models.AttorneyLanguage.Proficiency: 1 conversational … 4 native.
MIN_PROFICIENCY: Final = 1
MAX_PROFICIENCY: Final = 4
_PROFICIENCY_ADVERB: Final = {
    1: "conversationally",
    2: "at a professional working level",
    3: "fluently",
    4: "natively",
}


# ---------------------------------------------------------------------------------------------
# Weights


@dataclass(frozen=True, slots=True, kw_only=True)
class AffinityWeights:
    """Every number that shapes affinity, in one place. Points are integers; the best possible
    pair scores ``max_total``: 1000 with these values before the preference bonuses, the scale
    case priority uses too; 1100 with them (a preferred case type).

    language_per_level:
        Points per proficiency level in the language used with the client: 100 conversational,
        200 professional working, 300 fluent, 400 native. Language is the largest part because a
        lawyer who cannot talk with the client cannot build an asylum claim with them.
    relay_percent:
        Share of those points kept when the attorney works through a relay interpreter (e.g. Mam
        → Spanish): half, so a native Spanish speaker on a Mam case (200) ranks with a
        professional-level direct speaker and below any fluent one. Every relay step loses detail.
    distance_max, distance_half_miles:
        Closeness to the court: ``distance_max`` at 0 miles, half of it at ``distance_half_miles``,
        then falling ever more slowly (max · half / (half + miles)). The difference between 5 and
        30 miles (client visits, same-day court runs) matters more than between 200 and 225.
    remote:
        Fixed, middling distance points when the case can be handled remotely (video hearing,
        BIA appeal, documents) and the attorney accepts remote work: distance barely matters
        then. A nearby attorney keeps their proximity points if those are higher, so closer never
        scores lower.
    experience_max, experience_half_cases:
        Cases of this type already handled, with diminishing returns: half of ``experience_max``
        at ``experience_half_cases`` cases, approaching the maximum after that. The first few cases
        teach the most; a 40-case veteran is not eight times better than a 5-case one.
    years_per_year, years_max:
        A little for general practice experience: ``years_per_year`` per year, capped. Kept small
        because immigration law is specialised; years in another field transfer only partly.
    preferred_type:
        The attorney's own word (profile preferences): a case type they prefer scores as much as
        a native-speaker step, so it tips close calls without beating a shared language.
    remote_preferred:
        Added to the remote points for an attorney who prefers remote work, so remote handling
        beats proximity for them beyond ~12 miles instead of ~50 (remote + this vs distance).
    """

    language_per_level: int = field(
        default=100, metadata={"meaning": "Points per proficiency level (1 to 4) in the language"}
    )
    relay_percent: int = field(
        default=50, metadata={"meaning": "Percent of language points kept through a relay"}
    )
    distance_max: int = field(
        default=300, metadata={"meaning": "Points for an attorney right next to the court"}
    )
    distance_half_miles: int = field(
        default=25, metadata={"meaning": "Miles from the court at which distance points halve"}
    )
    remote: int = field(
        default=100, metadata={"meaning": "Distance points when the case can be handled remotely"}
    )
    experience_max: int = field(
        default=250, metadata={"meaning": "Most points for cases of this type handled"}
    )
    experience_half_cases: int = field(
        default=5, metadata={"meaning": "Cases handled that earn half the experience points"}
    )
    years_per_year: int = field(
        default=5, metadata={"meaning": "Points per year of legal practice"}
    )
    years_max: int = field(default=50, metadata={"meaning": "Most points for years of practice"})
    preferred_type: int = field(
        default=100, metadata={"meaning": "Points when the attorney prefers the case type"}
    )
    remote_preferred: int = field(
        default=100,
        metadata={"meaning": "Extra points for remote handling when the attorney prefers it"},
    )

    def __post_init__(self) -> None:
        # Caught at import time rather than as a division by zero in the middle of a matching run.
        if min(asdict(self).values()) < 0:
            raise ValueError("Affinity weights must not be negative.")
        if self.distance_half_miles < 1 or self.experience_half_cases < 1:
            raise ValueError("distance_half_miles and experience_half_cases must be at least 1.")
        if self.relay_percent > 100:
            raise ValueError("A relay interpreter cannot score above speaking directly.")
        # The weakest eligible pair (conversational, via relay) must still score at least 1, so an
        # eligible arc always beats leaving the attorney's capacity unused.
        if self.language_per_level * MIN_PROFICIENCY * self.relay_percent < 100:
            raise ValueError("A conversational relay pair would score 0; raise language weights.")

    @property
    def max_total(self) -> int:
        language = self.language_per_level * MAX_PROFICIENCY
        where = max(self.distance_max, self.remote + self.remote_preferred)
        return language + where + self.experience_max + self.years_max + self.preferred_type


AFFINITY_WEIGHTS = AffinityWeights()


def weights_table(weights: AffinityWeights = AFFINITY_WEIGHTS) -> list[tuple[str, int, str]]:
    """Rows of (name, value, meaning) for coordinators' pages and exports."""
    return [(f.name, getattr(weights, f.name), f.metadata["meaning"]) for f in fields(weights)]


# ---------------------------------------------------------------------------------------------
# Facts


@dataclass(frozen=True, slots=True, kw_only=True)
class AttorneyFacts:
    """What matching needs to know about one attorney, as plain data.

    ``languages`` maps ISO 639-3 codes to proficiency (1 conversational … 4 native);
    ``practice_areas`` maps case type codes to the number of such cases handled.
    The preferences (issue 13) default to "no preference": ``remote_ok`` is "remote work
    welcome", ``remote_preferred`` adds a bonus to remote handling, ``excluded_types`` and
    ``detained_ok=False`` rule pairs out, ``preferred_types`` earn a bonus. A monthly cap on
    offers is already inside ``free_capacity`` (the loader applies it).
    """

    id: int
    languages: Mapping[str, int]
    practice_areas: Mapping[str, int]
    years_experience: int
    latitude: float
    longitude: float
    travel_radius_miles: int
    remote_ok: bool
    verified: bool
    available: bool
    free_capacity: int
    remote_preferred: bool = False
    detained_ok: bool = True
    preferred_types: frozenset[str] = frozenset()
    excluded_types: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True, kw_only=True)
class CellFacts:
    """One cell: everything about a case that an attorney's eligibility or affinity depends on.

    A CellFacts is hashable and *is* the cell key: two open cases belong to the same cell exactly
    when their CellFacts are equal. ``court_id`` is part of it because two courts can share
    coordinates (El Paso and El Paso SPC) yet are different dockets. ``other_languages`` are the
    other languages the person speaks (sorted, distinct, without ``language``: see
    :func:`other_languages_key`). ``relay_language`` is None unless the case accepts a relay
    interpreter to a language the person does not speak: a relay to one of their own languages
    can never beat speaking it directly, so it changes no score and must not split a cell.
    Both are normalised on construction, so equal cases always give equal keys.
    """

    language: str
    other_languages: tuple[str, ...] = ()
    relay_language: str | None
    case_type: str
    court_id: int
    court_latitude: float
    court_longitude: float
    detained: bool
    remote_ok: bool

    def __post_init__(self) -> None:
        # Frozen: normalise through object.__setattr__, once, before anyone hashes the cell.
        others = other_languages_key(self.language, self.other_languages)
        object.__setattr__(self, "other_languages", others)
        object.__setattr__(
            self, "relay_language", useful_relay(self.language, others, self.relay_language)
        )


def useful_relay(language: str, others: Iterable[str], relay: str | None) -> str | None:
    """The relay language, or None when the person speaks it (main or other language): a direct
    route in the same language always scores more (ties go to it), so such a relay is never
    used. The loaders merge cells whose CellFacts are equal (matching/pipeline/load/cases.py)."""
    return None if relay is None or relay == language or relay in others else relay


def other_languages_key(language: str, codes: Iterable[str | None]) -> tuple[str, ...]:
    """A case's other languages as CellFacts holds them: sorted, distinct, without its main
    language (which is a direct route already) and without blanks. Every loader uses this, so
    the same case lands in the same cell whichever path read it."""
    return tuple(sorted({code for code in codes if code and code != language}))


# ---------------------------------------------------------------------------------------------
# Distance


def haversine_miles(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance between two points given in decimal degrees."""
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    dphi, dlambda = phi2 - phi1, math.radians(lon2 - lon1)
    a = math.sin(dphi / 2) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(dlambda / 2) ** 2
    # Rounding can push `a` a hair above 1 for antipodal points; asin would then raise.
    return 2 * EARTH_RADIUS_MILES * math.asin(math.sqrt(min(1.0, a)))


def distance_matrix_miles(
    att_lats: npt.ArrayLike,
    att_lons: npt.ArrayLike,
    court_lats: npt.ArrayLike,
    court_lons: npt.ArrayLike,
) -> npt.NDArray[np.float64]:
    """Distances from every attorney (rows) to every court (columns), same formula as
    haversine_miles, so the bulk loader scores one court per cell instead of one per case."""
    lat1, lon1 = _radians_1d(att_lats, att_lons)
    lat2, lon2 = _radians_1d(court_lats, court_lons)
    dphi = lat2[np.newaxis, :] - lat1[:, np.newaxis]
    dlambda = lon2[np.newaxis, :] - lon1[:, np.newaxis]
    a = (
        np.sin(dphi / 2) ** 2
        + np.cos(lat1)[:, np.newaxis] * np.cos(lat2)[np.newaxis, :] * np.sin(dlambda / 2) ** 2
    )
    return 2 * EARTH_RADIUS_MILES * np.arcsin(np.sqrt(np.clip(a, 0.0, 1.0)))


def _radians_1d(
    lats: npt.ArrayLike, lons: npt.ArrayLike
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    lat = np.radians(np.asarray(lats, dtype=np.float64))
    lon = np.radians(np.asarray(lons, dtype=np.float64))
    if lat.ndim != 1 or lat.shape != lon.shape:
        raise ValueError("Latitudes and longitudes must be 1-D arrays of the same length.")
    return lat, lon


def _miles(attorney: AttorneyFacts, cell: CellFacts) -> float:
    return haversine_miles(
        attorney.latitude, attorney.longitude, cell.court_latitude, cell.court_longitude
    )


# ---------------------------------------------------------------------------------------------
# Hard constraints


class Constraint(StrEnum):
    """Stable codes for the hard constraint that rules a pair out (stored in run statistics)."""

    NOT_VERIFIED = "not_verified"
    UNAVAILABLE = "unavailable"
    NO_CAPACITY = "no_capacity"
    LANGUAGE = "language"
    CASE_TYPE = "case_type"
    EXCLUDED_TYPE = "excluded_type"
    DETAINED = "detained"
    DISTANCE = "distance"


@dataclass(frozen=True, slots=True)
class Eligibility:
    """Whether a pair may be matched; ``failed`` names the first constraint that ruled it out."""

    failed: Constraint | None = None

    @property
    def ok(self) -> bool:
        return self.failed is None


ELIGIBLE: Final = Eligibility()


def eligibility(
    attorney: AttorneyFacts, cell: CellFacts, *, miles: float | None = None
) -> Eligibility:
    """Check the hard constraints, in a fixed order, and report the first that fails.

    Attorney-wide constraints come first: when an attorney is unverified, paused or full, that is
    the reason for every cell, and the one a coordinator can act on. Then language (the most
    selective pair constraint), case type, and distance (the only one that costs arithmetic).
    Pass ``miles`` when the loader has already computed it with distance_matrix_miles.
    The "declined before" exclusion is per case, not per cell, so the solver applies it.
    """
    if not attorney.verified:
        return Eligibility(Constraint.NOT_VERIFIED)
    if not attorney.available:
        return Eligibility(Constraint.UNAVAILABLE)
    if attorney.free_capacity <= 0:
        return Eligibility(Constraint.NO_CAPACITY)
    if not any(_speaks(attorney, code) for code, _ in _language_routes(cell)):
        return Eligibility(Constraint.LANGUAGE)
    if cell.case_type not in attorney.practice_areas:
        return Eligibility(Constraint.CASE_TYPE)
    if cell.case_type in attorney.excluded_types:
        return Eligibility(Constraint.EXCLUDED_TYPE)
    if cell.detained and not attorney.detained_ok:
        return Eligibility(Constraint.DETAINED)
    if not _remote_possible(attorney, cell):
        distance = _miles(attorney, cell) if miles is None else miles
        if distance > attorney.travel_radius_miles:
            return Eligibility(Constraint.DISTANCE)
    return ELIGIBLE


def _language_routes(cell: CellFacts) -> list[tuple[str, bool]]:
    """(language, via relay) pairs through which an attorney can work with the client: the main
    language, then each other language the person speaks (all direct), then the relay language.
    """
    routes = [(cell.language, False), *((code, False) for code in cell.other_languages)]
    if cell.relay_language is not None:
        routes.append((cell.relay_language, True))
    return routes


def _speaks(attorney: AttorneyFacts, code: str) -> bool:
    return attorney.languages.get(code, 0) >= MIN_PROFICIENCY


def _remote_possible(attorney: AttorneyFacts, cell: CellFacts) -> bool:
    # Both sides must agree: the case allows remote handling and the attorney accepts it.
    return cell.remote_ok and attorney.remote_ok


# ---------------------------------------------------------------------------------------------
# Affinity


@dataclass(frozen=True, slots=True, kw_only=True)
class AffinityBreakdown:
    """The parts of an attorney-to-cell affinity, with the facts behind each, so the match can
    store it as its explanation and explain() can word it without looking anything up again."""

    language: int
    distance: int
    experience: int
    preference: int  # the attorney's preferences: a preferred type, remote work preferred
    # Facts behind the points.
    language_code: str | None  # the language used with the client; None if none is shared
    proficiency: int
    via_relay: bool
    relay_for: str | None  # the client's language when a relay interpreter bridges to it
    miles: float
    remote: bool  # the distance points are the remote-handling value
    case_type: str
    cases_handled: int
    years_experience: int
    # The preferences that allowed or favoured the pair, so every explanation can name them.
    radius: int = 0  # the attorney's travel radius, miles
    remote_ok: bool = False  # the attorney welcomes remote work
    remote_possible: bool = False  # case and attorney both allow remote handling
    remote_preferred: bool = False
    preferred_type: bool = False
    detained: bool = False  # a detained case, which the attorney said they take

    @property
    def total(self) -> int:
        return self.language + self.distance + self.experience + self.preference

    def as_dict(self) -> dict[str, object]:
        return {**asdict(self), "total": self.total}


def affinity(
    attorney: AttorneyFacts,
    cell: CellFacts,
    *,
    miles: float | None = None,
    weights: AffinityWeights = AFFINITY_WEIGHTS,
) -> AffinityBreakdown:
    """Score how well an attorney fits a cell. Meaningful only for eligible pairs, for which the
    total is between 1 and ``weights.max_total``."""
    distance = _miles(attorney, cell) if miles is None else miles
    route = _best_language_route(attorney, cell, weights)
    code, level, via_relay, language_points = route or (None, 0, False, 0)
    remote_possible = _remote_possible(attorney, cell)
    bonus = weights.remote_preferred if attorney.remote_preferred else 0
    distance_points, remote = _distance_points(distance, remote_possible, weights, bonus)
    cases_handled = max(0, attorney.practice_areas.get(cell.case_type, 0))
    preferred_type = cell.case_type in attorney.preferred_types
    preference = (bonus if remote else 0) + (weights.preferred_type if preferred_type else 0)
    return AffinityBreakdown(
        language=language_points,
        distance=distance_points,
        experience=_experience_points(cases_handled, attorney.years_experience, weights),
        preference=preference,
        language_code=code,
        proficiency=level,
        via_relay=via_relay,
        relay_for=cell.language if via_relay else None,
        miles=round(distance, 1),
        remote=remote,
        case_type=cell.case_type,
        cases_handled=cases_handled,
        years_experience=max(0, attorney.years_experience),
        radius=attorney.travel_radius_miles,
        remote_ok=attorney.remote_ok,
        remote_possible=remote_possible,
        remote_preferred=attorney.remote_preferred,
        preferred_type=preferred_type,
        detained=cell.detained,
    )


_LanguageRoute = tuple[str, int, bool, int]  # (code, proficiency, via relay, points)


def _best_language_route(
    attorney: AttorneyFacts, cell: CellFacts, weights: AffinityWeights
) -> _LanguageRoute | None:
    """The best of speaking one of the client's languages and speaking the relay language.

    An attorney may speak several (a little Mam, native Spanish); the highest-scoring route is
    the one the match would use.
    """
    scored = []
    for code, via_relay in _language_routes(cell):
        if _speaks(attorney, code):
            # Clamped so a bad import cannot push the total past max_total.
            level = min(attorney.languages[code], MAX_PROFICIENCY)
            points = weights.language_per_level * level
            if via_relay:
                points = points * weights.relay_percent // 100
            scored.append((code, level, via_relay, points))
    # Ties go to the route listed first: the client's main language, then a direct one over the
    # relay (no interpreter is better at equal points).
    return max(scored, key=lambda route: route[3], default=None)


def _distance_points(
    miles: float, remote_possible: bool, weights: AffinityWeights, remote_bonus: int = 0
) -> tuple[int, bool]:
    """Proximity points, or the remote value when remote handling is possible and scores more
    (with ``remote_bonus`` for an attorney who prefers remote work; the caller books the bonus
    as a preference point, so the distance part stays ``weights.remote``)."""
    half = weights.distance_half_miles
    near = int(weights.distance_max * half / (half + max(0.0, miles)))
    if remote_possible and weights.remote + remote_bonus > near:
        return weights.remote, True
    return near, False


def _experience_points(cases_handled: int, years: int, weights: AffinityWeights) -> int:
    cases = max(0, cases_handled)
    case_points = weights.experience_max * cases // (cases + weights.experience_half_cases)
    return case_points + min(weights.years_max, max(0, years) * weights.years_per_year)


# ---------------------------------------------------------------------------------------------
# Explanation


_BREAKDOWN_FIELDS: Final = tuple(f.name for f in fields(AffinityBreakdown))


def _as_is(code: str) -> str:
    return code


def explain(
    breakdown: AffinityBreakdown,
    *,
    language_name: Callable[[str], str] = _as_is,
    case_type_name: Callable[[str], str] = _as_is,
) -> list[str]:
    """Plain-English sentences for a coordinator, one per fact that shaped the score.

    The name lookups are parameters so this stays pure; the default shows the codes.
    """
    sentences = [
        _explain_language(breakdown, language_name),
        _explain_distance(breakdown),
        _explain_cases(breakdown, case_type_name),
    ]
    if breakdown.years_experience:
        sentences.append(f"In practice for {_count(breakdown.years_experience, 'year')}")
    if breakdown.preferred_type:
        sentences.append(f"You said you prefer {case_type_name(breakdown.case_type)} cases")
    if breakdown.detained:
        sentences.append("You said you take detained cases: the client is in detention")
    return sentences


def explain_monthly_cap(stored: object) -> str | None:
    """The sentence for a proposal whose attorney's monthly offer cap, not their capacity,
    bounded how many new cases the run could give them (the run stores ``monthly_cap``: the
    cap, what it left this month, the free capacity); None when it did not."""
    if not isinstance(stored, Mapping):
        return None
    try:
        cap, left, room = (int(stored[key]) for key in ("cap", "left", "capacity_free"))
    except (KeyError, TypeError, ValueError):
        return None
    return (
        f"Your monthly limit of {_count(cap, 'new case')} left room for {left:,} more this "
        f"month, though your capacity had room for {room:,}: the limit, not your capacity, "
        "decided how many cases you were offered"
    )


def breakdown_of(stored: object) -> AffinityBreakdown | None:
    """The AffinityBreakdown a match stored as its ``affinity`` part (``as_dict()``), or None when
    it lacks a field explain() words: rows written before every fact was stored (those kept their
    sentences instead) or a hand-made breakdown."""
    if not isinstance(stored, Mapping):
        return None
    try:
        return AffinityBreakdown(**{name: stored[name] for name in _BREAKDOWN_FIELDS})
    except (KeyError, TypeError):
        return None


def _explain_language(breakdown: AffinityBreakdown, name: Callable[[str], str]) -> str:
    if breakdown.language_code is None:
        return "Shares no language with the client"
    adverb = _PROFICIENCY_ADVERB.get(breakdown.proficiency, "")
    sentence = f"Speaks {name(breakdown.language_code)} {adverb}"
    if breakdown.via_relay and breakdown.relay_for is not None:
        sentence += f", through a relay interpreter for {name(breakdown.relay_for)}"
    return sentence


def _explain_distance(breakdown: AffinityBreakdown) -> str:
    """Where the attorney will work, naming the work-mode preference that allows it."""
    if breakdown.miles < 1:
        away = "less than a mile away"
    else:
        away = f"{_count(round(breakdown.miles), 'mile')} away"
    radius = f"{breakdown.radius:,}-mile radius"
    if breakdown.remote or breakdown.miles > breakdown.radius:
        said = (
            "You said you prefer remote work"
            if breakdown.remote_preferred
            else "You said remote work is welcome"
        )
        beyond = f", beyond your {radius}," if breakdown.miles > breakdown.radius else ""
        return f"{said}: the court is {away}{beyond} and the case can be handled remotely"
    if not breakdown.remote_ok:
        return f"You said in person near you only: the court is {away}, within your {radius}"
    return f"In person within your {radius}: the court is {away}"


def _explain_cases(breakdown: AffinityBreakdown, name: Callable[[str], str]) -> str:
    case_type = name(breakdown.case_type)
    if breakdown.cases_handled == 0:
        return f"Has not handled a {case_type} case yet"
    return f"Has handled {_count(breakdown.cases_handled, f'{case_type} case')}"


def _count(n: int, noun: str) -> str:
    return f"{n:,} {noun}" if n == 1 else f"{n:,} {noun}s"
