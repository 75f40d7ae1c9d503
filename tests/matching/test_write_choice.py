"""Which proposals a batch writes when its attorneys' free capacity has shrunk since the load
(matching/pipeline/write.py, _chosen): each attorney its best ones up to its room, the chosen in
case order. No database needed."""

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from matching.pipeline import write
from tests.matching.test_solver import PROPERTY


def _one_at_a_time(proposals: write._Proposals, free: dict[int, int]) -> list[tuple]:
    """The rule as a loop over the proposals, best first."""
    room, kept = dict(free), []
    for case, attorney, score in zip(*(c.tolist() for c in proposals), strict=True):
        if room.get(attorney, 0) > 0:
            room[attorney] -= 1
            kept.append((case, attorney, score))
    return sorted(kept)


@st.composite
def batches(draw: st.DrawFn) -> tuple[write._Proposals, dict[int, int]]:
    n = draw(st.integers(0, 60))
    attorneys = draw(st.lists(st.integers(1, 8), min_size=n, max_size=n))
    scores = draw(st.lists(st.integers(1, 5), min_size=n, max_size=n))
    cases = draw(st.permutations(range(100, 100 + n)))
    best_first = sorted(range(n), key=lambda i: (-scores[i], attorneys[i], cases[i]))
    proposals = write._Proposals(
        *(np.array([column[i] for i in best_first], dtype=np.int64).reshape(-1)
          for column in (cases, attorneys, scores))
    )  # fmt: skip
    free = draw(st.dictionaries(st.integers(1, 9), st.integers(-2, 4)))
    return proposals, free


@PROPERTY
@given(batches())
def test_each_attorney_keeps_its_best_proposals_up_to_its_room(batch):
    proposals, free = batch

    chosen = write._chosen(proposals, free)

    expected = _one_at_a_time(proposals, free)
    if not expected:
        assert chosen is None
        return
    assert chosen.case.tolist() == sorted(chosen.case.tolist())  # case order
    assert sorted(zip(*(c.tolist() for c in chosen), strict=True)) == expected
