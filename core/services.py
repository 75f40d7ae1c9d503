from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.db import models

from core.models import DomainEvent


def event_record(
    *, verb: str, actor=None, target: models.Model | None = None, data: dict[str, Any] | None = None
) -> DomainEvent:
    """Append one event to the log. Call inside the service's transaction."""
    is_user = actor is not None and getattr(actor, "is_authenticated", False)
    return DomainEvent.objects.create(
        verb=verb,
        actor=actor if is_user else None,
        actor_label=(actor.get_username() if is_user else "system")[:150],
        target_type=ContentType.objects.get_for_model(target) if target is not None else None,
        target_id=str(target.pk) if target is not None else "",
        data=data or {},
    )
