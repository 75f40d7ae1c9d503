"""The coordinators' need dashboard: figures, CSV exports, access, and a constant query count."""

import csv
import io
import re
from datetime import timedelta

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from cases.models import CaseRequest
from config.celery import app
from core.dashboard import FIGURES_REFRESH_SECONDS, FIGURES_TTL, _figures_key
from core.models import DomainEvent
from core.tasks import refresh_need_dashboard
from matching.models import Match
from matching.services import match_propose
from tests.factories import AttorneyFactory, CaseRequestFactory

pytestmark = pytest.mark.django_db

URL = reverse("admin:dashboard")


@pytest.fixture(autouse=True)
def no_cached_figures():
    """Figures are cached per database name: a previous test's must not show through."""
    cache.delete(_figures_key())
    yield
    cache.delete(_figures_key())


def _world(open_cases: int) -> None:
    for i in range(open_cases):
        CaseRequestFactory(language_id="spa" if i % 3 else "por")
    match_propose(
        case=CaseRequestFactory(), attorney=AttorneyFactory(), score=500, breakdown={"x": 1}
    )


def test_a_coordinator_sees_the_dashboard(client, coord):
    _world(5)
    client.force_login(coord)
    response = client.get(URL)
    assert response.status_code == 200
    figures = response.context["figures"]
    assert figures.status_counts == {"open": 5, "matched": 1}
    assert figures.heat_languages[0] == "Spanish"
    assert sum(map(sum, figures.heat)) == 5
    page = response.content.decode().split('<div class="dashboard">', 1)[1]
    assert '<svg class="bars"' in page
    assert "<script" not in page and "style=" not in page  # nothing inline under the CSP


def test_the_case_counts_say_matched_is_not_yet_represented(client, coord):
    """The "matched" count includes a run's unreviewed proposals: the page must not let it be
    read as placements (the home page's public figure is "represented")."""
    _world(2)
    client.force_login(coord)
    page = client.get(URL).content.decode()
    heads = re.search(r"<h2>Cases</h2>\s*<table>\s*<thead><tr>(.*?)</tr>", page).group(1)
    assert re.findall(r"<th>(.*?)</th>", heads) == [
        "open (no match)",
        "matched (proposed, approved or offered; not yet accepted)",
        "represented (attorney accepted)",
    ]
    assert "Matches made per week" in page and "most are proposals, not placements" in page


def test_plain_staff_are_refused(client, staff_plain):
    client.force_login(staff_plain)
    assert client.get(URL).status_code == 403


def test_an_anonymous_visitor_is_sent_to_the_admin_login(client):
    response = client.get(URL)
    assert response.status_code == 302
    assert response.url.startswith(reverse("admin:login"))


def test_every_table_exports_to_csv_and_each_export_is_logged(client, coord):
    _world(3)
    client.force_login(coord)
    names = client.get(URL).context["exports"]
    for name in names:
        response = client.get(URL, {"export": name})
        assert response["Content-Type"].startswith("text/csv")
        rows = list(csv.reader(io.StringIO(response.content.decode())))
        assert rows and rows[0], name
    exported = DomainEvent.objects.filter(verb="dashboard.exported", actor=coord)
    assert exported.count() == len(names)


def test_an_unknown_export_is_a_404(client, coord):
    client.force_login(coord)
    assert client.get(URL, {"export": "nope"}).status_code == 404


def test_the_median_time_to_answer_is_in_hours(client, coord):
    _world(0)
    match = Match.objects.get()
    now = timezone.now()
    Match.objects.filter(pk=match.pk).update(offered_at=now - timedelta(hours=10), responded_at=now)
    client.force_login(coord)
    assert client.get(URL).context["figures"].median_hours_to_answer == 10.0


def _queries(client, coord, cases: int) -> int:
    _world(cases)
    client.force_login(coord)
    client.get(URL)
    with CaptureQueriesContext(connection) as queries:
        assert client.get(URL).status_code == 200
    return len(queries)


def test_the_dashboard_uses_a_constant_number_of_queries(client, coord):
    few = _queries(client, coord, 5)
    many = _queries(client, coord, 45)
    assert many == few
    assert many <= 18  # session, user, permissions, then 9 for the figures


def _figure_queries(client, coord, cases: int) -> int:
    _world(cases)
    client.force_login(coord)
    client.get(URL)
    with CaptureQueriesContext(connection) as queries:
        assert client.get(URL, {"refresh": 1}).status_code == 200
    return len(queries)


def test_recomputing_the_figures_uses_a_constant_number_of_queries(client, coord):
    few = _figure_queries(client, coord, 5)
    many = _figure_queries(client, coord, 45)
    # session, user, permissions, then 14 for the figures (3 public, 2 placements and outcomes),
    # 7 for the interpreter gaps
    assert many == few <= 30


def test_cached_figures_cost_no_figure_queries(client, coord):
    _world(5)
    client.force_login(coord)
    client.get(URL)
    with CaptureQueriesContext(connection) as queries:
        response = client.get(URL)
    assert response.context["figures"].status_counts == {"open": 5, "matched": 1}
    assert not any("cases_caserequest" in q["sql"] for q in queries.captured_queries)


def test_the_figures_come_from_the_last_background_refresh(client, coord):
    _world(2)
    client.force_login(coord)
    assert client.get(URL).context["figures"].status_counts == {"open": 2, "matched": 1}
    CaseRequest.objects.filter(status="open").update(status="closed")
    response = client.get(URL)
    assert response.context["figures"].status_counts == {"open": 2, "matched": 1}
    assert "recomputed every 2 minutes" in response.content.decode()

    refresh_need_dashboard.apply()  # what the beat schedule runs

    assert client.get(URL).context["figures"].status_counts == {"closed": 2, "matched": 1}
    CaseRequest.objects.update(status="open")
    refreshed = client.get(URL, {"refresh": 1}).context["figures"].status_counts
    assert refreshed == {"open": 3}


def test_the_beat_schedule_refreshes_the_figures_well_within_their_lifetime():
    entry = app.conf.beat_schedule["need-dashboard-refresh"]
    assert entry["task"] == refresh_need_dashboard.name
    assert entry["schedule"] == FIGURES_REFRESH_SECONDS < FIGURES_TTL
