"""A run's exact solve split across Celery workers by connected component (ARCHITECTURE.md,
matching pipeline step 5). Off unless MATCHING_FANOUT_MIN_CASES is set.

Where the components come from. The run's problem is the cell flow *with remote-work hubs*
(matching/solver/hubs.py): attorney -> hub -> cell paths carry pairs that have no direct arc.
Components of ``problem.instance`` alone would ignore those paths, so one attorney's direct cells
and hub cells could land in different parts, each spending the attorney's whole capacity: the
merged result would over-book and the optimum would be lost. We therefore split the *materialised*
instance (``solver.materialise``: every hub path becomes the attorney-cell arc it stands for, with
its true affinity), whose optimum equals the hub flow's (pipeline/score.py's docstring;
tests/matching/test_runs.py). Its components share no attorney and no case, so their optima add up
to the whole optimum, and each one ships in the solver's anonymous JSON format (ids, capacities and
integer scores only: no personal data crosses the broker). The decision whether to split is taken
first on the hub graph, whose components are the same (a hub joins all its attorneys to all its
cells; only a hub without attorneys or without cells can make them coarser), so a problem that
stays in process is never materialised.

What equals what. Every component is solved by the same pure, deterministic
``solve_component`` wherever it runs, so the result does not depend on which components went
to workers, were late, or failed. Its objective always equals the in-process hub solve's; the
pairs are the same too when the optimum is unique. With ties (several optimal assignments, as
on seed_scale worlds) the hub flow and the per-component flows may pick different ones, equally
good: tests/matching/test_fanout.py checks the pairs on a world with a unique optimum and the
objective on a tie-heavy seed_scale world.
"""

import logging
from dataclasses import dataclass
from time import monotonic, perf_counter
from typing import Any

import numpy as np
from celery import group
from django.conf import settings

from matching.pipeline.load import Problem
from matching.solver import (
    Assignment,
    Instance,
    Solution,
    component_labels,
    components,
    instance_to_json,
    materialise,
    merge_solutions,
    solve_component,
)
from matching.tasks.solve import solve_component_task

logger = logging.getLogger(__name__)


def enabled(problem: Problem) -> bool:
    """Whether this run splits: fan-out is configured and at least two components of the hub
    graph hold MATCHING_FANOUT_MIN_CASES cases or more (below that, the messages and the
    materialisation cost more than the parallel solve saves)."""
    min_cases = settings.MATCHING_FANOUT_MIN_CASES
    if min_cases <= 0:
        return False
    return int((component_cases(problem) >= min_cases).sum()) >= 2


def component_cases(problem: Problem) -> np.ndarray:
    """Cases per connected component of the attorney-cell-hub graph (components with arcs)."""
    instance, hubs = problem.instance, problem.hubs
    n_a, n_k = instance.n_attorneys, instance.n_cells
    labels = component_labels(instance, hubs)
    n_labels = int(labels.max()) + 1 if len(labels) else 0
    reached = np.unique(labels[np.concatenate([instance.arc_attorney, hubs.arc_attorney])])
    sizes = np.diff(instance.cell_start)
    cases = np.bincount(labels[n_a : n_a + n_k], weights=sizes, minlength=n_labels)
    return cases[reached].astype(np.int64)


@dataclass
class _Outcome:
    solutions: list[Solution]
    on_workers: int = 0
    in_process: int = 0


