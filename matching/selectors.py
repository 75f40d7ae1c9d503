"""Permission-scoped reads of matches.

An attorney reaches a match only through these: anyone else's match, or any match while the
attorney is not verified, is a 404 (SEC-11, SEC-12), never a 403 that would confirm it exists.
"""

from datetime import timedelta

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db.models import CharField, Exists, OuterRef, QuerySet
from django.db.models.functions import Cast
from django.http import Http404
from django.utils import timezone

from core.models import DomainEvent
from matching.models import Match
from volunteers.models import AttorneyProfile

# What an offer or case page shows beside the match: one query, however many rows.
_PAGE_RELATIONS = ("case__language", "case__court", "case__case_type", "attorney")


def match_get_for_attorney(*, user, match_id) -> Match:
    """The match if it belongs to this user's verified attorney profile; Http404 otherwise."""
    try:
        return _attorney_matches(user).get(pk=int(match_id))
    except (Match.DoesNotExist, TypeError, ValueError, OverflowError):
        raise Http404("No such match.") from None


def offers_for_attorney(*, user) -> QuerySet[Match]:
    """Open offers, the one expiring first at the top."""
    return _attorney_matches(user).filter(status=Match.Status.OFFERED).order_by("expires_at", "pk")


def active_cases_for_attorney(*, user) -> QuerySet[Match]:
    """Accepted matches (the attorney's cases), the nearest hearing first."""
    return (
        _attorney_matches(user)
        .filter(status=Match.Status.ACCEPTED)
        .order_by("case__next_hearing_date", "pk")
    )


def offers_overdue(*, now=None) -> QuerySet[Match]:
    """Offers past their deadline, for the expiry task (served by match_offer_expiry_idx)."""
    now = now or timezone.now()
    return (
        Match.objects.filter(status=Match.Status.OFFERED, expires_at__lte=now)
        .order_by("expires_at")
        .only("pk", "attorney_id", "case_id")
    )


def offers_due_for_reminder(*, now=None) -> list[int]:
    """Ids of offers expiring within MATCH_OFFER_REMINDER_HOURS that were not reminded yet."""
    now = now or timezone.now()
    horizon = now + timedelta(hours=settings.MATCH_OFFER_REMINDER_HOURS)
    due = Match.objects.filter(
        status=Match.Status.OFFERED, expires_at__gt=now, expires_at__lte=horizon
    ).exclude(_has_event("match.reminded"))
    return list(due.order_by("expires_at").values_list("pk", flat=True))


def offers_not_notified(*, offered_before) -> list[int]:
    """Ids of open offers whose new-offer email never went out (the broker lost or refused it)."""
    pending = Match.objects.filter(
        status=Match.Status.OFFERED, offered_at__lte=offered_before, expires_at__gt=timezone.now()
    ).exclude(_has_event("match.offer_notified"))
    return list(pending.order_by("offered_at").values_list("pk", flat=True))


def _has_event(verb: str) -> Exists:
    """The match already has an event with this verb: the log remembers what was sent."""
    return Exists(
        DomainEvent.objects.filter(
            verb=verb,
            target_type=ContentType.objects.get_for_model(Match),
            target_id=Cast(OuterRef("pk"), CharField()),
        )
    )


def _attorney_matches(user) -> QuerySet[Match]:
    if user is None or not getattr(user, "is_authenticated", False):
        return Match.objects.none()
    return Match.objects.filter(
        attorney__user=user, attorney__verification=AttorneyProfile.Verification.VERIFIED
    ).select_related(*_PAGE_RELATIONS)
