"""Pair scoring: hard constraints, affinity, explanations and distances. No database."""

import dataclasses

import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from matching.scoring import (
    AFFINITY_WEIGHTS,
    AffinityWeights,
    AttorneyFacts,
    CellFacts,
    Constraint,
    affinity,
    distance_matrix_miles,
    eligibility,
    explain,
    haversine_miles,
    weights_table,
)

NEW_YORK_COURT = (40.7128, -74.0060)
LOS_ANGELES = (34.0522, -118.2437)
# About 0.145 degrees of latitude north of the court is ~10 miles.
TEN_MILES_NORTH = (40.7128 + 10 / 69.05, -74.0060)


def an_attorney(**overrides) -> AttorneyFacts:
    """Ana: verified, available, native Spanish, 8 asylum cases, ten miles from the NYC court."""
    facts = {
        "id": 1,
        "languages": {"spa": 4, "eng": 4},
        "practice_areas": {"asylum": 8},
        "years_experience": 10,
        "latitude": TEN_MILES_NORTH[0],
        "longitude": TEN_MILES_NORTH[1],
        "travel_radius_miles": 50,
        "remote_ok": False,
        "verified": True,
        "available": True,
        "free_capacity": 2,
    }
    return AttorneyFacts(**{**facts, **overrides})


def a_cell(**overrides) -> CellFacts:
    """A non-detained Spanish asylum case at the New York City court, in person only."""
    facts = {
        "language": "spa",
        "relay_language": None,
        "case_type": "asylum",
        "court_id": 7,
        "court_latitude": NEW_YORK_COURT[0],
        "court_longitude": NEW_YORK_COURT[1],
        "detained": False,
        "remote_ok": False,
    }
    return CellFacts(**{**facts, **overrides})


def far_away(**overrides) -> AttorneyFacts:
    return an_attorney(latitude=LOS_ANGELES[0], longitude=LOS_ANGELES[1], **overrides)


# ---------------------------------------------------------------------------------------------
# Hard constraints


def test_it_accepts_a_pair_that_meets_every_constraint():
    result = eligibility(an_attorney(), a_cell())
    assert result.ok
    assert result.failed is None


def test_it_rejects_attorney_without_a_shared_language():
    result = eligibility(an_attorney(languages={"eng": 4, "fra": 3}), a_cell())
    assert result.failed == Constraint.LANGUAGE == "language"


def test_it_rejects_attorney_without_the_case_type_in_practice_areas():
    result = eligibility(an_attorney(practice_areas={"u_visa": 3}), a_cell())
    assert result.failed == "case_type"


def test_it_rejects_attorney_beyond_travel_radius():
    result = eligibility(an_attorney(travel_radius_miles=5), a_cell())
    assert result.failed == "distance"


def test_it_rejects_unverified_attorney():
    assert eligibility(an_attorney(verified=False), a_cell()).failed == "not_verified"


def test_it_rejects_paused_attorney():
    assert eligibility(an_attorney(available=False), a_cell()).failed == "unavailable"


def test_it_rejects_attorney_at_capacity():
    assert eligibility(an_attorney(free_capacity=0), a_cell()).failed == "no_capacity"


def test_it_accepts_attorney_exactly_at_the_travel_radius():
    assert eligibility(an_attorney(travel_radius_miles=10), a_cell(), miles=10.0).ok


def test_it_reports_attorney_wide_failures_before_pair_failures():
    nothing_fits = an_attorney(verified=False, languages={}, practice_areas={})
    assert eligibility(nothing_fits, a_cell()).failed == "not_verified"


def test_a_remote_case_is_accepted_beyond_the_radius_when_the_attorney_works_remotely():
    assert eligibility(far_away(remote_ok=True), a_cell(remote_ok=True)).ok


def test_a_remote_case_is_rejected_beyond_the_radius_when_the_attorney_does_not():
    assert eligibility(far_away(remote_ok=False), a_cell(remote_ok=True)).failed == "distance"


def test_a_remote_attorney_is_rejected_beyond_the_radius_for_an_in_person_case():
    assert eligibility(far_away(remote_ok=True), a_cell(remote_ok=False)).failed == "distance"


def test_a_relay_language_is_accepted_when_the_cell_allows_relay():
    mam_case = a_cell(language="mam", relay_language="spa")
    assert eligibility(an_attorney(), mam_case).ok


def test_a_relay_language_is_rejected_when_the_cell_does_not_allow_relay():
    mam_case = a_cell(language="mam", relay_language=None)
    assert eligibility(an_attorney(), mam_case).failed == "language"


