"""The weekly digest (issue 13 #3): content, batching, preferences, no identifiers, unsubscribe."""

import itertools
import re
from datetime import timedelta

import pytest
from django.core import mail
from django.db.models import QuerySet
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from cases.models import ImmigrationCourt
from core.models import DomainEvent
from tests.factories import AttorneyFactory, CaseRequestFactory, MatchFactory
from tests.races import race_held
from tests.volunteers.offers import CONTACT, identifiers_in
from volunteers.digest import (
    DIGEST_ITEMS,
    attorney_digests_send,
    digest_due_ids,
    unsubscribe_attorney_pk,
    unsubscribe_token,
)
from volunteers.models import AttorneyProfile
from volunteers.tasks import digests_send_task

pytestmark = pytest.mark.django_db

_A_NUMBERS = itertools.count(203777001)


def _case(**fields):
    """A new open Spanish asylum case in New York with identifiers to search the mail for."""
    defaults = {
        "respondent_name": "Yesenia Marroquin-Seeded",
        "a_number": str(next(_A_NUMBERS)),
        "contact_route": CONTACT,
    }
    return CaseRequestFactory(**(defaults | fields))


def _send(*attorneys):
    return attorney_digests_send(attorney_ids=[a.pk for a in attorneys])


def _mail_text(message) -> str:
    """Everything a recipient (or their mail provider) gets: subject, headers, both parts."""
    headers = "\n".join(f"{k}: {v}" for k, v in message.message().items())
    return "\n".join([message.subject, headers, message.body, message.alternatives[0].content])


@pytest.fixture
def site(settings):
    settings.SITE_URL = "https://probono.example.org"


def test_it_lists_the_most_urgent_new_needs_at_most_five(att_a, site):
    cases = [_case(priority=100 * i) for i in range(1, 8)]
    assert _send(att_a) == 1
    [message] = mail.outbox
    assert message.to == [att_a.user.email]
    assert message.subject == "5 new cases that fit your profile"
    items = re.findall(r"^\d\. (.+)$", message.body, flags=re.M)
    assert len(items) == DIGEST_ITEMS == 5
    assert (
        items[0]
        == "Asylum / withholding / CAT, in Spanish, at the New York City, NY immigration court"
    )
    court = ImmigrationCourt.objects.get(code="new-york-city").pk
    link = f"https://probono.example.org/attorney/opportunities/?language=spa&court={court}"
    assert link in message.body and link.replace("&", "&amp;") in message.alternatives[0].content
    assert "Not detained; Hearing within 3 months" in message.body
    for case in cases:
        assert not identifiers_in(_mail_text(message), case), case.pk
        assert case.reference not in _mail_text(message)


def test_the_unsubscribe_headers_follow_rfc_8058(att_a, site):
    _case()
    _send(att_a)
    headers = mail.outbox[0].extra_headers
    # The token is signed with a timestamp, so it is read back rather than made again (one
    # made a second later differs).
    prefix = "https://probono.example.org/attorney/digest/unsubscribe/"
    match = re.fullmatch(rf"<{re.escape(prefix)}([^/<>]+)/>", headers["List-Unsubscribe"])
    assert match is not None, headers["List-Unsubscribe"]
    token = match.group(1)
    assert unsubscribe_attorney_pk(token) == att_a.pk
    url = f"{prefix}{token}/"
    assert headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert url in mail.outbox[0].body


def test_a_rerun_sends_nothing_twice(att_a):
    _case()
    assert _send(att_a) == 1
    assert _send(att_a) == 0
    digests_send_task.apply()
    assert len(mail.outbox) == 1
    att_a.refresh_from_db()
    assert att_a.last_digest_at is not None


def test_a_need_recorded_after_the_digest_waits_for_next_week(att_a):
    _case()
    assert _send(att_a) == 1
    _case(court=ImmigrationCourt.objects.get(code="newark"))
    assert digest_due_ids() == []
    assert _send(att_a) == 0 and len(mail.outbox) == 1


@pytest.mark.django_db(transaction=True)
def test_a_chunk_sent_twice_at_once_mails_each_attorney_once(att_a):
    """A redelivered chunk (acks_late) running beside the first: the claim skips the rows the
    first has locked, instead of reading them as still due."""
    _case()
    race_held(lambda: _send(att_a), lambda: _send(att_a), hold=(QuerySet, "update"))
    assert len(mail.outbox) == 1


