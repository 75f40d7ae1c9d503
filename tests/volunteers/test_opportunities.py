"""The opportunity board (issue 13): who sees it, what it lists, filters, keyset pages, requests."""

import random
import re
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from cases.models import CaseRequest
from core.models import DomainEvent
from matching.board import BoardFilters, Cursor, board_page, board_scope
from matching.models import Match
from matching.scoring import eligibility
from matching.selectors import _cell
from matching.services import MatchError, match_request_by_attorney
from tests.factories import AttorneyFactory, CaseRequestFactory, _court
from tests.volunteers.offers import RESPONDENT_NAME, identifiers_in, offer_create
from volunteers.models import AttorneyProfile

pytestmark = pytest.mark.django_db
BOARD = reverse("volunteers:opportunities")


def _request_url(case):
    return reverse("volunteers:opportunity_request", args=[case.reference])


def _references(response) -> list[str]:
    return re.findall(r'data-case="(PBM-[0-9A-Z]{8})"', response.content.decode())


def _case(**fields):
    fields.setdefault("respondent_name", RESPONDENT_NAME)
    fields.setdefault("contact_route", "Through her cousin at 555-0142")
    return CaseRequestFactory(**fields)


# Who sees the board


def test_anonymous_visitor_is_sent_to_sign_in(client):
    response = client.get(BOARD)
    assert response.status_code == 302
    assert response.url.startswith(reverse("account_login"))


def test_pending_attorney_sees_a_page_that_explains_and_no_case(client, att_new):
    case = _case()
    client.force_login(att_new.user)
    response = client.get(BOARD)
    assert response.status_code == 200
    assert b'data-state="board-closed"' in response.content
    assert b"verified your bar admission" in response.content
    assert case.reference.encode() not in response.content
    assert not identifiers_in(response.content.decode(), case)


def test_pending_attorney_cannot_request_a_case(client, att_new):
    case = _case()
    client.force_login(att_new.user)
    assert client.post(_request_url(case)).status_code == 404
    assert not Match.objects.exists()


def test_dashboard_links_to_the_board(client, att_a):
    client.force_login(att_a.user)
    assert BOARD.encode() in client.get(reverse("volunteers:dashboard")).content


# What it lists: the matcher's eligibility, nothing else


def test_board_lists_open_eligible_cases_most_urgent_first(client, att_a):
    low = _case(priority=10)
    high = _case(priority=900)
    middle = _case(priority=300)
    client.force_login(att_a.user)
    response = client.get(BOARD)
    assert response.status_code == 200
    assert _references(response) == [high.reference, middle.reference, low.reference]
    assert b"Speaks Spanish fluently" in response.content  # why it fits, the scorer's words


def test_board_leaves_out_what_the_matcher_would_not_propose(client, att_a, coord):
    shown = _case()
    hidden = [
        _case(language_id="por"),  # a language the attorney does not speak
        _case(case_type_id="u-visa"),  # not one of their practice areas
        _case(court=_court("los-angeles")),  # beyond the 50-mile radius, in person
        _case(court=_court("los-angeles"), remote_ok=True),  # remote, but they do not work so
        _case(status=CaseRequest.Status.CLOSED),
        _case(status=CaseRequest.Status.REVIEW),
    ]
    declined = offer_create(attorney=att_a, coordinator=coord)  # then declined: never again
    from matching.services import match_decline

    match_decline(match=declined, user=att_a.user, reason="conflict")
    offered_elsewhere = offer_create(attorney=AttorneyFactory(), coordinator=coord)
    client.force_login(att_a.user)
    references = _references(client.get(BOARD))
    assert references == [shown.reference]
    assert declined.case.reference not in references
    assert offered_elsewhere.case.reference not in references
    assert all(case.reference not in references for case in hidden)


def test_remote_cases_far_away_are_listed_for_an_attorney_who_works_remotely(client):
    attorney = AttorneyFactory(remote_ok=True)
    far_remote = _case(court=_court("los-angeles"), remote_ok=True)
    _case(court=_court("los-angeles"), remote_ok=False)
    relay = _case(language_id="mam", relay_interpreter_ok=True, relay_language_id="spa")
    client.force_login(attorney.user)
    assert set(_references(client.get(BOARD))) == {far_remote.reference, relay.reference}