def test_another_language_the_person_speaks_is_a_direct_route():
    kiche_who_speaks_spanish = a_cell(language="quc", other_languages=("spa",))
    assert eligibility(an_attorney(languages={"spa": 4}), kiche_who_speaks_spanish).ok
    assert eligibility(an_attorney(languages={"fra": 4}), kiche_who_speaks_spanish).failed == (
        "language"
    )


def test_other_languages_waive_neither_case_type_nor_distance():
    kiche_who_speaks_spanish = a_cell(language="quc", other_languages=("spa",))
    bond_only = an_attorney(practice_areas={"bond": 3})
    assert eligibility(bond_only, kiche_who_speaks_spanish).failed == "case_type"
    assert eligibility(far_away(remote_ok=True), kiche_who_speaks_spanish).failed == "distance"


def test_it_uses_a_precomputed_distance_when_given():
    assert eligibility(an_attorney(travel_radius_miles=50), a_cell(), miles=51.0).failed == (
        "distance"
    )


def test_a_cell_is_its_own_key():
    assert a_cell() == a_cell()
    assert len({a_cell(), a_cell(), a_cell(detained=True), a_cell(court_id=8)}) == 3


def test_a_cell_key_ignores_how_its_languages_were_listed():
    kiche = a_cell(language="quc", other_languages=("spa", "quc", "fra", "spa"))
    assert kiche.other_languages == ("fra", "spa")
    # A relay to a language the person speaks is never used, so it does not split the cell.
    assert a_cell(language="quc", other_languages=("spa",), relay_language="spa") == a_cell(
        language="quc", other_languages=("spa",)
    )
    assert a_cell(language="mam", relay_language="mam").relay_language is None
    assert a_cell(language="mam", relay_language="spa").relay_language == "spa"


# ---------------------------------------------------------------------------------------------
# Affinity: documented example and orderings


def test_affinity_of_the_documented_example():
    # Native Spanish (4 x 100), ~10 miles (300 * 25 / 35 = 214), 8 asylum cases
    # (250 * 8 // 13 = 153) plus 10 years (50).
    result = affinity(an_attorney(), a_cell(), miles=10.0)
    assert (result.language, result.distance, result.experience) == (400, 214, 203)
    assert result.total == 817
    assert result.as_dict()["total"] == 817
    assert result.as_dict()["language_code"] == "spa"


def test_native_scores_higher_than_conversational():
    native = affinity(an_attorney(languages={"spa": 4}), a_cell())
    conversational = affinity(an_attorney(languages={"spa": 1}), a_cell())
    assert native.total > conversational.total


def test_direct_language_scores_higher_than_the_same_level_through_a_relay():
    direct = affinity(
        an_attorney(languages={"mam": 3}), a_cell(language="mam", relay_language="spa")
    )
    relay = affinity(
        an_attorney(languages={"spa": 3}), a_cell(language="mam", relay_language="spa")
    )
    assert direct.language > relay.language
    assert relay.via_relay and relay.relay_for == "mam"


def test_it_uses_the_better_route_when_the_attorney_speaks_both_languages():
    some_mam_native_spanish = an_attorney(languages={"mam": 1, "spa": 4})
    result = affinity(some_mam_native_spanish, a_cell(language="mam", relay_language="spa"))
    assert (result.language_code, result.via_relay) == ("spa", True)


def test_it_speaks_to_the_client_directly_in_another_language_they_speak():
    result = affinity(an_attorney(), a_cell(language="quc", other_languages=("spa",)), miles=10)
    assert (result.language_code, result.via_relay, result.relay_for) == ("spa", False, None)
    assert result.language == 400  # no relay discount
    names = {"spa": "Spanish", "quc": "K'iche'"}.get
    assert explain(result, language_name=names)[0] == "Speaks Spanish natively"


def test_the_best_of_several_routes_wins():
    cell = a_cell(language="mam", other_languages=("fra", "spa"), relay_language="spa")
    native_spanish = affinity(an_attorney(languages={"fra": 2, "spa": 4}), cell)
    assert (native_spanish.language_code, native_spanish.via_relay) == ("spa", False)
    fluent_french = affinity(an_attorney(languages={"mam": 1, "fra": 3}), cell)
    assert (fluent_french.language_code, fluent_french.language) == ("fra", 300)
    # At equal points the client's main language comes first, then the other languages.
    equal = affinity(an_attorney(languages={"mam": 3, "fra": 3, "spa": 3}), cell)
    assert equal.language_code == "mam"


