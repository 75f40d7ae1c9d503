"""Load open cases and available attorneys as arrays, score them, and build the solver's instance.

ARCHITECTURE.md, matching pipeline, steps 1-3. Nothing here builds a model instance: attorneys,
their languages and practice areas come from ``values_list``; open cases, the big table, come
from one packed binary value on PostgreSQL (three integers a row, parsed by numpy) and from
``values_list`` elsewhere. Everything is read in one REPEATABLE READ snapshot on PostgreSQL, so
cells, cases and exclusions agree with each other.

Scoring (matching/pipeline/score.py) never loops over attorney x cell in Python: dense
attorney x language and attorney x case-type matrices, one attorney x court distance matrix,
sparse joins and 2-D numpy blocks. Remote-only pairs become hubs (matching/solver/hubs.py).
"""

import datetime
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from time import perf_counter
from typing import Any

import numpy as np
from django.db import connection, transaction
from django.utils import timezone
from numpy.typing import NDArray

from cases.models import CaseRequest, ImmigrationCourt
from matching.models import Match
from matching.pipeline.load.attorneys import load_attorneys
from matching.pipeline.load.beside import beside
from matching.pipeline.load.cases import (
    PARTS,
    load_cases_orm,
    load_cases_packed,
    other_languages_matched,
    start_cases_packed,
)
from matching.pipeline.load.instance import (
    _Split,
    build_instance,
    drop_excluded,
    hubs_by_instance_position,
    in_id_order,
    split_excluded,
)
from matching.pipeline.load.problem import (
    CHUNK,
    IntArray,
    Problem,
    attorney_id,
    case_id,
    cell_id,
    pk_of,
)
from matching.pipeline.score import ArcPart, Arcs, Attorneys, Scoring
from matching.scoring import CellFacts, distance_matrix_miles
from matching.solver import Hubs

__all__ = [
    "Problem",
    "Snapshot",
    "attorney_id",
    "case_id",
    "cell_id",
    "load_problem",
    "other_languages_matched",
    "pk_of",
    "problem_of",
    "read_snapshot",
    "scored",
    "scored_in_parts",
    "snapshot",
]


def load_problem(
    *, today: datetime.date | None = None, fast: bool | None = None, timings: dict | None = None
) -> Problem:
    """Load, score and build the instance. ``fast`` forces (or refuses) the PostgreSQL packed path.

    1. In one snapshot: attorneys, their skills, courts, open cases (grouped into cells) and the
       (case, attorney) pairs that already have a match row of any status.
    2. Score all eligible attorney-cell arcs and hubs (pipeline/score.py), after giving every
       case with an exclusion a cell of its own.
    3. Build the solver's instance with stable ids.
    """
    today = today or timezone.localdate()  # the program's date (TIME_ZONE), like paused_until
    fast = connection.vendor == "postgresql" if fast is None else fast
    timings = {} if timings is None else timings
    started = perf_counter()
    rows = read_snapshot(today, fast=fast)
    timings["load"] = perf_counter() - started
    return problem_of(rows, timings=timings)


def problem_of(rows: "Snapshot", *, timings: dict, reuse: dict | None = None) -> Problem:
    """Steps 2-3 of :func:`load_problem` on what step 1 read (the small run's loader reads
    less, then shares these steps: pipeline/load/small.py; ``reuse``: see :func:`scored`)."""
    started = perf_counter()
    court_position, miles, split, arcs, hubs = scored(rows, reuse=reuse)
    timings["score"] = perf_counter() - started

    started = perf_counter()
    instance = build_instance(rows.attorneys, split, rows.case_pk, rows.priority, arcs)
    timings["build"] = perf_counter() - started
    return Problem(
        instance=instance,
        attorneys=rows.attorneys,
        cells=split.cells,
        cell_position={cid: k for k, cid in enumerate(split.cell_ids)},
        case_pk=rows.case_pk,
        case_cell=split.case_cell,
        miles=miles,
        court_position=court_position,
        hubs=hubs_by_instance_position(hubs, instance, split.cell_ids),
    )


def scored(
    rows: "Snapshot", *, reuse: dict | None = None
) -> tuple[dict[int, int], NDArray[np.float64], _Split, Arcs, Hubs]:
    """Step 2 of :func:`load_problem`: (court positions, miles, the split cells, the scored arcs
    without exclusions, hubs over the split cells).

    ``reuse`` (a dict kept between calls on the same attorneys, courts and distances: the small
    run's rounds) keeps the last arcs and hubs: they depend on the cases only through the split
    cells (ids, which name their facts, and membership of hubs) and the excluded (attorney,
    cell) pairs, so when those are the same the scoring is not done again."""
    court_position, miles, split = _split_cells(rows)
    key = None if reuse is None else _scoring_key(split)
    if reuse is not None and reuse.get("key") == key:
        return court_position, miles, split, reuse["arcs"], reuse["hubs"]
    scoring = Scoring(rows.attorneys, split.cells, miles, court_position, split.hub_member)
    arcs, hubs = scoring.arcs_and_hubs()
    arcs = drop_excluded(arcs, split, len(split.cells))
    if reuse is not None:
        reuse.update(key=key, arcs=arcs, hubs=hubs)
    return court_position, miles, split, arcs, hubs


