"""The offer emails (called by the Celery tasks in matching/tasks/lifecycle.py)."""

from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from core.emails import email_send, site_link
from core.models import DomainEvent
from matching.models import Match
from matching.services.common import Status, event
from volunteers.selectors import offer_disclosure
from volunteers.timezones import attorney_zone


def match_offer_notify(*, match_id: int) -> bool:
    """Email the attorney about a new offer, once. Returns whether an email was sent."""
    return _offer_email(match_id, template="match_offer", verb="match.offer_notified")


def match_offer_remind(*, match_id: int) -> bool:
    """Remind the attorney of an offer that expires soon, once. Returns whether one was sent."""
    return _offer_email(match_id, template="match_reminder", verb="match.reminded")


def offer_email_context(match: Match) -> dict[str, Any]:
    """What an offer email may say: the offer stage's own disclosure (volunteers.selectors
    .offer_disclosure, the record the offer page shows), so what an attorney may see before the
    conflict check is decided in one place (SEC-15, SEC-23). The templates show a part of it
    and can reach nothing else of the case."""
    offer = offer_disclosure(match=match)
    return {
        "offer": offer,
        "case": offer.case,
        "offer_url": site_link(reverse("volunteers:offer", args=[match.pk])),
    }


def _offer_email(match_id: int, *, template: str, verb: str) -> bool:
    # The match row stays locked while the mail goes out, so two workers never both send it;
    # a failed send rolls the event back and a later run tries again (at least once, rarely twice).
    with transaction.atomic():
        match = (
            Match.objects.select_for_update(of=("self",))
            .select_related("case__language", "case__court", "case__case_type", "attorney__user")
            .filter(pk=match_id)
            .first()
        )
        if match is None or match.status != Status.OFFERED or _event_exists(match, verb):
            return False
        if match.expires_at is not None and match.expires_at <= timezone.now():
            return False
        email = match.attorney.user.email
        if not email:
            return False
        email_send(
            to=[email],
            template=template,
            context=offer_email_context(match),
            time_zone=attorney_zone(match.attorney),  # the deadline in the attorney's own zone
        )
        event(match, verb, None)
    return True


def _event_exists(match: Match, verb: str) -> bool:
    match_type = ContentType.objects.get_for_model(Match)
    return DomainEvent.objects.filter(
        verb=verb, target_type=match_type, target_id=str(match.pk)
    ).exists()
