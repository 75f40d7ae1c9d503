import uuid

import pytest
from django.urls import reverse

from cases.models import CaseRequest
from core.models import DomainEvent
from matching.models import Match
from tests.factories import AttorneyFactory, UserFactory
from tests.volunteers.offers import identifiers_in, offer_create, shown_a_number
from volunteers.models import AttorneyLanguage, AttorneyProfile, BarAdmission, Organization

pytestmark = pytest.mark.django_db

ABOUT = {
    "first_name": "Ana",
    "last_name": "Lawyer",
    "phone": "212-555-0100",
    "home_zip": "10001",
    "travel_radius_miles": "30",
}


def _step(name):
    return reverse("volunteers:profile_step", args=[name])


def _formset(prefix, rows, extra=0):
    data = {
        f"{prefix}-TOTAL_FORMS": str(len(rows) + extra),
        f"{prefix}-INITIAL_FORMS": "0",
        f"{prefix}-MIN_NUM_FORMS": "0",
        f"{prefix}-MAX_NUM_FORMS": "20",
    }
    for i, row in enumerate(rows):
        data |= {f"{prefix}-{i}-{key}": value for key, value in row.items()}
    return data


def _html(response):
    return response.content.decode()


# Profile steps


def test_a_new_attorney_is_sent_to_the_first_step(client):
    client.force_login(UserFactory())
    response = client.get(reverse("volunteers:dashboard"))
    assert response.url == _step("about")


def test_the_first_step_creates_a_pending_profile_and_moves_on(client):
    user = UserFactory()
    client.force_login(user)
    response = client.post(_step("about"), ABOUT)
    assert response.status_code == 302 and response.url == _step("organization")
    attorney = AttorneyProfile.objects.get(user=user)
    assert attorney.verification == "pending" and attorney.home_zip == "10001"


def test_steps_show_progress(client, att_new):
    client.force_login(att_new.user)
    html = _html(client.get(_step("languages")))
    assert 'value="4" max="7"' in html and "Step 4 of 7" in html


def test_a_solo_attorney_past_the_optional_organization_step_is_not_sent_back_to_it(client):
    """Found walking a fresh clone: with no firm and no EOIR ID, "Saved." on step 2 never got
    its tick, and "Profile" in the menu always opened step 2 of a complete profile."""
    solo = AttorneyFactory(user__username="solo@example.org", organization=None, eoir_id="")
    BarAdmission.objects.create(attorney=solo, jurisdiction="NY", bar_number="1", status="active")
    client.force_login(solo.user)
    assert client.get(reverse("volunteers:profile")).url == _step("about")
    assert "2. Organization ✓" in " ".join(_html(client.get(_step("about"))).split())


def test_without_a_bar_admission_the_profile_opens_on_the_organization_step(client, att_new):
    att_new.bar_admissions.all().delete()
    att_new.organization, att_new.eoir_id = None, ""
    att_new.save()
    client.force_login(att_new.user)
    assert client.get(reverse("volunteers:profile")).url == _step("organization")


@pytest.mark.parametrize(
    ("field", "value"),
    [
        *[("home_zip", zip_code) for zip_code in ("00000", "99999", "abcde", "1234")],
        # Not a phone number: said so, rather than saved for a coordinator to find unusable.
        *[("phone", phone) for phone in ("call me maybe", "12345", "ana@example.org")],
    ],
)
def test_a_bad_zip_or_phone_is_a_form_error_and_nothing_is_saved(client, field, value):
    user = UserFactory()
    client.force_login(user)
    response = client.post(_step("about"), {**ABOUT, field: value})
    assert response.status_code == 200
    assert f'id="id_{field}_error"' in _html(response)
    assert not AttorneyProfile.objects.filter(user=user).exists()


