"""Mentoring pages: preferences, the mentor's offer, and a shared case in stages (SEC-15):
a mentor sees nothing of a case before it is shared, no identifier before the conflict check,
and the full record only after attesting; anyone else gets a 404 (SEC-12)."""

import pytest
from django.test import Client
from django.urls import reverse

from core.models import DomainEvent
from mentoring.models import CaseShare, MentoringProfile, Mentorship
from mentoring.services import case_share
from tests.mentoring.people import (
    accepted_case,
    mentee_create,
    mentor_create,
    mentorship_accepted,
    mentorship_offered,
)
from tests.volunteers.offers import identifiers_in

pytestmark = pytest.mark.django_db

PAYLOAD = '"><script>alert(1)</script>'


@pytest.fixture
def pair(coord):
    mentorship = mentorship_accepted(
        mentor=mentor_create(), mentee=mentee_create(), coordinator=coord
    )
    match = accepted_case(attorney=mentorship.mentee, coordinator=coord)
    return mentorship, match


def _share(pair):
    mentorship, match = pair
    return case_share(match=match, user=mentorship.mentee.user)


def test_an_attorney_asks_for_a_mentor(client):
    mentee = mentee_create()
    client.force_login(mentee.user)
    response = client.post(
        reverse("mentoring:preferences"), {"wants_mentor": "on", "request_note": "Bond hearings"}
    )
    assert response.status_code == 302
    profile = MentoringProfile.objects.get(attorney=mentee)
    assert profile.wants_mentor and profile.request_note == "Bond hearings"


def test_the_preferences_page_refuses_mentoring_from_a_newcomer_and_writes_nothing(client):
    mentee = mentee_create()
    client.force_login(mentee.user)
    response = client.post(reverse("mentoring:preferences"), {"mentee_capacity": "3"})
    # The field is not offered to a newcomer: the value is ignored, never stored.
    assert MentoringProfile.objects.get(attorney=mentee).mentee_capacity == 0
    assert response.status_code == 302


def test_a_too_long_note_is_a_form_error_not_a_500(client):
    mentee = mentee_create()
    client.force_login(mentee.user)
    response = client.post(reverse("mentoring:preferences"), {"request_note": "x" * 600})
    assert response.status_code == 200 and "request_note" in response.context["form"].errors
    assert MentoringProfile.objects.get(attorney=mentee).request_note != "x" * 600


def test_the_mentor_accepts_from_the_offer_page(client, coord):
    offered = mentorship_offered(mentor=mentor_create(), mentee=mentee_create(), coordinator=coord)
    client.force_login(offered.mentor.user)
    dashboard = client.get(reverse("volunteers:dashboard")).content.decode()
    assert reverse("mentoring:offer", args=[offered.pk]) in dashboard
    page = client.get(reverse("mentoring:offer", args=[offered.pk])).content.decode()
    assert "First asylum merits hearing" in page and "Spanish" in page
    client.post(reverse("mentoring:offer_accept", args=[offered.pk]))
    assert Mentorship.objects.get(pk=offered.pk).status == "accepted"


def test_the_mentees_note_is_escaped(client, coord):  # SEC-20
    offered = mentorship_offered(
        mentor=mentor_create(), mentee=mentee_create(note=PAYLOAD), coordinator=coord
    )
    for user, url in (
        (offered.mentor.user, reverse("mentoring:offer", args=[offered.pk])),
        (offered.mentee.user, reverse("mentoring:preferences")),
    ):
        client.force_login(user)
        page = client.get(url).content.decode()
        assert "<script>alert(1)" not in page
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_the_mentors_dashboard_lists_no_case_before_it_is_shared(client, pair):
    mentorship, match = pair
    client.force_login(mentorship.mentor.user)
    page = client.get(reverse("volunteers:dashboard")).content.decode()
    assert str(mentorship.mentee) in page
    assert match.case.reference not in page
    assert identifiers_in(page, match.case) == {}


def test_both_dashboards_show_the_shared_case(client, pair):
    mentorship, match = pair
    share = _share(pair)
    client.force_login(mentorship.mentee.user)
    mentee_page = client.get(reverse("volunteers:dashboard")).content.decode()
    assert str(mentorship.mentor) in mentee_page and match.case.reference in mentee_page
    client.force_login(mentorship.mentor.user)
    mentor_page = client.get(reverse("volunteers:dashboard")).content.decode()
    assert reverse("mentoring:shared", args=[share.pk]) in mentor_page
    assert identifiers_in(mentor_page, match.case) == {}


