"""Vectorised array helpers shared by the solver and the run pipeline."""

import numpy as np
from numpy.typing import NDArray

from matching.solver.instance import IntArray


def ranges(starts: IntArray, lengths: IntArray) -> IntArray:
    """Concatenate ``arange(s, s + n)`` for every (s, n), without a Python loop."""
    lengths = lengths.astype(np.int64)
    offsets = np.cumsum(lengths) - lengths
    steps = np.arange(int(lengths.sum()), dtype=np.int64) - np.repeat(offsets, lengths)
    return np.repeat(starts.astype(np.int64), lengths) + steps


def isin_sorted(values: IntArray, sorted_keys: IntArray) -> NDArray[np.bool_]:
    """``np.isin`` for keys that are already sorted: one binary search per value."""
    if len(sorted_keys) == 0:
        return np.zeros(len(values), dtype=bool)
    at = np.minimum(np.searchsorted(sorted_keys, values), len(sorted_keys) - 1)
    found: NDArray[np.bool_] = sorted_keys[at] == values
    return found