@pytest.mark.parametrize("phone", ["(212) 555-0100", "+44 20 7946 0958", "212.555.0100 x12", ""])
def test_a_phone_written_as_people_write_it_is_saved(client, phone):
    user = UserFactory()
    client.force_login(user)
    assert client.post(_step("about"), {**ABOUT, "phone": phone}).status_code == 302
    assert AttorneyProfile.objects.get(user=user).phone == phone


def test_bar_admissions_need_one_active(client, att_new):
    client.force_login(att_new.user)
    rows = [{"jurisdiction": "NY", "bar_number": "123", "status": "inactive"}]
    response = client.post(_step("bar"), _formset("bar", rows, extra=1))
    assert response.status_code == 200
    assert "At least one bar admission must be active" in _html(response)
    assert not BarAdmission.objects.filter(attorney=att_new).exists()


def test_bar_admissions_are_saved(client, att_new):
    client.force_login(att_new.user)
    rows = [
        {"jurisdiction": "NY", "bar_number": "123", "status": "active"},
        {"jurisdiction": "NJ", "bar_number": "77", "status": "inactive"},
    ]
    response = client.post(_step("bar"), _formset("bar", rows, extra=1))
    assert response.status_code == 302
    assert set(att_new.bar_admissions.values_list("jurisdiction", flat=True)) == {"NY", "NJ"}


def test_a_duplicate_jurisdiction_is_a_form_error(client, att_new):
    client.force_login(att_new.user)
    rows = [{"jurisdiction": "NY", "bar_number": "1", "status": "active"}] * 2
    response = client.post(_step("bar"), _formset("bar", rows))
    assert "List each jurisdiction once" in _html(response)
    assert not BarAdmission.objects.filter(attorney=att_new).exists()


@pytest.mark.parametrize("capacity", ["0", "500", "-1", "x"])
def test_a_capacity_out_of_range_is_a_form_error(client, att_new, capacity):
    client.force_login(att_new.user)
    response = client.post(_step("capacity"), {"capacity": capacity})
    assert response.status_code == 200 and "is-invalid" in _html(response)
    att_new.refresh_from_db()
    assert att_new.capacity == 2


def test_capacity_and_pause_are_saved(client, att_new):
    client.force_login(att_new.user)
    response = client.post(_step("capacity"), {"capacity": "5", "paused_until": "2099-01-01"})
    assert "paused_until" in response.context["form"].errors  # more than a year ahead: refused
    att_new.refresh_from_db()
    assert att_new.capacity == 2
    response = client.post(_step("capacity"), {"capacity": "5"})
    assert response.url == reverse("volunteers:dashboard")
    att_new.refresh_from_db()
    assert att_new.capacity == 5 and att_new.paused_until is None


def test_a_duplicate_language_is_a_form_error_and_nothing_is_saved(client, att_new):
    client.force_login(att_new.user)
    before = set(
        AttorneyLanguage.objects.filter(attorney=att_new).values_list("language", "proficiency")
    )
    rows = [{"language": "mam", "proficiency": "4"}, {"language": "mam", "proficiency": "2"}]
    response = client.post(_step("languages"), _formset("lang", rows))
    assert response.status_code == 200 and "List each language once" in _html(response)
    after = set(
        AttorneyLanguage.objects.filter(attorney=att_new).values_list("language", "proficiency")
    )
    assert after == before


def test_any_iso_language_can_be_saved_and_is_shown_again(client, att_new):
    client.force_login(att_new.user)
    rows = [{"language": "kjb", "proficiency": "3"}, {"language": "spa", "proficiency": "4"}]
    assert client.post(_step("languages"), _formset("lang", rows, extra=1)).status_code == 302
    assert set(att_new.language_skills.values_list("language", flat=True)) == {"kjb", "spa"}
    assert 'value="kjb" selected' in _html(client.get(_step("languages")))


def test_an_unknown_language_code_is_a_form_error(client, att_new):
    client.force_login(att_new.user)
    response = client.post(
        _step("languages"), _formset("lang", [{"language": "zzz", "proficiency": "3"}])
    )
    assert response.status_code == 200 and "is-invalid" in _html(response)


