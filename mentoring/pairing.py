"""Mentor-mentee pairing: pure scoring, then the exact min-cost flow of matching.solver.

No ORM here (STYLE 5): services.py loads plain :class:`Person` records and writes the pairs.

The instance given to the solver: mentors play the attorneys (capacity = free mentee slots),
each mentee is a case in a cell of its own (so no two mentees share an arc and no exclusion is
needed: a pair that must not be proposed again simply gets no arc), an arc's affinity is the
pair's :func:`pair_score`, and a mentee's priority grows with the days they have waited. The
solver then maximises the total score exactly, with every mentor within capacity and every
mentee paired at most once; leaving a mentee unpaired scores 0.
"""

from collections.abc import Collection, Iterable
from dataclasses import dataclass, field

from matching.scoring import haversine_miles
from matching.solver import Instance, solve

# Points. A shared language counts by the weaker speaker's proficiency (1..4); each shared
# practice area counts, and the mentor's experience in those areas a little more; nearness
# counts only when they can meet in person.
LANGUAGE_POINTS = 100
AREA_POINTS = 150
CASE_POINTS = 2
CASE_POINTS_CAP = 100  # cases handled counted at most this many times
NEAR_POINTS = 200  # at 0 miles, falling by one point per mile to 0 at the mentor's radius
WAIT_POINTS_CAP = 60  # one point per day waited, at most this many


@dataclass(frozen=True, slots=True)
class Person:
    """An attorney as pairing sees them: where, how far they go, what they speak and do."""

    id: int
    latitude: float
    longitude: float
    radius_miles: int
    remote_ok: bool
    languages: dict[str, int] = field(default_factory=dict)  # ISO 639-3 -> proficiency 1..4
    areas: dict[str, int] = field(default_factory=dict)  # case type -> cases handled


@dataclass(frozen=True, slots=True)
class PairScore:
    total: int
    language: str  # the shared language that counted
    language_points: int
    areas: tuple[str, ...]
    area_points: int
    miles: int
    remote: bool  # they would meet by video: too far apart for the mentor's radius
    near_points: int

    def as_dict(self) -> dict:
        return {
            "language": self.language, "language_points": self.language_points,
            "areas": list(self.areas), "area_points": self.area_points, "miles": self.miles,
            "remote": self.remote, "near_points": self.near_points, "total": self.total,
        }  # fmt: skip


@dataclass(frozen=True, slots=True)
class Pair:
    mentor: int
    mentee: int
    score: int  # affinity + the mentee's waiting priority, as the solver counted it


def pair_score(mentor: Person, mentee: Person) -> PairScore | None:
    """The pair's affinity, or None when they cannot be paired.

    Hard constraints: two different people, a shared language, a shared practice area, and
    either within the mentor's travel radius or both willing to work remotely.
    """
    if mentor.id == mentee.id:
        return None
    shared = sorted(set(mentor.languages) & set(mentee.languages))
    areas = tuple(sorted(set(mentor.areas) & set(mentee.areas)))
    if not shared or not areas:
        return None
    miles = haversine_miles(mentor.latitude, mentor.longitude, mentee.latitude, mentee.longitude)
    near = miles <= mentor.radius_miles
    if not near and not (mentor.remote_ok and mentee.remote_ok):
        return None
    # max() over (points, code): ties go to the alphabetically last code, deterministically.
    language_points, language = max(
        (LANGUAGE_POINTS * min(mentor.languages[c], mentee.languages[c]), c) for c in shared
    )
    cases = min(sum(mentor.areas[a] for a in areas), CASE_POINTS_CAP)
    area_points = AREA_POINTS * len(areas) + CASE_POINTS * cases
    near_points = max(0, NEAR_POINTS - int(miles)) if near else 0
    return PairScore(
        total=language_points + area_points + near_points,
        language=language,
        language_points=language_points,
        areas=areas,
        area_points=area_points,
        miles=round(miles),
        remote=not near,
        near_points=near_points,
    )


def waiting_priority(days_waiting: int) -> int:
    """A mentee who has waited longer comes first when mentors are scarce (1..61 points)."""
    return 1 + min(max(days_waiting, 0), WAIT_POINTS_CAP)


def pairs_solve(
    *,
    mentors: Iterable[tuple[Person, int]],
    mentees: Iterable[tuple[Person, int]],
    excluded: Collection[tuple[int, int]] = (),
) -> tuple[int, list[Pair], dict[tuple[int, int], PairScore]]:
    """The optimal pairing: (objective, pairs, the score of every allowed pair).

    ``mentors``: (person, free slots); ``mentees``: (person, days waiting); ``excluded``:
    (mentor id, mentee id) pairs never to propose (declined or rejected before).
    """
    mentor_list = [(p, free) for p, free in mentors if free > 0]
    mentee_list = list(mentees)
    scores = {
        (m.id, e.id): s
        for m, _ in mentor_list
        for e, _ in mentee_list
        if (m.id, e.id) not in excluded and (s := pair_score(m, e)) is not None
    }
    if not scores:
        return 0, [], scores
    solution = solve(_instance(mentor_list, mentee_list, scores))
    pairs = [Pair(int(a.attorney[1:]), int(a.case[1:]), a.score) for a in solution.assignments]
    return solution.objective, pairs, scores


def _instance(mentors, mentees, scores) -> Instance:
    mentor_at = {m.id: i for i, (m, _) in enumerate(mentors)}
    mentee_at = {e.id: i for i, (e, _) in enumerate(mentees)}
    arcs = [(mentor_at[m], mentee_at[e], s.total) for (m, e), s in scores.items()]
    return Instance.from_arrays(
        attorney_ids=[f"r{m.id}" for m, _ in mentors],
        capacity=[free for _, free in mentors],
        cell_ids=[f"e{e.id}" for e, _ in mentees],
        case_ids=[f"e{e.id}" for e, _ in mentees],
        case_cell=list(range(len(mentees))),
        priority=[waiting_priority(days) for _, days in mentees],
        arc_attorney=[a for a, _, _ in arcs],
        arc_cell=[c for _, c, _ in arcs],
        affinity=[s for _, _, s in arcs],
    )
