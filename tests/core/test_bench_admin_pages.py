import json

import pytest
from django.core.management import call_command

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