def test_the_language_select_works_without_javascript(client, att_new):
    client.force_login(att_new.user)
    html = _html(client.get(_step("languages")))
    assert '<option value="spa"' in html and '<option value="mam"' in html
    assert "js/language-search.js" in html and "<script>" not in html


def test_language_search_covers_all_iso_639_3_languages_common_first(client, att_new):
    client.force_login(att_new.user)
    results = client.get(reverse("volunteers:language_search"), {"q": "k'iche"}).json()["results"]
    assert any(r["code"] == "quc" for r in results)
    results = client.get(reverse("volunteers:language_search"), {"q": "an"}).json()["results"]
    assert results[0]["code"] == "spa"  # Spanish: the most common language in court


def test_practice_areas_are_saved(client, att_new):
    client.force_login(att_new.user)
    data = {"years_experience": "4", "take_bond": "on", "handled_bond": "7", "take_asylum": "on"}
    assert client.post(_step("practice"), data).status_code == 302
    assert dict(att_new.practice_area_links.values_list("case_type", "cases_handled")) == {
        "bond": 7, "asylum": 0,
    }  # fmt: skip


def test_practice_needs_one_case_type(client, att_new):
    client.force_login(att_new.user)
    response = client.post(_step("practice"), {"years_experience": "4"})
    assert "Choose at least one kind of case" in _html(response)
    assert att_new.practice_area_links.count() == 1


def test_a_count_typed_without_its_box_is_refused_not_dropped(client, att_new):
    client.force_login(att_new.user)
    data = {"years_experience": "4", "take_asylum": "on", "handled_bond": "7"}
    response = client.post(_step("practice"), data)
    assert response.status_code == 200
    assert "Tick “Bond hearing” to take these cases, or clear the count." in _html(response)
    assert list(att_new.practice_area_links.values_list("case_type", flat=True)) == ["asylum"]


def test_naming_a_new_organization(client, att_new):
    client.force_login(att_new.user)
    response = client.post(_step("organization"), {"new_organization": "Cedar Legal Aid"})
    assert response.status_code == 302
    assert Organization.objects.get(name="Cedar Legal Aid").confirmed is False


def test_an_unknown_step_is_404(client, att_new):
    client.force_login(att_new.user)
    assert client.get(_step("nope")).status_code == 404


# Dashboard and offers


def test_a_pending_attorney_sees_no_case_data(client, att_a, coord):  # SEC-11
    match = offer_create(attorney=att_a, coordinator=coord)
    AttorneyProfile.objects.filter(pk=att_a.pk).update(verification="pending")
    BarAdmission.objects.create(attorney=att_a, jurisdiction="NY", bar_number="1")  # complete
    client.force_login(att_a.user)
    html = _html(client.get(reverse("volunteers:dashboard")))
    assert match.case.reference not in html and "Asylum" not in html
    assert 'data-state="pending"' in html
    assert client.get(reverse("volunteers:offer", args=[match.pk])).status_code == 404


def test_the_offer_shows_the_summary_without_identifying_data(client, att_a, coord):  # SEC-15
    match = offer_create(attorney=att_a, coordinator=coord, detained=True)
    client.force_login(att_a.user)
    html = _html(client.get(reverse("volunteers:offer", args=[match.pk])))
    for shown in ("Asylum", "Spanish", "New York City", "Why you were matched", "natively"):
        assert shown in html
    assert identifiers_in(html, match.case) == {}


def test_the_offer_explains_a_run_proposal_in_plain_words(client, att_a, coord):
    match = offer_create(attorney=att_a, coordinator=coord)
    Match.objects.filter(pk=match.pk).update(
        breakdown={
            "affinity": {"language": 300, "distance": 140},
            "cell": ["spa", None, 1, "asylum", False, False],
            "explanation": ["Speaks Spanish fluently", "12 miles from the court"],
        }
    )
    client.force_login(att_a.user)
    html = _html(client.get(reverse("volunteers:offer", args=[match.pk])))
    assert "Speaks Spanish fluently" in html and "12 miles from the court" in html
    assert "Cell" not in html and "Affinity" not in html


