import time
from datetime import UTC, datetime
from typing import Any

from django.contrib.auth import SESSION_KEY
from django.contrib.auth.models import User
from django.contrib.contenttypes.models import ContentType
from django.db import models, transaction
from django.utils import timezone

from core.models import DomainEvent
from core.ratelimit import window_count
from core.types import Actor


def event_record(
    *,
    verb: str,
    actor: Actor = None,
    target: models.Model | None = None,
    data: dict[str, Any] | None = None,
) -> DomainEvent:
    """Append one event to the log. Call inside the service's transaction."""
    user = actor if actor is not None and actor.is_authenticated else None
    return DomainEvent.objects.create(
        verb=verb,
        actor=user,
        actor_label=(user.get_username() if user is not None else "system")[:150],
        target_type=ContentType.objects.get_for_model(target) if target is not None else None,
        target_id=str(target.pk) if target is not None else "",
        data=data or {},
    )


# Refused object access (SEC-24), aggregated so that a scan cannot flood the append-only log: per
# actor and kind of object, the first refusal in a window is recorded, then one more event each
# time the window's count reaches a power of ten, each with the count so far. A scan of 10,000 ids
# writes five rows, and the log still says who, which kind, when and how many. The counter lives
# in the cache (core.ratelimit.window_count, atomic on Redis); losing it only means one more
# event, never a missed refusal.
REFUSED_ACCESS_WINDOW_SECONDS = 600


def access_refused_record(
    *, actor: Actor, kind: str, now: float | None = None
) -> DomainEvent | None:
    """Count one refused access; returns the event when this one was recorded."""
    window = REFUSED_ACCESS_WINDOW_SECONDS
    user = actor if actor is not None and actor.is_authenticated else None
    name = f"audit:refused:{user.pk if user is not None else 'anon'}:{kind}"
    count, start, _ = window_count(name, window=window, now=time.time() if now is None else now)
    if not _is_power_of_ten(count):
        return None
    data = {
        "kind": kind,
        "count": count,
        "window_start": datetime.fromtimestamp(start, UTC).isoformat(),
        "window_seconds": window,
    }
    return event_record(verb="access.refused", actor=actor, data=data)


def _is_power_of_ten(count: int) -> bool:
    while count >= 10 and count % 10 == 0:
        count //= 10
    return count == 1


def user_sessions_end(*, user: User) -> int:
    """Delete every session signed in as `user`; returns how many (SEC-10).

    Sessions are rows keyed by a random key with the user id inside the signed data, so this
    reads the live ones (expired rows are skipped). Deactivations are rare and live sessions
    few (SESSION_COOKIE_AGE idle timeout); no index on the user is worth keeping for it.
    """
    from django.contrib.sessions.models import Session

    user_id = str(user.pk)
    ended = [
        session.session_key
        for session in Session.objects.filter(expire_date__gt=timezone.now()).iterator()
        if session.get_decoded().get(SESSION_KEY) == user_id
    ]
    with transaction.atomic():
        Session.objects.filter(session_key__in=ended).delete()
        event_record(verb="account.sessions_ended", target=user, data={"sessions": len(ended)})
    return len(ended)
