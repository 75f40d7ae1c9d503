"""The current matching problem as the solver's file (``manage.py export_instance``).

A file's items come in any order (readers sort them), so the export writes the run's scored
arrays as they come out of scoring, without building the solver's canonical :class:`Instance`
(the run's step 3): what the run builds from them, the export writes. Ids are made by numpy,
as ``attorney_id`` and ``case_id`` make them.
"""

import numpy as np
from django.db import connection
from django.utils import timezone

from matching.pipeline.load import Snapshot, read_snapshot, scored
from matching.solver import Hubs
from matching.solver.writer import Columns, id_texts, numbered_texts

# As matching.pipeline.load.problem.attorney_id and case_id (a test holds them equal).
ATTORNEY_DIGITS = 9
CASE_DIGITS = 11


def export_columns() -> tuple[Columns, Hubs]:
    """What ``load_problem`` would solve, as :class:`Columns` and hubs over their cells: its
    steps 1-2 (``read_snapshot``, ``scored``), not step 3."""
    rows = read_snapshot(timezone.localdate(), fast=connection.vendor == "postgresql")
    return _columns(rows)


def _columns(rows: Snapshot) -> tuple[Columns, Hubs]:
    _, _, split, arcs, hubs = scored(rows)
    columns = Columns(
        attorney_ids=numbered_texts("a", rows.attorneys.pk, ATTORNEY_DIGITS),
        capacity=rows.attorneys.free,
        cell_ids=id_texts(split.cell_ids),
        case_ids=numbered_texts("c", rows.case_pk, CASE_DIGITS),
        case_cell=split.case_cell,
        # As build_instance: a negative stored priority must not make a pair score <= 0.
        priority=np.maximum(rows.priority, 0),
        arc_attorney=arcs.attorney,
        arc_cell=arcs.cell,
        affinity=arcs.affinity,
        excluded_attorney=split.excluded_attorney,
        excluded_case=split.excluded_case,
    )
    return columns, hubs
