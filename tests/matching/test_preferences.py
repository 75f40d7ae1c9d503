"""The attorney's preferences in matching (issue 13): work mode, case types preferred and
excluded, detained cases, a monthly cap on offers. Scorer first (no database), then runs."""

from datetime import timedelta

import pytest
from django.utils import timezone
from hypothesis import given
from hypothesis import strategies as st

from matching.models import Match
from matching.pipeline.load import load_problem
from matching.pipeline.load.attorneys import offers_left_this_month
from matching.pipeline.run import matching_run
from matching.scoring import (
    AFFINITY_WEIGHTS,
    Constraint,
    affinity,
    eligibility,
    explain,
    haversine_miles,
)
from matching.selectors import match_sentences
from tests.factories import AttorneyFactory, CaseRequestFactory, MatchFactory
from tests.matching.test_scoring import NEW_YORK_COURT, a_cell, an_attorney
from volunteers.models import AttorneyProfile, WorkMode

# The attorney: 30 miles north of the New York court, radius 30 (0.4345 degrees ~ 30 mi).
THIRTY_MILES_NORTH = (NEW_YORK_COURT[0] + 30 / 69.05, NEW_YORK_COURT[1])


def in_person_only(**overrides):
    facts = {
        "latitude": THIRTY_MILES_NORTH[0] - 0.01,
        "longitude": THIRTY_MILES_NORTH[1],
        "travel_radius_miles": 30,
        "remote_ok": False,
        "practice_areas": {"asylum": 2, "bia-appeal": 1, "bond": 0},
    }
    return an_attorney(**{**facts, **overrides})


# ---------------------------------------------------------------------------------------------
# Scorer: hard constraints


@given(
    latitude=st.floats(18.0, 64.0),
    longitude=st.floats(-160.0, -66.0),
    remote_case=st.booleans(),
    detained=st.booleans(),
    case_type=st.sampled_from(["asylum", "bia-appeal", "bond"]),
    radius=st.integers(0, 3000),
)
def test_in_person_only_is_never_eligible_beyond_the_radius(
    latitude, longitude, remote_case, detained, case_type, radius
):
    attorney = in_person_only(travel_radius_miles=radius)
    cell = a_cell(
        court_latitude=latitude, court_longitude=longitude, remote_ok=remote_case,
        detained=detained, case_type=case_type,
    )  # fmt: skip
    miles = haversine_miles(attorney.latitude, attorney.longitude, latitude, longitude)
    if eligibility(attorney, cell).ok:
        assert miles <= radius
        assert not affinity(attorney, cell).remote
    elif miles > radius:
        assert eligibility(attorney, cell).failed == Constraint.DISTANCE


def test_remote_welcome_takes_a_remote_case_far_away_and_says_why():
    attorney = in_person_only(remote_ok=True)
    cell = a_cell(case_type="bia-appeal", remote_ok=True, court_latitude=34.05,
                  court_longitude=-118.24)  # fmt: skip
    assert eligibility(attorney, cell).ok
    parts = affinity(attorney, cell)
    assert parts.remote and parts.preference == 0
    assert explain(parts)[1].startswith("You said remote work is welcome: the court is 2,4")
    assert "beyond your 30-mile radius" in explain(parts)[1]


def test_an_excluded_case_type_is_never_eligible():
    attorney = an_attorney(excluded_types=frozenset({"asylum"}))
    assert eligibility(attorney, a_cell()).failed == Constraint.EXCLUDED_TYPE
    assert eligibility(attorney, a_cell(case_type="u-visa")).failed == Constraint.CASE_TYPE


def test_no_detained_cases_rules_out_detained_cells_only():
    attorney = an_attorney(detained_ok=False)
    assert eligibility(attorney, a_cell(detained=True)).failed == Constraint.DETAINED
    assert eligibility(attorney, a_cell(detained=False)).ok


def test_a_detained_case_explanation_names_the_preference():
    parts = affinity(an_attorney(), a_cell(detained=True))
    assert "You said you take detained cases: the client is in detention" in explain(parts)


# ---------------------------------------------------------------------------------------------
# Scorer: score terms


