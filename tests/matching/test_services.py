"""The match lifecycle services (and the attorney-scoped selectors beside them).

States are built through the services themselves; only the clock is moved by hand (an UPDATE of
`expires_at`), since there is no other way to make an offer overdue inside a test.
"""

import threading
from contextlib import contextmanager
from datetime import timedelta

import kombu.exceptions
import pytest
from django.contrib.contenttypes.models import ContentType
from django.db import connection, transaction
from django.http import Http404
from django.utils import timezone

from cases.models import CaseRequest
from core.models import DomainEvent
from matching import selectors, services
from matching.models import Match, MatchingRun
from matching.services import (
    MatchError,
    closing,
    match_accept,
    match_approve,
    match_attest_no_conflict,
    match_decline,
    match_expire,
    match_offer,
    match_propose,
    match_reject,
    match_withdraw_for_case,
)
from matching.tasks import lifecycle
from tests.factories import AttorneyFactory, CaseRequestFactory

pytestmark = pytest.mark.django_db

BREAKDOWN = {"language": 300, "priority": 200}


@pytest.fixture(autouse=True)
def enqueued(monkeypatch):
    """Ids handed to the offer-email task; no test talks to the broker."""
    sent: list[int] = []
    monkeypatch.setattr(lifecycle.offer_notify, "delay", sent.append)
    return sent


def propose(attorney, case=None, **kwargs) -> Match:
    case = case or CaseRequestFactory()
    return match_propose(case=case, attorney=attorney, score=500, breakdown=BREAKDOWN, **kwargs)


def offer(attorney, coord, case=None) -> Match:
    match = match_approve(match=propose(attorney, case), actor=coord)
    return match_offer(match=match, actor=coord)


def attested(attorney, coord) -> Match:
    return match_attest_no_conflict(match=offer(attorney, coord), user=attorney.user)


def make_overdue(match) -> None:
    Match.objects.filter(pk=match.pk).update(expires_at=timezone.now() - timedelta(minutes=1))


def events(target, verb=None) -> list[DomainEvent]:
    found = DomainEvent.objects.filter(
        target_type=ContentType.objects.get_for_model(target), target_id=str(target.pk)
    ).order_by("id")
    return list(found.filter(verb=verb) if verb else found)


def verbs(target) -> list[str]:
    return [event.verb for event in events(target)]


def state(match) -> tuple[str, str, int]:
    """(match status, case status, attorney's active cases), fresh from the database."""
    match.refresh_from_db()
    match.case.refresh_from_db()
    match.attorney.refresh_from_db()
    return match.status, match.case.status, match.attorney.active_cases


@contextmanager
def refused(code):
    with pytest.raises(MatchError) as info:
        yield
    assert info.value.code == code


# match_propose


def test_it_proposes_a_match_and_takes_a_slot(att_a):
    run = MatchingRun.objects.create()
    match = propose(att_a, run=run)
    assert state(match) == ("proposed", "matched", 1)
    assert (match.score, match.breakdown, match.run) == (500, BREAKDOWN, run)
    [event] = events(match)
    assert event.verb == "match.proposed"
    assert event.data == {"case": match.case_id, "attorney": att_a.pk, "run": run.pk, "score": 500}


def test_it_refuses_to_propose_a_case_that_is_not_open(att_a, att_b):
    case = propose(att_a).case
    with refused("case_not_open"):
        propose(att_b, case)
    att_b.refresh_from_db()
    assert att_b.active_cases == 0


def test_it_refuses_to_propose_an_unverified_attorney(att_new):
    case = CaseRequestFactory()
    with refused("attorney_not_verified"):
        propose(att_new, case)
    case.refresh_from_db()
    assert (case.status, Match.objects.count()) == ("open", 0)


def test_it_refuses_to_propose_a_paused_attorney():
    attorney = AttorneyFactory(paused_until=timezone.localdate() + timedelta(days=3))
    with refused("attorney_paused"):
        propose(attorney)
    assert Match.objects.count() == 0


