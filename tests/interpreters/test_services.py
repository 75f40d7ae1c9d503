"""The team stage and the team's lifecycle: a K'iche' case no attorney in range speaks is
offered to a Spanish-speaking attorney and a K'iche'-Spanish interpreter; it goes ahead only
when both accept; an attorney's match that ends releases the interpreter."""

import pytest
from django.db import IntegrityError, transaction

from cases.models import CaseRequest
from interpreters.models import InterpreterProfile, TeamInterpreter
from interpreters.services import (
    InterpreterError,
    team_accept,
    team_attest_no_conflict,
    team_decline,
    team_run,
)
from matching.models import Match
from matching.services import (
    MatchError,
    match_accept,
    match_approve,
    match_attest_no_conflict,
    match_decline,
    match_offer,
)
from tests.factories import AttorneyFactory
from tests.interpreters.people import (
    english_attorney,
    interpreter_create,
    kiche_case,
    spanish_attorney,
)

pytestmark = pytest.mark.django_db


def _offered_team(coord):
    team_run()
    match = Match.objects.get()
    match = match_offer(match=match_approve(match=match, actor=coord), actor=coord)
    return match, TeamInterpreter.objects.get(match=match)


def _slots(interpreter) -> int:
    return InterpreterProfile.objects.get(pk=interpreter.pk).active_assignments


def test_a_kiche_case_goes_to_a_spanish_speaking_attorney_and_a_kiche_spanish_interpreter(coord):
    case = kiche_case()
    english_attorney()
    spanish = spanish_attorney()
    interpreter = interpreter_create(coordinator=coord)
    result = team_run()
    assert (result.cases, result.teams) == (1, 1)
    match = Match.objects.get()
    assert (match.case, match.attorney, match.status) == (case, spanish, "proposed")
    team = TeamInterpreter.objects.get(match=match)
    assert (team.interpreter, team.bridge_language_id) == (interpreter, "spa")
    assert _slots(interpreter) == 1
    assert CaseRequest.objects.get(pk=case.pk).status == "matched"


def test_no_team_when_an_attorney_in_range_speaks_the_language(coord):
    kiche_case()
    AttorneyFactory(languages={"quc": 3, "spa": 4})
    interpreter_create(coordinator=coord)
    assert team_run().teams == 0  # the main run's to match directly


def test_no_team_with_an_unverified_interpreter():
    kiche_case()
    spanish_attorney()
    interpreter_create()
    assert team_run().teams == 0


def test_the_attorney_cannot_accept_before_the_interpreter(coord):
    kiche_case(), spanish_attorney(), interpreter_create(coordinator=coord)
    match, _team = _offered_team(coord)
    match_attest_no_conflict(match=match, user=match.attorney.user)
    with pytest.raises(MatchError) as refused:
        match_accept(match=match, user=match.attorney.user)
    assert refused.value.code == "team_pending"
    assert Match.objects.get(pk=match.pk).status == "offered"
    assert CaseRequest.objects.get(pk=match.case_id).status == "matched"


def test_the_case_is_represented_once_both_accept(coord):
    kiche_case(), spanish_attorney(), interpreter_create(coordinator=coord)
    match, team = _offered_team(coord)
    user = team.interpreter.user
    with pytest.raises(InterpreterError):
        team_accept(assignment=team, user=user)  # attest first
    team_attest_no_conflict(assignment=team, user=user)
    team_accept(assignment=team, user=user)
    match_attest_no_conflict(match=match, user=match.attorney.user)
    match_accept(match=match, user=match.attorney.user)
    assert CaseRequest.objects.get(pk=match.case_id).status == "represented"


def test_only_the_teams_interpreter_answers(coord, att_b):
    kiche_case(), spanish_attorney(), interpreter_create(coordinator=coord)
    match, team = _offered_team(coord)
    for user in (att_b.user, match.attorney.user):
        with pytest.raises(InterpreterError) as refused:
            team_attest_no_conflict(assignment=team, user=user)
        assert refused.value.code == "not_yours"


def test_no_interpreter_answer_before_the_match_is_offered(coord):
    kiche_case(), spanish_attorney(), interpreter_create(coordinator=coord)
    team_run()
    team = TeamInterpreter.objects.get()
    with pytest.raises(InterpreterError) as refused:
        team_attest_no_conflict(assignment=team, user=team.interpreter.user)
    assert refused.value.code == "not_offered"