def test_a_preferred_case_type_earns_its_bonus_and_is_named():
    plain = affinity(an_attorney(), a_cell())
    preferred = affinity(an_attorney(preferred_types=frozenset({"asylum"})), a_cell())
    assert preferred.total - plain.total == AFFINITY_WEIGHTS.preferred_type
    assert preferred.preference == AFFINITY_WEIGHTS.preferred_type
    assert "You said you prefer asylum cases" in explain(preferred)


def test_remote_preferred_earns_the_bonus_only_when_handled_remotely():
    far = a_cell(remote_ok=True, court_latitude=34.05, court_longitude=-118.24)
    welcome = affinity(an_attorney(remote_ok=True), far)
    preferred = affinity(an_attorney(remote_ok=True, remote_preferred=True), far)
    assert preferred.total - welcome.total == AFFINITY_WEIGHTS.remote_preferred
    assert explain(preferred)[1].startswith("You said you prefer remote work: the court is")
    # Next to the court, proximity (300) beats remote + bonus (200): no bonus, in person.
    near = a_cell(remote_ok=True)
    close = an_attorney(remote_ok=True, remote_preferred=True, latitude=NEW_YORK_COURT[0])
    parts = affinity(close, near)
    assert not parts.remote and parts.preference == 0
    assert explain(parts)[1].startswith("In person within your 50-mile radius")


def test_in_person_within_the_radius_is_named():
    parts = affinity(in_person_only(), a_cell(), miles=29.4)
    assert explain(parts)[1] == (
        "You said in person near you only: the court is 29 miles away, within your 30-mile radius"
    )


# ---------------------------------------------------------------------------------------------
# Runs (database)


def _set_mode(attorney, mode: WorkMode) -> None:
    remote_ok, remote_preferred = mode.flags
    AttorneyProfile.objects.filter(pk=attorney.pk).update(
        remote_ok=remote_ok, remote_preferred=remote_preferred
    )


@pytest.mark.django_db
def test_a_run_never_offers_an_in_person_attorney_a_case_beyond_the_radius():
    """The issue's scenario: 30 miles from the New York court, in person only, Spanish asylum
    and BIA appeals; remote BIA appeals in Los Angeles and Houston wait beside New York cases."""
    attorney = AttorneyFactory(
        capacity=5, latitude=f"{THIRTY_MILES_NORTH[0] - 0.01:.5f}", longitude="-74.00600",
        travel_radius_miles=30, practice_areas=["asylum", "bia-appeal"],
    )  # fmt: skip
    _set_mode(attorney, WorkMode.IN_PERSON)
    far = [
        CaseRequestFactory(case_type_id="bia-appeal", remote_ok=True, priority=990,
                           court=_court(code)) for code in ("los-angeles", "houston")
    ]  # fmt: skip
    near = [CaseRequestFactory(priority=100) for _ in range(2)]
    run = matching_run(trigger="test")
    proposed = Match.objects.filter(run=run, attorney=attorney)
    assert set(proposed.values_list("case_id", flat=True)) == {c.pk for c in near}
    assert not Match.objects.filter(case__in=far).exists()
    for match in proposed:
        assert match.breakdown["affinity"]["miles"] <= 30
        words = match_sentences(match.breakdown)
        assert any(s.startswith("You said in person near you only") for s in words)


@pytest.mark.django_db
def test_a_run_offers_remote_work_to_an_attorney_who_welcomes_it_and_says_so():
    attorney = AttorneyFactory(capacity=1, practice_areas=["bia-appeal"])
    _set_mode(attorney, WorkMode.REMOTE_WELCOME)
    case = CaseRequestFactory(case_type_id="bia-appeal", remote_ok=True, court=_court("houston"))
    matching_run(trigger="test")
    match = Match.objects.get(case=case, attorney=attorney)
    assert any(s.startswith("You said remote work is welcome") for s in
               match_sentences(match.breakdown))  # fmt: skip


@pytest.mark.django_db
def test_a_run_skips_excluded_types_and_detained_cases_when_refused():
    picky = AttorneyFactory(capacity=5, practice_areas=["asylum", "bond"])
    picky.excluded_types.add("bond")
    AttorneyProfile.objects.filter(pk=picky.pk).update(detained_ok=False)
    bond = CaseRequestFactory(case_type_id="bond", detained=True, priority=900)
    detained = CaseRequestFactory(detained=True, priority=800)
    free = CaseRequestFactory(priority=10)
    matching_run(trigger="test")
    assert set(Match.objects.filter(attorney=picky).values_list("case_id", flat=True)) == {free.pk}
    assert not Match.objects.filter(case__in=[bond, detained]).exists()


