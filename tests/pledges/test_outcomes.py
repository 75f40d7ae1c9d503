"""Published case outcomes (issue 16): small-cell suppression, the wall, the open data.

Threshold 5: a count from 1 to 4 is null with suppressed: true, and so is any count a published
total would otherwise give back by subtraction (complementary suppression).
"""

import itertools

import pytest
from django.core.cache import cache
from django.urls import reverse
from django.utils import timezone
from hypothesis import given, settings
from hypothesis import strategies as st

from cases.models import CaseRequest
from matching.models import Match
from pledges.suppression import THRESHOLD, suppressed_cells
from tests.factories import (
    AttorneyFactory,
    CaseRequestFactory,
    MatchFactory,
    OrganizationFactory,
    PledgeFactory,
)
from volunteers.models import Organization

Outcome = CaseRequest.Outcome


def _recover(known: dict, equations) -> dict:
    """The attacker: solve every equation with one unknown, with what was published and what
    was recovered so far, until nothing more comes out. Equations are [total, *parts]."""
    known = dict(known)
    changed = True
    while changed:
        changed = False
        for total, *parts in equations:
            members = [total, *parts]
            unknown = [k for k in members if k not in known]
            if len(unknown) != 1:
                continue
            (key,) = unknown
            if key == total:
                known[key] = sum(known[p] for p in parts)
            else:
                known[key] = known[total] - sum(known[p] for p in parts if p != key)
            changed = True
    return known


# The pure rule


def test_small_counts_are_withheld_and_zero_and_five_are_shown():
    counts = {"a": 0, "b": 1, "c": 4, "d": 5, "e": 40}
    assert suppressed_cells(counts, []) == {"b", "c"}


def test_a_lone_small_cell_takes_a_second_cell_of_its_row_with_it():
    counts = {"total": 12, "a": 3, "b": 9}
    withheld = suppressed_cells(counts, [["total", "a", "b"]])
    assert withheld == {"a", "b"}
    published = {k: v for k, v in counts.items() if k not in withheld}
    assert "a" not in _recover(published, [["total", "a", "b"]])


def test_the_complement_is_the_smallest_count_shown():
    counts = {"total": 120, "a": 2, "b": 100, "c": 7, "d": 11}
    assert suppressed_cells(counts, [["total", "a", "b", "c", "d"]]) == {"a", "c"}


def test_a_row_of_one_hides_its_total():
    counts = {"total": 3, "a": 3}
    assert suppressed_cells(counts, [["total", "a"]]) == {"total", "a"}


def test_hidden_members_count_as_withheld():
    """Organizations not on the wall are never published: one small organization on the wall
    is safe when an unpublished one shares its kind's total."""
    counts = {"kind": 20, "org1": 2, "org2": 18}
    assert suppressed_cells(counts, [["kind", "org1", "org2"]], hidden={"org2"}) == {
        "org1",
        "org2",
    }


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.lists(st.integers(min_value=0, max_value=12), min_size=1, max_size=5),
        min_size=1,
        max_size=5,
    ).filter(lambda rows: len({len(r) for r in rows}) == 1)
)
def test_no_small_cell_of_any_table_is_recovered_by_subtraction(rows):
    """A table with row, column and grand totals: whatever the counts, no cell from 1 to 4 can
    be worked out from what is published, however the equations are chained."""
    n_rows, n_cols = len(rows), len(rows[0])
    counts = {("c", r, c): rows[r][c] for r in range(n_rows) for c in range(n_cols)}
    counts |= {("r", r): sum(rows[r]) for r in range(n_rows)}
    counts |= {("k", c): sum(row[c] for row in rows) for c in range(n_cols)}
    counts[("all",)] = sum(map(sum, rows))
    equations = [[("r", r), *(("c", r, c) for c in range(n_cols))] for r in range(n_rows)]
    equations += [[("k", c), *(("c", r, c) for r in range(n_rows))] for c in range(n_cols)]
    equations.append([("all",), *(("r", r) for r in range(n_rows))])
    equations.append([("all",), *(("k", c) for c in range(n_cols))])
    withheld = suppressed_cells(counts, equations)
    published = {k: v for k, v in counts.items() if k not in withheld}
    recovered = _recover(published, equations)
    small = {k for k, v in counts.items() if 0 < v < THRESHOLD}
    assert small <= withheld
    assert not small & recovered.keys()


# The wall and the open data


def _closed(attorney, outcome, relief=""):
    case = CaseRequestFactory(
        status=CaseRequest.Status.CLOSED,
        outcome=outcome,
        relief_type=relief,
        outcome_date=timezone.localdate(),
    )
    return MatchFactory(case=case, attorney=attorney, status=Match.Status.COMPLETED)


