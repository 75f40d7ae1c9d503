"""Matching-run tasks: the scheduled run, on-demand runs, debounced triggers, and a per-component
solve that a Celery group can fan out across workers.

Tasks take no personal data: a trigger word and, at most, the id of the user who asked.
"""

from celery import shared_task
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.db import InterfaceError, OperationalError, transaction

from matching.runs import matching_run
from matching.solver import load_instance, solution_to_json, solve_component

# At most one debounced run per this many seconds (well below the broker's visibility timeout).
DEBOUNCE_SECONDS = 30
_DEBOUNCE_KEY = "matching:run-requested"


@shared_task(
    name="matching.run_matching",
    bind=True,
    acks_late=True,
    reject_on_worker_lost=True,
    autoretry_for=(OperationalError, InterfaceError),
    max_retries=3,
    retry_backoff=True,
    retry_backoff_max=300,
)
def run_matching(self, trigger: str = "schedule", user_id: int | None = None) -> dict:
    """One matching run. Safe to redeliver: a rerun proposes only what is still missing (REL-3),
    and a transient database error retries with backoff (REL-5, REL-6)."""
    actor = get_user_model().objects.filter(pk=user_id).first() if user_id else None
    run = matching_run(trigger=trigger, actor=actor)
    return {"run": run.pk, "status": run.status, "proposals": run.proposals}


def matching_run_request(trigger: str = "event") -> bool:
    """Ask for a run soon, at most one per DEBOUNCE_SECONDS; return whether one was enqueued.

    Trailing-edge debounce through the shared cache (Redis in production, a file cache on the
    embedded set-up): the first request of a window atomically adds the key and enqueues a run
    DEBOUNCE_SECONDS later (after commit, REL-1); requests while the key lives are covered by that
    run, which loads whatever is open when it starts. The beat schedule catches anything a lost
    message would miss.
    """
    if not cache.add(_DEBOUNCE_KEY, trigger, timeout=DEBOUNCE_SECONDS):
        return False
    transaction.on_commit(
        lambda: run_matching.apply_async(
            kwargs={"trigger": trigger[:20]}, countdown=DEBOUNCE_SECONDS
        )
    )
    return True


@shared_task(name="matching.solve_component", acks_late=True, reject_on_worker_lost=True)
def solve_component_task(instance: dict) -> dict:
    """Solve one component batch (the solver's anonymous JSON format in, solution JSON out).

    Pure: no database. A run split across workers sends ``components(instance)`` through a group
    of these and merges the results with ``merge_solutions``; the merged result equals the
    single-process solve because components share no attorney and no case.
    """
    return solution_to_json(solve_component(load_instance(instance)))
