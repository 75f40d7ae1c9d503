"""Attorney + interpreter teams for cases no attorney in range can talk with: an exact solve.

Pure (no ORM): services.py loads plain records and writes the teams.

Why not a min-cost flow. A team needs two resources, an attorney and an interpreter who share
a bridge language B (the attorney speaks B, the interpreter speaks the case's language L and B).
source -> attorney -> case -> interpreter -> sink would be a flow, and exact, if every case
had a single possible bridge: the case node (capacity 1) then joins any attorney to any
interpreter. With several bridges (Spanish and English for K'iche') the attorney and the
interpreter must agree on B, and "at most one team per case, whatever its bridge" is a side
constraint over several (case, B) nodes that no plain flow expresses. So the second stage is a
small integer program, solved exactly by HiGHS (scipy.optimize.milp):

    u[c, a, B] = 1  attorney a serves case c through bridge B
    w[c, i, B] = 1  interpreter i interprets case c through bridge B
    max  sum f(c, a, B) u + sum g(c, i, B) w + sum p(c) u
    s.t. sum_{a, B} u[c, a, B] <= 1                      each case: at most one team
         sum_a u[c, a, B] == sum_i w[c, i, B]            same bridge, one interpreter per team
         sum_{c, B} u[c, a, B] <= capacity(a)            attorneys within capacity
         sum_{c, B} w[c, i, B] <= capacity(i)            interpreters within capacity

An integer solution is exactly a set of teams (the equality gives each served case one
interpreter on the attorney's bridge), so the optimum of the program is the best set of teams
over the cases, attorneys and interpreters it is given: those the first stage left (cases still
open, attorneys' free capacity). tests/interpreters/test_teams.py checks it against brute force.
"""

from collections import defaultdict
from collections.abc import Collection
from dataclasses import dataclass, field

import numpy as np

from matching.scoring import haversine_miles

LANGUAGE_POINTS = 100  # per proficiency level (1..4) in the bridge language
NEAR_POINTS = 150  # at the court, falling by a point per mile
INTERPRETER_NEAR_POINTS = 50  # an interpreter who can be in the room
MIN_INTERPRETER_LEVEL = 3  # fluent in both languages


@dataclass(frozen=True, slots=True)
class TeamCase:
    id: int
    language: str
    latitude: float
    longitude: float
    remote_ok: bool
    case_type: str
    priority: int  # >= 1


@dataclass(frozen=True, slots=True)
class Volunteer:
    """An attorney (with practice areas) or an interpreter (areas unused)."""

    id: int
    capacity: int  # free slots
    latitude: float
    longitude: float
    radius_miles: int
    remote_ok: bool
    languages: dict[str, int] = field(default_factory=dict)
    areas: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True)
class Team:
    case: int
    attorney: int
    interpreter: int
    bridge: str
    attorney_points: int
    interpreter_points: int
    priority: int

    @property
    def score(self) -> int:
        return self.attorney_points + self.interpreter_points + self.priority


def _miles(v: Volunteer, c: TeamCase) -> float:
    return haversine_miles(v.latitude, v.longitude, c.latitude, c.longitude)


def attorney_points(a: Volunteer, c: TeamCase, bridge: str, *, direct: bool = False) -> int | None:
    """The attorney's part of a team score through `bridge`, or None if not allowed. With
    `direct`, whether the attorney could take the case in its own language (no team needed)."""
    level = a.languages.get(bridge, 0)
    if a.capacity <= 0 or level < 2 or (bridge == c.language) != direct:
        return None
    if c.case_type not in a.areas:
        return None
    miles = _miles(a, c)
    if miles <= a.radius_miles:
        return LANGUAGE_POINTS * level + max(0, NEAR_POINTS - int(miles))
    if c.remote_ok and a.remote_ok:
        return LANGUAGE_POINTS * level
    return None


def interpreter_points(i: Volunteer, c: TeamCase, bridge: str) -> int | None:
    """The interpreter's part through `bridge`, or None: fluent in the case's language and in
    the bridge, and near the court or willing to interpret remotely (video, phone)."""
    level = min(i.languages.get(c.language, 0), i.languages.get(bridge, 0))
    if i.capacity <= 0 or level < MIN_INTERPRETER_LEVEL or bridge == c.language:
        return None
    near = _miles(i, c) <= i.radius_miles
    if not near and not i.remote_ok:
        return None
    return LANGUAGE_POINTS * level + (INTERPRETER_NEAR_POINTS if near else 0)