@pytest.fixture
def outcomes_world(db):
    """A law firm on the wall with 6 asylum grants, 2 removals and 5 terminations; a nonprofit on
    the wall with 1 termination; an attorney with no organization with 5 voluntary departures."""
    cache.clear()
    firm = OrganizationFactory(kind=Organization.Kind.LAW_FIRM, name="Big Firm LLP")
    nonprofit = OrganizationFactory(kind=Organization.Kind.NONPROFIT, name="Small Nonprofit")
    PledgeFactory(organization=firm)
    PledgeFactory(organization=nonprofit)
    firm_attorneys = [AttorneyFactory(organization=firm) for _ in range(2)]
    for attorney, _ in zip(itertools.cycle(firm_attorneys), range(6), strict=False):
        _closed(attorney, Outcome.RELIEF_GRANTED, CaseRequest.Relief.ASYLUM)
    for _ in range(2):
        _closed(firm_attorneys[0], Outcome.REMOVAL_ORDERED)
    for _ in range(5):
        _closed(firm_attorneys[1], Outcome.TERMINATION)
    _closed(AttorneyFactory(organization=nonprofit), Outcome.TERMINATION)
    loner = AttorneyFactory()
    for _ in range(5):
        _closed(loner, Outcome.VOLUNTARY_DEPARTURE)
    return {"firm": firm, "nonprofit": nonprofit}


def test_open_data_publishes_outcome_counts_with_small_cells_null(client, outcomes_world):
    data = client.get(reverse("pledges:totals_json")).json()["outcomes"]
    assert data["suppression"]["threshold"] == 5
    firm = data["by_organization_kind"]["law_firm"]
    assert firm["outcomes"]["relief_granted"] == {"count": 6, "suppressed": False}
    assert firm["closed"] == {"count": 13, "suppressed": False}
    hidden = {"count": None, "suppressed": True}
    assert firm["outcomes"]["removal_ordered"] == hidden  # 2: below the threshold
    # 5 terminations, hidden too: else 13 - 6 - 5 would give the 2 removals back.
    assert firm["outcomes"]["termination"] == hidden
    nonprofit = data["by_organization_kind"]["nonprofit"]
    assert nonprofit["outcomes"]["termination"] == hidden
    assert nonprofit["closed"] == hidden
    assert data["totals"]["outcomes"]["termination"] == {"count": 6, "suppressed": False}
    assert data["relief_granted_by_type"]["asylum"] == {"count": 6, "suppressed": False}
    assert data["relief_granted_by_type"]["sijs"] == {"count": 0, "suppressed": False}
    assert set(data["totals"]) == {"closed", "outcomes"}


def test_open_data_gives_no_small_cell_back_by_subtraction(client, outcomes_world):
    data = client.get(reverse("pledges:totals_json")).json()["outcomes"]
    kinds, outcomes = list(data["by_organization_kind"]), list(data["outcome_labels"])
    published, hidden = {}, set()

    def take(key, cell):
        if cell["suppressed"]:
            hidden.add(key)
        else:
            published[key] = cell["count"]

    for kind, row in data["by_organization_kind"].items():
        take(("kind", kind), row["closed"])
        for outcome, cell in row["outcomes"].items():
            take((kind, outcome), cell)
    for outcome, cell in data["totals"]["outcomes"].items():
        take(("outcome", outcome), cell)
    take(("all",), data["totals"]["closed"])
    for relief, cell in data["relief_granted_by_type"].items():
        take(("relief", relief), cell)
    equations = [[("kind", k), *((k, o) for o in outcomes)] for k in kinds]
    equations += [[("outcome", o), *((k, o) for k in kinds)] for o in outcomes]
    equations.append([("all",), *(("outcome", o) for o in outcomes)])
    equations.append([("all",), *(("kind", k) for k in kinds)])
    equations.append(
        [("outcome", "relief_granted"), *(("relief", r) for r in data["relief_granted_by_type"])]
    )
    recovered = _recover(published, equations)
    for key in hidden:
        assert key not in recovered, key
    assert ("law_firm", "removal_ordered") in hidden and ("nonprofit", "termination") in hidden


def test_the_json_names_no_person_or_case(client, outcomes_world):
    body = client.get(reverse("pledges:totals_json")).content.decode()
    for case in CaseRequest.objects.all():
        assert case.reference not in body and case.respondent_name not in body


def test_the_wall_shows_outcomes_next_to_placements(client, outcomes_world):
    page = client.get(reverse("pledges:wall")).content.decode()
    assert 'data-section="outcomes"' in page
    assert "What came of the placements" in page
    assert "Relief granted" in page and "Asylum" in page
    # The firm's 13 closed cases are shown; the nonprofit's single one is not.
    assert "Cases closed: 13" in page
    assert 'Cases closed: <span aria-hidden="true">\N{EN DASH}</span>' in page


def test_placements_still_count_cases_that_closed(client, outcomes_world):
    """A closed case was a placement: the wall's placed count keeps it."""
    data = client.get(reverse("pledges:totals_json")).json()
    assert data["by_organization_kind"]["law_firm"]["label"]
    page = client.get(reverse("pledges:wall")).content.decode()
    assert 'data-progress="13"' in page
