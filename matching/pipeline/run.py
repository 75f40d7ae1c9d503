"""The matching run service: single-flight, load, score, solve, write, record.

``matching_run`` is what the beat schedule, the admin and the debounced triggers end up calling
(through ``matching.tasks.runs``). It is safe to run again at any time: everything already
proposed is no longer open or no longer free, so a rerun with nothing changed proposes nothing,
and a run redelivered after its worker died finishes what the dead one left (REL-3).
"""

import logging
import resource
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from time import monotonic, perf_counter, sleep
from typing import Any

import numpy as np
from django.conf import settings
from django.db import DatabaseError, connection, transaction
from django.utils import timezone

from core.errors import DomainError
from core.services import event_record
from matching.in_flight import RUN_LOCK_KEY, STALE_RUN_AFTER, advisory_locks, recent_running_runs
from matching.models import MatchingRun
from matching.pipeline import fanout
from matching.pipeline import plan as plans
from matching.pipeline.beside_solve import Baseline, BesideSolve
from matching.pipeline.load import Problem, load_problem
from matching.pipeline.load.small import load_small_problem
from matching.pipeline.write import write_batch
from matching.solver import (
    AttorneyComponents,
    Hubs,
    Instance,
    InstanceError,
    Solution,
    SolverError,
    component_batches,
    solve_component,
)

logger = logging.getLogger(__name__)

# How long a run tries for the lock before it skips. A worker killed mid-run leaves its session
# to PostgreSQL, which ends it (and frees the lock) only once the statement it was running
# returns; its message comes back to a new worker within a fraction of a second (REL-3), and that
# run must not skip for a lock nobody alive holds. A run that is really in progress holds it
# for far longer.
RUN_LOCK_WAIT_SECONDS = 5.0
RUN_LOCK_POLL_SECONDS = 0.1

# Solves a loaded problem exactly; a parameter so tests can interleave changes or failures.
ProblemSolver = Callable[[Problem], Solution]


def solve_problem(problem: Problem) -> Solution:
    if fanout.enabled(problem):  # split across Celery workers by component (fanout.py)
        return fanout.solve(problem)
    return solve_component(problem.instance, problem.hubs)


def matching_run(
    *,
    trigger: str = "schedule",
    actor=None,
    solver: ProblemSolver = solve_problem,
    small: bool = False,
) -> MatchingRun:
    """Run the matching pipeline once, unless another run holds the lock.

    ``small``: the run may load only the cases within the free attorneys' reach when their
    usable capacity is small (pipeline/load/small.py), with the same optimum. The debounced
    runs after a change ask for it; the scheduled run loads everything, which also refreshes
    the figures only a full load can count (unreachable cases).

    1. Take the single-flight lock; without it, record a SKIPPED run and return (REL-4).
    2. Mark runs left RUNNING by a dead worker as FAILED: nobody else can be running now. If
       one left a solved plan (it died while writing, or failed on a database error), this run
       finishes that plan instead of solving again (plan.py, REL-3, REL-5).
    3. Load, score, build; solve exactly (and keep the plan); compute greedy for comparison.
    4. Write each batch of whole components in its own transaction; record statistics and one
       event.
    """
    user = actor if getattr(actor, "is_authenticated", False) else None
    with _single_flight() as acquired:
        if not acquired:
            return MatchingRun.objects.create(
                status=MatchingRun.Status.SKIPPED,
                trigger=trigger[:20],
                triggered_by=user,
                finished_at=timezone.now(),
            )
        interrupted = plans.take_interrupted_plan()
        _fail_interrupted_runs()
        run = MatchingRun.objects.create(
            trigger=trigger[:20], triggered_by=user, plan=interrupted[1] if interrupted else None
        )
        try:
            _execute(run, actor=user, solver=solver, resume=interrupted, small=small)
        except Exception as error:
            _record_failure(run, error)
            raise
        return run