def test_staged_disclosure_names_then_attest_then_accept_then_record(client, att_a, coord):
    match = offer_create(attorney=att_a, coordinator=coord)
    client.force_login(att_a.user)
    offer_url = reverse("volunteers:offer", args=[match.pk])
    assert "Accept this case" not in _html(client.get(offer_url))
    parties = _html(client.get(reverse("volunteers:offer_parties", args=[match.pk])))
    assert set(identifiers_in(parties, match.case)) == {"name"}
    assert DomainEvent.objects.filter(verb="match.parties_viewed", actor=att_a.user).exists()
    response = client.post(reverse("volunteers:offer_attest", args=[match.pk]))
    assert response.url == offer_url
    assert "Accept this case" in _html(client.get(offer_url))
    response = client.post(reverse("volunteers:offer_accept", args=[match.pk]))
    case_url = reverse("volunteers:case", args=[match.pk])
    assert response.url == case_url
    record = _html(client.get(case_url))
    assert set(identifiers_in(record, match.case)) == {"name", "a_number", "contact"}
    assert shown_a_number(match) in record
    match.refresh_from_db()
    assert match.status == Match.Status.ACCEPTED
    assert CaseRequest.objects.get(pk=match.case_id).status == "represented"


def test_each_opening_of_the_full_record_is_logged(client, att_a, coord):  # SEC-24
    from matching.services import match_accept, match_attest_no_conflict

    match = offer_create(attorney=att_a, coordinator=coord)
    match_attest_no_conflict(match=match, user=att_a.user)
    match_accept(match=match, user=att_a.user)
    client.force_login(att_a.user)
    for _ in range(2):
        assert client.get(reverse("volunteers:case", args=[match.pk])).status_code == 200
    viewed = DomainEvent.objects.filter(verb="case.viewed")
    assert viewed.count() == 2
    assert {(e.actor_id, e.target_type.model, e.target_id) for e in viewed} == {
        (att_a.user.pk, "caserequest", str(match.case_id))
    }


def test_accepting_before_attesting_is_refused(client, att_a, coord):
    match = offer_create(attorney=att_a, coordinator=coord)
    client.force_login(att_a.user)
    client.post(reverse("volunteers:offer_accept", args=[match.pk]))
    match.refresh_from_db()
    assert match.status == Match.Status.OFFERED


def test_the_full_record_is_not_open_before_accepting(client, att_a, coord):
    match = offer_create(attorney=att_a, coordinator=coord)
    client.force_login(att_a.user)
    assert client.get(reverse("volunteers:case", args=[match.pk])).status_code == 404


@pytest.mark.parametrize("name", ["offer_attest", "offer_accept", "offer_decline"])
def test_state_changes_refuse_get(client, att_a, coord, name):  # SEC-16
    match = offer_create(attorney=att_a, coordinator=coord)
    client.force_login(att_a.user)
    assert client.get(reverse(f"volunteers:{name}", args=[match.pk])).status_code == 405
    match.refresh_from_db()
    assert match.status == Match.Status.OFFERED and match.conflict_attested_at is None


def _offer_at(step, attorney, coordinator):
    """An offer ready for `step`: accepting needs the attestation, logging hours the case."""
    from matching.services import match_accept, match_attest_no_conflict

    match = offer_create(attorney=attorney, coordinator=coordinator)
    if step in ("offer_accept", "case_hours"):
        match_attest_no_conflict(match=match, user=attorney.user)
    if step == "case_hours":
        match = match_accept(match=match, user=attorney.user)
    return match


def _state(match):
    from volunteers.models import CaseHours

    match.refresh_from_db()
    return match.status, match.conflict_attested_at, CaseHours.objects.count()


