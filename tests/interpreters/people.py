"""Interpreters and K'iche' cases built through the services the pages call."""

from interpreters.models import InterpreterProfile
from interpreters.services import interpreter_profile_save, interpreter_verify
from tests.factories import AttorneyFactory, CaseRequestFactory, UserFactory
from tests.volunteers.offers import CONTACT, RESPONDENT_NAME

_a_numbers = iter(range(301555019, 301600000))


def interpreter_create(
    *,
    coordinator=None,
    skills=(("quc", 4), ("spa", 4)),
    zip_code="90012",
    remote_ok=True,
    capacity=2,
    email=None,
    first_name="Ixchel",
) -> InterpreterProfile:
    user = UserFactory(**({"username": email} if email else {}))
    profile = interpreter_profile_save(
        user=user,
        first_name=first_name,
        last_name="Interpreter",
        phone="",
        home_zip=zip_code,
        travel_radius_miles=30,
        remote_ok=remote_ok,
        capacity=capacity,
        skills=list(skills),
    )
    if coordinator is not None:
        profile = interpreter_verify(interpreter=profile, actor=coordinator)
    return profile


def kiche_case(**fields):
    """A K'iche' asylum case in New York, with identifiers to look for on every page."""
    values = {
        "language_id": "quc",
        "respondent_name": RESPONDENT_NAME,
        "a_number": str(next(_a_numbers)),
        "contact_route": CONTACT,
    }
    return CaseRequestFactory(**(values | fields))


def spanish_attorney(**fields):
    return AttorneyFactory(languages={"eng": 4, "spa": 4}, **fields)


def english_attorney(**fields):
    return AttorneyFactory(languages={"eng": 4}, **fields)


def team_offered(*, case, attorney, interpreter, coordinator):
    """A team proposed through the service, then approved and offered by the coordinator."""
    from interpreters.services import team_propose
    from interpreters.teams import Team
    from matching.models import Match
    from matching.services import match_approve, match_offer

    team = Team(case.pk, attorney.pk, interpreter.pk, "spa", 400, 400, 100)
    assert team_propose(team=team, actor=coordinator)
    match = Match.objects.get(case=case, attorney=attorney)
    return match_offer(match=match_approve(match=match, actor=coordinator), actor=coordinator)


def team_accepted(*, case, attorney, interpreter, coordinator):
    from interpreters.models import TeamInterpreter
    from interpreters.services import team_accept, team_attest_no_conflict
    from matching.services import match_accept, match_attest_no_conflict

    match = team_offered(
        case=case, attorney=attorney, interpreter=interpreter, coordinator=coordinator
    )
    team = TeamInterpreter.objects.get(match=match)
    team_attest_no_conflict(assignment=team, user=interpreter.user)
    team_accept(assignment=team, user=interpreter.user)
    match_attest_no_conflict(match=match, user=attorney.user)
    return match_accept(match=match, user=attorney.user)


def matrix_objects(*, coordinator) -> dict:
    """For the permission matrix: an interpreter with an open team offer and a case where both
    the interpreter and the attorney accepted (attorneys of their own, not the matrix's)."""
    from interpreters.models import TeamInterpreter

    interpreter = interpreter_create(coordinator=coordinator, capacity=3)
    offered = team_offered(
        case=kiche_case(),
        attorney=spanish_attorney(),
        interpreter=interpreter,
        coordinator=coordinator,
    )
    accepted = team_accepted(
        case=kiche_case(),
        attorney=spanish_attorney(),
        interpreter=interpreter,
        coordinator=coordinator,
    )
    return {
        "interpreter": interpreter.user,
        "team_offer": TeamInterpreter.objects.get(match=offered),
        "team_case": TeamInterpreter.objects.get(match=accepted),
    }
