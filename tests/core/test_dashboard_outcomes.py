"""Outcomes next to placements on the need dashboard (issue 16): exact counts for coordinators,
by kind of organization and by organization, each table also as a formula-safe CSV."""

import csv
import io

import pytest
from django.core.cache import cache
from django.urls import reverse
from django.utils import timezone

from cases.models import CaseRequest
from core.dashboard import _figures_key
from matching.models import Match
from tests.factories import AttorneyFactory, CaseRequestFactory, MatchFactory, OrganizationFactory
from volunteers.models import Organization

pytestmark = pytest.mark.django_db

URL = reverse("admin:dashboard")


@pytest.fixture(autouse=True)
def no_cached_figures():
    cache.delete(_figures_key())
    yield
    cache.delete(_figures_key())


@pytest.fixture
def placements():
    """A law school: 2 placed, 1 closed with asylum granted; a firm named like a formula: 1
    placed, closed with removal ordered; an attorney with no organization: 1 placed, open."""
    school = OrganizationFactory(kind=Organization.Kind.LAW_SCHOOL, name="State Law Clinic")
    firm = OrganizationFactory(kind=Organization.Kind.LAW_FIRM, name="=SUM(A1:A9)")
    student = AttorneyFactory(organization=school)
    MatchFactory(attorney=student, status=Match.Status.ACCEPTED)
    _closed(student, CaseRequest.Outcome.RELIEF_GRANTED, "asylum")
    _closed(AttorneyFactory(organization=firm), CaseRequest.Outcome.REMOVAL_ORDERED)
    MatchFactory(attorney=AttorneyFactory(), status=Match.Status.ACCEPTED)
    return school, firm


def _closed(attorney, outcome, relief=""):
    case = CaseRequestFactory(
        status="closed", outcome=outcome, relief_type=relief, outcome_date=timezone.localdate()
    )
    MatchFactory(case=case, attorney=attorney, status=Match.Status.COMPLETED)


def test_the_dashboard_shows_outcomes_by_kind_and_organization(client, coord, placements):
    client.force_login(coord)
    response = client.get(URL)
    by_kind = {row[0]: row[1:] for row in response.context["outcomes_by_kind"]}
    # placed, closed, then relief granted, termination, VD, removal, admin closed, ...
    assert by_kind["Law school"][:3] == [2, 1, 1]
    assert by_kind["Law firm"][:2] == [1, 1] and by_kind["Law firm"][5] == 1
    assert by_kind["No organization"][:2] == [1, 0]
    by_org = {row[0]: row[1:] for row in response.context["outcomes_by_organization"]}
    assert by_org["State Law Clinic"][:4] == ["Law school", 2, 1, 1]
    page = response.content.decode()
    assert "Placements and outcomes by kind of organization" in page
    assert 'data-table="outcomes-by-organization"' in page


def test_the_outcome_csv_is_formula_safe(client, coord, placements):
    client.force_login(coord)
    response = client.get(URL, {"export": "outcomes_by_organization"})
    assert response.status_code == 200
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows[0][:4] == ["organization", "kind", "placed", "closed"]
    assert "'=SUM(A1:A9)" in {row[0] for row in rows[1:]}
    kinds = client.get(URL, {"export": "outcomes_by_organization_kind"}).content.decode()
    assert "relief granted" in kinds.splitlines()[0]


def test_plain_staff_cannot_export_outcomes(client, staff_plain, placements):
    client.force_login(staff_plain)
    assert client.get(URL, {"export": "outcomes_by_organization"}).status_code == 403
