"""Accepted cases and status requests built through the real services (issue 16)."""

import re
from datetime import timedelta

from django.core import mail
from django.utils import timezone

from matching.models import Match
from matching.services import match_accept, match_attest_no_conflict
from tests.volunteers.offers import offer_create

LINK = re.compile(r"/attorney/status/([0-9a-f]{64})/")


def accepted_case(*, attorney, coordinator, days_ago: int = 0, **case_fields) -> Match:
    match = offer_create(attorney=attorney, coordinator=coordinator, **case_fields)
    match_attest_no_conflict(match=match, user=attorney.user)
    match = match_accept(match=match, user=attorney.user)
    if days_ago:
        when = timezone.now() - timedelta(days=days_ago)
        Match.objects.filter(pk=match.pk).update(
            responded_at=when, offered_at=when - timedelta(hours=2)
        )
        match.refresh_from_db()
    return match


def tokens_in(message) -> list[str]:
    """The status-link tokens of one e-mail (text part)."""
    return LINK.findall(message.body)


def mails_to(address: str) -> list:
    return [m for m in mail.outbox if m.to == [address]]
