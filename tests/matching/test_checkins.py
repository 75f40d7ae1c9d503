"""Status check-ins (issue 16): requests, one e-mail per attorney, answers, reminders, monthly."""

from datetime import timedelta

import pytest
from django.core import mail
from django.db import transaction
from django.utils import timezone

from cases.models import CaseRequest
from core.models import DomainEvent
from matching import checkins
from matching.checkins import (
    LINK_TTL,
    CheckInError,
    StatusAnswer,
    status_request_answer,
    status_requests_create,
    status_requests_monthly,
)
from matching.models import Match, StatusRequest
from matching.services import MatchError, match_propose
from matching.tasks.checkins import status_requests_remind_due
from tests.matching.checkins import accepted_case, mails_to, tokens_in
from tests.volunteers.offers import CONTACT, RESPONDENT_NAME, identifier_spellings

pytestmark = [pytest.mark.django_db(transaction=False), pytest.mark.usefixtures("celery_eager")]

Answer = StatusRequest.Answer
TODAY = timezone.localdate


@pytest.fixture
def case_a(att_a, coord):
    return accepted_case(attorney=att_a, coordinator=coord)


def _ask(matches, coord, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        return status_requests_create(matches=matches, actor=coord)


# Asking


def test_it_sends_one_email_per_attorney_listing_their_cases(
    att_a, att_b, coord, django_capture_on_commit_callbacks
):
    first = accepted_case(attorney=att_a, coordinator=coord)
    second = accepted_case(attorney=att_a, coordinator=coord)
    other = accepted_case(attorney=att_b, coordinator=coord)
    mail.outbox.clear()
    made = _ask([first, second, other], coord, django_capture_on_commit_callbacks)
    assert (made.created, made.skipped, made.attorneys) == (3, 0, 2)
    assert len(mail.outbox) == 2
    (to_a,), (to_b,) = mails_to(att_a.user.email), mails_to(att_b.user.email)
    assert first.case.reference in to_a.body and second.case.reference in to_a.body
    assert other.case.reference not in to_a.body
    assert len(tokens_in(to_a)) == 2 and len(tokens_in(to_b)) == 1
    assert StatusRequest.objects.filter(notified_at__isnull=False).count() == 3


def test_its_emails_carry_no_identifier(att_a, coord, django_capture_on_commit_callbacks):
    """SEC-23: no name, A-number or contact route in the subject, headers, body or link."""
    match = accepted_case(attorney=att_a, coordinator=coord)
    mail.outbox.clear()
    _ask([match], coord, django_capture_on_commit_callbacks)
    (message,) = mail.outbox
    html = message.alternatives[0][0]
    headers = "\n".join(f"{k}: {v}" for k, v in message.message().items())
    for kind, spellings in identifier_spellings(match.case).items():
        for spelling in spellings:
            for part in (message.subject, headers, message.body, html):
                assert spelling not in part, (kind, spelling)
    assert RESPONDENT_NAME not in message.body and CONTACT not in message.body
    # The link names no match, case or attorney: a random token only.
    (token,) = tokens_in(message)
    assert f"/attorney/status/{token}/" in message.body
    assert f"/cases/{match.pk}/" not in message.body


def test_asking_again_while_one_waits_sends_nothing(
    case_a, coord, django_capture_on_commit_callbacks
):
    _ask([case_a], coord, django_capture_on_commit_callbacks)
    mail.outbox.clear()
    made = _ask([case_a], coord, django_capture_on_commit_callbacks)
    assert (made.created, made.skipped) == (0, 1)
    assert mail.outbox == []
    assert StatusRequest.objects.count() == 1


def test_only_accepted_matches_are_asked(att_a, coord, django_capture_on_commit_callbacks):
    from tests.volunteers.offers import offer_create

    offer = offer_create(attorney=att_a, coordinator=coord)
    mail.outbox.clear()
    made = _ask([offer], coord, django_capture_on_commit_callbacks)
    assert (made.created, made.skipped) == (0, 1)
    assert not StatusRequest.objects.exists() and mail.outbox == []


def test_only_a_coordinator_may_ask(case_a, att_b):
    with pytest.raises(CheckInError) as refused:
        status_requests_create(matches=[case_a], actor=att_b.user)
    assert refused.value.code == "not_permitted"
    assert not StatusRequest.objects.exists()


def test_a_rolled_back_request_sends_nothing(case_a, coord, django_capture_on_commit_callbacks):
    """REL-1: the e-mail is enqueued after commit only."""
    mail.outbox.clear()
    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        status_requests_create(matches=[case_a], actor=coord)
        raise RuntimeError
    assert callbacks == [] and mail.outbox == []
    assert not StatusRequest.objects.exists()


# Answers: each one changes the case as it says


def _answer(match, **fields):
    user = match.attorney.user
    return status_request_answer(match=match, user=user, answer=StatusAnswer(**fields))


def test_hearing_held_sets_the_next_hearing(case_a):
    nxt = TODAY() + timedelta(days=90)
    row = _answer(case_a, answer=Answer.HEARING_HELD, hearing_date=nxt)
    case_a.case.refresh_from_db()
    assert case_a.case.next_hearing_date == nxt
    assert row.answer == Answer.HEARING_HELD and row.trigger == StatusRequest.Trigger.ATTORNEY
    assert DomainEvent.objects.filter(verb="case_request.updated", target_id=str(case_a.case_id))


def test_continued_moves_the_hearing_and_answers_the_open_request(
    case_a, coord, django_capture_on_commit_callbacks
):
    _ask([case_a], coord, django_capture_on_commit_callbacks)
    nxt = TODAY() + timedelta(days=45)
    row = _answer(case_a, answer=Answer.CONTINUED, hearing_date=nxt)
    case_a.case.refresh_from_db()
    assert case_a.case.next_hearing_date == nxt
    assert row.trigger == StatusRequest.Trigger.COORDINATOR and row.answered_at is not None
    assert StatusRequest.objects.count() == 1


def test_continued_needs_a_date(case_a):
    with pytest.raises(CheckInError) as refused:
        _answer(case_a, answer=Answer.CONTINUED)
    assert refused.value.code == "date_required"
    assert not StatusRequest.objects.exists()


def test_application_filed_sets_the_next_deadline(case_a):
    deadline = TODAY() + timedelta(days=30)
    _answer(case_a, answer=Answer.APPLICATION_FILED, filing_deadline=deadline)
    case_a.case.refresh_from_db()
    assert case_a.case.filing_deadline == deadline


def test_closed_records_the_outcome_and_frees_the_slot(case_a, att_a):
    before = att_a.__class__.objects.get(pk=att_a.pk).active_cases
    _answer(
        case_a,
        answer=Answer.CLOSED,
        outcome=CaseRequest.Outcome.RELIEF_GRANTED,
        relief_type=CaseRequest.Relief.ASYLUM,
        outcome_date=TODAY(),
    )
    case = CaseRequest.objects.get(pk=case_a.case_id)
    assert (case.status, case.outcome, case.relief_type) == ("closed", "relief_granted", "asylum")
    assert case.outcome_date == TODAY() and case.closed_at is not None
    assert Match.objects.get(pk=case_a.pk).status == Match.Status.COMPLETED
    assert att_a.__class__.objects.get(pk=att_a.pk).active_cases == before - 1
    event = DomainEvent.objects.get(verb="case.closed")
    assert event.data["outcome"] == "relief_granted"


@pytest.mark.parametrize(
    ("days", "code"), [(1, "future_date"), (-30, "before_acceptance")], ids=["future", "early"]
)
def test_closed_refuses_a_date_out_of_range(case_a, days, code):
    with pytest.raises(MatchError) as refused:
        _answer(
            case_a,
            answer=Answer.CLOSED,
            outcome=CaseRequest.Outcome.REMOVAL_ORDERED,
            outcome_date=TODAY() + timedelta(days=days),
        )
    assert refused.value.code == code
    case = CaseRequest.objects.get(pk=case_a.case_id)
    assert (case.status, case.outcome) == ("represented", "")
    assert not StatusRequest.objects.exists()


def test_relief_granted_needs_its_type(case_a):
    with pytest.raises(MatchError) as refused:
        _answer(
            case_a,
            answer=Answer.CLOSED,
            outcome=CaseRequest.Outcome.RELIEF_GRANTED,
            outcome_date=TODAY(),
        )
    assert refused.value.code == "relief_type_required"


def test_need_help_keeps_the_note_for_coordinators_only(case_a):
    row = _answer(case_a, answer=Answer.NEED_HELP, note="Judge asked for a brief on nexus.")
    assert row.note == "Judge asked for a brief on nexus."
    event = DomainEvent.objects.get(verb="status_request.answered")
    assert "nexus" not in str(event.data)
    assert CaseRequest.objects.get(pk=case_a.case_id).status == "represented"


def test_need_help_needs_a_note(case_a):
    with pytest.raises(CheckInError) as refused:
        _answer(case_a, answer=Answer.NEED_HELP)
    assert refused.value.code == "note_required"


def test_cannot_continue_returns_the_case_to_matching_with_its_history(
    case_a, att_a, coord, django_capture_on_commit_callbacks
):
    _ask([case_a], coord, django_capture_on_commit_callbacks)
    _answer(case_a, answer=Answer.CANNOT_CONTINUE, note="Moving abroad.")
    case = CaseRequest.objects.get(pk=case_a.case_id)
    match = Match.objects.get(pk=case_a.pk)
    assert case.status == CaseRequest.Status.OPEN
    assert (match.status, match.put_back_reason) == (Match.Status.RETURNED, "Moving abroad.")
    assert att_a.__class__.objects.get(pk=att_a.pk).active_cases == 0 + 0  # both slots free
    # History: the match, its check-in and the events stay; the pair is never proposed again.
    assert StatusRequest.objects.get(match=match).answer == Answer.CANNOT_CONTINUE
    assert DomainEvent.objects.filter(verb="match.handed_back").count() == 1
    with pytest.raises(MatchError) as again:
        match_propose(case=case, attorney=att_a, score=100, breakdown={})
    assert again.value.code == "pair_exists"


def test_cannot_continue_ignores_the_put_back_deadline(case_a):
    """The board's put-back closes after its deadline; a check-in saying the attorney cannot
    continue hands the case back whenever it comes (the same ending, match_hand_back)."""
    past = timezone.now() - timedelta(days=1)
    Match.objects.filter(pk=case_a.pk).update(put_back_until=past)
    _answer(case_a, answer=Answer.CANNOT_CONTINUE)
    match = Match.objects.get(pk=case_a.pk)
    assert (match.status, match.put_back_reason) == (Match.Status.RETURNED, "Cannot continue.")
    assert CaseRequest.objects.get(pk=case_a.case_id).status == CaseRequest.Status.OPEN


def test_another_attorney_cannot_answer(case_a, att_b):
    with pytest.raises(CheckInError):
        status_request_answer(
            match=case_a, user=att_b.user, answer=StatusAnswer(answer=Answer.NEED_HELP, note="x")
        )
    assert not StatusRequest.objects.exists()


# Reminders: once, then the coordinator home


def test_unanswered_requests_are_reminded_once(case_a, coord, django_capture_on_commit_callbacks):
    _ask([case_a], coord, django_capture_on_commit_callbacks)
    StatusRequest.objects.update(notified_at=timezone.now() - timedelta(days=8))
    mail.outbox.clear()
    status_requests_remind_due()
    (reminder,) = mail.outbox
    assert "Reminder" in reminder.subject and case_a.case.reference in reminder.body
    assert StatusRequest.objects.get().reminded_at is not None
    status_requests_remind_due()
    assert len(mail.outbox) == 1  # once only


def test_a_fresh_request_is_not_reminded(case_a, coord, django_capture_on_commit_callbacks):
    _ask([case_a], coord, django_capture_on_commit_callbacks)
    mail.outbox.clear()
    assert status_requests_remind_due() == 0
    assert mail.outbox == []


def test_the_reminder_repeats_the_same_link(case_a, coord, django_capture_on_commit_callbacks):
    _ask([case_a], coord, django_capture_on_commit_callbacks)
    (first,) = mail.outbox[-1:]
    StatusRequest.objects.update(notified_at=timezone.now() - timedelta(days=8))
    status_requests_remind_due()
    assert tokens_in(mail.outbox[-1]) == tokens_in(first)


def test_a_lost_email_is_sent_by_the_sweep(case_a, coord):
    """REL-2: the row is the truth; a request whose e-mail never went out is sent later."""
    status_requests_create(matches=[case_a], actor=coord)  # on-commit callbacks never run here
    StatusRequest.objects.update(created_at=timezone.now() - timedelta(hours=1))
    mail.outbox.clear()
    status_requests_remind_due()
    assert len(mail.outbox) == 1
    assert StatusRequest.objects.get().notified_at is not None


# The e-mail services on their own: a task may run twice (acks_late), or after the case moved


def _asked_without_mail(match, coord):
    """A request whose e-mail task has not run yet (on-commit callbacks never run here)."""
    status_requests_create(matches=[match], actor=coord)
    mail.outbox.clear()
    return StatusRequest.objects.get(match=match, answered_at__isnull=True)


def test_the_reminder_service_reminds_a_request_once(case_a, coord):
    _asked_without_mail(case_a, coord)
    StatusRequest.objects.update(notified_at=timezone.now() - timedelta(days=8))
    assert checkins.status_requests_remind(attorney_id=case_a.attorney_id) == 1
    assert checkins.status_requests_remind(attorney_id=case_a.attorney_id) == 0
    assert len(mail.outbox) == 1


def test_an_expired_link_is_not_reminded(case_a, coord):
    _asked_without_mail(case_a, coord)
    StatusRequest.objects.update(
        notified_at=timezone.now() - timedelta(days=20), expires_at=timezone.now()
    )
    assert checkins.status_requests_remind(attorney_id=case_a.attorney_id) == 0
    assert mail.outbox == []


def test_a_case_no_longer_the_attorneys_is_not_mailed_about(case_a, coord):
    """The case was closed or handed back between the request and its e-mail."""
    _asked_without_mail(case_a, coord)
    Match.objects.filter(pk=case_a.pk).update(status=Match.Status.COMPLETED)
    assert checkins.status_requests_notify(attorney_id=case_a.attorney_id) == 0
    assert mail.outbox == []
    assert StatusRequest.objects.get().notified_at is None


def test_an_attorney_without_an_address_is_not_mailed(case_a, coord):
    _asked_without_mail(case_a, coord)
    type(coord).objects.filter(pk=case_a.attorney.user_id).update(email="")
    assert checkins.status_requests_notify(attorney_id=case_a.attorney_id) == 0
    assert mail.outbox == []


def test_an_answered_link_cannot_answer_the_next_request(case_a, coord):
    """The link names its request: once answered, it cannot answer the one asked after it."""
    first = _asked_without_mail(case_a, coord)
    answer = StatusAnswer(answer=Answer.NEED_HELP, note="Who can help with the brief?")
    user = case_a.attorney.user
    status_request_answer(match=case_a, user=user, answer=answer, status_request=first)
    second = _asked_without_mail(case_a, coord)
    with pytest.raises(CheckInError) as refused:
        status_request_answer(match=case_a, user=user, answer=answer, status_request=first)
    assert refused.value.code == "already_answered"
    second.refresh_from_db()
    assert second.answered_at is None


def test_an_email_whose_record_fails_is_sent_again(case_a, coord, monkeypatch):
    """The rows are stamped in the transaction that records the e-mail: if that fails, the
    task's retry (or the sweep) finds them unstamped and sends again."""
    _asked_without_mail(case_a, coord)

    def fail(**kwargs):
        raise RuntimeError("event log unavailable")

    monkeypatch.setattr(checkins, "event_record", fail)
    with pytest.raises(RuntimeError):
        checkins.status_requests_notify(attorney_id=case_a.attorney_id)
    assert StatusRequest.objects.get().notified_at is None


# The monthly check-in


def test_monthly_asks_about_cases_with_no_update_in_60_days(
    att_a, att_b, coord, django_capture_on_commit_callbacks
):
    stale = accepted_case(attorney=att_a, coordinator=coord, days_ago=61)
    recent = accepted_case(attorney=att_a, coordinator=coord, days_ago=10)
    answered = accepted_case(attorney=att_b, coordinator=coord, days_ago=90)
    _answer(answered, answer=Answer.NEED_HELP, note="help")  # an update today
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        made = status_requests_monthly()
    assert made.created == 1
    row = StatusRequest.objects.get(answered_at__isnull=True)
    assert (row.match_id, row.trigger) == (stale.pk, StatusRequest.Trigger.MONTHLY)
    assert not StatusRequest.objects.filter(match=recent).exists()
    assert len(mail.outbox) == 1
    # Run again the same month: the open request blocks a second one.
    with django_capture_on_commit_callbacks(execute=True):
        assert status_requests_monthly().created == 0


def test_links_expire(case_a, coord, django_capture_on_commit_callbacks):
    _ask([case_a], coord, django_capture_on_commit_callbacks)
    row = StatusRequest.objects.get()
    assert abs((row.expires_at - row.created_at) - LINK_TTL) < timedelta(seconds=5)