def test_it_refuses_to_propose_an_attorney_at_capacity():
    attorney = AttorneyFactory(capacity=1)
    propose(attorney)
    case = CaseRequestFactory()
    with refused("capacity_exceeded"):
        propose(attorney, case)
    attorney.refresh_from_db()
    case.refresh_from_db()
    assert (attorney.active_cases, case.status, Match.objects.count()) == (1, "open", 1)


def test_it_never_proposes_a_declined_pair_again(att_a, coord):
    match = offer(att_a, coord)
    match_decline(match=match, user=att_a.user, reason="conflict")
    with refused("pair_exists"):
        propose(att_a, match.case)
    assert state(match) == ("declined", "open", 0)


def test_it_refuses_a_score_that_is_not_positive(att_a):
    with refused("invalid_score"):
        match_propose(case=CaseRequestFactory(), attorney=att_a, score=0, breakdown={})
    assert Match.objects.count() == 0


def test_it_auto_approves_when_the_program_skips_review(att_a, settings):
    settings.MATCHING_AUTO_APPROVE = True
    match = propose(att_a)
    assert state(match) == ("approved", "matched", 1)
    assert verbs(match) == ["match.proposed", "match.approved"]
    assert events(match, "match.approved")[0].data["auto"] is True


# match_approve / match_reject


def test_it_approves_a_proposal(att_a, coord):
    match = match_approve(match=propose(att_a), actor=coord)
    assert state(match) == ("approved", "matched", 1)
    [event] = events(match, "match.approved")
    assert (event.actor, event.data["auto"]) == (coord, False)


def test_it_refuses_to_approve_a_match_twice(att_a, coord):
    match = match_approve(match=propose(att_a), actor=coord)
    with refused("not_proposed"):
        match_approve(match=match, actor=coord)
    assert len(events(match, "match.approved")) == 1


def test_it_refuses_approval_by_staff_without_permission(att_a, staff_plain):
    match = propose(att_a)
    with refused("not_permitted"):
        match_approve(match=match, actor=staff_plain)
    assert state(match) == ("proposed", "matched", 1)


def test_it_rejects_with_a_reason_and_returns_the_case_to_the_pool(att_a, coord):
    match = match_reject(match=propose(att_a), actor=coord, reason="Attorney is a witness.")
    assert state(match) == ("rejected", "open", 0)
    assert match.reject_reason == "Attorney is a witness."
    [event] = events(match, "match.rejected")
    assert event.data == {"case": match.case_id, "attorney": att_a.pk}  # no free text in the log


@pytest.mark.parametrize("reason", ["", "   "])
def test_it_requires_a_reason_to_reject(att_a, coord, reason):
    match = propose(att_a)
    with refused("reason_required"):
        match_reject(match=match, actor=coord, reason=reason)
    assert state(match) == ("proposed", "matched", 1)


def test_it_refuses_to_reject_an_accepted_match(att_a, coord):
    match = match_accept(match=attested(att_a, coord), user=att_a.user)
    with refused("not_rejectable"):
        match_reject(match=match, actor=coord, reason="Too late.")
    assert state(match) == ("accepted", "represented", 1)


# match_offer


def test_it_offers_an_approved_match_with_a_deadline(att_a, coord, settings):
    settings.MATCH_OFFER_TTL_HOURS = 48
    match = offer(att_a, coord)
    assert state(match) == ("offered", "matched", 1)
    assert match.expires_at - match.offered_at == timedelta(hours=48)
    assert verbs(match)[-1] == "match.offered"


def test_it_refuses_to_offer_a_proposal_before_approval(att_a, coord):
    match = propose(att_a)
    with refused("not_approved"):
        match_offer(match=match, actor=coord)
    assert state(match) == ("proposed", "matched", 1)


