from io import StringIO

import pytest
from django.core.management import call_command

from interpreters.models import InterpreterProfile, TeamInterpreter

pytestmark = pytest.mark.django_db
SMALL = {"attorneys": 60, "cases": 400, "organizations": 4, "pledges": 2}


def test_seed_demo_adds_verified_interpreters_and_their_teams_once():
    out = StringIO()
    call_command("seed_demo", stdout=out, **SMALL)
    assert InterpreterProfile.objects.filter(verification="verified").count() == 6
    teams = TeamInterpreter.objects.count()
    assert teams > 0 and "interpreter teams added" in out.getvalue()
    call_command("seed_demo", stdout=StringIO(), **SMALL)
    assert InterpreterProfile.objects.count() == 6
    assert TeamInterpreter.objects.count() == teams
