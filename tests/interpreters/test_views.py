"""Interpreter pages: joining, the profile, and a team offer in stages (SEC-15): no identifier
before the conflict check, and the full record to neither member before both accepted."""

import pytest
from django.test import Client
from django.urls import reverse

from core.models import DomainEvent
from interpreters.models import InterpreterProfile, TeamInterpreter
from interpreters.services import team_accept, team_attest_no_conflict
from matching.services import match_accept, match_attest_no_conflict
from tests.factories import UserFactory
from tests.interpreters.people import (
    interpreter_create,
    kiche_case,
    spanish_attorney,
    team_offered,
)
from tests.volunteers.offers import identifiers_in

pytestmark = pytest.mark.django_db
PAYLOAD = '"><script>alert(1)</script>'


@pytest.fixture
def team(coord):
    interpreter = interpreter_create(coordinator=coord)
    match = team_offered(
        case=kiche_case(), attorney=spanish_attorney(), interpreter=interpreter, coordinator=coord
    )
    return match, TeamInterpreter.objects.get(match=match)


def _get(client, user, name, pk):
    client.force_login(user)
    return client.get(reverse(name, args=[pk]))


def test_joining_leads_a_new_account_to_the_interpreter_profile(client):
    assert client.get(reverse("interpreters:join")).status_code == 200
    user = UserFactory()
    client.force_login(user)
    response = client.get(reverse("volunteers:dashboard"))
    assert response.url == reverse("interpreters:dashboard")
    assert client.get(response.url).url == reverse("interpreters:profile")


def test_an_interpreter_saves_a_profile_with_two_languages(client):
    user = UserFactory()
    client.force_login(user)
    data = {
        "first_name": "Ixchel",
        "last_name": "Tzul",
        "home_zip": "90012",
        "travel_radius_miles": "30",
        "remote_ok": "on",
        "capacity": "2",
        "lang-TOTAL_FORMS": "2",
        "lang-INITIAL_FORMS": "0",
        "lang-0-language": "quc",
        "lang-0-proficiency": "4",
        "lang-1-language": "spa",
        "lang-1-proficiency": "4",
    }
    response = client.post(reverse("interpreters:profile"), data)
    assert response.status_code == 302
    profile = InterpreterProfile.objects.get(user=user)
    assert profile.verification == "pending"
    assert sorted(profile.language_skills.values_list("language_id", flat=True)) == ["quc", "spa"]


def test_a_bad_profile_is_a_form_error_and_writes_nothing(client):
    client.force_login(UserFactory())
    data = {
        "first_name": "A",
        "last_name": "B",
        "home_zip": "99999",
        "travel_radius_miles": "5",
        "capacity": "2",
        "lang-TOTAL_FORMS": "2",
        "lang-INITIAL_FORMS": "0",
        "lang-0-language": "quc",
        "lang-0-proficiency": "4",
        "lang-1-language": "spa",
        "lang-1-proficiency": "4",
    }
    response = client.post(reverse("interpreters:profile"), data)
    assert response.status_code == 200
    assert "not a known US ZIP code" in response.content.decode()
    assert not InterpreterProfile.objects.exists()


# (page, identifier kinds allowed) at each stage, for the interpreter
STAGES = {
    "offer": ("interpreters:offer", set()),
    "parties": ("interpreters:offer_parties", {"name"}),
}


@pytest.mark.parametrize("stage", list(STAGES))
def test_each_offer_stage_discloses_exactly_its_identifiers(client, team, stage):  # SEC-15
    match, assignment = team
    name, allowed = STAGES[stage]
    response = _get(client, assignment.interpreter.user, name, assignment.pk)
    assert response.status_code == 200
    assert set(identifiers_in(response.content.decode(), match.case)) == allowed
    dashboard = _get(client, assignment.interpreter.user, "interpreters:offer", assignment.pk)
    assert match.case.reference in dashboard.content.decode()


def test_the_record_opens_to_neither_before_both_accepted(client, team):  # SEC-15
    match, assignment = team
    interpreter = assignment.interpreter.user
    team_attest_no_conflict(assignment=assignment, user=interpreter)
    team_accept(assignment=assignment, user=interpreter)
    # The interpreter accepted, the attorney not yet: no record for either.
    assert _get(client, interpreter, "interpreters:case", assignment.pk).status_code == 404
    assert _get(client, match.attorney.user, "volunteers:case", match.pk).status_code == 404
    waiting = _get(client, interpreter, "interpreters:offer", assignment.pk).content.decode()
    assert "Waiting for the attorney" in waiting and identifiers_in(waiting, match.case) == {}
    match_attest_no_conflict(match=match, user=match.attorney.user)
    match_accept(match=match, user=match.attorney.user)
    record = _get(client, interpreter, "interpreters:case", assignment.pk)
    assert set(identifiers_in(record.content.decode(), match.case)) == {
        "name",
        "a_number",
        "contact",
    }