def test_it_refuses_to_offer_to_an_attorney_no_longer_verified(att_a, coord):
    match = match_approve(match=propose(att_a), actor=coord)
    att_a.__class__.objects.filter(pk=att_a.pk).update(verification="rejected")
    with refused("attorney_not_verified"):
        match_offer(match=match, actor=coord)
    assert state(match)[0] == "approved"


def test_it_enqueues_the_offer_email_once_after_commit(  # REL-1
    att_a, coord, enqueued, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        match = offer(att_a, coord)
    assert len(callbacks) == 1
    assert enqueued == [match.pk]  # the id only, never case data (SEC-23)


def test_it_enqueues_nothing_when_the_offer_rolls_back(  # REL-1
    att_a, coord, enqueued, django_capture_on_commit_callbacks
):
    match = match_approve(match=propose(att_a), actor=coord)
    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        match_offer(match=match, actor=coord)
        raise RuntimeError("the surrounding request failed")
    assert (callbacks, enqueued) == ([], [])
    assert state(match)[0] == "approved"


def test_it_keeps_the_offer_when_the_broker_is_down(  # REL-2
    att_a, coord, monkeypatch, django_capture_on_commit_callbacks
):
    def broker_down(pk):
        raise kombu.exceptions.OperationalError("Error 111 connecting to 127.0.0.1:6379.")

    monkeypatch.setattr(lifecycle.offer_notify, "delay", broker_down)
    with django_capture_on_commit_callbacks(execute=True):
        match = offer(att_a, coord)  # no exception reaches the coordinator
    assert state(match) == ("offered", "matched", 1)  # and the sweeper will send the email


def test_it_emails_the_attorney_when_the_enqueued_task_runs(
    att_a, coord, monkeypatch, mailoutbox, django_capture_on_commit_callbacks
):
    monkeypatch.setattr(
        lifecycle.offer_notify, "delay", lambda pk: lifecycle.offer_notify.apply([pk])
    )
    with django_capture_on_commit_callbacks(execute=True):
        match = offer(att_a, coord)
    [mail] = mailoutbox
    assert mail.to == [att_a.user.email]
    assert f"/attorney/offers/{match.pk}/" in mail.body


# match_attest_no_conflict


def test_it_records_the_conflict_attestation(att_a, coord):
    match = attested(att_a, coord)
    assert match.conflict_attested_at is not None
    [event] = events(match, "match.conflict_attested")
    assert event.actor == att_a.user


def test_it_records_an_attestation_once(att_a, coord):
    match = attested(att_a, coord)
    first = match.conflict_attested_at
    match = match_attest_no_conflict(match=match, user=att_a.user)
    assert match.conflict_attested_at == first
    assert len(events(match, "match.conflict_attested")) == 1


def test_it_refuses_attestation_by_another_attorney(att_a, att_b, coord):
    match = offer(att_a, coord)
    with refused("not_your_match"):
        match_attest_no_conflict(match=match, user=att_b.user)
    match.refresh_from_db()
    assert match.conflict_attested_at is None


def test_it_refuses_attestation_before_the_offer(att_a, coord):
    match = match_approve(match=propose(att_a), actor=coord)
    with refused("not_offered"):
        match_attest_no_conflict(match=match, user=att_a.user)


# match_accept


def test_it_accepts_an_attested_offer_and_the_case_becomes_represented(att_a, coord):
    match = match_accept(match=attested(att_a, coord), user=att_a.user)
    assert state(match) == ("accepted", "represented", 1)  # the slot was taken at proposal
    assert match.responded_at is not None
    [event] = events(match, "match.accepted")
    assert (event.actor, event.data) == (att_a.user, {"case": match.case_id, "attorney": att_a.pk})


def test_it_refuses_to_accept_before_the_conflict_attestation(att_a, coord):
    match = offer(att_a, coord)
    with refused("conflict_not_attested"):
        match_accept(match=match, user=att_a.user)
    assert state(match) == ("offered", "matched", 1)


def test_it_refuses_to_accept_another_attorneys_offer(att_a, att_b, coord):
    match = attested(att_a, coord)
    with refused("not_your_match"):
        match_accept(match=match, user=att_b.user)
    assert state(match) == ("offered", "matched", 1)
    assert events(match, "match.accepted") == []


def test_it_refuses_to_accept_for_an_attorney_no_longer_verified(att_a, coord):
    match = attested(att_a, coord)
    att_a.__class__.objects.filter(pk=att_a.pk).update(verification="pending")
    with refused("attorney_not_verified"):
        match_accept(match=match, user=att_a.user)
    assert state(match)[0] == "offered"


def test_it_refuses_to_accept_after_the_deadline(att_a, coord):
    match = attested(att_a, coord)
    make_overdue(match)
    with refused("offer_expired"):
        match_accept(match=match, user=att_a.user)
    assert state(match) == ("offered", "matched", 1)


def test_it_refuses_to_accept_a_declined_offer(att_a, coord):
    match = attested(att_a, coord)
    match_decline(match=match, user=att_a.user, reason="no_capacity")
    with refused("not_offered"):
        match_accept(match=match, user=att_a.user)
    assert state(match) == ("declined", "open", 0)


# match_decline


def test_it_declines_with_a_reason_and_returns_the_case_to_the_pool(att_a, coord):
    match = match_decline(match=offer(att_a, coord), user=att_a.user, reason="distance")
    assert state(match) == ("declined", "open", 0)
    assert (match.decline_reason, match.responded_at is not None) == ("distance", True)
    [event] = events(match, "match.declined")
    assert event.data["reason"] == "distance"


def test_it_keeps_the_decline_note_out_of_the_event_log(att_a, coord):
    note = "I represented Juana Pérez's employer."
    match = match_decline(match=offer(att_a, coord), user=att_a.user, reason="other", note=note)
    assert match.decline_note == note
    assert note not in str(events(match, "match.declined")[0].data)


@pytest.mark.parametrize(
    ("reason", "note", "code"),
    [("", "", "reason_required"), ("bored", "", "invalid_reason"), ("other", " ", "note_required")],
)
def test_it_refuses_a_decline_without_a_valid_reason(att_a, coord, reason, note, code):
    match = offer(att_a, coord)
    with refused(code):
        match_decline(match=match, user=att_a.user, reason=reason, note=note)
    assert state(match) == ("offered", "matched", 1)


def test_it_lets_an_attorney_no_longer_verified_hand_an_offer_back(att_a, coord):
    match = offer(att_a, coord)
    att_a.__class__.objects.filter(pk=att_a.pk).update(verification="pending")
    match = match_decline(match=match, user=att_a.user, reason="no_capacity")
    assert state(match) == ("declined", "open", 0)


def test_it_refuses_to_decline_another_attorneys_offer(att_a, att_b, coord):
    match = offer(att_a, coord)
    with refused("not_your_match"):
        match_decline(match=match, user=att_b.user, reason="language")
    assert state(match) == ("offered", "matched", 1)


# match_expire


def test_it_expires_an_overdue_offer(att_a, coord):
    match = offer(att_a, coord)
    make_overdue(match)
    assert match_expire(match=match) is True
    assert state(match) == ("expired", "open", 0)
    [event] = events(match, "match.expired")
    assert event.actor_label == "system"


def test_it_does_not_expire_an_offer_before_its_deadline(att_a, coord):
    match = offer(att_a, coord)
    assert match_expire(match=match) is False
    assert state(match) == ("offered", "matched", 1)


def test_it_expires_an_offer_only_once(att_a, coord):
    match = offer(att_a, coord)
    make_overdue(match)
    assert [match_expire(match=match), match_expire(match=match)] == [True, False]
    assert state(match) == ("expired", "open", 0)
    assert len(events(match, "match.expired")) == 1


def test_it_does_not_expire_an_accepted_offer(att_a, coord):
    match = match_accept(match=attested(att_a, coord), user=att_a.user)
    make_overdue(match)
    assert match_expire(match=match) is False
    assert state(match) == ("accepted", "represented", 1)


# match_withdraw_for_case


def test_it_withdraws_the_active_match_with_the_case(att_a, coord):
    match = offer(att_a, coord)
    withdrawn = match_withdraw_for_case(case=match.case, actor=coord)
    assert withdrawn.pk == match.pk
    assert state(match) == ("withdrawn", "withdrawn", 0)
    assert verbs(match)[-1] == "match.withdrawn"
    assert verbs(match.case) == ["case.withdrawn"]


def test_it_frees_the_slot_when_a_represented_case_is_withdrawn(att_a, coord):
    match = match_accept(match=attested(att_a, coord), user=att_a.user)
    match_withdraw_for_case(case=match.case, actor=coord)
    assert state(match) == ("withdrawn", "withdrawn", 0)


def test_it_starts_over_when_a_proposal_lands_during_the_withdrawal(att_a, coord, monkeypatch):
    match = offer(att_a, coord)
    real = closing._active_match
    reads = iter([None])  # the first read misses the match, as if it were proposed just after
    monkeypatch.setattr(closing, "_active_match", lambda case_id: next(reads, real(case_id)))
    assert match_withdraw_for_case(case=match.case, actor=coord).pk == match.pk
    assert state(match) == ("withdrawn", "withdrawn", 0)
    assert verbs(match.case) == ["case.withdrawn"]  # the abandoned attempt left nothing behind


def test_it_withdraws_a_case_without_a_match(coord):
    case = CaseRequestFactory()
    assert match_withdraw_for_case(case=case, actor=coord) is None
    case.refresh_from_db()
    assert case.status == "withdrawn"
    assert verbs(case) == ["case.withdrawn"]


def test_it_refuses_to_withdraw_a_case_twice(coord):
    case = CaseRequestFactory()
    match_withdraw_for_case(case=case, actor=coord)
    with refused("case_ended"):
        match_withdraw_for_case(case=case, actor=coord)
    assert len(events(case)) == 1


# Concurrency (PostgreSQL: SQLite serialises writers, so the race cannot happen there)

postgres_only = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="row locks are PostgreSQL behaviour"
)