def test_board_honours_excluded_case_types_and_no_detained_cases(client):
    """The attorney's preferences (issue 13 #2) reach the board through scoring.eligibility."""
    attorney = AttorneyFactory(practice_areas=["asylum", "bond", "u-visa"], detained_ok=False)
    attorney.excluded_types.add("u-visa")
    shown = _case()
    _case(case_type_id="u-visa")  # excluded
    _case(detained=True)  # detained, which they do not take
    _case(case_type_id="bond", detained=True)
    client.force_login(attorney.user)
    response = client.get(BOARD)
    assert _references(response) == [shown.reference]
    assert b'value="u-visa"' not in response.content  # no filter choice that cannot show cases


def test_an_attorney_at_their_monthly_cap_sees_why_and_cannot_request(client, att_b):
    attorney = AttorneyFactory(monthly_offer_cap=1, capacity=3)
    match_request_by_attorney(case=_case(), attorney=attorney)
    case = _case()
    client.force_login(attorney.user)
    assert b'data-state="board-full"' in client.get(BOARD).content
    response = client.post(_request_url(case), follow=True)
    assert b"monthly limit" in response.content
    assert not Match.objects.filter(case=case).exists()


def test_board_is_the_scorers_eligibility_on_a_random_world():
    """Every open case the scorer finds eligible, and no other, for attorneys of every kind."""
    rng = random.Random(13)
    courts = ["new-york-city", "newark", "buffalo", "los-angeles", "elizabeth", "batavia"]
    for _ in range(40):
        case = _case(
            language_id=rng.choice(["spa", "eng", "por", "mam"]),
            relay_interpreter_ok=(relay := rng.random() < 0.3),
            relay_language_id="spa" if relay else None,
            case_type_id=rng.choice(["asylum", "bond", "bia-appeal", "u-visa"]),
            court=_court(rng.choice(courts)),
            detained=rng.random() < 0.3,
            remote_ok=rng.random() < 0.4,
            priority=rng.randint(0, 1000),
        )
        if rng.random() < 0.3:  # other languages the person speaks (matched in the tests)
            case.other_languages.add(rng.choice(["spa", "eng", "por"]))
    for i in range(6):
        attorney = AttorneyFactory(
            remote_ok=rng.random() < 0.5,
            travel_radius_miles=rng.choice([0, 20, 300, 3000]),
            languages={rng.choice(["spa", "por", "mam", "eng"]): rng.randint(1, 4)},
            practice_areas=rng.sample(["asylum", "bond", "bia-appeal", "u-visa"], 2),
            capacity=3,
            detained_ok=rng.random() < 0.6,
        )
        if rng.random() < 0.5:
            attorney.excluded_types.add(rng.choice(["asylum", "bond", "bia-appeal", "u-visa"]))
        scope = board_scope(attorney=attorney)
        listed = {
            row.case.pk for row in board_page(scope=scope, filters=BoardFilters(), size=100).rows
        }
        expected = {
            case.pk
            for case in CaseRequest.objects.select_related("court")
            .prefetch_related("other_languages")
            .filter(status="open")
            if eligibility(scope.facts, _cell(case)).ok
        }
        assert listed == expected, i


def test_board_shows_no_identifier(client, att_a):
    case = _case(a_number="201555019")
    client.force_login(att_a.user)
    page = client.get(BOARD).content.decode()
    assert case.reference in page
    assert not identifiers_in(page, case)


# Filters


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"language": "eng"}, "english"),
        ({"court": "newark"}, "newark"),
        ({"case_type": "bond"}, "bond"),
        ({"detained": "yes"}, "bond"),
        ({"detained": "no"}, "not-detained"),
        ({"hearing_within_days": "7"}, "soon"),
        ({"remote": "on"}, "remote"),
    ],
)
def test_each_filter_narrows_the_board(client, query, expected):
    attorney = AttorneyFactory(practice_areas=["asylum", "bond"])
    today = timezone.localdate()
    far = today + timedelta(days=200)
    cases = {
        "english": _case(language_id="eng", next_hearing_date=far, detained=False),
        "newark": _case(court=_court("newark"), next_hearing_date=far),
        "bond": _case(case_type_id="bond", detained=True, next_hearing_date=far),
        "soon": _case(next_hearing_date=today + timedelta(days=3)),
        "remote": _case(remote_ok=True, next_hearing_date=far),
    }
    if "court" in query:
        query = {"court": _court("newark").pk}
    client.force_login(attorney.user)
    listed = set(_references(client.get(BOARD, query)))
    if expected == "not-detained":
        assert listed == {c.reference for k, c in cases.items() if k != "bond"}
    else:
        assert listed == {cases[expected].reference}


