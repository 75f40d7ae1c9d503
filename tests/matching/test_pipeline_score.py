"""The vectorised scorer (matching/pipeline/score.py) against the pure one, without a database.

Every (attorney, cell) pair must come out of the direct arcs and hubs exactly as
matching.scoring rates it: eligible pairs at their true affinity (a pair reached several ways
keeps its best path, as the flow would), ineligible pairs not at all. Hubs must never let a
case's other languages waive the case-type or distance rule.
"""

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from matching.pipeline.score import Attorneys, Scoring, _best_per_pair
from matching.scoring import (
    AttorneyFacts,
    CellFacts,
    affinity,
    distance_matrix_miles,
    eligibility,
)

# Two courts close together, one far away: proximity, radius and remote handling all matter.
COURTS = {1: (40.71, -74.01), 2: (40.90, -74.10), 3: (34.05, -118.24)}
_codes = st.sampled_from(["spa", "mam", "quc", "fra", "hat"])
_types = st.sampled_from(["asylum", "bond"])


def _attorneys(facts: list[AttorneyFacts]) -> Attorneys:
    return Attorneys(
        pk=np.array([a.id for a in facts], dtype=np.int64),
        latitude=np.array([a.latitude for a in facts]),
        longitude=np.array([a.longitude for a in facts]),
        radius=np.array([a.travel_radius_miles for a in facts], dtype=np.int64),
        remote_ok=np.array([a.remote_ok for a in facts], dtype=bool),
        years=np.array([a.years_experience for a in facts], dtype=np.int64),
        free=np.array([a.free_capacity for a in facts], dtype=np.int64),
        languages=[(i, c, v) for i, a in enumerate(facts) for c, v in a.languages.items()],
        practice_areas=[
            (i, c, v) for i, a in enumerate(facts) for c, v in a.practice_areas.items()
        ],
        remote_preferred=np.array([a.remote_preferred for a in facts], dtype=bool),
        detained_ok=np.array([a.detained_ok for a in facts], dtype=bool),
        preferred_types=[(i, c) for i, a in enumerate(facts) for c in a.preferred_types],
        excluded_types=[(i, c) for i, a in enumerate(facts) for c in a.excluded_types],
    )


def _miles(facts) -> tuple[np.ndarray, dict[int, int]]:
    """The attorney x court distances, and each court's column."""
    courts = sorted(COURTS)
    miles = distance_matrix_miles(
        [a.latitude for a in facts],
        [a.longitude for a in facts],
        [COURTS[c][0] for c in courts],
        [COURTS[c][1] for c in courts],
    )
    return miles, {court: i for i, court in enumerate(courts)}


def _paths(facts, cells, hub_member) -> tuple[dict[tuple[int, int], int], np.ndarray, dict]:
    """(attorney, cell) -> best path value over direct arcs and hub paths."""
    miles, position = _miles(facts)
    arcs, hubs = Scoring(
        _attorneys(facts), cells, miles, position, np.asarray(hub_member, dtype=bool)
    ).arcs_and_hubs()
    best: dict[tuple[int, int], int] = {}

    def offer(a: int, k: int, value: int) -> None:
        best[(a, k)] = max(best.get((a, k), value), value)

    direct = (arcs.attorney.tolist(), arcs.cell.tolist(), arcs.affinity.tolist())
    for a, k, value in zip(*direct, strict=True):
        offer(a, k, value)
    via_hub = (hubs.arc_attorney.tolist(), hubs.arc_hub.tolist(), hubs.affinity.tolist())
    for a, h, value in zip(*via_hub, strict=True):
        for k in hubs.cell[hubs.cell_start[h] : hubs.cell_start[h + 1]].tolist():
            offer(a, k, value)
    pairs = list(zip(arcs.attorney.tolist(), arcs.cell.tolist(), strict=True))
    assert len(pairs) == len(set(pairs)), "a direct pair was made twice"
    return best, miles, position


def _expected(facts, cells, miles, position) -> dict[tuple[int, int], int]:
    expected = {}
    for a, attorney in enumerate(facts):
        for k, cell in enumerate(cells):
            distance = float(miles[a, position[cell.court_id]])
            if eligibility(attorney, cell, miles=distance).ok:
                expected[(a, k)] = affinity(attorney, cell, miles=distance).total
    return expected


