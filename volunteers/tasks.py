"""Emails to attorneys. Thin tasks: primary keys in, load, send one email (STYLE 8).

Enqueued by services with `delay_on_commit` (REL-1). Offer and reminder emails belong to the
matching services (templates emails/match_offer*, emails/match_reminder*).
"""

from celery import shared_task
from django.conf import settings
from django.db import OperationalError
from django.urls import reverse

from core.emails import email_send
from volunteers.digest import attorney_digests_send, digest_chunks, digest_due_ids
from volunteers.models import AttorneyProfile

_RETRY = {"autoretry_for": (OSError,), "retry_backoff": 30, "max_retries": 5}


def site_link(name: str, *args) -> str:
    """An absolute link for an email: SITE_URL, never the request's host."""
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
        context={"attorney": attorney, "dashboard_url": site_link("volunteers:dashboard")},
    )


@shared_task(name="volunteers.digests_send")
def digests_send_task() -> int:
    """The weekly digest (beat): the due attorneys' ids in chunks, one task per chunk, so the
    worker sends in batches; returns the number of chunks."""
    chunks = 0
    for chunk in digest_chunks(digest_due_ids()):
        digest_chunk_send_task.delay(chunk)
        chunks += 1
    return chunks


# A chunk claims its attorneys before it sends (volunteers.digest), so a retry or a redelivery
# sends nothing twice; only a database error before the claim is worth a retry.
@shared_task(
    name="volunteers.digest_chunk_send",
    autoretry_for=(OperationalError,),
    retry_backoff=30,
    max_retries=3,
)
def digest_chunk_send_task(attorney_ids: list[int]) -> int:
    return attorney_digests_send(attorney_ids=attorney_ids)
