"""The matching instance in array form: :class:`Instance`, its validation, and the errors."""

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, overload

import numpy as np
from numpy.typing import ArrayLike, NDArray

from matching.solver.arrays import lexsort_ints

IntArray = NDArray[np.int64]
IdArray = NDArray[np.object_]


def numbered_id(prefix: str, width: int, number: int) -> str:
    """A numbered id: ``prefix`` then ``number`` zero-padded to ``width`` digits, so that the
    ids' order is the numbers' order (the solver sorts ids as strings)."""
    return f"{prefix}{number:0{width}d}"


@dataclass(frozen=True, eq=False, slots=True)
class NumberedIds:
    """The :func:`numbered_id` of each of ``numbers``, each string made only when read: the run
    numbers its cases by primary key, and a million cases' strings (~70 MB, ~0.3 s) would be
    made for the few its greedy's ties compare; the pairs' keys are the numbers themselves.
    Read as an id array is: ``len``, an id by position, the ids at positions, ``tolist``."""

    prefix: str
    width: int
    numbers: IntArray

    def __len__(self) -> int:
        return len(self.numbers)

    @overload
    def __getitem__(self, index: int | np.integer) -> str: ...
    @overload
    def __getitem__(self, index: IntArray | slice) -> "NumberedIds": ...
    def __getitem__(self, index: int | np.integer | IntArray | slice) -> "str | NumberedIds":
        picked = self.numbers[index]
        if isinstance(picked, np.ndarray):
            return NumberedIds(self.prefix, self.width, picked)
        return numbered_id(self.prefix, self.width, int(picked))

    def __iter__(self) -> Iterator[str]:
        return iter(self.tolist())

    def tolist(self) -> list[str]:
        prefix, width = self.prefix, self.width
        return [numbered_id(prefix, width, n) for n in self.numbers.tolist()]


# Case ids: strings, or numbers written as strings when read (the run's).
Ids = IdArray | NumberedIds

# Capacities, affinities and priorities must fit in 31 bits so that OR-Tools' cost scaling
# (costs times the node count) and the objective (a sum over millions of pairs) stay in int64.
MAX_VALUE = 2**31 - 1


class InstanceError(ValueError):
    """Invalid input; the message names the problem and where it is, e.g. ``arcs[3]: ...``."""


class SolverError(RuntimeError):
    """OR-Tools did not return a usable optimal flow."""