def solve(problem: Problem) -> Solution:
    """The exact optimum, with the large components but one solved by a Celery group.

    1. Materialise the hubs and split into connected components. Those with at least
       MATCHING_FANOUT_MIN_CASES cases are large; we keep the largest for ourselves.
    2. Send the other large ones to a group of ``solve_component_task``; meanwhile solve ours
       and the small ones (a message each would cost more than their solve).
    3. Collect the group's results until MATCHING_FANOUT_TIMEOUT, solving in process every
       component that is late, failed or unreadable (see ``_collect``). Merge.
    Records on ``problem.stats["fanout"]`` how many components went to workers and how many
    were solved here.
    """
    started = perf_counter()
    min_cases = settings.MATCHING_FANOUT_MIN_CASES
    parts = components(materialise(problem.instance, problem.hubs))
    large = sorted(
        (part for part in parts if part.n_cases >= min_cases),
        key=lambda part: part.n_arcs,
        reverse=True,
    )
    theirs = large[1:]
    sent = {id(part) for part in theirs}
    ours = [part for part in parts if id(part) not in sent]
    job = _send(theirs)
    outcome = _Outcome(solutions=[solve_component(part) for part in ours], in_process=len(ours))
    _collect(job, theirs, outcome)
    solution = merge_solutions(outcome.solutions)
    problem.stats["fanout"] = _stats(outcome, seconds=perf_counter() - started)
    logger.info("matching fan-out: %s", problem.stats["fanout"])
    return solution


def _send(parts: list[Instance]) -> Any:
    """Publish the group; None when there is nothing to send or the broker refuses it (then
    everything is solved here).

    Each message expires at the collection deadline: a worker that picks it up later would
    compute a result nobody reads, so it discards it instead.
    """
    if not parts:
        return None
    options = {
        "queue": settings.MATCHING_FANOUT_QUEUE or None,
        "expires": _timeout(),
    }
    signatures = [solve_component_task.s(instance_to_json(part)).set(**options) for part in parts]
    try:
        return group(signatures).apply_async()
    except Exception as error:  # the broker is down: not a reason to fail the run
        logger.warning("matching fan-out: group not sent (%s)", type(error).__name__)
        return None


def _timeout() -> int:
    return settings.MATCHING_FANOUT_TIMEOUT


def _collect(job: Any, parts: list[Instance], outcome: _Outcome) -> None:
    """Gather the workers' results, solving in process whatever does not arrive in time.

    Celery refuses to wait on subtasks inside a task by default, because a worker whose slots
    all wait on subtasks queued behind them never finishes (``disable_sync_subtasks=False``
    lifts that). It cannot deadlock here: the wait is bounded by one overall deadline, after
    which every component not finished, failed, or unreadable (the result backend down) is
    solved in process by the same pure, idempotent function, and a late message expires
    unread. So the run always finishes, in at most the timeout plus an in-process solve; the
    subtasks never wait on anything; and runs are single-flight, so at most one worker slot
    is ever waiting.
    """
    deadline = monotonic() + _timeout()
    results = job.results if job is not None else [None] * len(parts)
    for part, result in zip(parts, results, strict=True):
        solved = _result(result, deadline)
        if solved is None:
            solved = solve_component(part)
            outcome.in_process += 1
        else:
            outcome.on_workers += 1
        outcome.solutions.append(solved)


def _result(result: Any, deadline: float) -> Solution | None:
    """The worker's solution, or None if it is not there by the deadline or cannot be read."""
    if result is None:
        return None
    try:
        remaining = deadline - monotonic()
        if remaining <= 0 and not result.ready():
            raise TimeoutError  # past the deadline only finished results are read
        payload = result.get(timeout=max(remaining, 0.1), interval=0.1, disable_sync_subtasks=False)
        return _solution(payload)
    except Exception as error:  # late, failed, or the result backend is down: solve it here
        logger.warning(
            "matching fan-out: a component is solved in process (%s)", type(error).__name__
        )
        return None


def _solution(payload: dict[str, Any]) -> Solution:
    """Read ``solution_to_json`` output back (the solver has no reader for solutions)."""
    assignments = tuple(
        Assignment(a["attorney"], a["case"], int(a["score"])) for a in payload["assignments"]
    )
    return Solution(objective=int(payload["objective"]), assignments=assignments)


def _stats(outcome: _Outcome, *, seconds: float) -> dict[str, Any]:
    return {
        "components": outcome.on_workers + outcome.in_process,
        "on_workers": outcome.on_workers,
        "in_process": outcome.in_process,
        "seconds": round(seconds, 3),
    }
