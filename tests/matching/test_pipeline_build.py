"""The run's instance builder (matching/pipeline/load/instance.py) against Instance.from_arrays.

build_instance builds the canonical instance directly, without from_arrays' sorts of strings;
it must give exactly from_arrays' instance, and leave to from_arrays whatever it must refuse.
"""

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from matching.pipeline.load.instance import (
    _canonical,
    _Split,
    build_instance,
    instance_from_arrays,
)
from matching.pipeline.load.problem import (
    ATTORNEY_IDS,
    CASE_IDS,
    attorney_id,
    attorney_ids,
    case_id,
    case_ids,
)
from matching.pipeline.score import Arcs, Attorneys
from matching.solver import Instance, InstanceError, NumberedIds

PROPERTY = settings(deadline=None, suppress_health_check=[HealthCheck.too_slow], max_examples=80)


def _attorneys(pk: np.ndarray, free: np.ndarray) -> Attorneys:
    zeros = np.zeros(len(pk), dtype=np.int64)
    return Attorneys(
        pk=pk, latitude=zeros * 1.0, longitude=zeros * 1.0, radius=zeros,
        remote_ok=zeros.astype(bool), years=zeros, free=free, languages=[], practice_areas=[],
    )  # fmt: skip


def _split(cell_ids, case_cell, excluded_attorney, excluded_case) -> _Split:
    """Cells as build_instance sees them (it reads their ids only)."""
    n = len(cell_ids)
    cells = [None] * n
    return _Split(cells, cell_ids, case_cell, np.ones(n, bool), excluded_attorney, excluded_case)  # type: ignore[arg-type]


@st.composite
def worlds(draw):
    """Ascending pks with gaps, cells listed out of id order, ties and negative priorities,
    arcs in any order, exclusions (repeated ones too)."""
    n_att, n_cells, n_cases = (draw(st.integers(0, n)) for n in (6, 5, 12))
    n_cells = max(n_cells, 1 if n_cases else 0)
    pks = st.lists(st.integers(1, 10**8), min_size=n_att, max_size=n_att, unique=True)
    attorney_pk = np.array(sorted(draw(pks)), dtype=np.int64)
    case_pks = st.lists(st.integers(1, 10**10), min_size=n_cases, max_size=n_cases, unique=True)
    case_pk = np.array(sorted(draw(case_pks)), dtype=np.int64)
    names = st.text("kxyz.+", min_size=1, max_size=4)
    cell_ids = draw(st.lists(names, min_size=n_cells, max_size=n_cells, unique=True))
    index = st.integers(0, max(n_cells - 1, 0))
    case_cell = np.array(draw(st.lists(index, min_size=n_cases, max_size=n_cases)), dtype=np.int64)
    priority = np.array(
        draw(st.lists(st.integers(-3, 4), min_size=n_cases, max_size=n_cases)), dtype=np.int64
    )
    pairs = [(a, k) for a in range(n_att) for k in range(n_cells)]
    chosen = draw(st.lists(st.sampled_from(pairs), unique=True)) if pairs else []
    chosen = draw(st.permutations(chosen))
    arc = np.array(chosen, dtype=np.int64).reshape(-1, 2)
    affinity = np.array(draw(st.lists(st.integers(1, 9), min_size=len(arc), max_size=len(arc))))
    excluded = (
        draw(st.lists(st.tuples(st.integers(0, n_att - 1), st.integers(0, n_cases - 1))))
        if n_att and n_cases
        else []
    )
    ex = np.array(excluded, dtype=np.int64).reshape(-1, 2)
    free = np.array(draw(st.lists(st.integers(0, 3), min_size=n_att, max_size=n_att)))
    split = _split(cell_ids, case_cell, ex[:, 0], ex[:, 1])
    arcs = Arcs(arc[:, 0], arc[:, 1], affinity.astype(np.int64))
    return _attorneys(attorney_pk, free.astype(np.int64)), split, case_pk, priority, arcs


def _from_arrays(attorneys, split, case_pk, priority, arcs) -> Instance:
    return instance_from_arrays(attorneys, split, case_pk, np.maximum(priority, 0), arcs)