def _cell(**overrides) -> CellFacts:
    court = overrides.pop("court_id", 1)
    facts = {
        "language": "quc",
        "other_languages": ("spa",),
        "relay_language": None,
        "case_type": "asylum",
        "court_id": court,
        "court_latitude": COURTS[court][0],
        "court_longitude": COURTS[court][1],
        "detained": False,
        "remote_ok": True,
    }
    return CellFacts(**{**facts, **overrides})


def _attorney(index: int, **overrides) -> AttorneyFacts:
    facts = {
        "id": index + 1,
        "languages": {"spa": 4},
        "practice_areas": {"asylum": 3},
        "years_experience": 4,
        "latitude": 34.0,
        "longitude": -118.0,  # near the Los Angeles court, far from the New York ones
        "travel_radius_miles": 30,
        "remote_ok": True,
        "verified": True,
        "available": True,
        "free_capacity": 2,
    }
    return AttorneyFacts(**{**facts, **overrides})


def test_a_hub_through_another_language_skips_neither_case_type_nor_distance():
    facts = [
        _attorney(0),  # eligible by hub: remote on both sides, speaks the other language
        _attorney(1, practice_areas={"bond": 9}),  # wrong case type
        _attorney(2, remote_ok=False),  # too far, and not remote
        _attorney(3, languages={"fra": 4}),  # shares no language
    ]
    cells = [_cell(), _cell(court_id=2), _cell(court_id=2, remote_ok=False)]
    got, miles, position = _paths(facts, cells, [True] * len(cells))
    assert got == _expected(facts, cells, miles, position)
    assert set(got) == {(0, 0), (0, 1)}


def test_the_best_route_wins_through_hubs_and_direct_arcs():
    # Spanish native (direct, other language) beats fluent French (direct) and relay Spanish.
    facts = [_attorney(0, languages={"fra": 3, "spa": 4}), _attorney(1, languages={"fra": 3})]
    cells = [
        _cell(other_languages=("fra", "spa"), relay_language="spa"),
        _cell(court_id=3, other_languages=("fra", "spa"), relay_language="spa"),
    ]
    for member in ([True, True], [False, False], [True, False]):
        got, miles, position = _paths(facts, cells, member)
        assert got == _expected(facts, cells, miles, position)
    assert got[(0, 0)] - got[(1, 0)] == 100  # 400 for native Spanish against 300 for French


@st.composite
def worlds(draw):
    n_cells = draw(st.integers(1, 6))
    cells = []
    for _ in range(n_cells):
        language = draw(_codes)
        court = draw(st.sampled_from(sorted(COURTS)))
        others = draw(st.lists(_codes, max_size=3, unique=True))
        cells.append(
            _cell(
                language=language,
                other_languages=tuple(sorted(set(others) - {language})),
                relay_language=draw(st.one_of(st.none(), _codes)),
                case_type=draw(_types),
                court_id=court,
                detained=draw(st.booleans()),
                remote_ok=draw(st.booleans()),
            )
        )
    facts = []
    for i in range(draw(st.integers(1, 5))):
        court = COURTS[draw(st.sampled_from(sorted(COURTS)))]
        facts.append(
            _attorney(
                i,
                languages=draw(st.dictionaries(_codes, st.integers(1, 4), min_size=1)),
                practice_areas=draw(st.dictionaries(_types, st.integers(0, 40), min_size=1)),
                latitude=court[0] + draw(st.floats(-0.5, 0.5)),
                longitude=court[1] + draw(st.floats(-0.5, 0.5)),
                travel_radius_miles=draw(st.integers(0, 80)),
                remote_ok=(remote := draw(st.booleans())),
                years_experience=draw(st.integers(0, 20)),
                # The preferences (issue 13): work mode, types preferred and excluded, detained.
                remote_preferred=remote and draw(st.booleans()),
                detained_ok=draw(st.booleans()),
                preferred_types=frozenset(draw(st.lists(_types, max_size=2))),
                excluded_types=frozenset(draw(st.lists(_types, max_size=1))),
            )
        )
    member = draw(st.lists(st.booleans(), min_size=n_cells, max_size=n_cells))
    return facts, cells, member


@settings(max_examples=300, deadline=None)
@given(worlds())
def test_every_pair_scores_as_the_scoring_module_with_other_languages(world):
    facts, cells, member = world
    got, miles, position = _paths(facts, cells, member)
    assert got == _expected(facts, cells, miles, position)


