"""A seeded national world in memory, scored into the run's own problem, without the database.

``seed_scale`` writes its draws (``draw_attorneys``, ``draw_cases``) to PostgreSQL; this module
keeps the same draws in arrays and turns them into the :class:`~matching.pipeline.load.Problem`
a run would load from those rows: the same cells (``CellFacts`` keys, equal ones merged), the
same scoring into arcs and remote-work hubs (pipeline/score.py) and the same solver instance
(pipeline/load/instance.py). So ``bench_solver_scale`` can grow the world past what a database
on this machine holds, and measure the part of a run that has to fit in one process.

Cases are kept as small integer codes (about 30 bytes a case), drawn in batches of
``matching.scale.BATCH`` like ``seed_cases``; the courts are the reference courts with pk = their
position in ``cases.reference.COURTS`` plus one.
"""

import datetime
from dataclasses import dataclass
from functools import cache

import numpy as np
from numpy.typing import NDArray

from cases.reference import COURTS, court_coordinates
from matching.pipeline.load import Snapshot, problem_of
from matching.pipeline.load.cases import _merge_equal_cells
from matching.pipeline.load.problem import Problem
from matching.pipeline.score import Attorneys
from matching.scale.attorneys import draw_attorneys
from matching.scale.cases import draw_cases
from matching.scale.common import BATCH
from matching.scoring import CellFacts, distance_matrix_miles

IntArray = NDArray[np.int64]


@cache
def reference_courts() -> list[tuple]:
    """(pk, code, zip, latitude, longitude, detained_only) of every reference court, as
    seed_scale reads them from the database."""
    return [
        (pk, code, zip_code, *court_coordinates(zip_code), detained)
        for pk, (code, _name, _city, _state, zip_code, detained) in enumerate(COURTS, start=1)
    ]


@dataclass(frozen=True, eq=False, slots=True)
class Cases:
    """Open cases as codes, pk ascending (a world numbers them from 1); ``cell`` indexes
    ``cells``."""

    cells: list[CellFacts]
    pk: IntArray
    cell: IntArray
    priority: IntArray

    def __len__(self) -> int:
        return len(self.cell)

    def subset(self, keep: NDArray[np.bool_]) -> "Cases":
        """The cases where ``keep`` is true (a shard), with the same cell list."""
        return Cases(self.cells, self.pk[keep], self.cell[keep], self.priority[keep])


@dataclass(frozen=True, eq=False, slots=True)
class World:
    attorneys: Attorneys
    cases: Cases
    courts: list[tuple]


def draw_world(
    *,
    attorneys: int,
    cases: int,
    seed: int = 1,
    other_languages: bool = False,
    today: datetime.date | None = None,
) -> World:
    """The world ``seed_scale --attorneys N --cases M --seed S`` would write (same draws in the
    same order), in memory. ``other_languages``: as MATCHING_OTHER_LANGUAGES, whether a case's
    other languages count as routes (and so split cells)."""
    today = today or datetime.date(2026, 12, 6)  # fixed: a seed always gives the same world
    courts = reference_courts()
    rng = np.random.default_rng(seed)
    return World(
        attorneys=_attorneys(rng, attorneys, courts),
        cases=_cases(rng, cases, courts, today, other_languages=other_languages),
        courts=courts,
    )


def _attorneys(rng: np.random.Generator, n: int, courts: list[tuple]) -> Attorneys:
    d = draw_attorneys(rng, n, courts)
    return Attorneys(
        pk=np.arange(1, n + 1, dtype=np.int64),
        latitude=np.round(d.latitude, 5),  # as the database stores them
        longitude=np.round(d.longitude, 5),
        radius=d.radius.astype(np.int64),
        remote_ok=d.remote,
        years=d.years.astype(np.int64),
        free=d.capacity.astype(np.int64),
        languages=d.languages,
        practice_areas=d.areas,
        remote_preferred=d.remote_preferred,
        detained_ok=d.detained_ok,
        preferred_types=d.preferred,
        excluded_types=d.excluded,
    )


class _CellKeys:
    """Numbers each distinct raw cell key (language, other languages, relay, court, case type,
    detained, remote) as it is first met; CellFacts merges the equal ones at the end."""

    def __init__(self) -> None:
        self.index: dict[tuple, int] = {}

    def of(self, keys: list[tuple]) -> IntArray:
        index = self.index
        return np.fromiter(
            (index.setdefault(key, len(index)) for key in keys), dtype=np.int64, count=len(keys)
        )


def _cases(
    rng: np.random.Generator,
    n: int,
    courts: list[tuple],
    today: datetime.date,
    *,
    other_languages: bool,
) -> Cases:
    keys = _CellKeys()
    cell = np.empty(n, dtype=np.int64)
    priority = np.empty(n, dtype=np.int64)
    court_pk = [c[0] for c in courts]
    for start in range(0, n, BATCH):
        size = min(BATCH, n - start)
        d = draw_cases(rng, size, courts, today)
        spoken: dict[int, tuple[str, ...]] = {}
        if other_languages:
            for i, code in d.others:
                spoken[i] = (*spoken.get(i, ()), code)
        raw = zip(
            d.language.tolist(), d.relay.tolist(), d.court.tolist(), d.case_type.tolist(),
            d.detained.tolist(), d.remote.tolist(), strict=True,
        )  # fmt: skip
        batch = [
            (lang, spoken.get(i, ()), "spa" if relay else None, court_pk[court], kind,
             detained, remote)
            for i, (lang, relay, court, kind, detained, remote) in enumerate(raw)
        ]  # fmt: skip
        cell[start : start + size] = keys.of(batch)
        priority[start : start + size] = d.priority
    by_pk = {c[0]: (float(c[3]), float(c[4])) for c in courts}
    facts = [_facts(key, by_pk) for key in keys.index]
    cells, merged = _merge_equal_cells(facts, cell)
    pk = np.arange(1, n + 1, dtype=np.int64)
    return Cases(cells=cells, pk=pk, cell=merged, priority=priority)


def _facts(key: tuple, courts: dict[int, tuple[float, float]]) -> CellFacts:
    language, others, relay, court, case_type, detained, remote = key
    latitude, longitude = courts[court]
    return CellFacts(
        language=language, other_languages=others, relay_language=relay, case_type=case_type,
        court_id=court, court_latitude=latitude, court_longitude=longitude,
        detained=bool(detained), remote_ok=bool(remote),
    )  # fmt: skip


def world_problem(world: World, *, timings: dict | None = None) -> Problem:
    """Score and build the run's problem from a world: load_problem's own steps 2-3
    (``problem_of``), the database read replaced by the world's arrays."""
    attorneys, cases = world.attorneys, world.cases
    rows = Snapshot(
        attorneys=attorneys,
        courts=[(court[0], court[3], court[4]) for court in world.courts],
        cells=cases.cells,
        case_pk=cases.pk,
        case_cell=cases.cell,
        priority=cases.priority,
        excluded=[],
    )
    return problem_of(rows, timings={} if timings is None else timings)


def court_miles(attorneys: Attorneys, courts: list[tuple]) -> NDArray[np.float64]:
    """The attorney x court distance matrix, courts in list order."""
    return distance_matrix_miles(
        attorneys.latitude,
        attorneys.longitude,
        np.array([float(c[3]) for c in courts]),
        np.array([float(c[4]) for c in courts]),
    )
