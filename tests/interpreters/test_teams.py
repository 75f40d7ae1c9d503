"""The team stage is exact: on small random worlds its objective equals an explicit brute-force
optimum over every feasible set of (case, attorney, interpreter, bridge) teams."""

import itertools
import random

import pytest

from interpreters.teams import (
    TeamCase,
    Volunteer,
    attorney_points,
    interpreter_points,
    replacement_choose,
    teams_solve,
)

CASE_LANGS = ["quc", "mam"]
BRIDGES = ["spa", "eng"]


def _case(rng, cid):
    return TeamCase(
        id=cid,
        language=rng.choice(CASE_LANGS),
        latitude=40 + rng.uniform(-2, 2),
        longitude=-74 + rng.uniform(-2, 2),
        remote_ok=rng.random() < 0.4,
        case_type=rng.choice(["asylum", "bond"]),
        priority=rng.randint(1, 300),
    )


def _attorney(rng, aid):
    langs = {b: rng.choice([1, 2, 3, 4, 4]) for b in rng.sample(BRIDGES, rng.randint(1, 2))}
    return Volunteer(
        id=aid,
        capacity=rng.choice([0, 1, 1, 2]),
        latitude=40 + rng.uniform(-2, 2),
        longitude=-74 + rng.uniform(-2, 2),
        radius_miles=rng.choice([30, 100, 300]),
        remote_ok=rng.random() < 0.5,
        languages=langs,
        areas=frozenset(rng.sample(["asylum", "bond"], rng.choice([1, 2, 2]))),
    )


def _interpreter(rng, iid):
    langs = {rng.choice(CASE_LANGS): rng.randint(3, 4)}
    langs |= {b: rng.choice([2, 3, 4, 4]) for b in rng.sample(BRIDGES, rng.randint(1, 2))}
    # Mostly fluent, so that most worlds have teams to choose between.
    return Volunteer(
        id=iid,
        capacity=rng.choice([0, 1, 1, 2]),
        latitude=40 + rng.uniform(-2, 2),
        longitude=-74 + rng.uniform(-2, 2),
        radius_miles=rng.choice([100, 300]),
        remote_ok=rng.random() < 0.5,
        languages=langs,
    )


def _brute_force(cases, attorneys, interpreters) -> int:
    options = []
    for c in cases:
        row = [None]
        for a, i, b in itertools.product(attorneys, interpreters, BRIDGES):
            pa, pi = attorney_points(a, c, b), interpreter_points(i, c, b)
            if pa is not None and pi is not None:
                row.append((a.id, i.id, pa + pi + c.priority))
        options.append(row)
    cap = {("a", a.id): a.capacity for a in attorneys} | {
        ("i", i.id): i.capacity for i in interpreters
    }
    best = 0
    for choice in itertools.product(*options):
        teams = [t for t in choice if t is not None]
        used = [("a", t[0]) for t in teams] + [("i", t[1]) for t in teams]
        if all(used.count(k) <= cap[k] for k in set(used)):
            best = max(best, sum(t[2] for t in teams))
    return best


def _world(seed):
    rng = random.Random(seed)
    cases = [_case(rng, c) for c in range(rng.randint(2, 4))]
    attorneys = [_attorney(rng, 100 + a) for a in range(rng.randint(2, 3))]
    interpreters = [_interpreter(rng, 200 + i) for i in range(rng.randint(2, 3))]
    return cases, attorneys, interpreters


SEEDS = range(120)


def test_the_random_worlds_are_not_trivial():
    """A third or more of the worlds have teams to form, so the comparison below means something."""
    with_teams = [
        seed
        for seed in SEEDS
        if teams_solve(
            **dict(zip(("cases", "attorneys", "interpreters"), _world(seed), strict=True))
        )[1]
    ]
    assert len(with_teams) >= len(SEEDS) // 4


