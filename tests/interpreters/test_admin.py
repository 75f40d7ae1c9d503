"""The team list's "Search again for an interpreter": a coordinator asks for a new search for
teams left without one; each search is a task after commit (ids only) that runs the decline's
own search (team_search_again); teams that have an interpreter, or whose match ended, are
skipped and counted."""

import re

import pytest
from django.contrib.auth.models import Permission
from django.contrib.messages import get_messages
from django.urls import reverse

from cases.models import Language
from core.models import DomainEvent
from interpreters import tasks
from interpreters.models import InterpreterProfile, TeamInterpreter
from interpreters.services import InterpreterError, team_decline, team_search_again
from matching.models import Match
from matching.services import match_reject
from tests.conftest import _with_totp
from tests.factories import UserFactory
from tests.interpreters.people import (
    interpreter_create,
    kiche_case,
    spanish_attorney,
    team_offered,
)

pytestmark = pytest.mark.django_db

CHANGELIST = reverse("admin:interpreters_teaminterpreter_changelist")
ACTION = "search_again_selected"


def _unfilled(coord, email: str) -> TeamInterpreter:
    """An offered K'iche' team whose only interpreter declined with nobody free to replace them
    (its after-commit notice is not run here); returns the declined assignment."""
    first = interpreter_create(coordinator=coord, email=email, capacity=1)
    match = team_offered(
        case=kiche_case(), attorney=spanish_attorney(), interpreter=first, coordinator=coord
    )
    assignment = TeamInterpreter.objects.get(match=match)
    return team_decline(assignment=assignment, user=first.user)


@pytest.fixture
def unfilled(coord):
    return _unfilled(coord, "first@example.org")


def _act(client, rows, capture, *, execute=False):
    data = {"action": ACTION, "_selected_action": [row.pk for row in rows]}
    with capture(execute=execute) as callbacks:
        response = client.post(CHANGELIST, data)
    return response, callbacks