@dataclass(frozen=True, eq=False, slots=True)
class Instance:
    """A matching instance as numpy arrays, in canonical order.

    Canonical order makes solving deterministic whatever order the input came in: attorneys and
    cells sorted by id; cases grouped by cell (cell k owns positions
    ``cell_start[k]:cell_start[k + 1]``), highest priority first, then by id; arcs sorted by
    (attorney, cell); exclusions unique and sorted by (attorney, case). References are positions
    in these arrays. Build one with :meth:`from_arrays` or :func:`load_instance`; the plain
    constructor trusts that its arguments are already valid and canonical. The run's case ids
    are :class:`NumberedIds` (ids made from the cases' primary keys when read), read as the
    others are.
    """

    attorney_ids: IdArray
    capacity: IntArray
    cell_ids: IdArray
    cell_start: IntArray
    case_ids: Ids
    priority: IntArray
    arc_attorney: IntArray
    arc_cell: IntArray
    affinity: IntArray
    excluded_attorney: IntArray
    excluded_case: IntArray

    @property
    def n_attorneys(self) -> int:
        return len(self.attorney_ids)

    @property
    def n_cells(self) -> int:
        return len(self.cell_ids)

    @property
    def n_cases(self) -> int:
        return len(self.case_ids)

    @property
    def n_arcs(self) -> int:
        return len(self.arc_attorney)

    def case_cell(self) -> IntArray:
        """The cell of each case."""
        return np.repeat(np.arange(self.n_cells, dtype=np.int64), np.diff(self.cell_start))

    @classmethod
    def from_arrays(
        cls,
        *,
        attorney_ids: Sequence[str],
        capacity: ArrayLike,
        cell_ids: Sequence[str],
        case_ids: Sequence[str],
        case_cell: ArrayLike,
        priority: ArrayLike,
        arc_attorney: ArrayLike,
        arc_cell: ArrayLike,
        affinity: ArrayLike,
        excluded_attorney: ArrayLike = (),
        excluded_case: ArrayLike = (),
    ) -> "Instance":
        """Validate plain arrays and return the canonical instance.

        This is the entry point for loaders that read arrays straight from the database.
        ``case_cell``, ``arc_*`` and ``excluded_*`` hold positions in the id sequences. Errors
        name the offending position (``arcs[3]``) or id.

        1. Check ids, lengths, integer dtypes, index and value ranges.
        2. Sort attorneys and cells by id (rejecting duplicates) and renumber references.
        3. Order cases by (cell, priority desc, id) and arcs by (attorney, cell); reject
           duplicate arcs; deduplicate exclusions.
        4. Check that every pair an arc can make scores above zero.
        """
        attorney_order, attorney_rank, sorted_attorneys = _sort_ids(attorney_ids, "attorney")
        cell_order, cell_rank, sorted_cells = _sort_ids(cell_ids, "cell")
        _, case_rank, sorted_cases = _sort_ids(case_ids, "case")
        n_attorneys, n_cells, n_cases = len(attorney_order), len(cell_order), len(case_rank)

        capacity_ = _int_array(capacity, "capacity", n_attorneys)
        _check_range(capacity_, 0, MAX_VALUE, lambda i: f"attorneys[{i}]: capacity")
        case_cell_, priority_ = _checked_cases(case_ids, case_cell, priority, n_cells=n_cells)
        arc_attorney_, arc_cell_, affinity_ = _checked_arcs(
            arc_attorney, arc_cell, affinity, n_attorneys=n_attorneys, n_cells=n_cells
        )
        excluded_attorney_, excluded_case_ = _checked_exclusions(
            excluded_attorney, excluded_case, n_attorneys=n_attorneys, n_cases=n_cases
        )
        # Checked in input order so the message points at the arc as the caller numbered it.
        _check_pair_scores(
            attorney_ids, case_ids, case_cell_, priority_, arc_attorney_, arc_cell_, affinity_
        )

        # Cases: by new cell, best priority first, then by id.
        new_case_cell = cell_rank[case_cell_]
        case_perm = lexsort_ints((case_rank, -priority_, new_case_cell))
        sizes = np.bincount(new_case_cell, minlength=n_cells)
        instance = cls(
            attorney_ids=sorted_attorneys,
            capacity=capacity_[attorney_order],
            cell_ids=sorted_cells,
            cell_start=np.concatenate(([0], np.cumsum(sizes))).astype(np.int64),
            case_ids=sorted_cases[case_rank[case_perm]],
            priority=priority_[case_perm],
            **_canonical_arcs(
                _renumbered(attorney_rank, arc_attorney_),
                _renumbered(cell_rank, arc_cell_),
                affinity_,
                attorney_ids=sorted_attorneys,
                cell_ids=sorted_cells,
            ),
            **_canonical_exclusions(
                attorney_rank[excluded_attorney_], _inverse(case_perm)[excluded_case_], n_cases
            ),
        )
        freeze(instance)
        return instance


def _checked_cases(
    case_ids: Sequence[str], case_cell: ArrayLike, priority: ArrayLike, *, n_cells: int
) -> tuple[IntArray, IntArray]:
    n_cases = len(case_ids)
    case_cell_ = _int_array(case_cell, "case_cell", n_cases)
    _check_index(case_cell_, n_cells, lambda i: f"case {case_ids[i]!r}: cell")
    priority_ = _int_array(priority, "priority", n_cases)
    _check_range(priority_, -MAX_VALUE, MAX_VALUE, lambda i: f"case {case_ids[i]!r}: priority")
    return case_cell_, priority_


