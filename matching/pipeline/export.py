"""The current matching problem as the solver's file (``manage.py export_instance``).

A file's items come in any order (readers sort them), so the export writes the run's scored
arrays as they come out of scoring, without building the solver's canonical :class:`Instance`
(the run's step 3): what the run builds from them, the export writes. Ids are made by numpy,
as ``attorney_id`` and ``case_id`` make them.

Streamed (:func:`export_to`): scoring hands its arcs over a part at a time, each written as it
comes and then dropped, by a forked child on the other core when the output is a file, so the
arcs are never whole in memory and the file is written while scoring runs. At 1M cases the
scored arcs alone would be ~150 MB, and scoring's own peak (the candidate pairs of the member
arcs) is cut by the parts: see ``Scoring.arc_parts``.
"""

import numpy as np
from django.db import connection
from django.utils import timezone

from matching.pipeline.load import Snapshot, read_snapshot, scored, scored_in_parts
from matching.pipeline.load.instance import _Split
from matching.solver import Hubs
from matching.solver.writer import BinarySink, Columns, id_texts, numbered_texts, write_in_parts

# As matching.pipeline.load.problem.attorney_id and case_id (a test holds them equal).
ATTORNEY_DIGITS = 9
CASE_DIGITS = 11

# Candidate pairs scored per part of the member arcs: at 1M cases ~20 parts of ~0.3M arcs,
# small beside the snapshot, large enough that a part's fixed costs do not show.
PART_PAIRS = 1 << 18


def export_to(out: BinarySink, *, in_child: bool = True) -> None:
    """Write what ``load_problem`` would solve to ``out``, with its hubs: its steps 1-2
    (``read_snapshot``, ``scored_in_parts``), not step 3. ``in_child``: the writing is done by
    a forked child when ``out`` is a file (``write_in_parts``)."""
    rows = _snapshot()
    split, parts, scoring = scored_in_parts(rows, part_pairs=PART_PAIRS)
    empty = np.zeros(0, dtype=np.int64)

    def columns() -> Columns:
        return _columns(rows, split, empty, empty, empty)

    write_in_parts(columns, parts, scoring.hubs, out, child=in_child)


def export_columns() -> tuple[Columns, Hubs]:
    """What ``load_problem`` would solve, as :class:`Columns` and hubs over their cells, all in
    memory (``export_instance --expand-hubs`` needs every arc at once)."""
    rows = _snapshot()
    _, _, split, arcs, hubs = scored(rows)
    return _columns(rows, split, arcs.attorney, arcs.cell, arcs.affinity), hubs


def _snapshot() -> Snapshot:
    return read_snapshot(timezone.localdate(), fast=connection.vendor == "postgresql")


def _columns(
    rows: Snapshot, split: _Split, attorney: np.ndarray, cell: np.ndarray, affinity: np.ndarray
) -> Columns:
    return Columns(
        attorney_ids=numbered_texts("a", rows.attorneys.pk, ATTORNEY_DIGITS),
        capacity=rows.attorneys.free,
        cell_ids=id_texts(split.cell_ids),
        case_ids=numbered_texts("c", rows.case_pk, CASE_DIGITS),
        case_cell=split.case_cell,
        # As build_instance: a negative stored priority must not make a pair score <= 0.
        priority=np.maximum(rows.priority, 0),
        arc_attorney=attorney,
        arc_cell=cell,
        affinity=affinity,
        excluded_attorney=split.excluded_attorney,
        excluded_case=split.excluded_case,
    )