@contextmanager
def _single_flight() -> Iterator[bool]:
    """A session-level advisory lock on PostgreSQL, released in ``finally`` (and by PostgreSQL
    itself if the worker dies, since the session ends). Elsewhere: no RUNNING run younger than
    STALE_RUN_AFTER, which is safe against double-booking anyway, because the write phase
    re-checks every row under lock and the database constraints refuse over-booking."""
    if not advisory_locks():
        yield not recent_running_runs().exists()
        return
    deadline = monotonic() + RUN_LOCK_WAIT_SECONDS
    with connection.cursor() as cursor:
        while True:
            cursor.execute("SELECT pg_try_advisory_lock(%s)", [RUN_LOCK_KEY])
            acquired = bool(cursor.fetchone()[0])
            if acquired or monotonic() >= deadline:
                break
            sleep(RUN_LOCK_POLL_SECONDS)
    try:
        yield acquired
    finally:
        if acquired:
            _unlock()


def _unlock() -> None:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock(%s)", [RUN_LOCK_KEY])
    except DatabaseError:
        # The connection is gone (database restart): the lock went with the session.
        logger.warning("matching run lock: connection lost before unlock")


def _fail_interrupted_runs() -> None:
    stale = MatchingRun.objects.filter(status=MatchingRun.Status.RUNNING)
    if not advisory_locks():
        stale = stale.filter(started_at__lt=timezone.now() - STALE_RUN_AFTER)
    stale.update(
        status=MatchingRun.Status.FAILED,
        finished_at=timezone.now(),
        error="Interrupted: the worker or the database stopped during the run.",
    )


def _execute(
    run: MatchingRun,
    *,
    actor,
    solver: ProblemSolver,
    resume: tuple[int, bytes] | None,
    small: bool = False,
) -> None:
    """Steps 3-4 of :func:`matching_run`: load, solve (or resume), write, record."""
    today = timezone.localdate()
    seconds: dict[str, float] = {}
    resuming = resume is not None
    problem = _load(
        run, today=today, seconds=seconds, resuming=resuming, small=small, solver=solver
    )
    outcome = _solve_and_write(run, problem, solver=solver, resume=resume, today=today,
                               seconds=seconds)  # fmt: skip
    _finish(run, problem, outcome, seconds=seconds, resumed_from=resume[0] if resume else None)
    with transaction.atomic():
        run.save()
        event_record(verb="matching.run_finished", actor=actor, target=run, data=_event(run))


@dataclass(frozen=True, slots=True)
class _Outcome:
    solution: Solution
    written: int
    batches: int
    components: int
    write_steps: dict[str, float]
    greedy: Baseline


def _load(
    run: MatchingRun,
    *,
    today,
    seconds: dict[str, float],
    resuming: bool,
    small: bool,
    solver: ProblemSolver,
) -> Problem:
    """The small run's problem when ``small`` and it applies, else the full load. A resumed
    plan always takes the full load (its pairs may lie anywhere in the backlog)."""
    _progress(run, "loading open cases and available attorneys")
    problem = _load_small(today, seconds, solver) if small and not resuming else None
    if problem is None:
        problem = load_problem(today=today, timings=seconds)
    _progress(
        run,
        "finishing the interrupted run's plan" if resuming else "solving",
        cases=problem.instance.n_cases,
        attorneys=problem.instance.n_attorneys,
    )
    return problem


def _load_small(today, seconds: dict[str, float], solver: ProblemSolver) -> Problem | None:
    """The small run's problem (pipeline/load/small.py), or None for the full load: the free
    attorneys are placed exactly from the cases within their reach, when those are few. Its
    rounds solve with the run's solver; the last one's optimum is kept (Problem.solved)."""
    max_cases = settings.MATCHING_SMALL_RUN_MAX_CASES
    if not max_cases:
        return None
    timings: dict[str, float] = {}
    problem = load_small_problem(today=today, max_cases=max_cases, timings=timings, solve=solver)
    if problem is None:
        seconds["small_run_tried"] = timings.get("load", 0.0)
        return None
    seconds.update(timings)
    return problem