def teams_solve(
    *,
    cases: list[TeamCase],
    attorneys: list[Volunteer],
    interpreters: list[Volunteer],
    excluded: Collection[tuple[int, int]] = (),
) -> tuple[int, list[Team]]:
    """The best set of teams (objective, teams), exactly: see the module docstring.
    ``excluded``: (case, attorney) pairs never to propose (matched before)."""
    u = [(c, a, b, p) for c in cases for a in attorneys for b in a.languages
         if (c.id, a.id) not in excluded
         and (p := attorney_points(a, c, b)) is not None]  # fmt: skip
    w = [(c, i, b, p) for c in cases for i in interpreters for b in i.languages
         if (p := interpreter_points(i, c, b)) is not None]  # fmt: skip
    bridges = {(c.id, b) for c, _, b, _ in u} & {(c.id, b) for c, _, b, _ in w}
    u = [x for x in u if (x[0].id, x[2]) in bridges]
    w = [x for x in w if (x[0].id, x[2]) in bridges]
    if not u:
        return 0, []
    chosen = _solve(u, w, sorted(bridges), cases, attorneys, interpreters)
    return _teams(u, w, chosen)


def _solve(u, w, bridges, cases, attorneys, interpreters) -> np.ndarray:
    # Imported here, not at the top: scipy costs every process ~0.3 s at start-up.
    from scipy.optimize import Bounds, LinearConstraint, milp
    from scipy.sparse import coo_array

    n_u, n = len(u), len(u) + len(w)
    gain = np.array([p + c.priority for c, _, _, p in u] + [p for _, _, _, p in w], dtype=float)
    rows: list[tuple[int, int, float]] = []
    lower: list[float] = []
    upper: list[float] = []

    def add(entries, lo, hi):
        r = len(lower)
        rows.extend((r, j, v) for j, v in entries)
        lower.append(lo)
        upper.append(hi)

    by_case, by_bridge, by_attorney, by_interpreter = (defaultdict(list) for _ in range(4))
    for j, (c, a, b, _) in enumerate(u):
        by_case[c.id].append((j, 1.0))
        by_bridge[(c.id, b)].append((j, 1.0))
        by_attorney[a.id].append((j, 1.0))
    for j, (c, i, b, _) in enumerate(w):
        by_bridge[(c.id, b)].append((n_u + j, -1.0))
        by_interpreter[i.id].append((n_u + j, 1.0))
    for c in cases:  # each case: at most one team
        add(by_case[c.id], 0, 1)
    for key in bridges:  # one interpreter per team, on the attorney's bridge
        add(by_bridge[key], 0, 0)
    for a in attorneys:
        add(by_attorney[a.id], 0, a.capacity)
    for i in interpreters:
        add(by_interpreter[i.id], 0, i.capacity)
    r, col, val = zip(*rows, strict=True) if rows else ((), (), ())
    matrix = coo_array((val, (r, col)), shape=(len(lower), n)).tocsr()
    result = milp(
        -gain,
        constraints=LinearConstraint(matrix, lower, upper),
        integrality=np.ones(n),
        bounds=Bounds(0, 1),
    )
    if not result.success:
        raise RuntimeError(f"team solve failed: {result.message}")
    return np.round(result.x).astype(int)


def _teams(u, w, x) -> tuple[int, list[Team]]:
    served = {(c.id, b): (a.id, p) for (c, a, b, p), on in zip(u, x[: len(u)], strict=True) if on}
    teams = []
    for (c, i, b, p), on in zip(w, x[len(u) :], strict=True):
        if on:
            attorney, points = served[(c.id, b)]
            teams.append(Team(c.id, attorney, i.id, b, points, p, c.priority))
    teams.sort(key=lambda t: t.case)
    return sum(t.score for t in teams), teams


def replacement_choose(
    *, case: TeamCase, bridge: str, interpreters: list[Volunteer], excluded: Collection[int] = ()
) -> tuple[int, int] | None:
    """Another interpreter for a team whose interpreter declined: (interpreter, points), or
    None. The attorney stays, so the bridge does too (the attorney's offer names it); among the
    interpreters the team stage would allow (interpreter_points), the best, then the lowest id.
    ``excluded``: interpreters this team had before."""
    scored = [(p, -i.id) for i in interpreters if i.id not in excluded
              and (p := interpreter_points(i, case, bridge)) is not None]  # fmt: skip
    if not scored:
        return None
    points, negative_id = max(scored)
    return -negative_id, points