@pytest.mark.django_db
def test_a_run_prefers_the_attorney_who_prefers_the_type():
    plain = AttorneyFactory(capacity=1)
    keen = AttorneyFactory(capacity=1)
    keen.preferred_types.add("asylum")
    case = CaseRequestFactory()
    matching_run(trigger="test")
    match = Match.objects.get(case=case)
    assert match.attorney_id == keen.pk != plain.pk
    assert match.breakdown["affinity"]["preference"] == AFFINITY_WEIGHTS.preferred_type
    words = match_sentences(match.breakdown)
    assert "You said you prefer Asylum / withholding / CAT cases" in words


@pytest.mark.django_db
def test_the_monthly_cap_limits_new_offers_in_the_attorneys_own_month():
    attorney = AttorneyFactory(capacity=5)
    AttorneyProfile.objects.filter(pk=attorney.pk).update(monthly_offer_cap=2)
    MatchFactory(
        attorney=attorney, status=Match.Status.DECLINED, decline_reason="no_capacity"
    )  # made this month: counts
    last_month = MatchFactory(
        attorney=attorney, status=Match.Status.DECLINED, decline_reason="no_capacity"
    )
    start = timezone.localtime(timezone.now()).replace(day=1, hour=0, minute=0)
    Match.objects.filter(pk=last_month.pk).update(created_at=start - timedelta(days=3))
    assert offers_left_this_month([attorney.pk], now=timezone.now()) == {attorney.pk: 1}
    for _ in range(3):
        CaseRequestFactory()
    problem = load_problem()
    assert problem.attorneys.free.tolist() == [1]
    run = matching_run(trigger="test")
    assert Match.objects.filter(run=run, attorney=attorney).count() == 1


@pytest.mark.django_db
def test_an_attorney_at_their_monthly_cap_is_not_loaded():
    attorney = AttorneyFactory(capacity=5)
    AttorneyProfile.objects.filter(pk=attorney.pk).update(monthly_offer_cap=1)
    MatchFactory(attorney=attorney, status=Match.Status.DECLINED, decline_reason="no_capacity")
    CaseRequestFactory()
    assert len(load_problem().attorneys) == 0


@pytest.mark.django_db
def test_next_best_attorneys_honours_the_preferences():
    from matching.selectors import next_best_attorneys

    excluded = AttorneyFactory()
    excluded.excluded_types.add("asylum")
    keen = AttorneyFactory()
    keen.preferred_types.add("asylum")
    plain = AttorneyFactory()
    case = CaseRequestFactory()
    ranked = next_best_attorneys(case=case)
    assert [c.attorney.pk for c in ranked] == [keen.pk, plain.pk]
    assert ranked[0].affinity - ranked[1].affinity == AFFINITY_WEIGHTS.preferred_type


def _court(code):
    from cases.models import ImmigrationCourt

    return ImmigrationCourt.objects.get(code=code)


@pytest.mark.django_db
def test_the_offer_page_names_the_preference_that_allowed_the_case(client, coord):
    from django.urls import reverse

    from matching.services import match_approve, match_offer

    attorney = AttorneyFactory(capacity=1, practice_areas=["bia-appeal"])
    _set_mode(attorney, WorkMode.REMOTE_PREFERRED)
    attorney.preferred_types.add("bia-appeal")
    CaseRequestFactory(case_type_id="bia-appeal", remote_ok=True, court=_court("houston"))
    matching_run(trigger="test")
    match = Match.objects.get(attorney=attorney)
    match = match_offer(match=match_approve(match=match, actor=coord), actor=coord)
    client.force_login(attorney.user)
    html = client.get(reverse("volunteers:offer", args=[match.pk])).content.decode()
    assert "You said you prefer remote work: the court is 1,4" in html
    assert "and the case can be handled remotely" in html
    assert "You said you prefer BIA appeal cases" in html