def _solve_and_write(
    run: MatchingRun,
    problem: Problem,
    *,
    solver: ProblemSolver,
    resume: tuple[int, bytes] | None,
    today,
    seconds: dict[str, float],
) -> _Outcome:
    """Solve and keep the plan (or read the interrupted run's), then write it.

    The greedy baseline is only a statistic: it runs in a forked child beside the solve
    (beside_solve.py), which keeps one core busy, so that the write has both cores to itself
    (it writes on two connections). The child's arrays add to the solve's memory: at 3.7M
    cases the run's peak with the child is 2,105 MiB PSS (1,970 with the child beside the
    write), within the 2.5 GiB that issue 15 allows.
    """
    beside: BesideSolve | None = None
    try:
        beside = BesideSolve(problem.instance, problem.hubs)
        started = perf_counter()
        if resume is None:
            solution = problem.solved if problem.solved is not None else solver(problem)
            MatchingRun.objects.filter(pk=run.pk).update(plan=plans.encode(solution))
        else:
            solution = plans.remaining(problem, resume[1])
        seconds["solve"] = perf_counter() - started
        written, batches, n_components, seconds["write"], write_steps = _write(
            run, problem, solution, today, beside.components()
        )
    except BaseException:
        if beside is not None:
            beside.cancel()
        raise
    greedy = beside.greedy()
    seconds["greedy"] = greedy.seconds
    return _Outcome(solution, written, len(batches), n_components, write_steps, greedy)


def _finish(
    run: MatchingRun,
    problem: Problem,
    outcome: _Outcome,
    *,
    seconds: dict[str, float],
    resumed_from: int | None,
) -> None:
    """Fill in the run's figures and statistics, FINISHED (the caller saves it)."""
    instance, hubs, solution = problem.instance, problem.hubs, outcome.solution
    run.cases_considered = instance.n_cases
    run.attorneys_considered = instance.n_attorneys
    run.cells = instance.n_cells
    run.arcs = instance.n_arcs + len(hubs.arc_attorney) + len(hubs.cell)
    run.proposals = outcome.written
    run.objective = solution.objective
    run.greedy_objective = outcome.greedy.objective
    run.stats = _statistics(problem, outcome, seconds=seconds, resumed_from=resumed_from)
    run.status = MatchingRun.Status.FINISHED
    run.plan = None  # written: nothing to resume
    run.finished_at = timezone.now()
    run.stats["seconds"]["total"] = round((run.finished_at - run.started_at).total_seconds(), 3)


def _statistics(
    problem: Problem,
    outcome: _Outcome,
    *,
    seconds: dict[str, float],
    resumed_from: int | None,
) -> dict[str, Any]:
    instance, hubs, greedy = problem.instance, problem.hubs, outcome.greedy
    return {
        "seconds": {name: round(value, 3) for name, value in seconds.items()},
        "write_seconds": {name: round(value, 3) for name, value in outcome.write_steps.items()},
        "solver_seconds": round(seconds["solve"], 3),
        "peak_rss_mib": peak_rss_mib(),
        "components": outcome.components,
        "write_batches": outcome.batches,
        "direct_arcs": instance.n_arcs,
        "hubs": hubs.n_hubs,
        "hub_arcs": len(hubs.arc_attorney),
        "hub_cell_arcs": len(hubs.cell),
        "assigned": outcome.solution.assigned,
        "greedy_assigned": greedy.assigned,
        "dropped_at_write": outcome.solution.assigned - outcome.written,
        "excluded_pairs": len(instance.excluded_attorney),
        # Open cases no available attorney can take at all (the coordinator's home page); a
        # small run loads only the cases within reach, so it cannot count them.
        **(
            {}
            if "small_run" in problem.stats
            else {"unreachable_cases": unreachable_cases(instance, hubs)}
        ),
        "auto_approve": settings.MATCHING_AUTO_APPROVE,
        # When true, the greedy ran beside the solve: the phase seconds add up to more than the
        # total, and its memory was the child's (below), not this process's.
        "greedy_in_child": greedy.in_child,
        "greedy_child_peak_rss_mib": greedy.child_peak_rss_mib,
        # The run this one finished instead of solving (its plan: "solve" is then the seconds
        # spent reading it), and how the solve was split across workers, if it was.
        "resumed_from": resumed_from,
        **problem.stats,
    }


