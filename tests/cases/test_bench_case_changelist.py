import re

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command

from cases.management.commands.bench_case_changelist import MARK, USERNAME
from cases.models import CaseRequest

pytestmark = pytest.mark.django_db


def test_it_times_every_page_as_a_coordinator_and_cleans_up(capsys):
    """Each page answered 200 (a 302 to the TOTP set-up, as for staff without an authenticator,
    stops the command), with a median and a query count, and --cleanup leaves nothing behind."""
    call_command("bench_case_changelist", "--rows", "60", "--repeat", "1", "--cleanup")
    out = capsys.readouterr().out
    assert "60 case requests" in out
    for label in ("default", "filtered", "search by reference", "page 100"):
        assert re.search(rf"{label}: median \d+ ms, p90 \d+ ms, queries \[\d+\]", out), out
    assert "Removed 60 benchmark rows." in out
    assert not CaseRequest.objects.filter(summary=MARK).exists()
    assert not get_user_model().objects.filter(username=USERNAME).exists()
