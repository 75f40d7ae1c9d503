import json

import pytest
from django.core.management import call_command

from matching.services import match_propose
from tests.factories import AttorneyFactory, CaseRequestFactory

pytestmark = pytest.mark.django_db


def test_bench_admin_pages_prints_medians_and_query_counts(capsys):
    call_command("bench_admin_pages", "--repeat", "2", "--json")
    figures = json.loads(capsys.readouterr().out)
    assert figures["repeat"] == 2
    assert set(figures["pages"]) == {"match changelist", "case changelist", "dashboard"}
    for page in figures["pages"].values():
        assert page["median_ms"] > 0 and page["queries"]


def test_bench_admin_pages_plain_output(capsys):
    call_command("bench_admin_pages", "--repeat", "1")
    out = capsys.readouterr().out
    assert "dashboard: median" in out and "queries" in out


def test_bench_admin_pages_times_the_detail_of_the_most_urgent_proposal(capsys):
    low = match_propose(
        case=CaseRequestFactory(priority=100), attorney=AttorneyFactory(), score=400, breakdown={}
    )
    urgent = match_propose(
        case=CaseRequestFactory(priority=900), attorney=AttorneyFactory(), score=900, breakdown={}
    )
    call_command("bench_admin_pages", "--repeat", "1", "--json")
    pages = json.loads(capsys.readouterr().out)["pages"]
    assert pages["match detail"]["url"] == f"/admin/matching/match/{urgent.pk}/change/"
    assert pages["match detail"]["queries"] and low.pk != urgent.pk
