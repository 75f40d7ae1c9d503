"""The solver's instance: cases with an exclusion split into cells of their own, arcs, hubs."""

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from matching.pipeline.load.problem import IntArray, attorney_id, case_id, cell_id
from matching.pipeline.score import Arcs, Attorneys
from matching.scoring import CellFacts
from matching.solver import Hubs, Instance


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


def drop_excluded(arcs: Arcs, split: _Split, n_cells: int) -> Arcs:
    if not len(split.excluded_attorney):
        return arcs
    banned = split.excluded_attorney * n_cells + split.case_cell[split.excluded_case]
    keep = ~np.isin(arcs.attorney * n_cells + arcs.cell, banned)
    return Arcs(arcs.attorney[keep], arcs.cell[keep], arcs.affinity[keep])


def build_instance(
    attorneys: Attorneys, split: _Split, case_pk: IntArray, priority: IntArray, arcs: Arcs
) -> Instance:
    """The solver's instance; the exclusions are passed too, though no arc can make them."""
    instance = Instance.from_arrays(
        attorney_ids=[attorney_id(pk) for pk in attorneys.pk.tolist()],
        capacity=attorneys.free,
        cell_ids=split.cell_ids,
        case_ids=[case_id(pk) for pk in case_pk.tolist()],
        case_cell=split.case_cell,
        # Stored priority is meant to be >= 0; a negative one must not make a pair score <= 0.
        priority=np.maximum(priority, 0),
        arc_attorney=arcs.attorney,
        arc_cell=arcs.cell,
        affinity=arcs.affinity,
        excluded_attorney=split.excluded_attorney,
        excluded_case=split.excluded_case,
    )
    return instance


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
