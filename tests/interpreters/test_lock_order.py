"""Interpreter services lock rows in matching's order (attorney, match, case, then the team
assignment, then the interpreter), so a team run or an interpreter's answer can never deadlock
with an attorney's decline, which reaches the interpreter last (matching.followups.team_end)."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from interpreters.models import InterpreterProfile, TeamInterpreter
from interpreters.services import team_decline, team_run
from matching.models import Match
from matching.services import match_approve, match_decline, match_offer
from tests.interpreters.people import interpreter_create, kiche_case, spanish_attorney
from volunteers.models import AttorneyProfile

pytestmark = pytest.mark.django_db

PROFILE = InterpreterProfile._meta.db_table
ASSIGNMENT = TeamInterpreter._meta.db_table
ATTORNEY = AttorneyProfile._meta.db_table


def _locked_tables(queries) -> list[str]:
    """The tables of the SELECT ... FOR UPDATE statements, in the order they ran."""
    order = []
    for query in queries:
        sql = query["sql"]
        if "FOR UPDATE" in sql:
            table = sql.split(" FROM ", 1)[1].split()[0].strip('"')
            order.append(table)
    return order


def _offered_team(coord):
    kiche_case(), spanish_attorney(), interpreter_create(coordinator=coord)
    team_run()
    match = Match.objects.get()
    match = match_offer(match=match_approve(match=match, actor=coord), actor=coord)
    return match, TeamInterpreter.objects.get(match=match)


@pytest.mark.skipif(connection.vendor != "postgresql", reason="SQLite takes no row locks")
def test_a_team_run_locks_no_interpreter_up_front(coord):
    kiche_case(), spanish_attorney(), interpreter_create(coordinator=coord)
    with CaptureQueriesContext(connection) as run:
        assert team_run().teams == 1
    assert PROFILE not in _locked_tables(run.captured_queries)
    assert any("pg_advisory_xact_lock" in q["sql"] for q in run.captured_queries)


@pytest.mark.skipif(connection.vendor != "postgresql", reason="SQLite takes no row locks")
def test_the_interpreters_decline_locks_in_the_global_order(coord):
    """It may put a replacement on the attorney's match, so it locks as matching does."""
    _match, team = _offered_team(coord)
    interpreter_create(coordinator=coord)  # the replacement
    with CaptureQueriesContext(connection) as answer:
        team_decline(assignment=team, user=team.interpreter.user)
    locked = _locked_tables(answer.captured_queries)
    assert locked[:3] == [ATTORNEY, Match._meta.db_table, ASSIGNMENT]
    assert PROFILE not in locked[: locked.index(ASSIGNMENT)]
    assert TeamInterpreter.objects.filter(match=_match, status="active").count() == 1


@pytest.mark.skipif(connection.vendor != "postgresql", reason="SQLite takes no row locks")
def test_the_attorneys_decline_reaches_the_interpreter_last(coord):
    match, team = _offered_team(coord)
    with CaptureQueriesContext(connection) as answer:
        match_decline(match=match, user=match.attorney.user, reason="distance")
    locked = _locked_tables(answer.captured_queries)
    assert locked.index(ASSIGNMENT) > locked.index(Match._meta.db_table)
    assert TeamInterpreter.objects.get(pk=team.pk).status == "withdrawn"
    assert InterpreterProfile.objects.get(pk=team.interpreter_id).active_assignments == 0