@pytest.mark.parametrize(
    ("name", "data"),
    [
        ("offer_attest", {}),
        ("offer_accept", {}),
        ("offer_decline", {"reason": "distance"}),
        ("case_hours", {"hours": "1.5", "worked_on": "TODAY", "submission_token": uuid.uuid4()}),
    ],
)
def test_each_attorney_action_refuses_a_post_without_a_csrf_token(att_a, coord, name, data):
    """SEC-16: the owner's own POST, with data that would succeed, is refused (403) without the
    token and changes nothing; the same POST with the page's token goes through (302)."""
    from django.test import Client

    from volunteers.services import attorney_today

    match = _offer_at(name, att_a, coord)
    data = {k: attorney_today(attorney=att_a).isoformat() if v == "TODAY" else v
            for k, v in data.items()}  # fmt: skip
    client = Client(enforce_csrf_checks=True)
    client.force_login(att_a.user)
    url = reverse(f"volunteers:{name}", args=[match.pk])
    before = _state(match)
    assert client.post(url, data).status_code == 403
    assert _state(match) == before
    page = "volunteers:case" if name == "case_hours" else "volunteers:offer"
    client.get(reverse(page, args=[match.pk]))
    token = {"HTTP_X_CSRFTOKEN": client.cookies["csrftoken"].value}
    assert client.post(url, data, **token).status_code == 302
    assert _state(match) != before


def test_accept_without_a_csrf_token_is_refused(att_a, coord):  # SEC-16
    from django.test import Client

    match = offer_create(attorney=att_a, coordinator=coord)
    client = Client(enforce_csrf_checks=True)
    client.force_login(att_a.user)
    assert client.post(reverse("volunteers:offer_attest", args=[match.pk])).status_code == 403
    match.refresh_from_db()
    assert match.conflict_attested_at is None


def test_declining_with_a_reason_returns_the_case_to_the_pool(client, att_a, coord):
    match = offer_create(attorney=att_a, coordinator=coord)
    client.force_login(att_a.user)
    response = client.post(
        reverse("volunteers:offer_decline", args=[match.pk]), {"reason": "distance"}
    )
    assert response.url == reverse("volunteers:dashboard")
    match.refresh_from_db()
    assert (match.status, match.decline_reason) == ("declined", "distance")
    assert CaseRequest.objects.get(pk=match.case_id).status == "open"
    att_a.refresh_from_db()
    assert att_a.active_cases == 0


def test_declining_for_other_needs_a_note(client, att_a, coord):
    match = offer_create(attorney=att_a, coordinator=coord)
    client.force_login(att_a.user)
    response = client.post(
        reverse("volunteers:offer_decline", args=[match.pk]), {"reason": "other"}
    )
    assert response.status_code == 200 and "Tell us the reason" in _html(response)
    match.refresh_from_db()
    assert match.status == Match.Status.OFFERED


def test_dashboard_shows_offers_cases_capacity_and_history(client, att_a, coord):
    from matching.services import match_decline

    AttorneyProfile.objects.filter(pk=att_a.pk).update(capacity=5)
    offer = offer_create(attorney=att_a, coordinator=coord)
    declined = offer_create(attorney=att_a, coordinator=coord, case_type_id="bond", detained=True)
    match_decline(match=declined, user=att_a.user, reason="no_capacity")
    client.force_login(att_a.user)
    html = _html(client.get(reverse("volunteers:dashboard")))
    assert reverse("volunteers:offer", args=[offer.pk]) in html
    assert 'data-total="capacity_used">1 / 5' in html and 'data-total="capacity_free">4' in html
    assert "no capacity right now" in html


def _offers_and_cases(attorney, coord, count):
    from matching.services import match_accept, match_attest_no_conflict

    for _ in range(count):
        offer_create(attorney=attorney, coordinator=coord)
        match = offer_create(attorney=attorney, coordinator=coord)
        match_attest_no_conflict(match=match, user=attorney.user)
        match_accept(match=match, user=attorney.user)


