"""Optimal attorney-case matching as a min-cost flow, with a greedy baseline.

Pure numpy + SciPy + OR-Tools, no Django: the same code runs in a Celery worker, a script or a
test without a database.

The problem. Attorneys have a capacity; cases sit in cells (cases a matching arc treats alike);
an arc joins an attorney to a cell with an integer affinity; some (attorney, case) pairs are
excluded (conflicts of interest). A pair (a, c) is allowed when an arc joins a to c's cell and
the pair is not excluded; it scores affinity + priority(c). Each case goes to at most one
attorney, each attorney takes at most its capacity, and the total score is maximised. Matching
is optional: leaving a case unassigned scores 0.

The JSON/dict format read by :func:`load_instance`::

    {"attorneys": [{"id": "a1", "capacity": 2}],
     "cells": [{"id": "k1", "cases": [{"id": "c1", "priority": 120}]}],
     "arcs": [{"attorney": "a1", "cell": "k1", "affinity": 300}],
     "excluded": [{"attorney": "a1", "case": "c7"}]}

and :func:`solution_to_json` writes
``{"objective": 420, "assigned": 1, "assignments": [{"attorney": "a1", "case": "c1",
"score": 420}]}``.

Why a cell-level graph is exact: inside a cell with no exclusions every attorney with an arc may
take any of its cases, and a pair's score splits into an attorney-cell part (affinity) and a case
part (priority). So a flow of f units from attorney a into cell k and of g units out to the
cell's cases can be paired up in any order with the same total, and every assignment is such a
flow. Exclusions break the "any case" premise, so an excluded case becomes a cell of its own
whose arcs omit the excluded attorneys.
"""

import heapq
import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from itertools import chain
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray
from ortools.graph.python import min_cost_flow
from scipy.sparse import coo_array
from scipy.sparse.csgraph import connected_components

IntArray = NDArray[np.int64]
IdArray = NDArray[np.object_]

# Capacities, affinities and priorities must fit in 31 bits so that OR-Tools' cost scaling
# (costs times the node count) and the objective (a sum over millions of pairs) stay in int64.
MAX_VALUE = 2**31 - 1

# solve() packs small components into parts of about this many arcs: one flow per tiny
# component would spend more time in Python than in OR-Tools (see components()).
SOLVE_BATCH_ARCS = 100_000

_SOURCE = 0
_SINK = 1
_FIRST_ATTORNEY_NODE = 2


class InstanceError(ValueError):
    """Invalid input; the message names the problem and where it is, e.g. ``arcs[3]: ...``."""


class SolverError(RuntimeError):
    """OR-Tools did not return a usable optimal flow."""


# ---------------------------------------------------------------------------------------------
# The instance in array form


@dataclass(frozen=True, eq=False, slots=True)
class Instance:
    """A matching instance as numpy arrays, in canonical order.

    Canonical order makes solving deterministic whatever order the input came in: attorneys and
    cells sorted by id; cases grouped by cell (cell k owns positions
    ``cell_start[k]:cell_start[k + 1]``), highest priority first, then by id; arcs sorted by
    (attorney, cell); exclusions unique and sorted by (attorney, case). References are positions
    in these arrays. Build one with :meth:`from_arrays` or :func:`load_instance`; the plain
    constructor trusts that its arguments are already valid and canonical.
    """

    attorney_ids: IdArray
    capacity: IntArray
    cell_ids: IdArray
    cell_start: IntArray
    case_ids: IdArray
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
        case_perm = np.lexsort((case_rank, -priority_, new_case_cell))
        sizes = np.bincount(new_case_cell, minlength=n_cells)
        instance = cls(
            attorney_ids=sorted_attorneys,
            capacity=capacity_[attorney_order],
            cell_ids=sorted_cells,
            cell_start=np.concatenate(([0], np.cumsum(sizes))).astype(np.int64),
            case_ids=sorted_cases[case_rank[case_perm]],
            priority=priority_[case_perm],
            **_canonical_arcs(
                attorney_rank[arc_attorney_],
                cell_rank[arc_cell_],
                affinity_,
                attorney_ids=sorted_attorneys,
                cell_ids=sorted_cells,
            ),
            **_canonical_exclusions(
                attorney_rank[excluded_attorney_], _inverse(case_perm)[excluded_case_], n_cases
            ),
        )
        _freeze(instance)
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
    # Python's sort beats numpy's argsort on object arrays by ~3x.
    order = np.fromiter(
        sorted(range(len(values)), key=values.__getitem__), dtype=np.int64, count=len(values)
    )
    # Filling an empty object array keeps ids as 1-D strings whatever they look like.
    sorted_ids = np.empty(len(values), dtype=object)
    sorted_ids[:] = values
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
    return array.astype(np.int64)


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
    order = np.lexsort((cell, attorney))
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