def _scoring_key(split: _Split) -> tuple:
    """What the scored arcs and hubs depend on besides the attorneys, courts and distances."""
    return (
        split.cell_ids,
        split.hub_member.tolist(),
        split.excluded_attorney.tolist(),
        split.case_cell[split.excluded_case].tolist(),
    )


def scored_in_parts(
    rows: "Snapshot", *, part_pairs: int
) -> tuple[_Split, Iterator[ArcPart], Scoring]:
    """:func:`scored` as export_instance writes it: the arcs a part at a time (in order, they
    are ``scored``'s; ``part_pairs``: see ``Scoring.arc_parts``), then the hubs
    (``Scoring.hubs``, once the parts are all taken)."""
    court_position, miles, split = _split_cells(rows)
    scoring = Scoring(rows.attorneys, split.cells, miles, court_position, split.hub_member)
    n_cells = len(split.cells)
    parts = (
        drop_excluded(Arcs(*part), split, n_cells)
        for part in scoring.arc_parts(part_pairs=part_pairs)
    )
    return split, ((p.attorney, p.cell, p.affinity) for p in parts), scoring


def _split_cells(rows: "Snapshot") -> tuple[dict[int, int], NDArray[np.float64], _Split]:
    """(court positions, miles, the cells with excluded cases split off, in id order)."""
    court_position = {pk: i for i, (pk, _, _) in enumerate(rows.courts)}
    split = in_id_order(
        split_excluded(rows.cells, rows.attorneys.pk, rows.case_pk, rows.case_cell, rows.excluded)
    )
    miles = _miles(rows.attorneys, rows.courts) if rows.miles is None else rows.miles
    return court_position, miles, split


@dataclass(frozen=True, eq=False, slots=True)
class Snapshot:
    """What step 1 of :func:`load_problem` reads."""

    attorneys: Attorneys
    courts: list[tuple[int, Any, Any]]  # (pk, latitude, longitude) by pk
    cells: list[CellFacts]
    case_pk: IntArray
    case_cell: IntArray
    priority: IntArray
    excluded: list[tuple[int, int]]  # (attorney pk, case pk)
    # The attorney x court distance matrix when the read computed it (while the cases loaded).
    miles: NDArray[np.float64] | None = None


@contextmanager
def snapshot() -> Iterator[bool]:
    """One transaction for every query of a load; REPEATABLE READ on PostgreSQL (unless already
    inside a transaction), because cells, cases and exclusions come from several queries and
    must agree. Yields whether that snapshot is this block's own, so that a second connection
    may share it (beside.py)."""
    own = connection.vendor == "postgresql" and not connection.in_atomic_block
    with transaction.atomic():
        if own:
            with connection.cursor() as cursor:
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        yield own


def read_snapshot(today: datetime.date, *, fast: bool) -> Snapshot:
    """Step 1 of :func:`load_problem`. With the packed loader in a snapshot of its own
    (PostgreSQL), the big read of the open cases runs on other connections sharing the snapshot
    while this one reads the rest and computes the distances (beside.py); else one query after
    the other."""
    with snapshot() as own:
        if own and fast:
            with beside(PARTS) as submit:
                cases = start_cases_packed(submit)
                attorneys, courts, excluded = _attorney_side(today)
                miles = _miles(attorneys, courts)
                cells, case_pk, case_cell, priority = cases()
        else:
            attorneys, courts, excluded = _attorney_side(today)
            miles = _miles(attorneys, courts)
            cells, case_pk, case_cell, priority = load_cases_packed() if fast else load_cases_orm()
    return Snapshot(attorneys, courts, cells, case_pk, case_cell, priority, excluded, miles)


def _attorney_side(today: datetime.date) -> tuple[Attorneys, list, list[tuple[int, int]]]:
    """Available attorneys, courts, and the (attorney, case) pairs with a match row of any
    status whose case is open."""
    attorneys = load_attorneys(today)
    courts = list(
        ImmigrationCourt.objects.order_by("pk").values_list("pk", "latitude", "longitude")
    )
    excluded = list(
        Match.objects.filter(case__status=CaseRequest.Status.OPEN)
        .values_list("attorney_id", "case_id")
        .iterator(chunk_size=CHUNK)
    )
    return attorneys, courts, excluded


def _miles(attorneys: Attorneys, courts: list[tuple[int, Any, Any]]) -> NDArray[np.float64]:
    """The attorney x court distance matrix."""
    return distance_matrix_miles(
        attorneys.latitude,
        attorneys.longitude,
        np.array([float(lat) for _, lat, _ in courts]),
        np.array([float(lon) for _, _, lon in courts]),
    )