def _messages(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


def _live(match_id: int) -> TeamInterpreter | None:
    live = TeamInterpreter.LIVE_STATUSES
    return TeamInterpreter.objects.filter(match_id=match_id, status__in=live).first()


def test_a_coordinator_queues_a_search_that_finds_a_newly_free_interpreter(
    client, coord, unfilled, django_capture_on_commit_callbacks, celery_eager, mailoutbox
):
    second = interpreter_create(coordinator=coord, email="second@example.org")
    client.force_login(coord)
    response, _ = _act(client, [unfilled], django_capture_on_commit_callbacks, execute=True)
    assert response.status_code == 302
    assert _messages(response) == ["Interpreter search queued for 1 team."]
    found = _live(unfilled.match_id)
    assert found is not None and (found.interpreter, found.status) == (second, "active")
    assert found.bridge_language_id == unfilled.bridge_language_id
    assert InterpreterProfile.objects.get(pk=second.pk).active_assignments == 1
    event = DomainEvent.objects.get(verb="interpreter.search_again")
    expected = {"match": unfilled.match_id, "case": unfilled.match.case_id}
    assert (event.actor_id, event.data) == (coord.pk, expected)
    assert mailoutbox == []  # the team is whole again: nobody to alarm


def test_the_task_gets_ids_only(client, coord, unfilled, django_capture_on_commit_callbacks):
    client.force_login(coord)
    _, callbacks = _act(client, [unfilled], django_capture_on_commit_callbacks)
    (queued,) = callbacks
    assert (queued.func, queued.args) == (tasks.search_again.delay, (unfilled.match_id, coord.pk))


def test_teams_with_an_interpreter_or_an_ended_match_are_skipped_and_counted(
    client, coord, unfilled, django_capture_on_commit_callbacks
):
    whole = TeamInterpreter.objects.get(match=team_offered(
        case=kiche_case(), attorney=spanish_attorney(), coordinator=coord,
        interpreter=interpreter_create(coordinator=coord, email="busy@example.org"),
    ))  # fmt: skip
    ended = _unfilled(coord, "gone@example.org")
    match_reject(match=Match.objects.get(pk=ended.match_id), actor=coord, reason="Moved away.")
    client.force_login(coord)
    rows = [unfilled, whole, ended]
    response, callbacks = _act(client, rows, django_capture_on_commit_callbacks)
    assert _messages(response) == [
        "Interpreter search queued for 1 team; 2 skipped (an interpreter is on the team, or the "
        "attorney's match is no longer open)."
    ]
    assert [c.args[0] for c in callbacks] == [unfilled.match_id]


def test_nothing_to_search_is_a_warning_and_queues_nothing(
    client, coord, django_capture_on_commit_callbacks
):
    whole = TeamInterpreter.objects.get(match=team_offered(
        case=kiche_case(), attorney=spanish_attorney(), coordinator=coord,
        interpreter=interpreter_create(coordinator=coord),
    ))  # fmt: skip
    client.force_login(coord)
    response, callbacks = _act(client, [whole], django_capture_on_commit_callbacks)
    (message,) = get_messages(response.wsgi_request)
    assert message.level_tag == "warning"
    assert str(message).startswith("Interpreter search queued for 0 teams; 1 skipped")
    assert callbacks == []


def test_staff_without_the_coordinator_permission_are_refused(
    client, coord, unfilled, django_capture_on_commit_callbacks
):
    clerk = _with_totp(UserFactory(username="clerk@example.org", is_staff=True))
    codenames = ["view_teaminterpreter", "change_teaminterpreter"]
    clerk.user_permissions.add(*Permission.objects.filter(codename__in=codenames))
    client.force_login(clerk)
    response, callbacks = _act(client, [unfilled], django_capture_on_commit_callbacks)
    assert response.status_code == 403
    assert callbacks == []


def test_the_team_run_is_refused_to_staff_without_the_permission(client, staff_plain):
    client.force_login(staff_plain)
    before = DomainEvent.objects.count()
    assert client.post(reverse("admin:interpreters_teaminterpreter_run")).status_code == 403
    assert DomainEvent.objects.count() == before  # no run recorded


def test_the_filter_lists_teams_without_an_interpreter(client, coord, unfilled):
    team_offered(case=kiche_case(), attorney=spanish_attorney(), coordinator=coord,
                 interpreter=interpreter_create(coordinator=coord))  # fmt: skip
    client.force_login(coord)
    response = client.get(CHANGELIST, {"team": "unfilled"})
    assert [row.pk for row in response.context["cl"].result_list] == [unfilled.pk]


# The service the task calls


def test_a_search_with_nobody_free_leaves_the_team_unfilled_and_mails_no_one_twice(
    coord, unfilled, django_capture_on_commit_callbacks, celery_eager, mailoutbox
):
    with django_capture_on_commit_callbacks(execute=True):
        assert team_search_again(match_id=unfilled.match_id, actor=coord) is None
    assert len(mailoutbox) == 2  # the coordinators and the attorney, told once
    with django_capture_on_commit_callbacks(execute=True):
        assert team_search_again(match_id=unfilled.match_id, actor=coord) is None
    assert len(mailoutbox) == 2
    assert _live(unfilled.match_id) is None


def test_a_second_search_does_nothing_once_the_team_has_an_interpreter(coord, unfilled):
    interpreter_create(coordinator=coord, email="second@example.org")
    third = interpreter_create(coordinator=coord, email="third@example.org")
    found = team_search_again(match_id=unfilled.match_id, actor=coord)
    assert found is not None
    assert team_search_again(match_id=unfilled.match_id, actor=coord) is None
    assert TeamInterpreter.objects.filter(match_id=unfilled.match_id).count() == 2
    assert InterpreterProfile.objects.get(pk=third.pk).active_assignments == 0


def test_the_declined_interpreter_is_never_asked_again(coord, unfilled):
    InterpreterProfile.objects.filter(pk=unfilled.interpreter_id).update(capacity=3)
    assert team_search_again(match_id=unfilled.match_id, actor=coord) is None


def test_the_service_refuses_an_actor_who_is_not_a_coordinator(coord, unfilled):
    with pytest.raises(InterpreterError) as refused:
        team_search_again(match_id=unfilled.match_id, actor=UserFactory())
    assert refused.value.code == "not_permitted"
    assert _live(unfilled.match_id) is None


@pytest.mark.parametrize("model", ["interpreterprofile", "teaminterpreter"])
def test_the_interpreter_lists_answer_show_counts_without_failing(client, coord, model):
    # SEC-17: "Show counts" (?_facets) counted every language of the 7,000-row filter in one
    # query, past PostgreSQL's 1,664 columns: a 500.
    client.force_login(coord)
    response = client.get(reverse(f"admin:interpreters_{model}_changelist"), {"_facets": "1"})
    assert response.status_code == 200


@pytest.mark.parametrize("model", ["interpreterprofile", "teaminterpreter"])
def test_the_language_filters_offer_the_languages_interpreters_have(client, coord, model):
    """Not a link for each of the ~7,000 reference languages: only those of the list's rows."""
    for bridge in ("spa", "eng"):
        interpreter = interpreter_create(
            coordinator=coord, skills=(("quc", 4), (bridge, 4)), email=f"{bridge}@example.org"
        )
        match = team_offered(case=kiche_case(), attorney=spanish_attorney(),
                             interpreter=interpreter, coordinator=coord)  # fmt: skip
        TeamInterpreter.objects.filter(match=match).update(bridge_language_id=bridge)
    client.force_login(coord)
    response = client.get(reverse(f"admin:interpreters_{model}_changelist"))
    assert response.status_code == 200
    page = response.content.decode()
    offered = set(re.findall(r"language__code__exact=([a-z]{3})\b", page))
    assert offered == ({"quc", "spa", "eng"} if model == "interpreterprofile" else {"spa", "eng"})
    assert Language.objects.count() > 7000
    assert len(page) < 200_000