def at_once(*calls):
    """Run the calls in threads released together; each result is a value or a MatchError code."""
    barrier = threading.Barrier(len(calls))
    results: list = [None] * len(calls)

    def worker(index, call):
        try:
            barrier.wait(timeout=10)
            results[index] = call()
        except MatchError as error:
            results[index] = error.code
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=item) for item in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return results


@postgres_only
@pytest.mark.django_db(transaction=True)
def test_it_accepts_once_when_the_attorney_clicks_twice(att_a, coord):
    match = attested(att_a, coord)
    results = at_once(*[lambda: match_accept(match=match, user=att_a.user)] * 2)
    assert sorted(isinstance(r, Match) for r in results) == [False, True]
    assert "not_offered" in results
    assert state(match) == ("accepted", "represented", 1)
    assert len(events(match, "match.accepted")) == 1


@postgres_only
@pytest.mark.django_db(transaction=True)
def test_it_lets_one_of_two_concurrent_proposals_take_the_last_slot():
    # Accepting never adds to the counter (an offer already holds its slot), so capacity is
    # contested when slots are taken: two proposals racing for an attorney's last one.
    attorney = AttorneyFactory(capacity=1)
    cases = CaseRequestFactory.create_batch(2)
    results = at_once(*[lambda case=case: propose(attorney, case) for case in cases])
    assert sorted(isinstance(r, Match) for r in results) == [False, True]
    assert "capacity_exceeded" in results
    attorney.refresh_from_db()
    assert attorney.active_cases == 1
    assert sorted(CaseRequest.objects.values_list("status", flat=True)) == ["matched", "open"]


