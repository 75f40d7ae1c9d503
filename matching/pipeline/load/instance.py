"""The solver's instance: cases with an exclusion split into cells of their own, arcs, hubs."""

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from matching.pipeline.load.problem import (
    ATTORNEY_PK_LIMIT,
    CASE_IDS,
    CASE_PK_LIMIT,
    IntArray,
    attorney_id,
    attorney_ids,
    case_id,
    cell_id,
)
from matching.pipeline.score import Arcs, Attorneys
from matching.scoring import CellFacts
from matching.solver import Hubs, Instance
from matching.solver.arrays import lexsort_ints, unique_ints
from matching.solver.instance import MAX_VALUE, freeze


@dataclass(eq=False, slots=True)
class _Split:
    """Cells after giving every case with a binding exclusion a cell of its own."""

    cells: list[CellFacts]
    cell_ids: list[str]
    case_cell: IntArray
    hub_member: NDArray[np.bool_]
    excluded_attorney: IntArray  # positions
    excluded_case: IntArray  # positions


def split_excluded(
    cells: list[CellFacts],
    attorney_pk: IntArray,
    case_pk: IntArray,
    case_cell: IntArray,
    excluded: list[tuple[int, int]],
) -> _Split:
    """A declined (or otherwise ended) pair must never be proposed again, but the rest of its
    cell may: so its case moves to a cell of its own (same facts, id suffixed with the case),
    which takes no part in hubs and whose arcs leave the excluded attorneys out. Exclusions
    naming an attorney or case outside the load are dropped: they cannot bind."""
    pairs = np.array(excluded, dtype=np.int64).reshape(-1, 2)
    ex_attorney = _positions(attorney_pk, pairs[:, 0])
    ex_case = _positions(case_pk, pairs[:, 1])
    known = (ex_attorney >= 0) & (ex_case >= 0)
    ex_attorney, ex_case = ex_attorney[known], ex_case[known]
    cells, cell_ids = list(cells), [cell_id(c) for c in cells]
    case_cell = case_cell.copy()
    for position in np.unique(ex_case).tolist():
        facts = cells[case_cell[position]]
        case_cell[position] = len(cells)
        cells.append(facts)
        cell_ids.append(f"{cell_id(facts)}.x{int(case_pk[position])}")
    hub_member = np.arange(len(cells)) < len(cell_ids) - len(np.unique(ex_case))
    return _Split(cells, cell_ids, case_cell, hub_member, ex_attorney, ex_case)


def in_id_order(split: _Split) -> _Split:
    """The same cells sorted by id, the solver's canonical order: scoring then numbers cells as
    the instance does, and build_instance keeps its arcs in the order scoring sorts them."""
    order = np.array(sorted(range(len(split.cell_ids)), key=split.cell_ids.__getitem__))
    order = order.astype(np.int64)
    return _Split(
        cells=[split.cells[k] for k in order.tolist()],
        cell_ids=[split.cell_ids[k] for k in order.tolist()],
        case_cell=_inverse(order)[split.case_cell],
        hub_member=split.hub_member[order],
        excluded_attorney=split.excluded_attorney,
        excluded_case=split.excluded_case,
    )


def drop_excluded(arcs: Arcs, split: _Split, n_cells: int) -> Arcs:
    if not len(split.excluded_attorney):
        return arcs
    banned = split.excluded_attorney * n_cells + split.case_cell[split.excluded_case]
    keep = ~np.isin(arcs.attorney * n_cells + arcs.cell, banned)
    return Arcs(arcs.attorney[keep], arcs.cell[keep], arcs.affinity[keep])


def build_instance(
    attorneys: Attorneys, split: _Split, case_pk: IntArray, priority: IntArray, arcs: Arcs
) -> Instance:
    """The solver's instance; the exclusions are passed too, though no arc can make them.

    Stored priority is meant to be >= 0; a negative one must not make a pair score <= 0, so it
    counts as 0. The instance is built in canonical order directly (:func:`_canonical`); input
    that path does not take goes through ``Instance.from_arrays``, which gives the same instance
    or names what is wrong."""
    priority = np.maximum(priority, 0)
    canonical = _canonical(attorneys, split, case_pk, priority, arcs)
    if canonical is not None:
        return canonical
    return instance_from_arrays(attorneys, split, case_pk, priority, arcs)


def instance_from_arrays(
    attorneys: Attorneys, split: _Split, case_pk: IntArray, priority: IntArray, arcs: Arcs
) -> Instance:
    """The checked path of :func:`build_instance` (``priority`` already clipped at 0): what
    Instance.from_arrays makes of the same arrays, errors named."""
    return Instance.from_arrays(
        attorney_ids=[attorney_id(pk) for pk in attorneys.pk.tolist()],
        capacity=attorneys.free,
        cell_ids=split.cell_ids,
        case_ids=[case_id(pk) for pk in case_pk.tolist()],
        case_cell=split.case_cell,
        priority=priority,
        arc_attorney=arcs.attorney,
        arc_cell=arcs.cell,
        affinity=arcs.affinity,
        excluded_attorney=split.excluded_attorney,
        excluded_case=split.excluded_case,
    )