def _freeze(instance: Instance) -> None:
    # The dataclass is frozen; make its arrays read-only too so components can share them.
    for name in Instance.__slots__:
        getattr(instance, name).setflags(write=False)


# ---------------------------------------------------------------------------------------------
# JSON / dict format


def load_instance(
    source: str | bytes | Mapping[str, Any], *, ignore_unknown_exclusions: bool = False
) -> Instance:
    """Parse and validate the JSON/dict format (see the module docstring).

    Unknown keys are rejected rather than ignored: a misspelt ``"excluded"`` would otherwise
    silently drop conflicts of interest. ``"excluded"`` itself may be omitted.

    An exclusion naming an unknown attorney or case is an error too, since a typo there hides a
    conflict. A caller whose exclusion list legitimately covers more than this run (closed
    cases, inactive attorneys) passes ``ignore_unknown_exclusions=True``: such an exclusion
    cannot bind anyway.
    """
    data = _parse(source)
    _object(data, "instance", ("attorneys", "cells", "arcs"), optional=("excluded",))
    attorney_ids, capacity = _load_attorneys(data["attorneys"])
    cell_ids, case_ids, case_cell, priority = _load_cells(data["cells"])
    attorney_index = {attorney: i for i, attorney in enumerate(attorney_ids)}
    arc_attorney, arc_cell, affinity = _load_arcs(
        data["arcs"], attorney_index, {cell: i for i, cell in enumerate(cell_ids)}
    )
    excluded_attorney, excluded_case = _load_exclusions(
        data.get("excluded", []),
        attorney_index,
        {case: i for i, case in enumerate(case_ids)},
        ignore_unknown=ignore_unknown_exclusions,
    )
    return Instance.from_arrays(
        attorney_ids=attorney_ids,
        capacity=np.array(capacity, dtype=np.int64),
        cell_ids=cell_ids,
        case_ids=case_ids,
        case_cell=np.array(case_cell, dtype=np.int64),
        priority=np.array(priority, dtype=np.int64),
        arc_attorney=np.array(arc_attorney, dtype=np.int64),
        arc_cell=np.array(arc_cell, dtype=np.int64),
        affinity=np.array(affinity, dtype=np.int64),
        excluded_attorney=np.array(excluded_attorney, dtype=np.int64),
        excluded_case=np.array(excluded_case, dtype=np.int64),
    )


def _parse(source: str | bytes | Mapping[str, Any]) -> Any:
    if isinstance(source, Mapping):
        return source
    try:
        return json.loads(source)
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise InstanceError(f"malformed JSON: {error}") from error


def _load_attorneys(items: Any) -> tuple[list[str], list[int]]:
    ids: list[str] = []
    capacity: list[int] = []
    seen: set[str] = set()
    for i, item in enumerate(_list(items, "attorneys")):
        where = f"attorneys[{i}]"
        _object(item, where, ("id", "capacity"))
        ids.append(_new_id(item["id"], where, "attorney", seen))
        capacity.append(_integer(item["capacity"], f"{where}.capacity"))
    return ids, capacity


def _load_cells(items: Any) -> tuple[list[str], list[str], list[int], list[int]]:
    cell_ids: list[str] = []
    case_ids: list[str] = []
    case_cell: list[int] = []
    priority: list[int] = []
    seen_cells: set[str] = set()
    seen_cases: set[str] = set()
    for k, item in enumerate(_list(items, "cells")):
        where = f"cells[{k}]"
        _object(item, where, ("id", "cases"))
        cell_ids.append(_new_id(item["id"], where, "cell", seen_cells))
        for j, case in enumerate(_list(item["cases"], f"{where}.cases")):
            case_where = f"{where}.cases[{j}]"
            _object(case, case_where, ("id", "priority"))
            case_ids.append(_new_id(case["id"], case_where, "case", seen_cases))
            priority.append(_integer(case["priority"], f"{case_where}.priority"))
            case_cell.append(k)
    return cell_ids, case_ids, case_cell, priority