def test_dashboard_query_count_is_constant(client, att_a, coord, django_assert_num_queries):
    AttorneyProfile.objects.filter(pk=att_a.pk).update(capacity=50)
    client.force_login(att_a.user)
    _offers_and_cases(att_a, coord, 1)
    with django_assert_num_queries(DASHBOARD_QUERIES):
        client.get(reverse("volunteers:dashboard"))
    _offers_and_cases(att_a, coord, 19)
    with django_assert_num_queries(DASHBOARD_QUERIES):
        response = client.get(reverse("volunteers:dashboard"))
    html = _html(response)
    assert (
        html.count("Review offer") == 20
        and html.count(reverse("volunteers:case", args=[0])[:-2]) >= 20
    )


# session, user, profile (+organization), progress (3 EXISTS), offers, cases, history, then the
# session save (SESSION_SAVE_EVERY_REQUEST) inside a savepoint: 12 with 2 or with 40 matches;
# + 5 for the mentoring panel (its profile, mentor eligibility, own mentorship, offers, mentees).
DASHBOARD_QUERIES = 17


def test_deleting_the_account_from_the_page_signs_out(client, att_a):  # SEC-25
    client.force_login(att_a.user)
    url = reverse("volunteers:account_delete")
    assert "Type the word DELETE" in _html(client.post(url, {"confirm": "delete"}))
    response = client.post(url, {"confirm": "DELETE"})
    assert response.url == reverse("home")
    att_a.user.refresh_from_db()
    assert not att_a.user.is_active and att_a.user.email == ""
    assert client.get(reverse("volunteers:dashboard")).status_code == 302


def test_a_refused_deletion_lists_the_offers_and_cases_that_block_it(client, att_a, coord):
    from matching.services import match_accept, match_attest_no_conflict

    AttorneyProfile.objects.filter(pk=att_a.pk).update(capacity=3)
    offer = offer_create(attorney=att_a, coordinator=coord)
    case = offer_create(attorney=att_a, coordinator=coord)
    match_attest_no_conflict(match=case, user=att_a.user)
    match_accept(match=case, user=att_a.user)
    client.force_login(att_a.user)
    html = _html(client.post(reverse("volunteers:account_delete"), {"confirm": "DELETE"}))
    assert "You still hold active offers or cases" in html
    assert f"Offer {offer.case.reference}" in html and f"Case {case.case.reference}" in html
    assert reverse("volunteers:offer", args=[offer.pk]) in html
    att_a.user.refresh_from_db()
    assert att_a.user.is_active


def test_an_incomplete_profile_asks_for_verification_only_while_pending(client, att_a, att_new):
    """A verified attorney missing a step is asked to finish it, not told they await a check."""
    BarAdmission.objects.filter(attorney=att_a).delete()
    client.force_login(att_a.user)
    verified = client.get(reverse("volunteers:dashboard")).content.decode()
    assert "Your profile is missing a step" in verified
    assert "so a coordinator can verify you" not in verified

    BarAdmission.objects.filter(attorney=att_new).delete()
    client.force_login(att_new.user)
    pending = client.get(reverse("volunteers:dashboard")).content.decode()
    assert "so a coordinator can verify you" in pending


def test_an_incomplete_pending_profile_names_its_missing_steps_and_no_check_yet(client, att_new):
    """Told what is missing, with a link to each step; not also told a coordinator is
    already checking a bar admission they have not given."""
    BarAdmission.objects.filter(attorney=att_new).delete()
    AttorneyLanguage.objects.filter(attorney=att_new).delete()
    client.force_login(att_new.user)
    html = _html(client.get(reverse("volunteers:dashboard")))
    assert 'data-state="incomplete"' in html
    assert 'data-state="pending"' not in html and "is checking your bar admission" not in html
    assert f'href="{_step("bar")}"' in html and f'href="{_step("languages")}"' in html
    assert f'href="{_step("practice")}"' not in html  # done: not listed
