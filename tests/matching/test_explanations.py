"""A proposal's explanation is worded when it is viewed, from the facts the run stored (issue 15):
one rendering (matching.selectors.match_sentences) for the offer page, e-mails and the admin,
the same words a run used to store, and rows stored with their sentences still read as stored."""

import pytest
from django.urls import reverse

from matching.models import Match
from matching.pipeline.run import matching_run
from matching.scoring import AffinityBreakdown, affinity, breakdown_of
from matching.selectors import match_explanation, match_sentences
from matching.services import match_approve, match_offer, offer_email_context
from tests.factories import AttorneyFactory, CaseRequestFactory, MatchFactory
from tests.matching.test_scoring import a_cell, an_attorney
from volunteers.selectors import match_reasons

pytestmark = pytest.mark.django_db

# What a run stored before (the sentences beside partial facts): they are shown as stored.
STORED_BEFORE = {
    "affinity": {"language": 300, "distance": 140, "experience": 80, "total": 520},
    "priority": {"stored": 120, "total": 120},
    "explanation": ["Speaks Spanish fluently", "12 miles from the court"],
}


@pytest.fixture
def keen_run(db):
    """A run's proposal to an attorney who prefers asylum cases and welcomes remote work."""
    attorney = AttorneyFactory(capacity=1, languages={"spa": 4}, years_experience=6)
    attorney.preferred_types.add("asylum")
    case = CaseRequestFactory(language_id="spa", case_type_id="asylum", detained=True)
    matching_run(trigger="test")
    return Match.objects.select_related("case", "attorney__user").get(case=case)


def test_a_run_stores_the_facts_and_the_words_are_rendered_from_them(keen_run):
    breakdown = keen_run.breakdown
    assert "explanation" not in breakdown
    words = match_sentences(breakdown)
    assert words[0] == "Speaks Spanish natively"
    assert "In practice for 6 years" in words
    assert "You said you prefer Asylum / withholding / CAT cases" in words
    assert "You said you take detained cases: the client is in detention" in words


def test_every_view_shows_the_same_words(client, coord, keen_run):
    words = match_sentences(keen_run.breakdown)
    assert match_explanation(keen_run)["sentences"] == words
    assert match_reasons(breakdown=keen_run.breakdown) == tuple(words)

    client.force_login(coord)
    admin_page = client.get(reverse("admin:matching_match_change", args=[keen_run.pk]))
    match = match_offer(match=match_approve(match=keen_run, actor=coord), actor=coord)
    assert offer_email_context(match)["offer"].reasons == tuple(words)
    client.force_login(match.attorney.user)
    offer_page = client.get(reverse("volunteers:offer", args=[match.pk]))
    for page in (admin_page, offer_page):
        assert page.status_code == 200
        for sentence in words:
            assert sentence in page.content.decode()


def test_rows_stored_with_their_sentences_show_them_as_stored():
    assert match_sentences(STORED_BEFORE) == STORED_BEFORE["explanation"]
    assert match_reasons(breakdown=STORED_BEFORE) == tuple(STORED_BEFORE["explanation"])


@pytest.mark.parametrize(
    "breakdown",
    [None, {}, [], {"affinity": {"language": 300}}, {"affinity": "x"}, {"language": 300}],
)
def test_a_breakdown_without_its_facts_renders_no_words(breakdown):
    assert match_sentences(breakdown) == []


def test_the_stored_facts_round_trip_to_the_same_breakdown():
    parts = affinity(an_attorney(), a_cell())
    assert breakdown_of(parts.as_dict()) == parts
    assert breakdown_of({"total": 1}) is None
    assert isinstance(breakdown_of(parts.as_dict()), AffinityBreakdown)


def test_rendering_takes_two_small_queries(keen_run, django_assert_max_num_queries):
    with django_assert_max_num_queries(2):
        match_sentences(keen_run.breakdown)


CAP_SENTENCE = (
    "Your monthly limit of 2 new cases left room for 1 more this month, though your capacity "
    "had room for 5: the limit, not your capacity, decided how many cases you were offered"
)


@pytest.fixture
def capped_run(db):
    """A run's proposal to an attorney with room for 5 whose monthly cap of 2 leaves 1: one
    match already made this month, three cases they could take."""
    from volunteers.models import AttorneyProfile

    attorney = AttorneyFactory(capacity=5, languages={"spa": 4})
    AttorneyProfile.objects.filter(pk=attorney.pk).update(monthly_offer_cap=2)
    MatchFactory(attorney=attorney, status=Match.Status.DECLINED, decline_reason="no_capacity")
    for _ in range(3):
        CaseRequestFactory(language_id="spa")
    run = matching_run(trigger="test")
    return Match.objects.select_related("case", "attorney__user").get(run=run)


def test_a_run_names_the_monthly_cap_when_it_bounded_the_attorneys_load(capped_run):
    assert capped_run.breakdown["monthly_cap"] == {"cap": 2, "left": 1, "capacity_free": 5}
    assert match_sentences(capped_run.breakdown)[-1] == CAP_SENTENCE


def test_the_attorney_and_the_coordinator_both_read_the_cap(client, coord, capped_run):
    client.force_login(coord)
    admin_page = client.get(reverse("admin:matching_match_change", args=[capped_run.pk]))
    match = match_offer(match=match_approve(match=capped_run, actor=coord), actor=coord)
    client.force_login(match.attorney.user)
    offer_page = client.get(reverse("volunteers:offer", args=[match.pk]))
    for page in (admin_page, offer_page):
        assert CAP_SENTENCE in page.content.decode()


def test_a_cap_that_left_room_enough_is_not_named(db):
    from volunteers.models import AttorneyProfile

    attorney = AttorneyFactory(capacity=1, languages={"spa": 4})
    AttorneyProfile.objects.filter(pk=attorney.pk).update(monthly_offer_cap=10)
    case = CaseRequestFactory(language_id="spa")
    matching_run(trigger="test")
    breakdown = Match.objects.get(case=case).breakdown
    assert "monthly_cap" not in breakdown
    assert not any("monthly limit" in s for s in match_sentences(breakdown))


@pytest.mark.parametrize(
    "stored", [None, {}, {"cap": 2}, {"cap": "x", "left": 1, "capacity_free": 3}]
)
def test_a_malformed_cap_fact_renders_no_sentence(stored):
    from matching.scoring import explain_monthly_cap

    assert explain_monthly_cap(stored) is None
