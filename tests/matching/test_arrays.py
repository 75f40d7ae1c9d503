"""The solver's sort helpers give exactly numpy's permutations (issue 15: same order, faster)."""

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from matching.solver.arrays import lexsort_ints, stable_order, unique_ints

PROPERTY = settings(deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _keys(data, values) -> tuple:
    n_keys, length = data.draw(st.integers(1, 4)), data.draw(st.integers(0, 40))
    column = st.lists(values, min_size=length, max_size=length)
    return tuple(np.array(data.draw(column), dtype=np.int64) for _ in range(n_keys))


@PROPERTY
@given(st.lists(st.integers(0, 2**62), max_size=60))
def test_stable_order_is_a_stable_argsort(values):
    key = np.array(values, dtype=np.int64)
    assert np.array_equal(stable_order(key), np.argsort(key, kind="stable"))


@PROPERTY
@given(st.lists(st.integers(-(2**62), 2**62), max_size=60))
def test_unique_ints_is_numpys_unique(values):
    key = np.array(values, dtype=np.int64)
    assert np.array_equal(unique_ints(key), np.unique(key))
    assert unique_ints(key).dtype == np.int64


@PROPERTY
@given(st.data())
def test_lexsort_ints_is_numpys_lexsort(data):
    """Small spans (packed into one key, ties and negative values included) and spans too
    wide to pack (numpy's lexsort then)."""
    for values in (st.integers(-3, 70_000), st.integers(-(2**40), 2**40)):
        keys = _keys(data, values)
        assert np.array_equal(lexsort_ints(keys), np.lexsort(keys))


def test_lexsort_ints_on_a_backlog_shaped_sort():
    rng = np.random.default_rng(7)
    attorney, cell = rng.integers(0, 50_000, 200_000), rng.integers(0, 40_000, 200_000)
    assert np.array_equal(lexsort_ints((cell, attorney)), np.lexsort((cell, attorney)))
    priority, rank = rng.integers(-5, 1000, 200_000), rng.permutation(200_000)
    keys = (rank, -priority, cell)
    assert np.array_equal(lexsort_ints(keys), np.lexsort(keys))
    assert np.array_equal(stable_order(cell), np.argsort(cell, kind="stable"))