@pytest.mark.parametrize("seed", SEEDS)
def test_the_team_stage_is_optimal_on_small_random_worlds(seed):
    cases, attorneys, interpreters = _world(seed)
    objective, teams = teams_solve(cases=cases, attorneys=attorneys, interpreters=interpreters)
    assert objective == _brute_force(cases, attorneys, interpreters)
    # Every team allowed, each case once, everyone within capacity, bridges agree.
    assert len({t.case for t in teams}) == len(teams)
    by_id = {c.id: c for c in cases}
    for t in teams:
        a = next(x for x in attorneys if x.id == t.attorney)
        i = next(x for x in interpreters if x.id == t.interpreter)
        assert attorney_points(a, by_id[t.case], t.bridge) == t.attorney_points
        assert interpreter_points(i, by_id[t.case], t.bridge) == t.interpreter_points
    for a in attorneys:
        assert sum(t.attorney == a.id for t in teams) <= a.capacity
    for i in interpreters:
        assert sum(t.interpreter == i.id for t in teams) <= i.capacity


def test_a_kiche_case_gets_a_spanish_speaking_attorney_and_a_kiche_spanish_interpreter():
    case = TeamCase(
        id=1,
        language="quc",
        latitude=40.7,
        longitude=-74.0,
        remote_ok=False,
        case_type="asylum",
        priority=100,
    )
    english_only = Volunteer(
        id=10,
        capacity=1,
        latitude=40.7,
        longitude=-74.0,
        radius_miles=50,
        remote_ok=False,
        languages={"eng": 4},
        areas=frozenset({"asylum"}),
    )
    spanish = Volunteer(
        id=11,
        capacity=1,
        latitude=40.7,
        longitude=-74.0,
        radius_miles=50,
        remote_ok=False,
        languages={"eng": 4, "spa": 3},
        areas=frozenset({"asylum"}),
    )
    interpreter = Volunteer(
        id=20,
        capacity=1,
        latitude=34.0,
        longitude=-118.2,
        radius_miles=20,
        remote_ok=True,
        languages={"quc": 4, "spa": 4},
    )
    _objective, teams = teams_solve(
        cases=[case], attorneys=[english_only, spanish], interpreters=[interpreter]
    )
    assert [(t.attorney, t.interpreter, t.bridge) for t in teams] == [(11, 20, "spa")]


def _voice(iid, languages, *, capacity=1, near=True, remote_ok=True):
    return Volunteer(
        id=iid, capacity=capacity, latitude=40.7 if near else 34.0,
        longitude=-74.0 if near else -118.2, radius_miles=30, remote_ok=remote_ok,
        languages=languages,
    )  # fmt: skip


KICHE = TeamCase(1, "quc", 40.7, -74.0, remote_ok=False, case_type="asylum", priority=1)


def test_a_replacement_is_the_best_interpreter_on_the_teams_bridge():
    voices = [
        _voice(30, {"quc": 4, "eng": 4}),  # no Spanish: not on this team's bridge
        _voice(31, {"quc": 3, "spa": 3}),
        _voice(32, {"quc": 4, "spa": 4}, near=False),  # remote: no in-the-room points
        _voice(33, {"quc": 4, "spa": 4}),
    ]
    assert replacement_choose(case=KICHE, bridge="spa", interpreters=voices) == (33, 450)


def test_a_replacement_is_never_one_the_team_had_nor_one_without_a_slot():
    voices = [_voice(33, {"quc": 4, "spa": 4}), _voice(34, {"quc": 4, "spa": 4}, capacity=0)]
    assert replacement_choose(case=KICHE, bridge="spa", interpreters=voices, excluded={33}) is None


def test_equal_replacements_go_to_the_lowest_id():
    voices = [_voice(41, {"quc": 4, "spa": 4}), _voice(40, {"quc": 4, "spa": 4})]
    assert replacement_choose(case=KICHE, bridge="spa", interpreters=voices) == (40, 450)