def test_a_relay_is_used_only_where_it_beats_the_other_languages():
    cell = a_cell(language="mam", other_languages=("fra",), relay_language="spa")
    relay = affinity(an_attorney(languages={"fra": 1, "spa": 4}), cell)
    assert (relay.language_code, relay.via_relay, relay.language) == ("spa", True, 200)
    direct = affinity(an_attorney(languages={"fra": 2, "spa": 4}), cell)
    assert (direct.language_code, direct.via_relay) == ("fra", False)  # 200 direct = 200 relay


def test_closer_scores_higher_than_farther():
    assert (
        affinity(an_attorney(), a_cell(), miles=5).total
        > affinity(an_attorney(), a_cell(), miles=40).total
    )


def test_remote_handling_gets_the_fixed_middling_value():
    result = affinity(far_away(remote_ok=True), a_cell(remote_ok=True))
    assert result.remote
    assert result.distance == AFFINITY_WEIGHTS.remote


def test_a_nearby_attorney_keeps_proximity_points_on_a_remote_case():
    result = affinity(an_attorney(remote_ok=True), a_cell(remote_ok=True), miles=2)
    assert not result.remote
    assert result.distance > AFFINITY_WEIGHTS.remote


@given(
    st.floats(min_value=0, max_value=3000),
    st.floats(min_value=0, max_value=3000),
    st.booleans(),
)
def test_closer_never_scores_lower(first, second, remote):
    nearer, farther = sorted((first, second))
    attorney, cell = an_attorney(remote_ok=remote), a_cell(remote_ok=remote)
    assert (
        affinity(attorney, cell, miles=nearer).total
        >= affinity(attorney, cell, miles=farther).total
    )


@given(
    st.integers(min_value=0, max_value=500),
    st.integers(min_value=0, max_value=500),
    st.integers(min_value=0, max_value=60),
)
def test_more_experience_never_scores_lower(first, second, years):
    fewer, more = sorted((first, second))

    def total(cases):
        attorney = an_attorney(practice_areas={"asylum": cases}, years_experience=years)
        return affinity(attorney, a_cell()).total

    assert total(more) >= total(fewer)


def test_experience_has_diminishing_returns():
    def experience(cases):
        return affinity(an_attorney(practice_areas={"asylum": cases}), a_cell()).experience

    assert experience(5) - experience(0) > experience(10) - experience(5) > 0
    assert experience(10_000) <= AFFINITY_WEIGHTS.experience_max + AFFINITY_WEIGHTS.years_max


# ---------------------------------------------------------------------------------------------
# Affinity: properties over random eligible pairs

_codes = st.sampled_from(["spa", "mam", "eng", "hat"])
_case_types = st.sampled_from(["asylum", "bia_appeal", "bond"])
_lat = st.floats(min_value=-60, max_value=70)
_lon = st.floats(min_value=-180, max_value=180)


@st.composite
def pairs(draw):
    cell = CellFacts(
        language=draw(_codes),
        other_languages=tuple(sorted(draw(st.sets(_codes, max_size=2)))),
        relay_language=draw(st.one_of(st.none(), _codes)),
        case_type=draw(_case_types),
        court_id=draw(st.integers(1, 70)),
        court_latitude=draw(_lat),
        court_longitude=draw(_lon),
        detained=draw(st.booleans()),
        remote_ok=draw(st.booleans()),
    )
    attorney = AttorneyFacts(
        id=draw(st.integers(1, 10_000)),
        languages=draw(st.dictionaries(_codes, st.integers(1, 4), min_size=1)),
        practice_areas=draw(st.dictionaries(_case_types, st.integers(0, 300), min_size=1)),
        years_experience=draw(st.integers(0, 60)),
        latitude=draw(_lat),
        longitude=draw(_lon),
        travel_radius_miles=draw(st.integers(0, 13_000)),
        remote_ok=draw(st.booleans()),
        verified=True,
        available=True,
        free_capacity=draw(st.integers(1, 10)),
    )
    return attorney, cell


@st.composite
def eligible_pairs(draw):
    """Pairs built to pass every hard constraint, so no draw is thrown away."""
    attorney, cell = draw(pairs())
    level = draw(st.integers(1, 4))
    attorney = dataclasses.replace(
        attorney,
        languages={**attorney.languages, cell.language: level},
        practice_areas={**attorney.practice_areas, cell.case_type: draw(st.integers(0, 300))},
        travel_radius_miles=13_000,  # farther than any two points on Earth
    )
    return attorney, cell


