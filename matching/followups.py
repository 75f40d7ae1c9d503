"""Work that services ask for after their commit, done by tasks that services cannot import.

Tasks import services (a task loads a row by id and calls one service), so a service that
imported a task would close a cycle. Services call the functions below instead, and
``MatchingConfig.ready()`` connects each kind of work to the task module that does it when
Django starts (web, worker, beat, commands and tests alike). Work nobody connected is a
configuration error, raised loudly: never a notification silently skipped.
"""

from collections.abc import Callable

from django.core.exceptions import ImproperlyConfigured
from django.db import transaction

OFFER_NOTIFY = "offer_notify"
RUN_REQUEST = "run_request"
STATUS_NOTIFY = "status_notify"
# Attorney + interpreter teams (interpreters app): called inside the service's transaction.
TEAM_READY = "team_ready"
TEAM_END = "team_end"

_connected: dict[str, Callable] = {}


def connect(kind: str, handler: Callable) -> None:
    """Name the callable that does ``kind`` of work (called from MatchingConfig.ready)."""
    _connected[kind] = handler


def _handler(kind: str) -> Callable:
    try:
        return _connected[kind]
    except KeyError:
        raise ImproperlyConfigured(f"no handler connected for {kind!r} (apps.py)") from None


def offer_notify_on_commit(*, match_id: int) -> None:
    """Email the attorney their new offer once this transaction commits: a rolled-back offer
    sends nothing (REL-1). Robust: a broker outage leaves the offer standing, and the sweeper
    enqueues the email later (REL-2)."""
    handler = _handler(OFFER_NOTIFY)
    transaction.on_commit(lambda: handler(match_id), robust=True)


def matching_run_request(*, trigger: str) -> bool:
    """Ask for a debounced matching run after commit (``trigger``: a word, never case data);
    whether one was enqueued. See matching.tasks.runs.matching_run_request."""
    return bool(_handler(RUN_REQUEST)(trigger))


def status_requests_notify_on_commit(*, attorney_id: int) -> None:
    """E-mail the attorney their new status requests, in one message, once this transaction
    commits (REL-1). Robust: a broker outage leaves the requests standing, and the reminder
    sweep enqueues the e-mail later (REL-2)."""
    handler = _handler(STATUS_NOTIFY)
    transaction.on_commit(lambda: handler(attorney_id), robust=True)


def team_ready(*, match_id: int) -> bool:
    """Whether the match's attorney may accept: it has no interpreter, or its interpreter has
    accepted (a team's case goes ahead only when both have)."""
    return bool(_handler(TEAM_READY)(match_id))


def team_end(*, match_id: int) -> None:
    """The match ended without representation: its interpreter, if any, is released (in the
    caller's transaction, so the slot and the match move together)."""
    _handler(TEAM_END)(match_id)