def test_next_week_lists_only_what_is_new_since_the_last_digest(att_a):
    old = _case(priority=900)
    _send(att_a)
    AttorneyProfile.objects.filter(pk=att_a.pk).update(
        last_digest_at=timezone.now() - timedelta(days=7)
    )
    from cases.models import CaseRequest

    CaseRequest.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=8))
    new = _case(priority=10, court=ImmigrationCourt.objects.get(code="newark"))
    mail.outbox.clear()
    assert _send(att_a) == 1
    assert "Newark" in mail.outbox[0].body and "New York City" not in mail.outbox[0].body
    assert new.pk


def test_opted_out_unverified_full_paused_and_deactivated_attorneys_get_nothing(att_a, att_new):
    off = AttorneyFactory()
    deactivated = AttorneyFactory(user__is_active=False)  # the account was closed (SEC-10)
    AttorneyProfile.objects.filter(pk=off.pk).update(digest_enabled=False)
    full = AttorneyFactory(capacity=1)
    AttorneyProfile.objects.filter(pk=full.pk).update(active_cases=1)
    paused = AttorneyFactory()
    AttorneyProfile.objects.filter(pk=paused.pk).update(
        paused_until=timezone.localdate() + timedelta(days=9)
    )
    _case()
    assert digest_due_ids() == [att_a.pk]
    assert _send(att_a, att_new, off, full, paused, deactivated) == 1
    assert [m.to for m in mail.outbox] == [[att_a.user.email]]


def test_no_new_need_no_mail(att_a):
    _case(language_id="fra")  # nobody here speaks French
    assert _send(att_a) == 0 and not mail.outbox


def test_preferences_decide_what_fits(att_a):
    att_a.excluded_types.add("bond")
    AttorneyProfile.objects.filter(pk=att_a.pk).update(detained_ok=False, capacity=5)
    att_a.practice_area_links.create(case_type_id="bond", cases_handled=1)
    att_a.practice_area_links.create(case_type_id="bia-appeal", cases_handled=1)
    _case(case_type_id="bond", detained=True, priority=990)
    _case(detained=True, priority=980)
    far = _case(case_type_id="bia-appeal", remote_ok=True, priority=970,
                court=ImmigrationCourt.objects.get(code="houston"))  # fmt: skip
    _case(priority=5)
    _send(att_a)
    assert mail.outbox[0].subject == "1 new case that fits your profile"  # in person only
    AttorneyProfile.objects.filter(pk=att_a.pk).update(remote_ok=True, last_digest_at=None)
    mail.outbox.clear()
    _send(att_a)
    assert mail.outbox[0].subject == "2 new cases that fit your profile"
    assert "Houston" in mail.outbox[0].body and "can be handled remotely" in mail.outbox[0].body
    assert far.pk


def test_a_case_declined_before_is_not_listed(att_a):
    declined = _case(priority=900)
    MatchFactory(case=declined, attorney=att_a, status="declined", decline_reason="distance")
    _case(priority=1, language_id="spa")
    _send(att_a)
    assert mail.outbox[0].subject == "1 new case that fits your profile"


def test_the_weekly_task_sends_in_chunks_through_the_worker(settings, celery_eager):
    settings.DIGEST_CHUNK_SIZE = 2
    attorneys = [AttorneyFactory() for _ in range(5)]
    _case()
    assert digests_send_task.delay().get() == 3
    assert sorted(m.to[0] for m in mail.outbox) == sorted(a.user.email for a in attorneys)
    chunks = DomainEvent.objects.filter(verb="attorney.digests_sent").order_by("pk")
    assert [e.data["claimed"] for e in chunks] == [2, 2, 1]


def test_a_chunk_takes_the_same_number_of_queries_for_more_attorneys(
    django_assert_max_num_queries,
):
    few = [AttorneyFactory() for _ in range(2)]
    many = [AttorneyFactory() for _ in range(6)]
    for _ in range(3):
        _case()
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as small:
        _send(*few)
    with CaptureQueriesContext(connection) as large:
        _send(*many)
    assert len(large.captured_queries) == len(small.captured_queries) <= 20
    assert len(mail.outbox) == 8