# Each stage of a shared case: the pages the mentor sees and the identifier kinds they may show.
STAGES = {
    "shared": ("mentoring:shared", set()),
    "parties": ("mentoring:shared_parties", {"name"}),
    "record": ("mentoring:shared_record", {"name", "a_number", "contact"}),
}


@pytest.mark.parametrize("stage", list(STAGES))
def test_each_stage_discloses_exactly_its_identifiers_to_the_mentor(client, pair, stage):
    mentorship, match = pair
    share = _share(pair)
    client.force_login(mentorship.mentor.user)
    if stage == "record":
        client.post(reverse("mentoring:shared_attest", args=[share.pk]))
    name, allowed = STAGES[stage]
    response = client.get(reverse(name, args=[share.pk]))
    assert response.status_code == 200
    assert set(identifiers_in(response.content.decode(), match.case)) == allowed  # SEC-15


def test_the_record_is_a_404_before_the_conflict_check(client, pair):
    mentorship, _match = pair
    share = _share(pair)
    client.force_login(mentorship.mentor.user)
    assert client.get(reverse("mentoring:shared_record", args=[share.pk])).status_code == 404
    assert DomainEvent.objects.filter(verb="access.refused").exists()  # SEC-24


def test_a_case_not_shared_is_a_404_at_every_stage_for_the_mentor(client, pair, coord):
    mentorship, _match = pair
    share = _share(pair)
    other = accepted_case(attorney=mentorship.mentee, coordinator=coord)  # never shared
    client.force_login(mentorship.mentor.user)
    # No share id reaches the other case: guessing the next id finds nothing.
    for name in ("mentoring:shared", "mentoring:shared_parties", "mentoring:shared_record"):
        assert client.get(reverse(name, args=[share.pk + 1])).status_code == 404
    assert not CaseShare.objects.filter(match=other).exists()


@pytest.mark.parametrize("who", ["mentee", "outsider", "pending"])
def test_only_the_mentor_reaches_a_shared_case(client, pair, who, att_b, att_new):
    mentorship, _match = pair
    share = _share(pair)
    user = {"mentee": mentorship.mentee.user, "outsider": att_b.user, "pending": att_new.user}[who]
    client.force_login(user)
    for name in ("mentoring:shared", "mentoring:shared_parties", "mentoring:shared_record"):
        assert client.get(reverse(name, args=[share.pk])).status_code == 404
    assert client.post(reverse("mentoring:shared_attest", args=[share.pk])).status_code == 404
    assert CaseShare.objects.get(pk=share.pk).conflict_attested_at is None


def test_an_ended_mentorship_closes_the_shared_case(client, pair):
    mentorship, _match = pair
    share = _share(pair)
    client.force_login(mentorship.mentee.user)
    client.post(reverse("mentoring:end", args=[mentorship.pk]))
    client.force_login(mentorship.mentor.user)
    assert client.get(reverse("mentoring:shared", args=[share.pk])).status_code == 404


def test_an_outsider_cannot_share_someone_elses_case(client, pair, att_b):
    _mentorship, match = pair
    client.force_login(att_b.user)
    assert client.post(reverse("mentoring:share", args=[match.pk])).status_code == 404
    assert not CaseShare.objects.exists()


@pytest.mark.parametrize(
    "name",
    ["mentoring:share", "mentoring:shared_attest", "mentoring:offer_accept", "mentoring:end"],
)
def test_state_changes_refuse_a_post_without_csrf(pair, coord, name):  # SEC-16
    mentorship, match = pair
    share = _share(pair)
    arg = {"mentoring:share": match.pk, "mentoring:shared_attest": share.pk}.get(
        name, mentorship.pk
    )
    client = Client(enforce_csrf_checks=True)
    client.force_login(mentorship.mentor.user)
    before = DomainEvent.objects.exclude(verb__endswith="viewed").count()
    assert client.post(reverse(name, args=[arg])).status_code == 403
    assert DomainEvent.objects.exclude(verb__endswith="viewed").count() == before
    assert client.get(reverse(name, args=[arg])).status_code == 405


def test_the_dashboard_panel_costs_a_fixed_number_of_queries(
    client, coord, django_assert_max_num_queries
):
    mentor = mentor_create(capacity=3)
    for _ in range(3):
        accepted = mentorship_accepted(mentor=mentor, mentee=mentee_create(), coordinator=coord)
        match = accepted_case(attorney=accepted.mentee, coordinator=coord)
        case_share(match=match, user=accepted.mentee.user)
    client.force_login(mentor.user)
    with django_assert_max_num_queries(30):
        assert client.get(reverse("volunteers:dashboard")).status_code == 200
