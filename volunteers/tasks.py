"""Emails to attorneys. Thin tasks: primary keys in, load, send one email (STYLE 8).

Enqueued by services with `delay_on_commit` (REL-1). Offer and reminder emails belong to the
matching services (templates emails/match_offer*, emails/match_reminder*).
"""

from datetime import timedelta

from celery import shared_task
from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from core.emails import email_send
from volunteers.models import AttorneyProfile

_RETRY = {"autoretry_for": (OSError,), "retry_backoff": 30, "max_retries": 5}


def _link(name: str, *args) -> str:
    return settings.SITE_URL.rstrip("/") + reverse(name, args=args)


@shared_task(name="volunteers.attorney_verification_email", **_RETRY)
def attorney_verification_email_task(attorney_id: int) -> None:
    """Tell the attorney the coordinator's decision (whatever it is when the task runs)."""
    attorney = AttorneyProfile.objects.select_related("user").get(pk=attorney_id)
    if not attorney.user.email or attorney.verification == AttorneyProfile.Verification.PENDING:
        return
    template = (
        "attorney_verified"
        if attorney.verification == AttorneyProfile.Verification.VERIFIED
        else "attorney_rejected"
    )
    email_send(
        to=[attorney.user.email],
        template=template,
        context={"attorney": attorney, "dashboard_url": _link("volunteers:dashboard")},
    )


# Pledges. The sweeper leaves a pledge alone this long after submission: its first task may
# still be in flight. Beat runs the sweeper every 10 minutes (config/celery.py).
PLEDGE_NOTIFY_GRACE = timedelta(minutes=5)


def _pledge_email(pledge) -> None:
    from volunteers.pledges_services import CONFIRM_SALT, MANAGE_SALT, pledge_token

    context = {
        "pledge": pledge,
        "confirm_url": _link("pledges:confirm", pledge_token(pledge=pledge, salt=CONFIRM_SALT)),
        "manage_url": _link("pledges:manage", pledge_token(pledge=pledge, salt=MANAGE_SALT)),
    }
    email_send(to=[pledge.contact_email], template="pledge_confirm", context=context)


@shared_task(name="volunteers.pledge_confirmation_email", **_RETRY)
def pledge_confirmation_email_task(pledge_id: int) -> bool:
    """Send the confirmation link once, however many times the task is delivered."""
    from volunteers.pledges_services import pledge_confirmation_send

    return pledge_confirmation_send(pledge_id=pledge_id, send=_pledge_email)


@shared_task(name="volunteers.pledge_confirmations_sweep")
def pledge_confirmations_sweep() -> int:
    """Beat sweeper: re-enqueue confirmation emails the broker lost or refused (REL-2)."""
    from volunteers.pledges_selectors import pledges_confirmation_unsent
    from volunteers.pledges_services import pledge_confirmation_enqueue

    pending = pledges_confirmation_unsent(created_before=timezone.now() - PLEDGE_NOTIFY_GRACE)
    return sum(pledge_confirmation_enqueue(pledge_id=pk) for pk in pending)
