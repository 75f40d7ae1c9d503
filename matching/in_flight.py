"""Whether a matching run is already under way: queued from the admin, or running.

The admin's "Run matching now" asks before queueing another run, so a second click (or a click
during the scheduled run) answers with the run in progress instead of queueing one that could
only skip (it cannot take the lock) or, once the first has written its proposals, find nothing
new and show "0 proposals" as the last run. It reads the two single-flight mechanisms already
there, with no state of its own in the database:

- running: the run's PostgreSQL advisory lock is held (``pg_locks``, a read that takes nothing);
  without PostgreSQL, a RUNNING row younger than STALE_RUN_AFTER, the same rule the run itself
  follows (matching.pipeline.run._single_flight);
- queued: a cache key added by the click, like the debounced runs' (matching.tasks.runs), and
  deleted by the queued run when it ends; it expires by itself if the message is lost.

Light on purpose (no solver, no numpy): the admin and the coordinator home import it.
"""

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

from django.core.cache import cache
from django.db import connection
from django.db.models import QuerySet
from django.utils import timezone

from matching.models import MatchingRun

logger = logging.getLogger(__name__)

# pg_try_advisory_lock key for "a matching run is in progress" ("PBMR" in ASCII).
RUN_LOCK_KEY = 0x50424D52
# Without PostgreSQL, a RUNNING run younger than this holds the (degraded) lock; older ones are
# taken for dead, since a run at backlog scale takes about a minute.
STALE_RUN_AFTER = timedelta(minutes=30)
# How long a queued admin run counts as queued if its run never ends it (message lost, worker
# gone): past this a click queues again. A run that started holds the lock, which covers it.
QUEUED_TTL_SECONDS = 15 * 60


@dataclass(frozen=True)
class RunInFlight:
    state: Literal["queued", "running"]
    since: datetime


def advisory_locks() -> bool:
    """Whether the database takes advisory locks (PostgreSQL); elsewhere the RUNNING row is the
    lock. A function, so the tests run the other branch on PostgreSQL too."""
    return connection.vendor == "postgresql"


def run_in_flight() -> RunInFlight | None:
    """The run a new one would duplicate: the one running, else one queued from the admin."""
    running = _running_since()
    if running is not None:
        return RunInFlight("running", running)
    queued = run_queued_since()
    return None if queued is None else RunInFlight("queued", queued)


def run_now_claim() -> bool:
    """Mark an admin run as queued; False if one already is (atomic: of two clicks at the same
    moment, one claims). With the cache down, True: the run's lock still keeps runs single."""
    added = _cache_call(
        lambda: cache.add(_queued_key(), timezone.now().isoformat(), timeout=QUEUED_TTL_SECONDS),
        default=True,
    )
    return bool(added)


def run_now_release() -> None:
    """The queued admin run ended (or was never enqueued): a click may queue the next one."""
    _cache_call(lambda: cache.delete(_queued_key()), default=None)


def run_queued_since() -> datetime | None:
    """When the admin run waiting for a worker was queued (a cache read, no query)."""
    queued = _cache_call(lambda: cache.get(_queued_key()), default=None)
    return None if queued is None else datetime.fromisoformat(queued)


def _cache_call(call: Callable[[], Any], *, default: Any) -> Any:
    """A cache outage is logged, never a failed page or task: the mark is a courtesy to the
    coordinator, and the advisory lock is what keeps runs single-flight."""
    from redis.exceptions import RedisError  # here: the redis client is ~0.1 s of start-up

    try:
        return call()
    except (RedisError, OSError) as error:
        logger.warning("matching run-now mark unavailable (%s)", type(error).__name__)
        return default


def recent_running_runs() -> QuerySet[MatchingRun]:
    """Without advisory locks, the lock itself: RUNNING runs younger than STALE_RUN_AFTER."""
    return MatchingRun.objects.filter(
        status=MatchingRun.Status.RUNNING, started_at__gte=timezone.now() - STALE_RUN_AFTER
    )


def _running_since() -> datetime | None:
    if not advisory_locks():
        run = recent_running_runs().only("started_at").first()
        return run.started_at if run else None
    latest = MatchingRun.objects.filter(status=MatchingRun.Status.RUNNING).only("started_at")
    if not _run_lock_held():
        return None  # a RUNNING row without the lock is a dead worker's, not a run
    run = latest.first()
    # The lock is taken just before the run's row is written: for that instant, "now".
    return run.started_at if run else timezone.now()


def _run_lock_held() -> bool:
    # pg_locks shows a one-argument (bigint) advisory key as classid = its high half, objid =
    # its low half, objsubid = 1.
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT EXISTS (
                SELECT 1 FROM pg_locks
                WHERE locktype = 'advisory' AND granted AND objsubid = 1
                  AND classid::bigint = %s AND objid::bigint = %s
                  AND database = (SELECT oid FROM pg_database WHERE datname = current_database())
            )
            """,
            [RUN_LOCK_KEY >> 32, RUN_LOCK_KEY & 0xFFFFFFFF],
        )
        return bool(cursor.fetchone()[0])


def _queued_key() -> str:
    # Per database: several share a cache in development.
    return f"matching:run-now-queued:{connection.settings_dict['NAME']}"
