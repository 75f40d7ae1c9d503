"""Mentor pairing is exact: on small random worlds, the solver's total equals an explicit
brute-force optimum over every feasible assignment, and every pair it proposes is allowed."""

import itertools
import random

import pytest

from mentoring.pairing import Person, pair_score, pairs_solve, waiting_priority

LANGS = ["spa", "eng", "por", "hat", "quc"]
AREAS = ["asylum", "cancellation", "bond", "sijs"]


def _person(rng: random.Random, pid: int) -> Person:
    return Person(
        id=pid,
        latitude=40 + rng.uniform(-3, 3),
        longitude=-74 + rng.uniform(-3, 3),
        radius_miles=rng.choice([10, 50, 150]),
        remote_ok=rng.random() < 0.5,
        languages={c: rng.randint(1, 4) for c in rng.sample(LANGS, rng.randint(1, 3))},
        areas={a: rng.randint(0, 40) for a in rng.sample(AREAS, rng.randint(1, 3))},
    )


def _brute_force(mentors, mentees, excluded) -> int:
    """The best total over every way of giving each mentee a mentor or nobody."""
    options = []
    for mentee, days in mentees:
        row = [(None, 0)]
        for mentor, _free in mentors:
            score = pair_score(mentor, mentee)
            if score is not None and (mentor.id, mentee.id) not in excluded:
                row.append((mentor.id, score.total + waiting_priority(days)))
        options.append(row)
    free = {m.id: f for m, f in mentors}
    best = 0
    for choice in itertools.product(*options):
        used = [mentor for mentor, _ in choice if mentor is not None]
        if all(used.count(m) <= free[m] for m in set(used)):
            best = max(best, sum(points for _, points in choice))
    return best


@pytest.mark.parametrize("seed", range(40))
def test_the_pairing_is_optimal_on_small_random_worlds(seed):
    rng = random.Random(seed)
    mentors = [(_person(rng, i), rng.randint(0, 2)) for i in range(1, rng.randint(2, 4))]
    mentees = [(_person(rng, 100 + i), rng.randint(0, 90)) for i in range(rng.randint(1, 6))]
    excluded = {
        (m.id, e.id)
        for (m, _), (e, _) in itertools.product(mentors, mentees)
        if rng.random() < 0.15
    }
    objective, pairs, scores = pairs_solve(mentors=mentors, mentees=mentees, excluded=excluded)
    assert objective == _brute_force(mentors, mentees, excluded)
    # Each pair allowed, each mentee at most once, each mentor within capacity.
    assert all((p.mentor, p.mentee) in scores for p in pairs)
    assert len({p.mentee for p in pairs}) == len(pairs)
    free = {m.id: f for m, f in mentors}
    assert all(sum(p.mentor == m for p in pairs) <= free[m] for m in free)
    assert sum(p.score for p in pairs) == objective


def _nyc(pid, **fields):
    base = {
        "latitude": 40.7,
        "longitude": -74.0,
        "radius_miles": 50,
        "remote_ok": False,
        "languages": {"spa": 4, "eng": 4},
        "areas": {"asylum": 20},
    }
    return Person(id=pid, **(base | fields))


def test_a_pair_needs_a_shared_language():
    assert pair_score(_nyc(1), _nyc(2, languages={"hat": 4})) is None


def test_a_pair_needs_a_shared_practice_area():
    assert pair_score(_nyc(1), _nyc(2, areas={"bond": 0})) is None


def test_far_apart_pairs_only_when_both_work_remotely():
    la = {"latitude": 34.05, "longitude": -118.24}
    assert pair_score(_nyc(1), _nyc(2, **la)) is None
    assert pair_score(_nyc(1, remote_ok=True), _nyc(2, remote_ok=False, **la)) is None
    score = pair_score(_nyc(1, remote_ok=True), _nyc(2, remote_ok=True, **la))
    assert score.remote and score.near_points == 0


def test_nobody_mentors_themselves():
    assert pair_score(_nyc(1), _nyc(1)) is None


def test_a_stronger_shared_language_and_nearness_score_higher():
    mentee = _nyc(9, languages={"spa": 3})
    near_fluent = pair_score(_nyc(1), mentee)
    far_weak = pair_score(_nyc(2, languages={"spa": 1}, latitude=41.0), mentee)
    assert near_fluent.total > far_weak.total


def test_scarce_mentors_go_to_the_mentee_who_waited_longer():
    _objective, pairs, _ = pairs_solve(
        mentors=[(_nyc(1), 1)], mentees=[(_nyc(2), 3), (_nyc(3), 40)]
    )
    assert [(p.mentor, p.mentee) for p in pairs] == [(1, 3)]