def _checked_arcs(
    attorney: ArrayLike, cell: ArrayLike, affinity: ArrayLike, *, n_attorneys: int, n_cells: int
) -> tuple[IntArray, IntArray, IntArray]:
    n_arcs = len(np.asarray(attorney))
    attorney_ = _int_array(attorney, "arc_attorney", n_arcs)
    cell_ = _int_array(cell, "arc_cell", n_arcs)
    affinity_ = _int_array(affinity, "affinity", n_arcs)
    _check_index(attorney_, n_attorneys, lambda i: f"arcs[{i}]: attorney")
    _check_index(cell_, n_cells, lambda i: f"arcs[{i}]: cell")
    _check_range(affinity_, -MAX_VALUE, MAX_VALUE, lambda i: f"arcs[{i}]: affinity")
    return attorney_, cell_, affinity_


def _checked_exclusions(
    attorney: ArrayLike, case: ArrayLike, *, n_attorneys: int, n_cases: int
) -> tuple[IntArray, IntArray]:
    n_excluded = len(np.asarray(attorney))
    attorney_ = _int_array(attorney, "excluded_attorney", n_excluded)
    case_ = _int_array(case, "excluded_case", n_excluded)
    _check_index(attorney_, n_attorneys, lambda i: f"excluded[{i}]: attorney")
    _check_index(case_, n_cases, lambda i: f"excluded[{i}]: case")
    return attorney_, case_


def _sort_ids(ids: Sequence[str], kind: str) -> tuple[IntArray, IntArray, IdArray]:
    """Return (order, rank, sorted ids): ``rank[i]`` is where ``ids[i]`` lands once sorted."""
    values = list(ids)
    for value in values:
        if not isinstance(value, str) or not value:
            raise InstanceError(f"{kind} ids must be non-empty strings, got {value!r}")
    # Filling an empty object array keeps ids as 1-D strings whatever they look like.
    sorted_ids = np.empty(len(values), dtype=object)
    sorted_ids[:] = values
    if bool((sorted_ids[1:] > sorted_ids[:-1]).all()):
        # Already sorted and distinct, as the run pipeline's zero-padded ids come: one pass
        # of comparisons instead of a sort of a million strings.
        order = np.arange(len(values), dtype=np.int64)
        return order, order, sorted_ids
    # Python's sort beats numpy's argsort on object arrays by ~3x.
    by_id: list[int] = sorted(range(len(values)), key=values.__getitem__)
    order = np.fromiter(by_id, dtype=np.int64, count=len(values))
    sorted_ids = sorted_ids[order]
    duplicate = np.flatnonzero(sorted_ids[1:] == sorted_ids[:-1])
    if duplicate.size:
        raise InstanceError(f"duplicate {kind} id {sorted_ids[duplicate[0]]!r}")
    return order, _inverse(order), sorted_ids


def _inverse(permutation: IntArray) -> IntArray:
    inverse = np.empty_like(permutation)
    inverse[permutation] = np.arange(len(permutation), dtype=np.int64)
    return inverse


def _int_array(values: ArrayLike, name: str, size: int) -> IntArray:
    array = np.asarray(values)
    if array.size == 0 and size == 0:
        return np.zeros(0, dtype=np.int64)  # [] arrives as float64; nothing to check
    if array.shape != (size,):
        raise InstanceError(f"{name}: expected shape ({size},), got {array.shape}")
    if array.dtype == np.bool_ or not np.issubdtype(array.dtype, np.integer):
        raise InstanceError(f"{name}: expected integers, got {array.dtype}")
    # No copy when it is int64 already: nothing here writes to it, and at backlog scale each
    # copy of an arc array is a hundred megabytes more at the run's peak.
    return array.astype(np.int64, copy=False)