def test_the_attorneys_offer_names_the_team_and_waits_for_the_interpreter(client, team):
    match, _assignment = team
    page = _get(client, match.attorney.user, "volunteers:offer", match.pk).content.decode()
    assert "You can accept once the interpreter has accepted" in page
    assert identifiers_in(page, match.case) == {}
    client.post(reverse("volunteers:offer_attest", args=[match.pk]))
    response = client.post(reverse("volunteers:offer_accept", args=[match.pk]), follow=True)
    assert "has not accepted yet" in response.content.decode()
    assert match.__class__.objects.get(pk=match.pk).status == "offered"


@pytest.mark.parametrize("who", ["attorney", "other_interpreter", "outsider"])
def test_only_the_teams_interpreter_reaches_its_pages(client, team, coord, att_b, who):
    match, assignment = team
    user = {
        "attorney": match.attorney.user,
        "outsider": att_b.user,
        "other_interpreter": interpreter_create(coordinator=coord).user,
    }[who]
    for name in ("interpreters:offer", "interpreters:offer_parties", "interpreters:case"):
        assert _get(client, user, name, assignment.pk).status_code == 404
    assert (
        client.post(reverse("interpreters:offer_attest", args=[assignment.pk])).status_code == 404
    )
    assert TeamInterpreter.objects.get(pk=assignment.pk).conflict_attested_at is None


def test_an_interpreter_no_longer_verified_reaches_none_of_the_teams_pages(client, team):
    # SEC-11: no case data for anyone not verified, even on a team they were offered.
    _match, assignment = team
    InterpreterProfile.objects.filter(pk=assignment.interpreter_id).update(verification="pending")
    for name in ("interpreters:offer", "interpreters:offer_parties", "interpreters:case"):
        assert _get(client, assignment.interpreter.user, name, assignment.pk).status_code == 404
    assert (
        client.post(reverse("interpreters:offer_attest", args=[assignment.pk])).status_code == 404
    )
    assert TeamInterpreter.objects.get(pk=assignment.pk).conflict_attested_at is None


@pytest.mark.parametrize(
    "name", ["interpreters:offer_attest", "interpreters:offer_accept", "interpreters:offer_decline"]
)
def test_state_changes_refuse_a_post_without_csrf(team, name):  # SEC-16
    _match, assignment = team
    client = Client(enforce_csrf_checks=True)
    client.force_login(assignment.interpreter.user)
    before = DomainEvent.objects.count()
    assert client.post(reverse(name, args=[assignment.pk])).status_code == 403
    assert DomainEvent.objects.count() == before
    assert TeamInterpreter.objects.get(pk=assignment.pk).status == "active"


def test_the_interpreters_name_is_escaped_on_the_attorneys_offer(client, coord):  # SEC-20
    interpreter = interpreter_create(coordinator=coord)
    interpreter.user.first_name = PAYLOAD
    interpreter.user.save()
    match = team_offered(
        case=kiche_case(), attorney=spanish_attorney(), interpreter=interpreter, coordinator=coord
    )
    page = _get(client, match.attorney.user, "volunteers:offer", match.pk).content.decode()
    assert "<script>alert(1)" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_the_need_dashboard_shows_where_interpreters_are_missing(client, coord):
    kiche_case()
    client.force_login(coord)
    page = client.get(reverse("admin:dashboard") + "?refresh=1").content.decode()
    assert "Interpreters: the missing piece" in page
    assert "K&#x27;iche&#x27;" in page or "K'iche'" in page


def test_the_gaps_name_a_language_no_attorney_speaks_and_leave_out_bridges(coord):
    from interpreters.selectors import interpreter_gaps

    kiche_case(), kiche_case()
    interpreter_create(coordinator=coord, skills=(("quc", 4), ("spa", 4)))
    spanish_attorney()
    gaps = {gap.code: gap for gap in interpreter_gaps()}
    assert "spa" not in gaps
    assert (gaps["quc"].open_cases, gaps["quc"].attorneys, gaps["quc"].interpreters) == (2, 0, 1)
    assert gaps["quc"].interpreters_missing


def test_an_interpreters_profile_link_leads_to_their_own_profile(client, coord):
    client.force_login(interpreter_create(coordinator=coord).user)
    assert client.get(reverse("volunteers:profile")).url == reverse("interpreters:profile")
