"""CSV exports of the case, match, attorney and pledge changelists (SEC-24)."""

import csv
import io

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from core.exports import csv_safe
from core.models import DomainEvent
from core.roles import identifier_viewers_group_sync
from tests.factories import AttorneyFactory, CaseRequestFactory, MatchFactory, PledgeFactory

pytestmark = pytest.mark.django_db

CASES = reverse("admin:cases_caserequest_changelist")
ATTORNEYS = reverse("admin:volunteers_attorneyprofile_changelist")
PLEDGES = reverse("admin:pledges_pledge_changelist")
MATCHES = reverse("admin:matching_match_changelist")


def _export(client, url, objects=(), select_across=False, **filters):
    data = {"action": "export_selected", ACTION_CHECKBOX_NAME: [o.pk for o in objects]}
    if select_across:
        data["select_across"] = "1"
    query = "?" + "&".join(f"{k}={v}" for k, v in filters.items()) if filters else ""
    return client.post(url + query, data)


def _rows(response) -> list[list[str]]:
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert response.streaming  # rows are streamed, not built in memory
    return list(csv.reader(io.StringIO(response.getvalue().decode())))


def _event() -> DomainEvent:
    (event,) = DomainEvent.objects.filter(verb="admin.exported")
    return event


def test_case_export_without_the_permission_has_no_identifiers(client, coord):
    cases = [CaseRequestFactory(), CaseRequestFactory()]
    client.force_login(coord)
    rows = _rows(_export(client, CASES, cases))
    assert rows[0][:3] == ["reference", "status", "language"]
    assert "respondent name" not in rows[0] and "A-number" not in rows[0]
    assert sorted(r[0] for r in rows[1:]) == sorted(c.reference for c in cases)
    content = "\n".join(",".join(r) for r in rows)
    assert cases[0].respondent_name not in content and cases[0].a_number not in content
    event = _event()
    assert event.actor == coord
    assert event.data == {"model": "caserequest", "rows": 2, "identifiers": False}


def test_case_export_with_the_permission_includes_identifiers(client, coord):
    coord.groups.add(identifier_viewers_group_sync())
    case = CaseRequestFactory()
    client.force_login(coord)
    rows = _rows(_export(client, CASES, [case]))
    assert rows[0][:3] == ["respondent name", "A-number", "reference"]
    assert rows[1][:3] == [case.respondent_name, case.a_number, case.reference]
    assert _event().data == {"model": "caserequest", "rows": 1, "identifiers": True}
    # The event says what was exported, never the data itself.
    assert case.respondent_name not in str(_event().data)


def test_case_export_covers_the_filtered_changelist(client, coord):
    detained = CaseRequestFactory(detained=True)
    CaseRequestFactory(detained=False)
    client.force_login(coord)
    rows = _rows(_export(client, CASES, [detained], select_across=True, detained__exact=1))
    assert [r[0] for r in rows[1:]] == [detained.reference]
    assert _event().data["rows"] == 1


def test_an_export_over_the_limit_is_refused_with_a_message(client, coord, monkeypatch):
    monkeypatch.setattr("core.exports.EXPORT_LIMIT", 2)
    cases = CaseRequestFactory.create_batch(3)
    client.force_login(coord)
    response = _export(client, CASES, cases, select_across=True)
    assert response.status_code == 302
    follow = client.get(response.url)
    assert "More than 2 rows selected" in follow.content.decode()
    assert not DomainEvent.objects.filter(verb="admin.exported").exists()


def test_export_neutralises_spreadsheet_formulas(client, coord):
    pledge = PledgeFactory(contact_name="=HYPERLINK(1)")
    client.force_login(coord)
    rows = _rows(_export(client, PLEDGES, [pledge]))
    assert rows[1][2] == "'=HYPERLINK(1)"
    assert csv_safe(["-1", "@x", "+", "ok", 3]) == ["'-1", "'@x", "'+", "ok", 3]


def test_export_neutralises_a_formula_behind_a_tab_or_a_carriage_return(client, coord):
    pledges = [PledgeFactory(contact_name="\t=HYPERLINK(1)"), PledgeFactory(contact_name="\r=1+1")]
    client.force_login(coord)
    rows = _rows(_export(client, PLEDGES, pledges))
    assert sorted(row[2] for row in rows[1:]) == ["'\t=HYPERLINK(1)", "'\r=1+1"]


def test_attorney_export(client, coord):
    attorney = AttorneyFactory(eoir_id="AB123")
    client.force_login(coord)
    rows = _rows(_export(client, ATTORNEYS, [attorney]))
    assert rows[0][:3] == ["id", "name", "email"]
    assert rows[1][0] == str(attorney.pk) and rows[1][2] == attorney.user.email
    assert rows[1][4] == "AB123"
    event = _event()
    assert event.data == {"model": "attorneyprofile", "rows": 1, "identifiers": False}


def test_pledge_export(client, coord):
    pledges = [PledgeFactory(), PledgeFactory()]
    client.force_login(coord)
    rows = _rows(_export(client, PLEDGES, pledges))
    assert rows[0][:4] == ["id", "organization", "contact name", "contact email"]
    assert [r[0] for r in rows[1:]] == [str(p.pk) for p in pledges]
    assert rows[1][1] == pledges[0].organization.name
    assert _event().data == {"model": "pledge", "rows": 2, "identifiers": False}


def test_match_export_uses_the_shared_writer(client, coord):
    match = MatchFactory()
    client.force_login(coord)
    rows = _rows(_export(client, MATCHES, [match], status="all"))
    assert rows[0][0] == "match" and rows[1][0] == str(match.pk)
    assert _event().data == {"model": "match", "rows": 1, "identifiers": False}


@pytest.mark.parametrize("url", [CASES, ATTORNEYS, PLEDGES, MATCHES])
def test_staff_without_view_permission_are_refused(client, staff_plain, url):
    client.force_login(staff_plain)
    response = _export(client, url)
    assert response.status_code == 403
    assert not DomainEvent.objects.filter(verb="admin.exported").exists()


def _export_queries(client, url, objects) -> int:
    with CaptureQueriesContext(connection) as queries:
        _rows(_export(client, url, objects))
    return len(queries)


@pytest.mark.parametrize("url", [CASES, ATTORNEYS, PLEDGES, MATCHES])
def test_export_query_count_does_not_grow_with_rows(client, coord, url):
    coord.groups.add(identifier_viewers_group_sync())
    factory = {
        CASES: CaseRequestFactory,
        ATTORNEYS: AttorneyFactory,
        PLEDGES: PledgeFactory,
        MATCHES: MatchFactory,
    }[url]
    client.force_login(coord)
    few = _export_queries(client, url, [factory()])
    many = _export_queries(client, url, [factory() for _ in range(6)])
    assert many == few
