"""An interpreter who declines is replaced at once, as the team stage would choose; with nobody
free, the coordinators and the attorney are told, once, and the attorney still cannot accept."""

import pytest
from django.core import mail

from cases.models import CaseRequest
from core.models import DomainEvent
from interpreters.models import InterpreterProfile, TeamInterpreter
from interpreters.services import (
    team_accept,
    team_attest_no_conflict,
    team_decline,
    team_unfilled_notify,
)
from matching.models import Match
from matching.services import (
    MatchError,
    match_accept,
    match_attest_no_conflict,
    match_decline,
)
from tests.interpreters.people import (
    interpreter_create,
    kiche_case,
    spanish_attorney,
    team_offered,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def team(coord):
    """An offered K'iche' team: its attorney and its first interpreter."""
    first = interpreter_create(coordinator=coord, email="first@example.org")
    match = team_offered(
        case=kiche_case(), attorney=spanish_attorney(), interpreter=first, coordinator=coord
    )
    return match, TeamInterpreter.objects.get(match=match)


def _decline(assignment, capture=None):
    """The interpreter declines; with ``capture``, the after-commit work runs too (the
    unfilled notice, with celery_eager)."""
    if capture is None:
        return team_decline(assignment=assignment, user=assignment.interpreter.user)
    with capture(execute=True):
        return team_decline(assignment=assignment, user=assignment.interpreter.user)


def _slots(profile) -> int:
    return InterpreterProfile.objects.get(pk=profile.pk).active_assignments


def _live(match) -> TeamInterpreter:
    return TeamInterpreter.objects.get(match=match, status__in=TeamInterpreter.LIVE_STATUSES)


def test_a_free_interpreter_replaces_the_one_who_declined(coord, team):
    match, first = team
    second = interpreter_create(coordinator=coord, email="second@example.org")
    _decline(first)
    replacement = _live(match)
    assert (replacement.interpreter, replacement.status) == (second, "active")
    assert replacement.bridge_language_id == first.bridge_language_id
    assert (_slots(first.interpreter), _slots(second)) == (0, 1)
    assert TeamInterpreter.objects.get(pk=first.pk).status == "declined"
    assert DomainEvent.objects.filter(verb="interpreter.replacement_proposed").count() == 1
    assert mail.outbox == []  # nobody to alarm: the team is whole again


def test_the_attorney_accepts_once_the_replacement_accepts(coord, team):
    match, first = team
    second = interpreter_create(coordinator=coord, email="second@example.org")
    _decline(first)
    attorney = match.attorney.user
    match_attest_no_conflict(match=match, user=attorney)
    with pytest.raises(MatchError) as refused:
        match_accept(match=match, user=attorney)
    assert refused.value.code == "team_pending"
    replacement = _live(match)
    team_attest_no_conflict(assignment=replacement, user=second.user)
    team_accept(assignment=replacement, user=second.user)
    assert match_accept(match=match, user=attorney).status == "accepted"
    assert CaseRequest.objects.get(pk=match.case_id).status == "represented"


def test_the_replacement_speaks_the_teams_bridge(coord, team):
    match, first = team
    interpreter_create(coordinator=coord, skills=(("quc", 4), ("eng", 4)))  # no Spanish
    _decline(first)
    assert not TeamInterpreter.objects.filter(match=match, status="active").exists()


def test_an_interpreter_who_declined_is_never_asked_again(
    coord, team, django_capture_on_commit_callbacks, celery_eager, mailoutbox
):
    match, first = team
    second = interpreter_create(coordinator=coord, email="second@example.org")
    _decline(first, django_capture_on_commit_callbacks)
    _decline(_live(match), django_capture_on_commit_callbacks)
    team = TeamInterpreter.objects.filter(match=match)
    assert sorted(team.values_list("interpreter_id", "status")) == [
        (first.interpreter_id, "declined"), (second.pk, "declined"),
    ]  # fmt: skip
    assert len(mailoutbox) == 2  # unfilled now: the coordinators and the attorney


def test_with_nobody_free_the_coordinators_and_the_attorney_are_told(
    coord, team, django_capture_on_commit_callbacks, celery_eager, mailoutbox
):
    match, first = team
    _decline(first, django_capture_on_commit_callbacks)
    to_staff, to_attorney = mailoutbox
    reference = match.case.reference
    assert to_staff.to == [coord.email]
    assert reference in to_staff.subject
    assert f"/admin/matching/match/{match.pk}/change/" in to_staff.body
    assert to_attorney.to == [match.attorney.user.email]
    assert f"/attorney/offers/{match.pk}/" in to_attorney.body
    assert "A coordinator has been told" in to_attorney.body
    for message in mailoutbox:
        assert match.case.respondent_name not in message.body + message.subject
    assert Match.objects.get(pk=match.pk).status == "offered"  # the attorney may still wait


def test_the_attorney_still_cannot_accept_an_unfilled_team(coord, team):
    match, first = team
    _decline(first)
    match_attest_no_conflict(match=match, user=match.attorney.user)
    with pytest.raises(MatchError) as refused:
        match_accept(match=match, user=match.attorney.user)
    assert refused.value.code == "team_pending"


def test_the_unfilled_notice_goes_out_once(coord, team):
    match, first = team
    team_decline(assignment=first, user=first.interpreter.user)  # its task is left to us
    assert team_unfilled_notify(match_id=match.pk) == 2
    assert team_unfilled_notify(match_id=match.pk) == 0
    assert len(mail.outbox) == 2


def test_no_unfilled_notice_once_the_attorney_declined(coord, team):
    match, first = team
    team_decline(assignment=first, user=first.interpreter.user)
    match_decline(match=match, user=match.attorney.user, reason="distance")
    assert team_unfilled_notify(match_id=match.pk) == 0
    assert mail.outbox == []


def test_the_attorneys_decline_withdraws_the_replacement(coord, team):
    match, first = team
    second = interpreter_create(coordinator=coord)
    _decline(first)
    match_decline(match=match, user=match.attorney.user, reason="distance")
    assert TeamInterpreter.objects.get(match=match, interpreter=second).status == "withdrawn"
    assert _slots(second) == 0


def test_a_replacement_at_capacity_is_passed_over(coord, team):
    match, first = team
    full = interpreter_create(coordinator=coord, capacity=1)
    InterpreterProfile.objects.filter(pk=full.pk).update(active_assignments=1)
    spare = interpreter_create(coordinator=coord)
    _decline(first)
    assert _live(match).interpreter == spare