def _load_arcs(
    items: Any, attorney_index: Mapping[str, int], cell_index: Mapping[str, int]
) -> tuple[list[int], list[int], list[int]]:
    attorney: list[int] = []
    cell: list[int] = []
    affinity: list[int] = []
    for i, item in enumerate(_list(items, "arcs")):
        where = f"arcs[{i}]"
        _object(item, where, ("attorney", "cell", "affinity"))
        attorney.append(_reference(item["attorney"], where, "attorney", attorney_index))
        cell.append(_reference(item["cell"], where, "cell", cell_index))
        affinity.append(_integer(item["affinity"], f"{where}.affinity"))
    return attorney, cell, affinity


def _load_exclusions(
    items: Any,
    attorney_index: Mapping[str, int],
    case_index: Mapping[str, int],
    *,
    ignore_unknown: bool,
) -> tuple[list[int], list[int]]:
    attorney: list[int] = []
    case: list[int] = []
    for i, item in enumerate(_list(items, "excluded")):
        where = f"excluded[{i}]"
        _object(item, where, ("attorney", "case"))
        known = (
            _id(item["attorney"], f"{where}.attorney") in attorney_index
            and _id(item["case"], f"{where}.case") in case_index
        )
        if ignore_unknown and not known:
            continue
        attorney.append(_reference(item["attorney"], where, "attorney", attorney_index))
        case.append(_reference(item["case"], where, "case", case_index))
    return attorney, case


def _list(value: Any, where: str) -> list[Any]:
    if not isinstance(value, list):
        raise InstanceError(f"{where}: expected a list, got {type(value).__name__}")
    return value


def _object(value: Any, where: str, required: Sequence[str], optional: Sequence[str] = ()) -> None:
    if not isinstance(value, Mapping):
        raise InstanceError(f"{where}: expected an object, got {type(value).__name__}")
    for key in required:
        if key not in value:
            raise InstanceError(f"{where}: missing key {key!r}")
    for key in value:
        if key not in required and key not in optional:
            raise InstanceError(f"{where}: unexpected key {key!r}")


def _integer(value: Any, where: str) -> int:
    # bool is an int subclass, but "capacity": true is a mistake, not 1.
    if not isinstance(value, int) or isinstance(value, bool):
        raise InstanceError(f"{where}: expected an integer, got {type(value).__name__}")
    return value


def _id(value: Any, where: str) -> str:
    if not isinstance(value, str) or not value:
        raise InstanceError(f"{where}: id must be a non-empty string, got {value!r}")
    return value


def _new_id(value: Any, where: str, kind: str, seen: set[str]) -> str:
    identifier = _id(value, f"{where}.id")
    if identifier in seen:
        raise InstanceError(f"{where}: duplicate {kind} id {identifier!r}")
    seen.add(identifier)
    return identifier


def _reference(value: Any, where: str, kind: str, index: Mapping[str, int]) -> int:
    identifier = _id(value, f"{where}.{kind}")
    if identifier not in index:
        raise InstanceError(f"{where}: unknown {kind} {identifier!r}")
    return index[identifier]


def instance_to_json(instance: Instance) -> dict[str, Any]:
    """The inverse of :func:`load_instance`, e.g. to ship a component to a Celery worker."""
    starts = instance.cell_start.tolist()
    case_ids, priority = instance.case_ids.tolist(), instance.priority.tolist()
    return {
        "attorneys": [
            {"id": a, "capacity": c}
            for a, c in zip(instance.attorney_ids.tolist(), instance.capacity.tolist(), strict=True)
        ],
        "cells": [
            {
                "id": cell,
                "cases": [
                    {"id": case_ids[j], "priority": priority[j]}
                    for j in range(starts[k], starts[k + 1])
                ],
            }
            for k, cell in enumerate(instance.cell_ids.tolist())
        ],
        "arcs": [
            {"attorney": instance.attorney_ids[a], "cell": instance.cell_ids[k], "affinity": w}
            for a, k, w in zip(
                instance.arc_attorney.tolist(),
                instance.arc_cell.tolist(),
                instance.affinity.tolist(),
                strict=True,
            )
        ],
        "excluded": [
            {"attorney": instance.attorney_ids[a], "case": case_ids[c]}
            for a, c in zip(
                instance.excluded_attorney.tolist(), instance.excluded_case.tolist(), strict=True
            )
        ],
    }


