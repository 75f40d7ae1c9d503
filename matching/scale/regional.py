"""The inexact split, for when the attorney side itself outgrows one machine: each region solves
its own attorneys against its own cases, then one repair solve gives the capacity left over to
the cases left over, across regions. docs/scaling.md reports its gap to the exact optimum.

Why it is not exact: a region's solve never sees the pairs that cross regions (remote work, an
attorney near a border), and the repair only gets what the regions left, so it cannot undo a
regional choice that a cross-region pair would have beaten. Every pair it makes is allowed and
scored as in the exact solve, and no attorney or case is used twice, so it is always feasible.
"""

from dataclasses import dataclass

import numpy as np

from core.demo import COURT_WEIGHTS
from matching.pipeline.load.problem import pk_of
from matching.pipeline.score import Attorneys
from matching.scale.synthetic import Cases, World, court_miles, world_problem
from matching.solver import Solution, merge_solutions, solve_component


def court_regions(courts: list[tuple], n: int) -> dict[int, int]:
    """Region (0..n-1) of every court pk: courts west to east, cut into n runs of about equal
    docket weight (COURT_WEIGHTS), so each region holds about as many cases."""
    by_longitude = sorted(courts, key=lambda c: float(c[4]))
    weight = np.array([COURT_WEIGHTS.get(c[1], 10) for c in by_longitude], dtype=float)
    middle = np.cumsum(weight) - weight / 2
    region = np.minimum((middle / weight.sum() * n).astype(int), n - 1)
    return {c[0]: int(r) for c, r in zip(by_longitude, region.tolist(), strict=True)}


def shard_of(cases: Cases, regions: dict[int, int]) -> np.ndarray:
    """The region of every case (through its cell's court)."""
    cell_region = np.array([regions[c.court_id] for c in cases.cells], dtype=np.int64)
    return cell_region[cases.cell]


@dataclass(frozen=True, slots=True)
class RegionalResult:
    regions: list[Solution]
    repair: Solution

    @property
    def objective(self) -> int:
        return sum(s.objective for s in self.regions) + self.repair.objective

    @property
    def solution(self) -> Solution:
        return merge_solutions([*self.regions, self.repair])


def solve_by_region(world: World, n_regions: int) -> RegionalResult:
    """Every region (:func:`solve_region`), then the :func:`repair`, in this process."""
    solutions = [solve_region(world, n_regions, r) for r in range(n_regions)]
    return RegionalResult(regions=solutions, repair=repair(world, solutions))


def solve_region(world: World, n_regions: int, region: int) -> Solution:
    """One region alone (a worker's part): courts cut by ``court_regions``; an attorney belongs
    to the region of the court nearest to them, a case to its court's."""
    regions = court_regions(world.courts, n_regions)
    court_region = np.array([regions[c[0]] for c in world.courts], dtype=np.int64)
    attorney_region = court_region[np.argmin(court_miles(world.attorneys, world.courts), axis=1)]
    case_region = shard_of(world.cases, regions)
    return _solve(
        World(
            attorneys=_attorneys(world.attorneys, attorney_region == region, world.attorneys.free),
            cases=world.cases.subset(case_region == region),
            courts=world.courts,
        )
    )


def repair(world: World, regions: list[Solution]) -> Solution:
    """The attorneys' remaining capacity against every case still unassigned, all arcs."""
    free = world.attorneys.free.copy()
    taken = np.zeros(len(world.cases), dtype=bool)
    for solution in regions:
        _spend(solution, free, taken)
    rest = World(
        attorneys=_attorneys(world.attorneys, free > 0, free),
        cases=world.cases.subset(~taken),
        courts=world.courts,
    )
    return _solve(rest)


def _solve(world: World) -> Solution:
    if not len(world.attorneys) or not len(world.cases):
        return Solution(objective=0, assignments=())
    problem = world_problem(world)
    return solve_component(problem.instance, problem.hubs)


def _spend(solution: Solution, free: np.ndarray, taken: np.ndarray) -> None:
    """Take the solution's capacity and cases out of ``free`` and ``taken`` (pk = position + 1)."""
    for assignment in solution.assignments:
        free[pk_of(assignment.attorney) - 1] -= 1
        taken[pk_of(assignment.case) - 1] = True


def _attorneys(attorneys: Attorneys, keep: np.ndarray, free: np.ndarray) -> Attorneys:
    """The attorneys where ``keep`` is true, with capacity ``free``, skill rows renumbered."""
    keep = keep & (free > 0)
    position = np.full(len(attorneys), -1, dtype=np.int64)
    position[keep] = np.arange(int(keep.sum()))

    def rows(table: list) -> list:
        return [(int(position[i]), *rest) for i, *rest in table if position[i] >= 0]

    optional = (attorneys.remote_preferred, attorneys.detained_ok)
    remote_preferred, detained_ok = (None if a is None else a[keep] for a in optional)
    return Attorneys(
        pk=attorneys.pk[keep],
        latitude=attorneys.latitude[keep],
        longitude=attorneys.longitude[keep],
        radius=attorneys.radius[keep],
        remote_ok=attorneys.remote_ok[keep],
        years=attorneys.years[keep],
        free=free[keep],
        languages=rows(attorneys.languages),
        practice_areas=rows(attorneys.practice_areas),
        remote_preferred=remote_preferred,
        detained_ok=detained_ok,
        preferred_types=rows(attorneys.preferred_types),
        excluded_types=rows(attorneys.excluded_types),
    )