def _assert_same(built: Instance, expected: Instance) -> None:
    for name in Instance.__slots__:
        got, want = getattr(built, name), getattr(expected, name)
        if isinstance(got, NumberedIds):  # the run's case ids: the same ids, once read
            assert got.tolist() == want.tolist(), name
            assert not got.numbers.flags.writeable, name
            continue
        assert got.dtype == want.dtype, name
        assert np.array_equal(got, want), name
        assert not got.flags.writeable, name


@PROPERTY
@given(worlds())
def test_build_instance_gives_exactly_from_arrays_instance(world):
    attorneys, split, case_pk, priority, arcs = world
    direct = _canonical(attorneys, split, case_pk, np.maximum(priority, 0), arcs)
    assert direct is not None  # the fast path, not the fallback
    _assert_same(direct, _from_arrays(*world))
    _assert_same(build_instance(*world), _from_arrays(*world))


def test_build_instance_leaves_a_repeated_arc_to_from_arrays():
    attorneys = _attorneys(np.array([3, 5]), np.array([1, 1]))
    split = _split(["k"], np.array([0]), np.zeros(0, int), np.zeros(0, int))
    arcs = Arcs(np.array([1, 0, 1]), np.array([0, 0, 0]), np.array([4, 4, 4]))
    with pytest.raises(InstanceError, match="duplicate arc"):
        build_instance(attorneys, split, np.array([9]), np.array([1]), arcs)


def test_build_instance_keeps_an_arc_of_zero_affinity_that_priority_lifts():
    attorneys = _attorneys(np.array([3]), np.array([1]))
    split = _split(["k"], np.array([0]), np.zeros(0, int), np.zeros(0, int))
    arcs = Arcs(np.array([0]), np.array([0]), np.array([0]))
    built = build_instance(attorneys, split, np.array([9]), np.array([2]), arcs)
    _assert_same(built, _from_arrays(attorneys, split, np.array([9]), np.array([2]), arcs))


def test_the_runs_instance_holds_case_keys_not_a_string_per_case():
    attorneys = _attorneys(np.array([3]), np.array([1]))
    split = _split(["k"], np.array([0, 0]), np.zeros(0, int), np.zeros(0, int))
    arcs = Arcs(np.array([0]), np.array([0]), np.array([4]))
    built = build_instance(attorneys, split, np.array([7, 9]), np.array([1, 2]), arcs)
    assert isinstance(built.case_ids, NumberedIds)
    assert built.case_ids.numbers.tolist() == [9, 7]  # best priority first
    assert built.case_ids[1] == case_id(7)


@given(st.lists(st.integers(0, 10**11 - 1), max_size=30), st.data())
def test_numbered_case_ids_read_as_the_ids_and_back_as_the_keys(pks, data):
    values = np.array(pks, dtype=np.int64)
    at = np.array(data.draw(st.lists(st.integers(0, len(pks) - 1))) if pks else [], dtype=np.int64)
    numbered, ids = CASE_IDS.numbered(values), case_ids(values)
    assert (len(numbered), list(numbered), numbered.tolist()) == (len(ids), list(ids), ids.tolist())
    assert [numbered[i] for i in at.tolist()] == ids[at].tolist() == numbered[at].tolist()
    assert CASE_IDS.pks(numbered[at]).tolist() == values[at].tolist()
    assert ATTORNEY_IDS.pks(numbered).tolist() == pks  # another letter: read from the ids


@given(st.lists(st.integers(0, 10**11 - 1), max_size=30))
def test_padded_ids_are_the_ids_one_at_a_time(pks):
    values = np.array(pks, dtype=np.int64)
    assert case_ids(values).tolist() == [case_id(pk) for pk in pks]
    # Past the limit (some ids wider than the format's) as well: one at a time then.
    assert attorney_ids(values).tolist() == [attorney_id(pk) for pk in pks]


@given(st.lists(st.integers(0, 10**11 - 1), max_size=30))
def test_padded_ids_read_back_as_their_primary_keys(pks):
    values = np.array(pks, dtype=np.int64)
    assert CASE_IDS.pks(case_ids(values)).tolist() == pks
    assert ATTORNEY_IDS.pks(attorney_ids(values)).tolist() == pks