# ---------------------------------------------------------------------------------------------
# Solutions


@dataclass(frozen=True, slots=True)
class Assignment:
    attorney: str
    case: str
    score: int


@dataclass(frozen=True, slots=True)
class Solution:
    """Assignments sorted by (attorney, case); ``objective`` is the sum of their scores."""

    objective: int
    assignments: tuple[Assignment, ...]

    @property
    def assigned(self) -> int:
        return len(self.assignments)


def solution_to_json(solution: Solution) -> dict[str, Any]:
    return {
        "objective": solution.objective,
        "assigned": solution.assigned,
        "assignments": [
            {"attorney": a.attorney, "case": a.case, "score": a.score} for a in solution.assignments
        ],
    }


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


def _solution(instance: Instance, attorney: IntArray, case: IntArray, score: IntArray) -> Solution:
    triples = sorted(
        zip(
            instance.attorney_ids[attorney].tolist(),
            instance.case_ids[case].tolist(),
            score.tolist(),
            strict=True,
        )
    )
    return Solution(objective=int(score.sum()), assignments=tuple(Assignment(*t) for t in triples))


# ---------------------------------------------------------------------------------------------
# Cells without exclusions, the shared input of both solvers


@dataclass(frozen=True, eq=False, slots=True)
class _Cells:
    """Cells in which every arc allows every case, trimmed to what could ever be used.

    Cell k owns ``case[start[k]:start[k + 1]]`` (instance case positions, best first). Arcs are
    sorted by (cell, attorney) and all have positive capacity.
    """

    start: IntArray
    case: IntArray
    arc_attorney: IntArray
    arc_cell: IntArray
    arc_capacity: IntArray
    affinity: IntArray

    @property
    def n_cells(self) -> int:
        return len(self.start) - 1


def _ranges(starts: IntArray, lengths: IntArray) -> IntArray:
    """Concatenate ``arange(s, s + n)`` for every (s, n), without a Python loop."""
    lengths = lengths.astype(np.int64)
    offsets = np.cumsum(lengths) - lengths
    steps = np.arange(int(lengths.sum()), dtype=np.int64) - np.repeat(offsets, lengths)
    return np.repeat(starts.astype(np.int64), lengths) + steps


def _cells_without_exclusions(instance: Instance) -> _Cells:
    """Give every case with a binding exclusion a cell of its own.

    1. Keep the exclusions that bind: those whose attorney has an arc to the case's cell.
    2. Split those cases out of their cells, in case order (deterministic), one cell each,
       numbered after the original cells.
    3. Copy the original cell's arcs to each split case's cell, minus the excluded attorneys.
    4. Trim (see :func:`_trim`).
    """
    case_cell = instance.case_cell()
    split = _cases_to_split(instance, case_cell)
    kept = np.ones(instance.n_cases, dtype=bool)
    kept[split] = False
    kept_cases = np.flatnonzero(kept)
    sizes = np.concatenate(
        (np.bincount(case_cell[kept_cases], minlength=instance.n_cells), np.ones_like(split))
    )
    attorney, cell, affinity = _arcs_of_split_cases(instance, case_cell, split)
    return _trim(
        instance,
        start=np.concatenate(([0], np.cumsum(sizes))).astype(np.int64),
        case=np.concatenate((kept_cases, split)).astype(np.int64),
        arc_attorney=np.concatenate((instance.arc_attorney, attorney)),
        arc_cell=np.concatenate((instance.arc_cell, instance.n_cells + cell)),
        affinity=np.concatenate((instance.affinity, affinity)),
    )