def test_the_language_filter_takes_a_client_language_reached_through_a_relay(client, att_a):
    relay = _case(language_id="mam", relay_interpreter_ok=True, relay_language_id="spa")
    _case()
    client.force_login(att_a.user)
    response = client.get(BOARD, {"language": "mam"})  # as the weekly digest links to it
    assert response.status_code == 200
    assert _references(response) == [relay.reference]


def test_a_bad_filter_is_the_board_again_with_its_errors(client, att_a):
    _case()
    client.force_login(att_a.user)
    response = client.get(BOARD, {"hearing_within_days": "-4", "court": "x"})
    assert response.status_code == 200
    assert b"is-invalid" in response.content
    assert not _references(response)


def test_filter_choices_are_labelled(client, att_a):
    client.force_login(att_a.user)
    page = client.get(BOARD).content.decode()
    for name in ("language", "court", "case_type", "detained", "hearing_within_days", "remote"):
        assert f'for="id_{name}"' in page


# Keyset pages


def test_pages_follow_the_sort_key_without_gaps_or_repeats(client, att_a, settings):
    settings.OPPORTUNITY_BOARD_PAGE_SIZE = 3
    cases = [_case(priority=p) for p in (5, 500, 500, 500, 80, 80, 900, 1)]
    expected = [
        c.reference for c in sorted(cases, key=lambda c: (-c.priority, c.created_at, -c.pk))
    ]
    client.force_login(att_a.user)
    seen, url = [], BOARD + "?language=spa"
    while url:
        response = client.get(url)
        assert response.status_code == 200
        seen += _references(response)
        link = re.search(r'href="\?([^"]+)" rel="next"', response.content.decode())
        url = BOARD + "?" + link.group(1).replace("&amp;", "&") if link else None
        if url:
            after = re.search(r"after=([^&]+)", url).group(1)
            Cursor.decode(after)  # the sort key only: priority, time, primary key
            assert "language=spa" in url  # the filters carry over
            assert "PBM-" not in url
    assert seen == expected


@pytest.mark.parametrize(
    "after",
    [
        "1.2.x",
        # Three integers, but a time no datetime holds, or an id no column holds: were a 500.
        f"1.{10**26}.3",
        f"1.-{10**26}.3",
        f"1.2.{2**63}",
    ],
)
def test_a_tampered_page_link_shows_the_first_page_with_a_message(client, att_a, after):
    case = _case()
    client.force_login(att_a.user)
    response = client.get(BOARD, {"after": after})
    assert response.status_code == 200
    assert b"page link is not valid" in response.content
    assert _references(response) == [case.reference]


def _render_board(client, django_assert_num_queries, queries):
    with django_assert_num_queries(queries):
        response = client.get(BOARD, {"detained": "no"})
    assert response.status_code == 200
    return response


def test_a_page_costs_the_same_queries_however_many_cases(
    client, att_a, settings, django_assert_num_queries
):
    settings.OPPORTUNITY_BOARD_PAGE_SIZE = 20
    _case()
    client.force_login(att_a.user)
    client.get(BOARD)  # session and caches warm
    # session, user, attorney, languages, practice areas, preferred and excluded types, courts,
    # case types, the page, its other languages, the attorney's pending requests; the
    # session's idle-timeout touch (3)
    response = _render_board(client, django_assert_num_queries, 15)
    assert len(_references(response)) == 1
    for _ in range(30):
        _case(summary="More")
    response = _render_board(client, django_assert_num_queries, 15)
    assert len(_references(response)) == 20
    link = re.search(r'href="\?([^"]+)" rel="next"', response.content.decode()).group(1)
    with django_assert_num_queries(15):
        assert client.get(BOARD + "?" + link.replace("&amp;", "&")).status_code == 200


# The board's state for an attorney who cannot take a case now