@settings(max_examples=100, deadline=None)
@given(worlds(), st.integers(1, 8))
def test_arcs_in_parts_are_the_arcs_in_the_same_order(world, part_pairs):
    """export_instance writes the parts as they come: joined, they are the run's arcs."""
    facts, cells, member = world
    miles, position = _miles(facts)
    hub_member = np.asarray(member, dtype=bool)
    arcs, hubs = Scoring(_attorneys(facts), cells, miles, position, hub_member).arcs_and_hubs()
    scoring = Scoring(_attorneys(facts), cells, miles, position, hub_member)

    parts = list(scoring.arc_parts(part_pairs=part_pairs))

    joined = [np.concatenate([part[i] for part in parts]) for i in range(3)] if parts else []
    for got, expected in zip(joined, (arcs.attorney, arcs.cell, arcs.affinity), strict=False):
        assert got.tolist() == expected.tolist()
    assert sum(len(part[0]) for part in parts) == len(arcs)
    in_parts = scoring.hubs()
    assert in_parts.arc_attorney.tolist() == hubs.arc_attorney.tolist()
    assert in_parts.affinity.tolist() == hubs.affinity.tolist()


@settings(max_examples=100, deadline=None)
@given(worlds(), st.integers(2, 4))
def test_arcs_expanded_by_several_threads_are_the_arcs_of_one(world, workers):
    """The run expands the member arcs in ``workers`` parts at once: the same arcs, in order."""
    facts, cells, member = world
    miles, position = _miles(facts)
    scoring = Scoring(_attorneys(facts), cells, miles, position, np.asarray(member, dtype=bool))

    def joined(parts) -> list[list[int]]:
        parts = list(parts)
        return [[v for part in parts for v in part[i].tolist()] for i in range(3)]

    assert joined(scoring.arc_parts(workers=workers)) == joined(scoring.arc_parts())


def test_each_preference_rules_out_or_favours_pairs_as_the_scoring_module():
    # One attorney per preference, near the Los Angeles court (3), against New York cells.
    facts = [
        _attorney(0),  # remote welcome: every remote cell
        _attorney(1, remote_ok=False),  # in person only: nothing in New York
        _attorney(2, excluded_types=frozenset({"asylum"})),
        _attorney(3, detained_ok=False),
        _attorney(4, preferred_types=frozenset({"asylum"})),
        _attorney(5, remote_preferred=True),
    ]
    cells = [_cell(), _cell(detained=True), _cell(court_id=3, remote_ok=False)]
    for member in ([True] * 3, [False] * 3):
        got, miles, position = _paths(facts, cells, member)
        assert got == _expected(facts, cells, miles, position)
    assert {k for (a, k) in got if a == 1} == {2}  # only the court within the radius
    assert not any(a == 2 for a, _ in got)
    assert {k for (a, k) in got if a == 3} == {0, 2}
    assert got[(4, 0)] - got[(0, 0)] == 100  # preferred type
    assert got[(5, 0)] - got[(0, 0)] == 100  # remote preferred, far from New York
    assert got[(5, 2)] == got[(0, 2)]  # in person near the court: proximity wins either way


@settings(deadline=None)
@given(
    st.lists(st.tuples(st.integers(0, 5), st.integers(0, 6), st.integers(0, 2**50)), max_size=40),
    st.booleans(),
)
def test_each_pair_is_kept_once_at_its_best_value_sorted_by_attorney_then_cell(found, negative):
    """_best_per_pair, packed (small values) and by argsort (negative or 50-bit values)."""
    found = sorted(found, key=lambda row: row[0])  # scoring finds pairs by attorney
    if negative and found:
        found[0] = (found[0][0], found[0][1], -1)
    rows = np.array(found, dtype=np.int64).reshape(-1, 3)
    for value in (rows[:, 2], rows[:, 2] % 1000 - (1 if negative else 0)):
        best: dict[tuple[int, int], int] = {}
        for a, c, v in zip(rows[:, 0].tolist(), rows[:, 1].tolist(), value.tolist(), strict=True):
            best[a, c] = max(v, best.get((a, c), v))
        attorney, cell, kept = _best_per_pair(
            rows[:, 0].astype(np.int32), rows[:, 1].astype(np.int32), value, 7
        )
        assert list(zip(attorney.tolist(), cell.tolist(), kept.tolist(), strict=True)) == sorted(
            (a, c, v) for (a, c), v in best.items()
        )
        assert attorney.dtype == cell.dtype == kept.dtype == np.int64