def _cases_to_split(instance: Instance, case_cell: IntArray) -> IntArray:
    """Cases with a binding exclusion, in case order."""
    arc_keys = instance.arc_attorney * instance.n_cells + instance.arc_cell  # sorted (canonical)
    keys = instance.excluded_attorney * instance.n_cells + case_cell[instance.excluded_case]
    return np.unique(instance.excluded_case[_isin_sorted(keys, arc_keys)])


def _arcs_of_split_cases(
    instance: Instance, case_cell: IntArray, split: IntArray
) -> tuple[IntArray, IntArray, IntArray]:
    """(attorney, i, affinity) for the arcs into split case i's own cell."""
    by_cell = np.argsort(instance.arc_cell, kind="stable")
    degree = np.bincount(instance.arc_cell, minlength=instance.n_cells)
    first = np.cumsum(degree) - degree
    split_degree = degree[case_cell[split]]
    copied = by_cell[_ranges(first[case_cell[split]], split_degree)]
    # Exclusion keys are attorney * n_cases + case, sorted (canonical).
    n_cases = max(instance.n_cases, 1)
    excluded = instance.excluded_attorney * n_cases + instance.excluded_case
    copied_keys = instance.arc_attorney[copied] * n_cases + np.repeat(split, split_degree)
    allowed = ~_isin_sorted(copied_keys, excluded)
    copied = copied[allowed]
    cell = np.repeat(np.arange(len(split), dtype=np.int64), split_degree)[allowed]
    return instance.arc_attorney[copied], cell, instance.affinity[copied]


def _isin_sorted(values: IntArray, sorted_keys: IntArray) -> NDArray[np.bool_]:
    """``np.isin`` for keys that are already sorted: one binary search per value."""
    if len(sorted_keys) == 0:
        return np.zeros(len(values), dtype=bool)
    at = np.minimum(np.searchsorted(sorted_keys, values), len(sorted_keys) - 1)
    return sorted_keys[at] == values


def _trim(
    instance: Instance,
    *,
    start: IntArray,
    case: IntArray,
    arc_attorney: IntArray,
    arc_cell: IntArray,
    affinity: IntArray,
) -> _Cells:
    """Drop what no solution can use, which shrinks the flow graph a lot on a real backlog.

    1. An arc's capacity is min(attorney capacity, cell size); drop arcs of capacity 0.
    2. A cell can pass at most the sum of its arcs' capacities; an optimal (or greedy)
       solution then uses the best cases only, so keep that many, best first.
    3. Sort arcs by (cell, attorney), the order the flow decomposition pairs them up in.
    """
    n_cells = len(start) - 1
    sizes = np.diff(start)
    capacity = np.minimum(instance.capacity[arc_attorney], sizes[arc_cell])
    keep = capacity > 0
    arc_attorney, arc_cell = arc_attorney[keep], arc_cell[keep]
    affinity, capacity = affinity[keep], capacity[keep]

    usable = np.minimum(sizes, np.bincount(arc_cell, weights=capacity, minlength=n_cells))
    usable = usable.astype(np.int64)
    kept_case = case[_ranges(start[:-1], usable)]

    order = np.lexsort((arc_attorney, arc_cell))
    return _Cells(
        start=np.concatenate(([0], np.cumsum(usable))).astype(np.int64),
        case=kept_case,
        arc_attorney=arc_attorney[order],
        arc_cell=arc_cell[order],
        arc_capacity=capacity[order],
        affinity=affinity[order],
    )


# ---------------------------------------------------------------------------------------------
# Optimal solver: min-cost flow


def solve(instance: Instance) -> Solution:
    """The optimal matching: solve each connected component on its own, then merge.

    Components share no attorney and no case, so their optima add up to the whole optimum.
    Small ones are solved together in batches. A Celery group can run :func:`solve_component`
    over :func:`components` and :func:`merge_solutions` the results the same way.
    """
    parts = components(instance, batch_arcs=SOLVE_BATCH_ARCS)
    return merge_solutions(solve_component(part) for part in parts)