@given(eligible_pairs())
def test_affinity_is_positive_and_bounded_for_every_eligible_pair(pair):
    attorney, cell = pair
    assume(eligibility(attorney, cell).ok)
    result = affinity(attorney, cell)
    assert 1 <= result.total <= AFFINITY_WEIGHTS.max_total <= 1100  # 1000 + a preferred type
    assert all(isinstance(part, int) for part in (result.language, result.distance))


@given(pairs())
def test_eligibility_and_affinity_agree_on_the_shared_language(pair):
    attorney, cell = pair
    shares = eligibility(attorney, cell).failed != Constraint.LANGUAGE
    assert shares == (affinity(attorney, cell).language_code is not None)


def test_weights_table_lists_every_weight_with_its_meaning():
    rows = weights_table()
    assert [name for name, _, _ in rows] == [f.name for f in dataclasses.fields(AFFINITY_WEIGHTS)]
    assert ("remote", 100, "Distance points when the case can be handled remotely") in rows
    assert AFFINITY_WEIGHTS.max_total == 1100  # 1000 before the preference bonuses


@pytest.mark.parametrize(
    "bad",
    [{"distance_half_miles": 0}, {"relay_percent": 150}, {"language_per_level": 1}, {"remote": -1}],
)
def test_it_refuses_weights_that_break_the_guarantees(bad):
    with pytest.raises(ValueError):
        AffinityWeights(**bad)


# ---------------------------------------------------------------------------------------------
# Explanations


def test_it_explains_a_match_in_plain_english():
    names = {"spa": "Spanish", "asylum": "asylum"}
    result = affinity(an_attorney(), a_cell(), miles=12.3)
    assert explain(result, language_name=names.get, case_type_name=names.get) == [
        "Speaks Spanish natively",
        "You said in person near you only: the court is 12 miles away, within your 50-mile radius",
        "Has handled 8 asylum cases",
        "In practice for 10 years",
    ]


def test_explain_shows_codes_without_a_lookup():
    assert explain(affinity(an_attorney(), a_cell()))[0] == "Speaks spa natively"


def test_it_explains_relay_remote_and_first_cases():
    names = {"spa": "Spanish", "mam": "Mam", "bia_appeal": "BIA appeal"}.get
    attorney = far_away(
        languages={"spa": 1}, practice_areas={"bia_appeal": 0}, remote_ok=True, years_experience=1
    )
    cell = a_cell(language="mam", relay_language="spa", case_type="bia_appeal", remote_ok=True)
    result = affinity(attorney, cell, miles=2445.2)
    assert explain(result, language_name=names, case_type_name=names) == [
        "Speaks Spanish conversationally, through a relay interpreter for Mam",
        "You said remote work is welcome: the court is 2,445 miles away, beyond your 50-mile "
        "radius, and the case can be handled remotely",
        "Has not handled a BIA appeal case yet",
        "In practice for 1 year",
    ]


def test_it_explains_short_distances():
    result = affinity(an_attorney(years_experience=0), a_cell(), miles=0.4)
    assert explain(result)[1:] == [
        "You said in person near you only: the court is less than a mile away, within your "
        "50-mile radius",
        "Has handled 8 asylum cases",
    ]


# ---------------------------------------------------------------------------------------------
# Distances


def test_haversine_new_york_to_los_angeles():
    assert haversine_miles(*NEW_YORK_COURT, *LOS_ANGELES) == pytest.approx(2445, abs=10)


def test_haversine_is_zero_for_the_same_point_and_safe_for_antipodes():
    assert haversine_miles(*NEW_YORK_COURT, *NEW_YORK_COURT) == 0
    assert haversine_miles(0, 0, 0, 180) == pytest.approx(np.pi * 3958.8)


@given(
    st.lists(st.tuples(_lat, _lon), min_size=1, max_size=6),
    st.lists(st.tuples(_lat, _lon), min_size=1, max_size=6),
)
def test_distance_matrix_matches_the_scalar_formula(attorneys, courts):
    matrix = distance_matrix_miles(
        [lat for lat, _ in attorneys],
        [lon for _, lon in attorneys],
        [lat for lat, _ in courts],
        [lon for _, lon in courts],
    )
    assert matrix.shape == (len(attorneys), len(courts))
    for i, (alat, alon) in enumerate(attorneys):
        for j, (clat, clon) in enumerate(courts):
            assert matrix[i, j] == pytest.approx(haversine_miles(alat, alon, clat, clon), abs=1e-6)


def test_distance_matrix_refuses_mismatched_inputs():
    with pytest.raises(ValueError):
        distance_matrix_miles([1.0, 2.0], [1.0], [0.0], [0.0])
