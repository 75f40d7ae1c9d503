"""Matching-run tasks: the scheduled run, on-demand runs and debounced triggers (services ask for
those through matching.followups).

Tasks take no personal data: a trigger word and, at most, the id of the user who asked.
"""

import logging

from celery import shared_task
from celery.signals import worker_init
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.db import InterfaceError, OperationalError, transaction
from django.utils import timezone
from kombu.exceptions import OperationalError as BrokerError

from matching.in_flight import RunInFlight, run_in_flight, run_now_claim, run_now_release
from matching.models import MatchingRun
from matching.pipeline.run import matching_run
from matching.solver import import_solver_libraries

logger = logging.getLogger(__name__)

# At most one debounced run per this many seconds (well below the broker's visibility timeout).
# Short, because such a run usually takes the small path (a second or two at backlog scale,
# matching/pipeline/load/small.py): a newly verified attorney sees offers within seconds.
DEBOUNCE_SECONDS = 5
# A debounced run that finds another run holding the lock tries again this much later (within
# the task's max_retries: 90 s in all, about a full run at backlog scale; the scheduled run
# covers the rest): the other run may have loaded before the change that asked for this one.
BUSY_RETRY_SECONDS = 30
_DEBOUNCE_KEY = "matching:run-requested"
# The trigger of the admin's "Run matching now" (one queued or running at a time, in_flight.py).
ADMIN_TRIGGER = "admin"


@worker_init.connect
def _import_the_solvers_libraries(**_kwargs) -> None:
    """A worker imports scipy and OR-Tools when it starts, before its pool forks, instead of in
    its first run: 0.3-0.7 s of the write of a small run and 0.05-0.1 s of its solve
    otherwise (a small run takes about a second in all)."""
    import_solver_libraries()


@shared_task(
    name="matching.run_matching",
    bind=True,
    acks_late=True,
    reject_on_worker_lost=True,
    autoretry_for=(OperationalError, InterfaceError),
    max_retries=3,
    # 5 s -> 10 s -> 20 s. A base of 1 s with full jitter (0-1, 0-2, 0-4 s) could spend all
    # three retries within a second, before a restarting PostgreSQL was back (REL-5). No jitter:
    # runs are single-flight, so there is no herd of retries to spread out.
    retry_backoff=5,
    retry_jitter=False,
    retry_backoff_max=300,
)
def run_matching(
    self, trigger: str = "schedule", user_id: int | None = None, small: bool = False
) -> dict:
    """One matching run. Safe to redeliver: a rerun proposes only what is still missing (REL-3),
    and a transient database error retries with backoff (REL-5, REL-6).

    ``small``: a debounced run after a change, which may take the small path (matching_run).
    Such a run that finds another one running tries again later (BUSY_RETRY_SECONDS), since
    the change that asked for it may have come after that run's load."""
    actor = get_user_model().objects.filter(pk=user_id).first() if user_id else None
    try:
        run = matching_run(trigger=trigger, actor=actor, small=small)
    finally:
        if trigger == ADMIN_TRIGGER:
            run_now_release()  # the admin's "run now" may queue the next one
    if (
        small
        and run.status == MatchingRun.Status.SKIPPED
        and self.request.retries < self.max_retries
    ):
        raise self.retry(countdown=BUSY_RETRY_SECONDS)
    return {"run": run.pk, "status": run.status, "proposals": run.proposals}


def matching_run_now(*, user_id: int) -> RunInFlight | None:
    """The admin's "Run matching now": queue a full run after commit and return None, or, when
    a run is already queued or running, queue nothing and return that run's state.

    Claimed in the cache before anything is sent, so of two clicks at the same moment one
    queues; the run deletes the claim when it ends (run_matching). A broker outage deletes it
    at once and is logged, not raised (REL-2): the beat schedule runs matching anyway."""
    in_flight = run_in_flight()
    if in_flight is not None:
        return in_flight
    if not run_now_claim():
        return run_in_flight() or RunInFlight("queued", timezone.now())
    transaction.on_commit(lambda: _run_now_enqueue(user_id), robust=True)
    return None


def _run_now_enqueue(user_id: int) -> None:
    try:
        run_matching.delay(trigger=ADMIN_TRIGGER, user_id=user_id)
    except (BrokerError, OSError) as error:
        run_now_release()
        logger.warning("matching run (admin) not enqueued (%s)", type(error).__name__)


def matching_run_request(trigger: str = "event") -> bool:
    """Ask for a run soon, at most one per DEBOUNCE_SECONDS; return whether one was enqueued.

    Trailing-edge debounce through the shared cache (Redis in production, a file cache on the
    embedded set-up): the first request of a window atomically adds the key and enqueues a run
    DEBOUNCE_SECONDS later (after commit, REL-1); requests while the key lives are covered by that
    run, which loads whatever is open when it starts. The beat schedule catches anything a lost
    message would miss, which is also why a cache or broker outage here is logged, not raised:
    the change that asked for the run is already committed and must not fail (REL-2).

    ``trigger`` is a short word ("case", "attorney", "declined"...), never personal data: it
    travels through the broker and is stored on the run. MATCHING_RUN_ON_CHANGE=0 leaves only
    the beat schedule and the admin's "run now".
    """
    if not settings.MATCHING_RUN_ON_CHANGE or not _debounce_claim(trigger):
        return False
    trigger = trigger[:20]
    transaction.on_commit(lambda: _run_enqueue(trigger))
    return True


def _debounce_claim(trigger: str) -> bool:
    from redis.exceptions import RedisError  # here: the redis client is ~0.1 s of start-up

    try:
        return bool(cache.add(_DEBOUNCE_KEY, trigger[:20], timeout=DEBOUNCE_SECONDS))
    except (RedisError, OSError) as error:
        logger.warning(
            "matching run not requested (%s); the schedule will run it", type(error).__name__
        )
        return False


def _run_enqueue(trigger: str) -> bool:
    """Publish the debounced run; a broker outage is logged, not raised (REL-2, as for pledge
    confirmations). One quick connection check first: the user's request is waiting on this
    callback, and kombu's default publish retries could hang on an unreachable host."""
    try:
        with run_matching.app.connection_for_write() as connection:
            connection.ensure_connection(max_retries=1, interval_start=0, timeout=2)
        run_matching.apply_async(
            kwargs={"trigger": trigger, "small": True}, countdown=DEBOUNCE_SECONDS
        )
    except (BrokerError, OSError) as error:
        logger.warning(
            "matching run (%s) not enqueued (%s); the schedule will run it",
            trigger,
            type(error).__name__,
        )
        return False
    return True