def solve_component(instance: Instance) -> Solution:
    """The optimal matching of any instance (connected or not) by one min-cost flow.

    1. Split exclusions into cells of their own and trim unusable arcs and cases.
    2. Build source -> attorney (capacity, cost 0) -> cell (min(capacity, cell size),
       -affinity) -> sink, with one cell -> sink arc per run of equal priority in the cell
       (run length, -priority), and a source -> sink bypass of cost 0.
    3. Put all attorney capacity U on the source and -U on the sink. Unused capacity takes
       the bypass for free, so matching stays optional and the flow minimises -score; forcing
       maximum flow instead would trade score for more matches.
    4. Pair each cell's inflow (attorneys in id order) with its outflow (cases best first).
    """
    cells = _cells_without_exclusions(instance)
    total = int(instance.capacity.sum())
    if total == 0 or len(cells.arc_attorney) == 0:
        return Solution(objective=0, assignments=())

    network = min_cost_flow.SimpleMinCostFlow()
    attorney_node = _FIRST_ATTORNEY_NODE + np.arange(instance.n_attorneys, dtype=np.int64)
    cell_node = _FIRST_ATTORNEY_NODE + instance.n_attorneys + np.arange(cells.n_cells)
    group_start, group_size = _priority_runs(instance, cells)
    group_cell = np.searchsorted(cells.start, group_start, side="right") - 1

    _add_arcs(network, [_SOURCE], [_SINK], [total], [0])
    _add_arcs(network, np.full(len(attorney_node), _SOURCE), attorney_node, instance.capacity, 0)
    attorney_arcs = _add_arcs(
        network,
        attorney_node[cells.arc_attorney],
        cell_node[cells.arc_cell],
        cells.arc_capacity,
        -cells.affinity,
    )
    group_arcs = _add_arcs(
        network,
        cell_node[group_cell],
        np.full(len(group_start), _SINK),
        group_size,
        -instance.priority[cells.case[group_start]],
    )
    network.set_nodes_supplies(
        np.array([_SOURCE, _SINK], dtype=np.int32), np.array([total, -total], dtype=np.int64)
    )
    status = network.solve()
    if status != network.OPTIMAL:
        raise SolverError(f"min-cost flow ended with status {status!r}")

    return _decompose(
        instance,
        cells,
        attorney_flow=network.flows(attorney_arcs),
        case_position=_ranges(group_start, network.flows(group_arcs)),
        expected=-network.optimal_cost(),
    )


def _priority_runs(instance: Instance, cells: _Cells) -> tuple[IntArray, IntArray]:
    """Runs of equal priority within each cell: (first position, length) in ``cells.case``.

    Cases of a run are interchangeable, so one arc per run replaces one arc per case.
    """
    n = len(cells.case)
    priority = instance.priority[cells.case]
    boundary = np.zeros(n, dtype=bool)
    boundary[cells.start[:-1][np.diff(cells.start) > 0]] = True
    boundary[1:] |= priority[1:] != priority[:-1]
    first = np.flatnonzero(boundary)
    return first, np.diff(np.append(first, n))


def _add_arcs(
    network: min_cost_flow.SimpleMinCostFlow,
    tails: ArrayLike,
    heads: ArrayLike,
    capacities: ArrayLike,
    costs: ArrayLike,
) -> NDArray[np.int32]:
    tails_ = np.asarray(tails, dtype=np.int32)
    n = len(tails_)
    return network.add_arcs_with_capacity_and_unit_cost(
        tails_,
        np.asarray(heads, dtype=np.int32),
        np.broadcast_to(np.asarray(capacities, dtype=np.int64), n).copy(),
        np.broadcast_to(np.asarray(costs, dtype=np.int64), n).copy(),
    ).astype(np.int32)


def _decompose(
    instance: Instance,
    cells: _Cells,
    *,
    attorney_flow: IntArray,
    case_position: IntArray,
    expected: int,
) -> Solution:
    """Turn cell flows into pairs.

    Arcs are sorted by (cell, attorney) and case positions by cell, best first, so repeating
    each attorney by its flow lines both up cell by cell. Any pairing within a cell is allowed
    and scores the same; this one is deterministic.
    """
    attorney = np.repeat(cells.arc_attorney, attorney_flow)
    affinity = np.repeat(cells.affinity, attorney_flow)
    case = cells.case[case_position]
    if len(attorney) != len(case):
        raise SolverError("flow is not conserved through the cells")
    score = affinity + instance.priority[case]
    if int(score.sum()) != expected:
        raise SolverError(f"pairs score {int(score.sum())}, the flow claims {expected}")
    return _solution(instance, attorney, case, score)