def test_an_attorney_declining_releases_the_interpreter(coord):
    kiche_case(), spanish_attorney(), interpreter_create(coordinator=coord)
    match, team = _offered_team(coord)
    match_decline(match=match, user=match.attorney.user, reason="distance")
    assert TeamInterpreter.objects.get(pk=team.pk).status == "withdrawn"
    assert _slots(team.interpreter) == 0


def test_an_interpreter_declining_frees_their_slot_and_blocks_the_attorneys_accept(coord):
    kiche_case(), spanish_attorney(), interpreter_create(coordinator=coord)
    match, team = _offered_team(coord)
    team_decline(assignment=team, user=team.interpreter.user)  # nobody else to replace them
    assert _slots(team.interpreter) == 0
    match_attest_no_conflict(match=match, user=match.attorney.user)
    with pytest.raises(MatchError):
        match_accept(match=match, user=match.attorney.user)


def test_a_second_team_run_proposes_nothing_new(coord):
    kiche_case(), spanish_attorney(), interpreter_create(coordinator=coord)
    team_run()
    assert team_run().teams == 0
    assert Match.objects.count() == 1


def test_interpreter_capacity_bounds_the_teams(coord):
    kiche_case(), kiche_case(), spanish_attorney(capacity=5)
    interpreter_create(coordinator=coord, capacity=1)
    assert team_run().teams == 1


def test_the_database_refuses_an_interpreter_above_capacity(coord):
    interpreter = interpreter_create(coordinator=coord, capacity=1)
    with pytest.raises(IntegrityError), transaction.atomic():
        InterpreterProfile.objects.filter(pk=interpreter.pk).update(active_assignments=2)


def test_an_interpreter_lists_two_languages():
    with pytest.raises(InterpreterError) as refused:
        interpreter_create(skills=(("quc", 4),))
    assert refused.value.code == "two_languages"


def test_an_accepted_team_case_put_back_releases_the_interpreter(coord):
    from matching.services import match_put_back

    kiche_case(), spanish_attorney(), interpreter_create(coordinator=coord)
    match, team = _offered_team(coord)
    team_attest_no_conflict(assignment=team, user=team.interpreter.user)
    team_accept(assignment=team, user=team.interpreter.user)
    match_attest_no_conflict(match=match, user=match.attorney.user)
    match = match_accept(match=match, user=match.attorney.user)
    match_put_back(match=match, user=match.attorney.user, reason="Moved to another state")
    assert TeamInterpreter.objects.get(pk=team.pk).status == "withdrawn"
    assert _slots(team.interpreter) == 0


def _save_again(interpreter, **changes):
    from interpreters.services import interpreter_profile_save

    fields = {
        "user": interpreter.user, "first_name": "Ixchel", "last_name": "Interpreter",
        "phone": "", "home_zip": "90012", "travel_radius_miles": 30, "remote_ok": True,
        "capacity": 2, "skills": [("quc", 4), ("spa", 4)],
    }  # fmt: skip
    return interpreter_profile_save(**(fields | changes))


def test_capacity_below_the_cases_interpreted_now_is_refused_clearly():
    interpreter = interpreter_create(capacity=2)
    InterpreterProfile.objects.filter(pk=interpreter.pk).update(active_assignments=2)
    with pytest.raises(InterpreterError) as refused:
        _save_again(interpreter, capacity=1)
    assert refused.value.code == "below_active"


def test_a_profile_save_that_fails_half_way_keeps_the_languages(monkeypatch):
    """The languages are replaced (deleted, then written): never left deleted by a failure."""
    from interpreters import services

    interpreter = interpreter_create()

    def fail(**kwargs):
        raise RuntimeError("event log unavailable")

    monkeypatch.setattr(services, "event_record", fail)
    with pytest.raises(RuntimeError):
        _save_again(interpreter, capacity=3, skills=[("quc", 4), ("eng", 2)])
    interpreter.refresh_from_db()
    assert interpreter.capacity == 2
    assert sorted(interpreter.language_skills.values_list("language_id", flat=True)) == [
        "quc",
        "spa",
    ]
