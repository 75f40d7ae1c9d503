"""The current matching problem as the solver's file (``manage.py export_instance``).

A file's items come in any order (readers sort them), so the export writes the run's scored
arrays as they come out of scoring, without building the solver's canonical :class:`Instance`
(the run's step 3): what the run builds from them, the export writes. Ids are made by numpy,
as ``attorney_id`` and ``case_id`` make them.
"""

import numpy as np
from django.db import connection
from django.utils import timezone

# load_problem's own steps, private there (see export_columns).
from matching.pipeline.load import Snapshot
from matching.pipeline.load import _miles as miles_of
from matching.pipeline.load import _read_snapshot as read_snapshot
from matching.pipeline.load.instance import drop_excluded, split_excluded
from matching.pipeline.score import score_arcs_and_hubs
from matching.solver import Hubs
from matching.solver.writer import Columns, id_texts, numbered_texts

# As matching.pipeline.load.problem.attorney_id and case_id (a test holds them equal).
ATTORNEY_DIGITS = 9
CASE_DIGITS = 11


def export_columns() -> tuple[Columns, Hubs]:
    """What ``load_problem`` would solve, as :class:`Columns` and hubs over their cells: its
    steps 1-2 (load_problem's own functions, called as problem_of calls them; a step 2 of its
    own in pipeline/load would spare this module those private names), not step 3."""
    rows = read_snapshot(timezone.localdate(), fast=connection.vendor == "postgresql")
    return _columns(rows)


def _columns(rows: Snapshot) -> tuple[Columns, Hubs]:
    court_position = {pk: i for i, (pk, _, _) in enumerate(rows.courts)}
    split = split_excluded(
        rows.cells, rows.attorneys.pk, rows.case_pk, rows.case_cell, rows.excluded
    )
    arcs, hubs = score_arcs_and_hubs(
        rows.attorneys, split.cells, miles_of(rows), court_position, split.hub_member
    )
    arcs = drop_excluded(arcs, split, len(split.cells))
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