def _renumbered(rank: IntArray, positions: IntArray) -> IntArray:
    """``rank[positions]``, or ``positions`` itself when the ids came sorted (rank is the
    identity, as for the run's zero-padded ids): no copy of millions of arcs."""
    if len(rank) and rank[0] == 0 and bool((np.diff(rank) == 1).all()):
        return positions
    renumbered: IntArray = rank[positions]
    return renumbered


def _check_range(values: IntArray, low: int, high: int, where: Callable[[int], str]) -> None:
    bad = np.flatnonzero((values < low) | (values > high))
    if bad.size:
        i = int(bad[0])
        kind = "negative" if values[i] < low and low == 0 else "out of range"
        raise InstanceError(f"{where(i)} {int(values[i])} is {kind} (allowed {low}..{high})")


def _check_index(values: IntArray, size: int, where: Callable[[int], str]) -> None:
    bad = np.flatnonzero((values < 0) | (values >= size))
    if bad.size:
        i = int(bad[0])
        raise InstanceError(f"{where(i)} index {int(values[i])} is out of range (size {size})")


def _canonical_arcs(
    attorney: IntArray,
    cell: IntArray,
    affinity: IntArray,
    *,
    attorney_ids: IdArray,
    cell_ids: IdArray,
) -> dict[str, Any]:
    """Sort arcs by (attorney, cell), rejecting a repeated pair: which affinity would count?"""
    order = lexsort_ints((cell, attorney))
    attorney, cell, affinity = attorney[order], cell[order], affinity[order]
    duplicate = np.flatnonzero((attorney[1:] == attorney[:-1]) & (cell[1:] == cell[:-1]))
    if duplicate.size:
        # The stable sort keeps input order among duplicates: order[d + 1] is the repeat.
        d = int(duplicate[0])
        raise InstanceError(
            f"arcs[{int(order[d + 1])}]: duplicate arc from attorney "
            f"{attorney_ids[attorney[d]]!r} to cell {cell_ids[cell[d]]!r}"
        )
    return {"arc_attorney": attorney, "arc_cell": cell, "affinity": affinity}


def _canonical_exclusions(attorney: IntArray, case: IntArray, n_cases: int) -> dict[str, Any]:
    # Repeating an exclusion is harmless, so duplicates are merged rather than rejected.
    keys = np.unique(attorney * max(n_cases, 1) + case)
    return {"excluded_attorney": keys // max(n_cases, 1), "excluded_case": keys % max(n_cases, 1)}


def _check_pair_scores(
    attorney_ids: Sequence[str],
    case_ids: Sequence[str],
    case_cell: IntArray,
    priority: IntArray,
    arc_attorney: IntArray,
    arc_cell: IntArray,
    affinity: IntArray,
) -> None:
    """Every pair an arc can make must score above 0, or "unassigned" would tie or win."""
    lowest = np.full(int(arc_cell.max(initial=-1)) + 1, MAX_VALUE + 1, dtype=np.int64)
    in_range = case_cell < len(lowest)
    np.minimum.at(lowest, case_cell[in_range], priority[in_range])
    has_cases = lowest[arc_cell] <= MAX_VALUE
    bad = np.flatnonzero(has_cases & (affinity + lowest[arc_cell] <= 0))
    if bad.size:
        i = int(bad[0])
        worst = np.flatnonzero((case_cell == arc_cell[i]) & (priority == lowest[arc_cell[i]]))
        case = case_ids[int(worst[0])]
        affinity_, priority_ = int(affinity[i]), int(lowest[arc_cell[i]])
        raise InstanceError(
            f"arcs[{i}]: attorney {attorney_ids[arc_attorney[i]]!r} and case {case!r} score "
            f"{affinity_ + priority_} (affinity {affinity_} + priority {priority_}); "
            "every allowed pair must score above 0"
        )


def freeze(instance: Instance) -> None:
    """The dataclass is frozen; make its arrays read-only too so components can share them."""
    for name in Instance.__slots__:
        array = getattr(instance, name)
        (array.numbers if isinstance(array, NumberedIds) else array).setflags(write=False)