# ---------------------------------------------------------------------------------------------
# Components


def components(instance: Instance, *, batch_arcs: int = 0) -> list[Instance]:
    """Split an instance into the connected components of its attorney-cell graph.

    Components without arcs are left out: they cannot produce a match. With ``batch_arcs``,
    consecutive components are packed into parts of about that many arcs (a bigger component
    stays whole), because a flow per tiny component costs far more in Python overhead than
    the solving saves. Each part keeps canonical order, so ``solve_component`` on it is as
    deterministic as on the whole.

    1. Label attorneys and cells with SciPy's connected components; relabel into batches.
    2. Stable-sort attorneys, cells, arcs and exclusions by label; cases follow their cell.
    3. Renumber references within each part and slice.
    """
    attorney_label, cell_label = _component_labels(instance, batch_arcs=batch_arcs)
    case_cell = instance.case_cell()
    # An exclusion across components cannot bind: the attorney has no arc to the case's cell.
    excluded_label = attorney_label[instance.excluded_attorney]
    binding = excluded_label == cell_label[case_cell[instance.excluded_case]]

    attorneys = _Grouping(attorney_label)
    cells = _Grouping(cell_label)
    arcs = _Grouping(attorney_label[instance.arc_attorney])
    exclusions = _Grouping(np.where(binding, excluded_label, -1))

    # Cases in cell-grouped order; case_start[s] is where the cell in slot s begins.
    sizes = np.diff(instance.cell_start)[cells.order]
    case_order = _ranges(instance.cell_start[:-1][cells.order], sizes)
    case_start = np.concatenate(([0], np.cumsum(sizes))).astype(np.int64)
    first_slot_of_component = _inverse(cells.order) - cells.local
    case_local = _inverse(case_order) - case_start[first_slot_of_component[case_cell]]

    parts = []
    for label in np.unique(attorney_label[instance.arc_attorney]).tolist():
        slots = cells.slice(label)
        a, c, r, x = (g.order[g.slice(label)] for g in (attorneys, cells, arcs, exclusions))
        case = case_order[case_start[slots.start] : case_start[slots.stop]]
        part = Instance(
            attorney_ids=instance.attorney_ids[a],
            capacity=instance.capacity[a],
            cell_ids=instance.cell_ids[c],
            cell_start=case_start[slots.start : slots.stop + 1] - case_start[slots.start],
            case_ids=instance.case_ids[case],
            priority=instance.priority[case],
            arc_attorney=attorneys.local[instance.arc_attorney[r]],
            arc_cell=cells.local[instance.arc_cell[r]],
            affinity=instance.affinity[r],
            excluded_attorney=attorneys.local[instance.excluded_attorney[x]],
            excluded_case=case_local[instance.excluded_case[x]],
        )
        _freeze(part)
        parts.append(part)
    return parts