def _write(
    run: MatchingRun, problem: Problem, solution: Solution, today, components: AttorneyComponents
) -> tuple[int, list[Solution], int, float, dict[str, float]]:
    """Write the proposals, one transaction per batch of whole components (found beside the
    solve: beside_solve.py)."""
    started = perf_counter()
    steps: dict[str, float] = {}
    batches, n_components = component_batches(
        problem.instance,
        problem.hubs,
        solution,
        batch_assignments=settings.MATCHING_WRITE_BATCH_ASSIGNMENTS,
        components=components,
    )
    auto_approve = settings.MATCHING_AUTO_APPROVE
    written = 0
    for done, batch in enumerate(batches):
        _progress(run, "writing proposals", batch=done + 1, batches=len(batches), written=written)
        written += write_batch(
            run=run,
            problem=problem,
            solution=batch,
            auto_approve=auto_approve,
            today=today,
            timings=steps,
        )
    return written, batches, n_components, perf_counter() - started, steps


def _progress(run: MatchingRun, phase: str, **figures: int) -> None:
    """Show where a running run is (the admin's run page reloads itself while it runs). Only
    ``stats`` changes, and the final statistics replace it."""
    MatchingRun.objects.filter(pk=run.pk).update(stats={"progress": {"phase": phase, **figures}})


def _event(run: MatchingRun) -> dict[str, Any]:
    return {
        "trigger": run.trigger,
        "cases_considered": run.cases_considered,
        "attorneys_considered": run.attorneys_considered,
        "proposals": run.proposals,
        "objective": run.objective,
        "greedy_objective": run.greedy_objective,
    }


def _record_failure(run: MatchingRun, error: Exception) -> None:
    """Mark the run FAILED with a message free of personal data: our own errors word their
    messages from ids and codes; anything else is recorded by class name only."""
    ours = isinstance(error, InstanceError | SolverError | DomainError)
    text = f"{type(error).__name__}: {error}" if ours else type(error).__name__
    try:
        MatchingRun.objects.filter(pk=run.pk).update(
            status=MatchingRun.Status.FAILED, finished_at=timezone.now(), error=text[:2000]
        )
    except DatabaseError:
        # The database is down (REL-5); the next run marks this one as interrupted.
        logger.warning("matching run %s: could not record the failure", run.pk)


def unreachable_cases(instance: Instance, hubs: Hubs) -> int:
    """Open cases in cells that no attorney with free capacity reaches, directly or through a
    hub: per cell, from the arrays the solve used (no query, no loop over pairs). A case with
    an exclusion sits in a cell of its own whose arcs already leave the excluded attorneys out.
    """
    free = instance.capacity > 0
    reached = np.zeros(instance.n_cells, dtype=bool)
    reached[instance.arc_cell[free[instance.arc_attorney]]] = True
    entered = np.zeros(hubs.n_hubs, dtype=bool)
    entered[hubs.arc_hub[free[hubs.arc_attorney]]] = True
    hub, cell = hubs.cell_arcs()
    reached[cell[entered[hub]]] = True
    return int(np.diff(instance.cell_start)[~reached].sum())


def peak_rss_mib() -> float:
    """Peak resident memory of this process so far (Linux reports KiB)."""
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