def _canonical(
    attorneys: Attorneys, split: _Split, case_pk: IntArray, priority: IntArray, arcs: Arcs
) -> Instance | None:
    """``Instance.from_arrays``' instance for valid input, without its string sorts and copies
    (a third of a run's build time), or None where its checks must speak.

    1. Attorney and case ids come from ascending primary keys, zero-padded: already sorted.
       Case ids stay the keys (``CASE_IDS.numbered``): on the run's path only the greedy's
       ties read a case's id. Cells are sorted by id once (tens of thousands of strings).
    2. Cases by (cell, priority descending, id) and arcs by (attorney, cell): one integer sort
       each, as from_arrays does them.
    3. None unless every value is in range, every arc scores above 0 whatever the priority (so
       every pair does), and no arc repeats: from_arrays then raises the error it names.
    """
    if not _fits(attorneys, split, case_pk, priority, arcs):
        return None
    cell_order = sorted(range(len(split.cell_ids)), key=split.cell_ids.__getitem__)
    cell_ids = np.empty(len(cell_order), dtype=object)
    cell_ids[:] = [split.cell_ids[k] for k in cell_order]
    if len(cell_ids) > 1 and not (cell_ids[1:] > cell_ids[:-1]).all():
        return None  # a repeated cell id
    cell_rank = _inverse(np.array(cell_order, dtype=np.int64))
    in_order = _ascending(cell_rank)  # as problem_of passes them (in_id_order)
    case_cell = split.case_cell if in_order else cell_rank[split.case_cell]
    arc_cell = arcs.cell if in_order else cell_rank[arcs.cell]
    case_perm = lexsort_ints((np.arange(len(case_pk)), -priority, case_cell))
    arc_attorney, arc_cell, affinity = _sorted_arcs(arcs.attorney, arc_cell, arcs.affinity)
    if len(arc_attorney) > 1 and not _ascending(arc_attorney * len(cell_ids) + arc_cell):
        return None  # a repeated arc
    excluded = unique_ints(
        split.excluded_attorney * max(len(case_pk), 1) + _inverse(case_perm)[split.excluded_case]
    )
    instance = Instance(
        attorney_ids=attorney_ids(attorneys.pk),
        capacity=attorneys.free.astype(np.int64),
        cell_ids=cell_ids,
        cell_start=np.concatenate(
            ([0], np.cumsum(np.bincount(case_cell, minlength=len(cell_ids))))
        ).astype(np.int64),
        case_ids=CASE_IDS.numbered(case_pk[case_perm]),
        priority=priority[case_perm].astype(np.int64),
        # Shared with the caller when already canonical (and then read-only, as all of these).
        arc_attorney=arc_attorney.astype(np.int64, copy=False),
        arc_cell=arc_cell.astype(np.int64, copy=False),
        affinity=affinity.astype(np.int64, copy=False),
        excluded_attorney=excluded // max(len(case_pk), 1),
        excluded_case=excluded % max(len(case_pk), 1),
    )
    freeze(instance)  # as from_arrays leaves it
    return instance


def _sorted_arcs(
    attorney: IntArray, cell: IntArray, affinity: IntArray
) -> tuple[IntArray, IntArray, IntArray]:
    """Arcs by (attorney, cell), repeats next to each other; as they are when already so."""
    key = attorney * (int(cell.max(initial=0)) + 1) + cell
    if _ascending(key):
        return attorney, cell, affinity
    order = np.argsort(key, kind="stable")
    return attorney[order], cell[order], affinity[order]


def _fits(
    attorneys: Attorneys, split: _Split, case_pk: IntArray, priority: IntArray, arcs: Arcs
) -> bool:
    """Whether :func:`_canonical` may build the instance (its step 3, but repeated arcs)."""
    n_attorneys, n_cells = len(attorneys.pk), len(split.cell_ids)
    return (
        _within(attorneys.pk, 0, ATTORNEY_PK_LIMIT - 1)
        and _within(case_pk, 0, CASE_PK_LIMIT - 1)
        and _ascending(attorneys.pk)
        and _ascending(case_pk)
        and _within(attorneys.free, 0, MAX_VALUE)
        and _within(priority, 0, MAX_VALUE)
        and _within(split.case_cell, 0, n_cells - 1)
        and _within(arcs.attorney, 0, n_attorneys - 1)
        and _within(arcs.cell, 0, n_cells - 1)
        and _within(arcs.affinity, 1, MAX_VALUE)
        and len(split.case_cell) == len(case_pk) == len(priority)
        and len(attorneys.free) == n_attorneys
    )


def _within(values: IntArray, low: int, high: int) -> bool:
    return not len(values) or (low <= int(values.min()) and int(values.max()) <= high)


def _ascending(values: IntArray) -> bool:
    return len(values) < 2 or bool((values[1:] > values[:-1]).all())


def _inverse(permutation: IntArray) -> IntArray:
    inverse = np.empty_like(permutation)
    inverse[permutation] = np.arange(len(permutation), dtype=np.int64)
    return inverse


def hubs_by_instance_position(hubs: Hubs, instance: Instance, cell_ids: list[str]) -> Hubs:
    ids = np.empty(len(cell_ids), dtype=object)
    ids[:] = cell_ids
    position = np.searchsorted(instance.cell_ids, ids)
    cells = position[hubs.cell]
    hub_of = np.repeat(np.arange(hubs.n_hubs), np.diff(hubs.cell_start))
    order = np.lexsort((cells, hub_of))
    return Hubs(hubs.cell_start, cells[order], hubs.arc_attorney, hubs.arc_hub, hubs.affinity)


def _positions(sorted_pks: IntArray, pks: IntArray) -> IntArray:
    """Position of each pk in an ascending array, or -1 when absent."""
    if not len(sorted_pks):
        return np.full(len(pks), -1, dtype=np.int64)
    at = np.minimum(np.searchsorted(sorted_pks, pks), len(sorted_pks) - 1)
    return np.where(sorted_pks[at] == pks, at, -1).astype(np.int64)