# ---------------------------------------------------------------------------------------------
# Unsubscribe


def _unsubscribe_url(pk):
    return reverse("volunteers:digest_unsubscribe", args=[unsubscribe_token(pk)])


def test_get_asks_to_confirm_and_changes_nothing(client, att_a):
    response = client.get(_unsubscribe_url(att_a.pk))
    assert response.status_code == 200
    assert "Stop the weekly email of new cases?" in response.content.decode()
    att_a.refresh_from_db()
    assert att_a.digest_enabled
    assert "no-store" in response["Cache-Control"]


def test_one_click_post_unsubscribes_without_sign_in_or_csrf_token(att_a):
    client = Client(enforce_csrf_checks=True)
    response = client.post(_unsubscribe_url(att_a.pk), {"List-Unsubscribe": "One-Click"})
    assert response.status_code == 200
    assert "You will get no more weekly emails" in response.content.decode()
    att_a.refresh_from_db()
    assert not att_a.digest_enabled
    assert DomainEvent.objects.filter(verb="attorney.digest_unsubscribed").count() == 1
    client.post(_unsubscribe_url(att_a.pk))  # again: still off, no second event
    assert DomainEvent.objects.filter(verb="attorney.digest_unsubscribed").count() == 1
    _case()
    assert _send(att_a) == 0


@pytest.mark.parametrize("method", ["get", "post"])
def test_a_forged_or_tampered_token_is_a_404_and_writes_nothing(client, att_a, att_b, method):
    token = unsubscribe_token(att_b.pk)
    forged = [
        "not-a-real-key",
        token[:-2] + ("AA" if not token.endswith("AA") else "BB"),
        # att_a's payload under att_b's signature
        unsubscribe_token(att_a.pk).split(":")[0] + ":" + token.split(":", 1)[1],
        unsubscribe_token(987654),  # a signed pk of nobody
        str(att_b.pk),  # the bare id, unsigned
    ]
    for bad in forged:
        url = reverse("volunteers:digest_unsubscribe", args=[bad])
        assert getattr(client, method)(url).status_code == 404, bad
    assert AttorneyProfile.objects.filter(digest_enabled=False).count() == 0


# ---------------------------------------------------------------------------------------------
# Commands


def test_send_digests_sends_one_attorneys_digest_now(att_a):
    from django.core.management import call_command

    _case()
    call_command("send_digests", attorney=att_a.user.email)
    call_command("send_digests", attorney=att_a.user.email)  # not due again this week
    assert len(mail.outbox) == 1
    call_command("send_digests", attorney=att_a.user.email, again=True)
    assert len(mail.outbox) == 2


def test_bench_digest_reports_chunks_queries_and_mails(settings):
    import json
    from io import StringIO

    from django.core.management import call_command

    for _ in range(3):
        AttorneyFactory()
    _case()
    out = StringIO()
    call_command("bench_digest", reset=True, chunk_size=2, json=True, stdout=out)
    report = json.loads(out.getvalue())
    assert report["attorneys_due"] == 3 and report["chunks"] == 2
    assert report["mails_sent"] == 3 and report["items_listed"] == 3
    assert report["queries_per_chunk_max"] <= 20


@pytest.mark.django_db(transaction=True)
def test_a_real_worker_sends_the_chunks(celery_worker_queue, settings, monkeypatch):
    """Through a real `celery worker` process: the fan-out enqueues one task per chunk (ids
    only), the worker claims and sends each, one event per chunk."""
    import time

    from volunteers.tasks import digest_chunk_send_task

    settings.DIGEST_CHUNK_SIZE = 2
    monkeypatch.setattr(
        digest_chunk_send_task,
        "delay",
        lambda ids: digest_chunk_send_task.apply_async([ids], queue=celery_worker_queue),
    )
    attorneys = [AttorneyFactory() for _ in range(3)]
    _case()
    assert digests_send_task() == 2
    events = DomainEvent.objects.filter(verb="attorney.digests_sent")
    deadline = time.monotonic() + 60
    while events.count() < 2 and time.monotonic() < deadline:
        time.sleep(0.2)
    assert sorted(e.data["sent"] for e in events) == [1, 2]
    assert not AttorneyProfile.objects.filter(
        pk__in=[a.pk for a in attorneys], last_digest_at__isnull=True
    ).exists()