@postgres_only
@pytest.mark.django_db(transaction=True)
def test_it_lets_either_accept_or_decline_win_but_not_both(att_a, coord):
    match = attested(att_a, coord)
    results = at_once(
        lambda: match_accept(match=match, user=att_a.user),
        lambda: match_decline(match=match, user=att_a.user, reason="no_capacity"),
    )
    assert sum(isinstance(r, Match) for r in results) == 1
    assert "not_offered" in results
    status, case_status, active = state(match)
    assert (case_status, active) == {"accepted": ("represented", 1), "declined": ("open", 0)}[
        status
    ]


# Selectors


def test_it_finds_the_attorneys_own_match(att_a, coord):
    match = offer(att_a, coord)
    assert selectors.match_get_for_attorney(user=att_a.user, match_id=match.pk) == match


def test_it_hides_another_attorneys_match_behind_a_404(att_a, att_b, coord):  # SEC-12
    match = offer(att_a, coord)
    with pytest.raises(Http404):
        selectors.match_get_for_attorney(user=att_b.user, match_id=match.pk)


def test_it_hides_matches_from_an_attorney_not_yet_verified(att_a, coord):  # SEC-11
    match = offer(att_a, coord)
    att_a.__class__.objects.filter(pk=att_a.pk).update(verification="pending")
    with pytest.raises(Http404):
        selectors.match_get_for_attorney(user=att_a.user, match_id=match.pk)
    assert list(selectors.offers_for_attorney(user=att_a.user)) == []


