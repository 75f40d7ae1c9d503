"""How urgently a case needs a lawyer: the per-case half of a match's score.

Matching scores a pair as ``affinity(attorney, cell) + priority(case)`` (ARCHITECTURE.md, matching
pipeline). Priority only orders cases that compete for the same attorneys, so what matters is its
shape and its scale, kept at 0..1000 like affinity so that neither half drowns the other.

Pure: plain dates in, integers out. The caller supplies ``today`` so results are reproducible.
"""

from dataclasses import asdict, dataclass, field, fields
from datetime import date


@dataclass(frozen=True, slots=True, kw_only=True)
class PriorityWeights:
    """Every number that shapes case priority, in one place. Points are integers.

    detained:
        Flat boost for a detained respondent. Detained dockets move in weeks, not years, and only
        about 14% of detained respondents have counsel (vs 37% overall), so detention alone puts a
        case ahead of most non-detained ones.
    hearing_max, hearing_full_within_days, hearing_zero_beyond_days:
        A hearing at most ``hearing_full_within_days`` away earns ``hearing_max``; the points fall
        linearly to 0 at ``hearing_zero_beyond_days`` (about six months, beyond which a volunteer
        has time to be found by the next runs anyway). A hearing date in the past means the record
        is stale (the hearing happened or was reset) and earns 0: a coordinator should update it,
        and a stale date must not keep a case at the top forever.
    deadline_max, deadline_full_within_days, deadline_zero_beyond_days:
        The same shape for a filing deadline. Full points within 21 days (a BIA brief is due about
        three weeks after the record arrives), falling to 0 at a year (the one-year asylum filing
        deadline is the longest one we track). A past deadline is stale data too and earns 0.
    waiting_points_per_week, waiting_max:
        Time waiting since the request opened, so that no case starves behind a stream of newer
        urgent ones: ``waiting_points_per_week`` per full week, capped at ``waiting_max`` (reached
        after 50 weeks with the defaults).
    """

    detained: int = field(default=300, metadata={"meaning": "Points when the person is detained"})
    hearing_max: int = field(default=300, metadata={"meaning": "Points for an imminent hearing"})
    hearing_full_within_days: int = field(
        default=14, metadata={"meaning": "A hearing this many days away or fewer gets full points"}
    )
    hearing_zero_beyond_days: int = field(
        default=180, metadata={"meaning": "A hearing this many days away or more gets no points"}
    )
    deadline_max: int = field(default=250, metadata={"meaning": "Points for an imminent deadline"})
    deadline_full_within_days: int = field(
        default=21, metadata={"meaning": "A deadline this many days away or fewer gets full points"}
    )
    deadline_zero_beyond_days: int = field(
        default=365, metadata={"meaning": "A deadline this many days away or more gets no points"}
    )
    waiting_points_per_week: int = field(
        default=3, metadata={"meaning": "Points per full week the case has waited"}
    )
    waiting_max: int = field(default=150, metadata={"meaning": "Most points for waiting"})

    def __post_init__(self) -> None:
        # Caught at import time rather than as a division by zero in the middle of a matching run.
        if min(asdict(self).values()) < 0:
            raise ValueError("Priority weights must not be negative.")
        if not self.hearing_full_within_days < self.hearing_zero_beyond_days:
            raise ValueError("hearing_full_within_days must be below hearing_zero_beyond_days.")
        if not self.deadline_full_within_days < self.deadline_zero_beyond_days:
            raise ValueError("deadline_full_within_days must be below deadline_zero_beyond_days.")

    @property
    def max_total(self) -> int:
        return self.detained + self.hearing_max + self.deadline_max + self.waiting_max


PRIORITY_WEIGHTS = PriorityWeights()


@dataclass(frozen=True, slots=True)
class PriorityBreakdown:
    """The parts of a case's priority; stored with each match as its explanation."""

    detention: int
    hearing: int
    deadline: int
    waiting: int

    @property
    def total(self) -> int:
        return self.detention + self.hearing + self.deadline + self.waiting

    def as_dict(self) -> dict[str, int]:
        return {**asdict(self), "total": self.total}


def case_priority(
    *,
    detained: bool,
    next_hearing_date: date | None,
    filing_deadline: date | None,
    waiting_since: date,
    today: date,
    weights: PriorityWeights = PRIORITY_WEIGHTS,
) -> PriorityBreakdown:
    """Score a case's urgency; every part is between 0 and its maximum in ``weights``."""
    return PriorityBreakdown(
        detention=weights.detained if detained else 0,
        hearing=_proximity_points(
            next_hearing_date,
            today,
            most=weights.hearing_max,
            full_within=weights.hearing_full_within_days,
            zero_beyond=weights.hearing_zero_beyond_days,
        ),
        deadline=_proximity_points(
            filing_deadline,
            today,
            most=weights.deadline_max,
            full_within=weights.deadline_full_within_days,
            zero_beyond=weights.deadline_zero_beyond_days,
        ),
        waiting=_waiting_points(waiting_since, today, weights),
    )


# How coordinators read the parts, on the case page and the match page alike.
PRIORITY_WORDS = {
    "detention": "detention",
    "hearing": "hearing soon",
    "deadline": "filing deadline",
    "waiting": "time waiting",
}


def priority_in_words(parts: dict[str, int] | None) -> list[tuple[str, int]]:
    """(words, points) for each part that earned points, in a fixed order; stored dicts from
    older runs may lack parts or carry extra keys (``total``, ``stored``), which are skipped."""
    parts = parts or {}
    return [(words, parts[key]) for key, words in PRIORITY_WORDS.items() if parts.get(key)]


def weights_table(weights: PriorityWeights = PRIORITY_WEIGHTS) -> list[tuple[str, int, str]]:
    """Rows of (name, value, meaning) for coordinators' pages and exports."""
    return [(f.name, getattr(weights, f.name), f.metadata["meaning"]) for f in fields(weights)]


def _proximity_points(
    when: date | None, today: date, *, most: int, full_within: int, zero_beyond: int
) -> int:
    """Full points up to ``full_within`` days away, linear down to 0 at ``zero_beyond``.

    Unknown and past dates earn 0 (see PriorityWeights for why a past date is not "imminent").
    """
    if when is None:
        return 0
    days = (when - today).days
    if days < 0 or days >= zero_beyond:
        return 0
    if days <= full_within:
        return most
    # Integer arithmetic: the solver takes integer costs, and floats would make ties flaky.
    return most * (zero_beyond - days) // (zero_beyond - full_within)


def _waiting_points(since: date, today: date, weights: PriorityWeights) -> int:
    # A start date in the future is bad data; treat it as "just arrived" rather than negative.
    weeks = max(0, (today - since).days) // 7
    return min(weights.waiting_max, weeks * weights.waiting_points_per_week)
