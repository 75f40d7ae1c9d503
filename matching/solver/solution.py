"""Solutions: pairs as arrays, assignments sorted by (attorney, case), and merging those of
components."""

from collections.abc import Iterable
from dataclasses import dataclass
from itertools import chain
from typing import NamedTuple

import numpy as np

from matching.solver.instance import IdArray, Ids, Instance, IntArray


class Assignment(NamedTuple):
    """A named tuple, not a dataclass: a run makes ~200,000 of them at 3.7M open cases, and a
    frozen dataclass's ``__init__`` takes twice as long (0.5-0.6 s against 0.2-0.3 s)."""

    attorney: str
    case: str
    score: int


@dataclass(frozen=True, eq=False, slots=True)
class Pairs:
    """A solution's pairs as arrays, in no particular order: each pair's attorney and case as
    positions in ``attorney_ids`` and ``case_ids`` (an instance's own arrays, shared), and its
    score."""

    attorney_ids: IdArray
    case_ids: Ids
    attorney: IntArray
    case: IntArray
    score: IntArray

    def take(self, index: IntArray) -> "Pairs":
        """The pairs at ``index``, over the same id arrays."""
        return Pairs(
            self.attorney_ids, self.case_ids, self.attorney[index], self.case[index],
            self.score[index],
        )  # fmt: skip


class Solution:
    """Assignments sorted by (attorney, case); ``objective`` is the sum of their scores.

    Made from either form, with the other made on first use: ``assignments`` (a tuple of
    :class:`Assignment`) or ``pairs`` (:class:`Pairs`). The solvers make pairs, and the run
    reads only them: turning 200,000 pairs into sorted objects with string ids takes seconds,
    which only the readers of ``assignments`` (the JSON output, fan-out, tests) pay. Equal
    when the objectives and the assignments are. Not to be changed once made.
    """

    __slots__ = ("_assignments", "_pairs", "objective")

    def __init__(
        self,
        objective: int,
        assignments: Iterable[Assignment] | None = None,
        *,
        pairs: Pairs | None = None,
    ) -> None:
        if (assignments is None) == (pairs is None):
            raise TypeError("a Solution takes either assignments or pairs")
        self.objective = objective
        self._assignments = None if assignments is None else tuple(assignments)
        self._pairs = pairs

    @property
    def assignments(self) -> tuple[Assignment, ...]:
        if self._assignments is None:
            self._assignments = _assignments_of(self.pairs)
        return self._assignments

    @property
    def pairs(self) -> Pairs:
        if self._pairs is None:
            self._pairs = _pairs_of(self.assignments)
        return self._pairs

    @property
    def assigned(self) -> int:
        return len(self._pairs.score) if self._pairs is not None else len(self.assignments)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Solution):
            return NotImplemented
        return (self.objective, self.assignments) == (other.objective, other.assignments)

    def __hash__(self) -> int:
        return hash((self.objective, self.assignments))

    def __repr__(self) -> str:
        return f"Solution(objective={self.objective!r}, assignments={self.assignments!r})"


def _assignments_of(pairs: Pairs) -> tuple[Assignment, ...]:
    """The pairs sorted by (attorney, case). A solver's attorney positions follow their ids
    (canonical order), so the pairs are put in attorney order first, by numpy; ``sorted`` then
    only orders each attorney's few cases, in runs it merges in linear time (half the time of
    sorting the pairs in the solver's cell order). Any other pairs sort the same, as fast as
    before."""
    by_attorney = np.argsort(pairs.attorney, kind="stable")
    triples = sorted(
        zip(
            pairs.attorney_ids[pairs.attorney[by_attorney]].tolist(),
            pairs.case_ids[pairs.case[by_attorney]].tolist(),
            pairs.score[by_attorney].tolist(),
            strict=True,
        )
    )
    return tuple(map(Assignment._make, triples))


def _pairs_of(assignments: tuple[Assignment, ...]) -> Pairs:
    n = len(assignments)
    attorney_ids, case_ids = np.empty(n, dtype=object), np.empty(n, dtype=object)
    attorney_ids[:] = [a.attorney for a in assignments]
    case_ids[:] = [a.case for a in assignments]
    score = np.fromiter((a.score for a in assignments), dtype=np.int64, count=n)
    every = np.arange(n, dtype=np.int64)
    return Pairs(attorney_ids, case_ids, every, every, score)


def merge_solutions(solutions: Iterable[Solution]) -> Solution:
    """Combine the solutions of disjoint components (e.g. the results of a Celery group)."""
    parts = list(solutions)
    if len(parts) == 1:
        return parts[0]
    assignments = tuple(
        sorted(
            chain.from_iterable(part.assignments for part in parts),
            key=lambda a: (a.attorney, a.case),  # ~5x faster than the dataclass ordering
        )
    )
    if len({a.case for a in assignments}) != len(assignments):
        raise ValueError("solutions overlap: a case is assigned more than once")
    return Solution(objective=sum(part.objective for part in parts), assignments=assignments)


def solution_of(
    instance: Instance, attorney: IntArray, case: IntArray, score: IntArray
) -> Solution:
    """The solution pairing attorney positions with case positions at these scores."""
    pairs = Pairs(instance.attorney_ids, instance.case_ids, attorney, case, score)
    return Solution(objective=int(score.sum()), pairs=pairs)