@pytest.mark.parametrize("match_id", ["abc", None, 10**30])
def test_it_answers_404_for_an_id_that_is_not_a_match(att_a, match_id):
    with pytest.raises(Http404):
        selectors.match_get_for_attorney(user=att_a.user, match_id=match_id)


def test_it_shows_nothing_to_anonymous_users(att_a, coord):
    from django.contrib.auth.models import AnonymousUser

    offer(att_a, coord)
    assert list(selectors.offers_for_attorney(user=AnonymousUser())) == []


def _read_dashboard(user) -> list[str]:
    rows = [
        *selectors.offers_for_attorney(user=user),
        *selectors.active_cases_for_attorney(user=user),
    ]
    return [f"{m.case.language.name}{m.case.court.name}{m.case.case_type.name}" for m in rows]


def test_it_reads_the_dashboard_in_a_constant_number_of_queries(coord, django_assert_num_queries):
    few, many = AttorneyFactory(capacity=2), AttorneyFactory(capacity=8)
    for attorney, offers in ((few, 1), (many, 4)):
        for _ in range(offers):
            offer(attorney, coord)
            match_accept(match=attested(attorney, coord), user=attorney.user)
    with django_assert_num_queries(2):
        assert len(_read_dashboard(few.user)) == 2
    with django_assert_num_queries(2):
        assert len(_read_dashboard(many.user)) == 8


# match_withdraw_proposal


def test_an_attorney_withdraws_their_unseen_proposal_back_to_matching(att_a):
    match = propose(att_a)
    services.match_withdraw_proposal(match=match, user=att_a.user)
    assert state(match) == ("withdrawn", "open", 0)
    assert verbs(match)[-1] == "match.withdrawn"


def test_an_offer_cannot_be_withdrawn_as_a_proposal(att_a, coord):
    match = offer(att_a, coord)
    with pytest.raises(MatchError) as error:
        services.match_withdraw_proposal(match=match, user=att_a.user)
    assert error.value.code == "not_proposal"
    assert state(match) == ("offered", "matched", 1)


def test_another_user_cannot_withdraw_a_proposal(att_a, att_b):
    match = propose(att_a)
    with pytest.raises(MatchError) as error:
        services.match_withdraw_proposal(match=match, user=att_b.user)
    assert error.value.code == "not_your_match"
    assert state(match) == ("proposed", "matched", 1)