def test_an_attorney_at_capacity_is_told_why_the_board_is_empty(client, coord):
    attorney = AttorneyFactory(capacity=1)
    offer_create(attorney=attorney, coordinator=coord)
    _case()
    client.force_login(attorney.user)
    response = client.get(BOARD)
    assert b'data-state="board-full"' in response.content
    assert not _references(response)


def test_a_paused_attorney_is_told_why_the_board_is_empty(client):
    attorney = AttorneyFactory(paused_until=timezone.localdate() + timedelta(days=5))
    _case()
    client.force_login(attorney.user)
    assert b'data-state="board-paused"' in client.get(BOARD).content


# Requesting a case


def test_request_makes_a_proposal_flagged_as_the_attorneys(client, att_a):
    case = _case()
    client.force_login(att_a.user)
    response = client.post(_request_url(case))
    assert response.status_code == 302 and response.url == BOARD
    match = Match.objects.get(case=case)
    assert (match.attorney, match.status, match.source) == (att_a, "proposed", "attorney")
    assert match.breakdown["requested"] is True and match.score > 0
    case.refresh_from_db()
    assert case.status == CaseRequest.Status.MATCHED
    assert AttorneyProfile.objects.get(pk=att_a.pk).active_cases == 1
    assert DomainEvent.objects.filter(verb="match.requested", actor=att_a.user).exists()
    board = client.get(BOARD)
    assert case.reference not in _references(board)
    assert b'data-section="requested"' in board.content


def test_with_auto_approval_the_request_is_offered_at_once(client, att_a, settings):
    settings.MATCHING_AUTO_APPROVE = True
    case = _case()
    client.force_login(att_a.user)
    response = client.post(_request_url(case))
    match = Match.objects.get(case=case)
    assert match.status == Match.Status.OFFERED and match.expires_at is not None
    assert response.url == reverse("volunteers:offer", args=[match.pk])


def test_a_case_taken_meanwhile_gets_a_clear_message(client, att_a, att_b):
    case = _case()
    match_request_by_attorney(case=case, attorney=att_b)
    client.force_login(att_a.user)
    response = client.post(_request_url(case), follow=True)
    assert b"Another attorney has just asked for this case" in response.content
    assert Match.objects.filter(case=case).count() == 1


def test_a_case_the_attorney_cannot_take_is_a_404(client, att_a):
    case = _case(language_id="por")
    client.force_login(att_a.user)
    assert client.post(_request_url(case)).status_code == 404
    unknown = reverse("volunteers:opportunity_request", args=["PBM-NOPE"])
    assert client.post(unknown).status_code == 404
    assert not Match.objects.exists()


@pytest.mark.parametrize("status", ["withdrawn", "closed"])
def test_a_finished_case_is_a_404_that_tells_nothing(client, att_a, status):
    # SEC-12: a guessed reference of a finished case answers as an unknown one, audited.
    case = _case(status=status)
    client.force_login(att_a.user)
    assert client.post(_request_url(case)).status_code == 404
    assert DomainEvent.objects.filter(verb="access.refused", actor=att_a.user).exists()
    assert not Match.objects.exists()


def test_a_request_at_capacity_is_refused_with_a_message(client, coord):
    attorney = AttorneyFactory(capacity=1)
    offer_create(attorney=attorney, coordinator=coord)
    case = _case()
    client.force_login(attorney.user)
    response = client.post(_request_url(case), follow=True)
    assert b"at capacity" in response.content
    assert not Match.objects.filter(case=case).exists()


def test_request_needs_post_and_csrf(att_a):
    from django.test import Client

    case = _case()
    client = Client(enforce_csrf_checks=True)
    client.force_login(att_a.user)
    assert client.get(_request_url(case)).status_code == 405
    assert client.post(_request_url(case)).status_code == 403
    assert not Match.objects.exists()


def test_the_service_refuses_a_pair_matched_before(att_a, coord):
    match = offer_create(attorney=att_a, coordinator=coord)
    from matching.services import match_decline

    match_decline(match=match, user=att_a.user, reason="distance")
    case = CaseRequest.objects.select_related("court").get(pk=match.case_id)
    with pytest.raises(MatchError) as refused:
        match_request_by_attorney(case=case, attorney=att_a)
    assert refused.value.code == "not_eligible"
