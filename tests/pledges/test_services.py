"""Pledge services: submission, recognition of repeats, exactly-once confirmation, moderation."""

from datetime import date, timedelta

import pytest
from django.core import mail
from django.utils import timezone

from core.models import DomainEvent
from pledges.models import Pledge
from pledges.services import (
    CONFIRM_SALT,
    PledgeData,
    PledgeError,
    pledge_approve,
    pledge_confirm,
    pledge_confirmation_send,
    pledge_from_token,
    pledge_reject,
    pledge_submit,
    pledge_token,
    pledge_withdraw,
)
from pledges.tasks import pledge_confirmation_email_task
from tests.factories import OrganizationFactory, PledgeFactory
from tests.pledges.helpers import eager_tasks, fresh_cache  # noqa: F401
from volunteers.models import Organization

pytestmark = pytest.mark.django_db


def _data(**changes) -> PledgeData:
    fields = {
        "organization_name": "Hudson & Pine LLP", "organization_kind": "law_firm",
        "city": "Albany", "state": "NY", "website": "", "contact_name": "Robin Counsel",
        "contact_email": "robin@hudsonpine.example", "contact_phone": "", "kind": "cases",
        "amount": 4, "period_start": date(2026, 1, 1), "period_end": date(2027, 1, 1),
        "message": "", "public": True,
    }  # fmt: skip
    return PledgeData(**(fields | changes))


def test_it_saves_one_unconfirmed_pledge_and_a_new_unconfirmed_organization():
    pledge, created = pledge_submit(data=_data())
    assert created and Pledge.objects.count() == 1
    assert pledge.status == Pledge.Status.UNCONFIRMED
    assert pledge.organization.confirmed is False
    assert DomainEvent.objects.filter(verb="pledge.submitted").count() == 1


def test_it_matches_the_organization_whatever_the_case():
    existing = OrganizationFactory(name="Hudson & Pine LLP", confirmed=True)
    pledge, _ = pledge_submit(data=_data(organization_name="  hudson &  PINE llp "))
    assert pledge.organization == existing
    assert Organization.objects.count() == 1


def test_a_repeated_pledge_updates_rather_than_duplicates():
    first, _ = pledge_submit(data=_data(amount=4))
    again, created = pledge_submit(data=_data(amount=9, contact_email="ROBIN@hudsonpine.example"))
    assert not created and again.pk == first.pk
    assert Pledge.objects.get().amount == 9


def test_an_approved_pledge_is_recognised_and_left_as_reviewed(coord):
    pledge, _ = pledge_submit(data=_data(amount=4))
    pledge_approve(pledge=pledge_confirm(pledge=pledge), actor=coord)
    again, created = pledge_submit(data=_data(amount=40))
    assert not created and again.pk == pledge.pk
    assert Pledge.objects.get().amount == 4


def test_it_refuses_a_period_that_ends_before_it_starts():
    with pytest.raises(PledgeError) as error:
        pledge_submit(data=_data(period_end=date(2025, 1, 1)))
    assert error.value.code == "period_order"
    assert Pledge.objects.count() == 0


def test_the_confirmation_email_is_enqueued_after_commit_and_sent_once(
    django_capture_on_commit_callbacks,
    eager_tasks,  # noqa: F811
):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        pledge, _ = pledge_submit(data=_data())
    assert len(callbacks) == 1  # REL-1
    assert len(mail.outbox) == 1
    assert "/pledges/confirm/" in mail.outbox[0].body
    assert mail.outbox[0].subject.endswith("Hudson & Pine LLP")  # plain text, not &amp;
    assert pledge_confirmation_email_task(pledge.pk) is False  # a redelivery sends nothing
    assert len(mail.outbox) == 1
    pledge.refresh_from_db()
    assert pledge.confirmation_sent_at is not None


def test_a_failed_send_releases_the_claim_for_a_retry():
    pledge = PledgeFactory(status="unconfirmed")
    with pytest.raises(OSError):
        pledge_confirmation_send(pledge_id=pledge.pk, send=_raise_oserror)
    pledge.refresh_from_db()
    assert pledge.confirmation_sent_at is None


def _raise_oserror(pledge):
    raise OSError("smtp down")


def test_confirm_then_approve_then_withdraw(coord, fresh_cache):  # noqa: F811
    pledge = PledgeFactory(status="unconfirmed")
    pledge = pledge_confirm(pledge=pledge)
    assert pledge.status == Pledge.Status.PENDING and pledge.confirmed_at
    assert pledge_confirm(pledge=pledge).status == Pledge.Status.PENDING  # idempotent
    assert pledge_approve(pledge=pledge, actor=coord).status == Pledge.Status.APPROVED
    assert pledge_withdraw(pledge=pledge).status == Pledge.Status.WITHDRAWN


def test_only_a_pledge_awaiting_review_can_be_rejected(coord):
    pledge = PledgeFactory(status="unconfirmed")
    with pytest.raises(PledgeError) as error:
        pledge_reject(pledge=pledge, actor=coord)
    assert error.value.code == "not_pending"


def test_a_tampered_or_foreign_token_is_refused():
    pledge = PledgeFactory(status="unconfirmed")
    token = pledge_token(pledge=pledge, salt=CONFIRM_SALT)
    assert pledge_from_token(token=token, salt=CONFIRM_SALT, max_age=60) == pledge
    for bad, salt in ((token + "x", CONFIRM_SALT), (token, "other.salt")):
        with pytest.raises(PledgeError) as error:
            pledge_from_token(token=bad, salt=salt, max_age=60)
        assert error.value.code == "link_invalid"


def test_a_repeated_unconfirmed_pledge_sends_the_link_again(
    django_capture_on_commit_callbacks,
    eager_tasks,  # noqa: F811
):
    with django_capture_on_commit_callbacks(execute=True):
        pledge_submit(data=_data())
    with django_capture_on_commit_callbacks(execute=True):
        pledge_submit(data=_data())  # at once: the first email is fresh, no second one
    assert len(mail.outbox) == 1
    Pledge.objects.update(confirmation_sent_at=timezone.now() - timedelta(hours=1))
    with django_capture_on_commit_callbacks(execute=True):
        pledge_submit(data=_data())  # later: the link is sent again
    assert Pledge.objects.count() == 1
    assert len(mail.outbox) == 2


def test_an_edit_that_would_duplicate_another_live_pledge_is_refused():
    from pledges.services import pledge_update

    hours, _ = pledge_submit(data=_data(kind="hours", amount=100))
    pledge_submit(data=_data(kind="cases"))
    with pytest.raises(PledgeError) as error:
        pledge_update(pledge=hours, data=_data(kind="cases"))
    assert error.value.code == "twin"


def test_an_approved_pledge_edited_goes_back_to_review(coord):
    """What the wall shows publicly was reviewed: an edit is reviewed again."""
    from pledges.services import pledge_update

    pledge, _ = pledge_submit(data=_data(amount=4))
    pledge_approve(pledge=pledge_confirm(pledge=pledge), actor=coord)
    pledge = pledge_update(pledge=pledge, data=_data(amount=400, message="Now 400 cases!"))
    pledge.refresh_from_db()
    assert (pledge.status, pledge.amount) == (Pledge.Status.PENDING, 400)