def _component_labels(instance: Instance, *, batch_arcs: int) -> tuple[IntArray, IntArray]:
    """Part label of every attorney and every cell: its component, or its batch of them."""
    n_attorneys, n_nodes = instance.n_attorneys, instance.n_attorneys + instance.n_cells
    edges = (instance.arc_attorney, n_attorneys + instance.arc_cell)
    graph = coo_array((np.ones(instance.n_arcs, dtype=np.int8), edges), shape=(n_nodes, n_nodes))
    _, labels = connected_components(graph, directed=False)
    labels = labels.astype(np.int64)
    if batch_arcs > 0:
        # A component joins the batch its first arc falls in when arcs are laid end to end.
        arcs = np.bincount(labels[instance.arc_attorney], minlength=labels.max(initial=-1) + 1)
        batch = np.where(arcs > 0, (np.cumsum(arcs) - arcs) // batch_arcs, -1)
        labels = batch[labels]  # -1: no arcs, so in no part
    return labels[:n_attorneys], labels[n_attorneys:]


class _Grouping:
    """Items stable-sorted by label: ``order[slice(label)]`` are the label's items, in order,
    and ``local[i]`` is item i's position within its label."""

    def __init__(self, labels: NDArray[np.integer]) -> None:
        self.order = np.argsort(labels, kind="stable")
        sorted_labels = labels[self.order]
        self._labels = sorted_labels
        first = np.searchsorted(sorted_labels, sorted_labels, side="left")
        self.local = np.empty(len(labels), dtype=np.int64)
        self.local[self.order] = np.arange(len(labels)) - first

    def slice(self, label: int) -> slice:
        return slice(
            int(np.searchsorted(self._labels, label, side="left")),
            int(np.searchsorted(self._labels, label, side="right")),
        )


# ---------------------------------------------------------------------------------------------
# Greedy baseline


def solve_greedy(instance: Instance) -> Solution:
    """Take allowed pairs best score first (ties by attorney id, then case id) while the case is
    free and the attorney has capacity. A baseline to report the optimum against.

    Without materialising attorney x case pairs:

    1. Split exclusions out (:func:`_cells_without_exclusions`), so an arc allows every case of
       its cell. All arcs of a cell then take its cases in the same order, so the taken cases
       form a prefix: the cell's best pair is (its best attorney with capacity left, its next
       free case). Attorneys only lose capacity, so both are pointers that only move forward.
    2. Heap the cells keyed by (-score, attorney, case id) of their best pair; popping merges
       the cells' pair sequences in global sorted order.
    3. A popped key may be stale (its attorney filled up in another cell); re-push the current
       key, which is never better. Otherwise take the pair and re-push the cell.
    """
    cells = _cells_without_exclusions(instance)
    order = np.lexsort((cells.arc_attorney, -cells.affinity, cells.arc_cell))
    arc_attorney = cells.arc_attorney[order].tolist()
    affinity = cells.affinity[order].tolist()
    arc_start = np.searchsorted(cells.arc_cell[order], np.arange(cells.n_cells + 1)).tolist()
    case_start, case = cells.start.tolist(), cells.case.tolist()
    priority, case_ids = instance.priority.tolist(), instance.case_ids.tolist()
    remaining = instance.capacity.tolist()
    next_arc, next_case = arc_start[:-1], case_start[:-1]

    def best(cell: int) -> GreedyKey | None:
        while next_arc[cell] < arc_start[cell + 1] and not remaining[arc_attorney[next_arc[cell]]]:
            next_arc[cell] += 1
        if next_arc[cell] == arc_start[cell + 1] or next_case[cell] == case_start[cell + 1]:
            return None  # the cell is done: neither pointer ever moves back
        arc, c = next_arc[cell], case[next_case[cell]]
        return (-(affinity[arc] + priority[c]), arc_attorney[arc], case_ids[c], cell)

    def take(cell: int, attorney: int) -> int:
        taken_case = case[next_case[cell]]
        next_case[cell] += 1
        remaining[attorney] -= 1
        return taken_case

    taken = greedy_merge(cells.n_cells, best, take)
    attorney, case_taken, score = np.array(taken, dtype=np.int64).reshape(-1, 3).T
    return _solution(instance, attorney, case_taken, score)


GreedyKey = tuple[int, int, str, int]  # (-score, attorney, case id, cell): heap order


def greedy_merge(
    n_cells: int,
    best: Callable[[int], GreedyKey | None],
    take: Callable[[int, int], int],
) -> list[tuple[int, int, int]]:
    """Merge the cells' best-pair sequences in global score order (steps 2-3 of
    :func:`solve_greedy`); shared with the run pipeline's hub greedy.

    `best(cell)` gives the key of the cell's current best pair or None when it is done;
    `take(cell, attorney)` records the pair, advances the cell and returns the case position.
    Returns (attorney, case position, score) triples in the order taken.
    """
    heap = [key for cell in range(n_cells) if (key := best(cell)) is not None]
    heapq.heapify(heap)
    taken: list[tuple[int, int, int]] = []
    while heap:
        popped = heapq.heappop(heap)
        cell = popped[3]
        current = best(cell)
        if current != popped:  # stale: the attorney filled up elsewhere; the new key is no better
            if current is not None:
                heapq.heappush(heap, current)
            continue
        taken.append((popped[1], take(cell, popped[1]), -popped[0]))
        if (key := best(cell)) is not None:
            heapq.heappush(heap, key)
    return taken
