"""The changelist helpers for million-row tables: estimated counts and the cheap row checkbox."""

import pytest
from django.contrib import admin
from django.db import connection
from django.db.models.expressions import RawSQL
from django.test.html import parse_html
from django.test.utils import CaptureQueriesContext

from cases.models import CaseRequest
from core import admin_lists
from core.admin_lists import EstimatedCountPaginator, LargeTableAdminMixin, rows_serially
from tests.factories import CaseRequestFactory

pytestmark = pytest.mark.django_db


def _count(queryset) -> tuple[int, list[str]]:
    with CaptureQueriesContext(connection) as queries:
        count = EstimatedCountPaginator(queryset, 50).count
    return count, [q["sql"] for q in queries.captured_queries]


def test_a_small_result_is_counted_exactly():
    CaseRequestFactory.create_batch(4)
    count, _ = _count(CaseRequest.objects.order_by("pk"))
    assert count == 4


on_postgresql = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="planner estimates: PostgreSQL"
)


@on_postgresql
def test_a_count_an_index_serves_is_exact_however_large(monkeypatch):
    """The case type, court and outcome filters at scale: counted, not estimated."""
    monkeypatch.setattr(admin_lists, "EXACT_UP_TO", 3)
    CaseRequestFactory.create_batch(6)
    paginator = EstimatedCountPaginator(CaseRequest.objects.order_by("pk"), 50)
    assert (paginator.count, paginator.estimated) == (6, False)


@on_postgresql
def test_an_expensive_large_count_shows_the_planner_estimate(monkeypatch):
    monkeypatch.setattr(admin_lists, "EXACT_UP_TO", 3)
    monkeypatch.setattr(admin_lists, "CHEAP_COUNT_COST", -1)
    CaseRequestFactory.create_batch(6)
    count, sql = _count(CaseRequest.objects.order_by("pk"))
    assert count >= 4  # never below the rows it saw
    assert len(sql) == 2
    assert "LIMIT 4" in sql[0] and sql[1].startswith("EXPLAIN")


@on_postgresql
def test_the_last_page_of_an_estimate_shows_a_whole_page(monkeypatch):
    """Estimated at 4 rows, 3 a page: page 2 shows rows 4 to 6 (Django cut it at row 4)."""
    monkeypatch.setattr(admin_lists, "EXACT_UP_TO", 3)
    monkeypatch.setattr(admin_lists, "_count_plan", lambda queryset: (1e9, 4))
    cases = CaseRequestFactory.create_batch(7)
    paginator = EstimatedCountPaginator(CaseRequest.objects.order_by("pk"), 3)
    assert (paginator.count, paginator.num_pages, paginator.estimated) == (4, 2, True)
    assert [case.pk for case in paginator.page(2)] == [case.pk for case in cases[3:6]]


def test_the_row_checkbox_is_the_markup_django_renders():
    case = CaseRequestFactory()
    site_admin = admin.site._registry[CaseRequest]
    assert isinstance(site_admin, LargeTableAdminMixin)
    ours = parse_html(site_admin.action_checkbox(case))
    djangos = parse_html(admin.ModelAdmin.action_checkbox(site_admin, case))
    assert ours == djangos


def _parallel_setting() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_setting('max_parallel_workers_per_gather')")
        return cursor.fetchone()[0]


@pytest.mark.skipif(connection.vendor != "postgresql", reason="a PostgreSQL setting")
def test_a_page_is_read_without_parallel_workers_and_the_setting_comes_back():
    CaseRequestFactory.create_batch(2)
    before = _parallel_setting()
    during = RawSQL("current_setting('max_parallel_workers_per_gather')", [])
    rows = rows_serially(CaseRequest.objects.annotate(workers=during).order_by("pk"))
    assert [row.workers for row in rows] == ["0", "0"]
    assert _parallel_setting() == before != "0"  # the test's own transaction goes on as it was


def test_rows_serially_returns_the_rows_in_order():
    cases = CaseRequestFactory.create_batch(3)
    rows = rows_serially(CaseRequest.objects.order_by("-pk"))
    assert [row.pk for row in rows] == [case.pk for case in reversed(cases)]
