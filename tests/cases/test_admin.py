"""The case request back office: intake through the service, identifiers behind a permission,
audit of every full view, A-number search, filters and a constant number of queries."""

import base64
import uuid
from datetime import date, timedelta

import pytest
from django.contrib.auth.models import Permission
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from cases.models import CaseRequest
from cases.services import IDENTIFIER_FIELDS
from cases.validation import PAST_DAYS
from core.models import DomainEvent
from matching.services import match_case_close
from tests.cases.conftest import CANONICAL, NAME
from tests.conftest import _with_totp
from tests.factories import CaseRequestFactory, UserFactory
from tests.matching.checkins import accepted_case

pytestmark = pytest.mark.django_db

ADD = reverse("admin:cases_caserequest_add")
CHANGELIST = reverse("admin:cases_caserequest_changelist")


def _change(case):
    return reverse("admin:cases_caserequest_change", args=[case.pk])


def admin_post(**overrides):
    """The add form as a browser sends it: the page's fresh submission token included (a change
    form has none, and ignores it)."""
    today = timezone.localdate()
    data = {
        "submission_token": str(uuid.uuid4()),
        "respondent_name": NAME,
        "a_number": "A-087-654-321",
        "contact_route": "",
        "country_of_nationality": "GT",
        "language": "mam",
        "other_languages": ["spa"],
        "relay_interpreter_ok": "on",
        "relay_language": "spa",
        "court": "",
        "case_type": "asylum",
        "detention_facility": "",
        "next_hearing_date": (today + timedelta(days=10)).isoformat(),
        "next_hearing_type": "master",
        "filing_deadline": "",
        "summary": "Asylum claim.",
        "organization": "",
    }
    data.update(overrides)
    return data


@pytest.fixture
def nyc():
    from cases.models import ImmigrationCourt

    return ImmigrationCourt.objects.get(code="new-york-city")


def test_a_coordinator_adds_a_case_through_the_service(client, coord, nyc):
    client.force_login(coord)
    response = client.post(ADD, admin_post(court=nyc.pk))
    assert response.status_code == 302, response.context["adminform"].form.errors
    case = CaseRequest.objects.get()
    assert (case.respondent_name, case.a_number, case.source) == (NAME, CANONICAL, "coordinator")
    assert case.created_by == coord and case.priority_parts["total"] == case.priority
    assert list(case.other_languages.values_list("code", flat=True)) == ["spa"]
    assert DomainEvent.objects.filter(verb="case_request.created", actor=coord).count() == 1


def test_a_duplicate_a_number_is_a_form_error_and_no_second_row(client, coord_viewer, nyc):
    client.force_login(coord_viewer)
    client.post(ADD, admin_post(court=nyc.pk))
    first = CaseRequest.objects.get()
    response = client.post(ADD, admin_post(court=nyc.pk, a_number="087654321"))
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors["a_number"]
    assert errors == [f"A case request with this A-number already exists: {first.reference}."]
    assert CaseRequest.objects.count() == 1


def test_a_bad_a_number_is_a_form_error(client, coord, nyc):
    client.force_login(coord)
    response = client.post(ADD, admin_post(court=nyc.pk, a_number="A-12"))
    assert "8 or 9 digits" in str(response.context["adminform"].form.errors["a_number"])
    assert CaseRequest.objects.count() == 0


def test_a_bad_a_number_is_reported_with_the_other_field_errors(client, coord, nyc):
    """One round: the coordinator does not learn of the A-number only after fixing the date."""
    client.force_login(coord)
    data = admin_post(court=nyc.pk, a_number="12-34", next_hearing_date="31/31/2026")
    errors = client.post(ADD, data).context["adminform"].form.errors
    assert "8 or 9 digits" in str(errors["a_number"]) and "next_hearing_date" in errors
    assert CaseRequest.objects.count() == 0


def test_identifiers_are_hidden_from_coordinators_without_the_permission(client, coord, case_x):
    client.force_login(coord)
    response = client.get(_change(case_x))
    assert response.status_code == 200
    body = response.content.decode()
    assert NAME not in body and CANONICAL not in body and "087-654-321" not in body
    assert "respondent_name" not in response.context["adminform"].form.fields
    assert not DomainEvent.objects.filter(verb="case_request.identifiers_viewed").exists()


def test_identifiers_are_shown_with_the_permission_and_the_view_is_logged(
    client, coord_viewer, case_x
):  # SEC-24
    client.force_login(coord_viewer)
    body = client.get(_change(case_x)).content.decode()
    assert NAME in body and "A-087-654-321" in body
    event = DomainEvent.objects.get(verb="case_request.identifiers_viewed")
    assert event.actor == coord_viewer and event.target_id == str(case_x.pk)
    assert event.data == {"reference": case_x.reference, "where": "admin"}


def test_a_change_without_identifiers_keeps_them(client, coord, case_x):
    client.force_login(coord)
    data = admin_post(
        court=case_x.court_id, summary="New summary.", filing_deadline=case_x.filing_deadline
    )
    for name in ("respondent_name", "a_number", "contact_route", "organization"):
        data.pop(name)
    response = client.post(_change(case_x), data)
    assert response.status_code == 302
    case_x.refresh_from_db()
    assert (case_x.summary, case_x.respondent_name, case_x.a_number) == (
        "New summary.", NAME, CANONICAL,
    )  # fmt: skip
    assert DomainEvent.objects.get(verb="case_request.updated").data["fields"] == ["summary"]


def test_a_tampered_identifier_shows_as_unreadable_not_a_500(client, coord_viewer, case_x):
    with connection.cursor() as cursor:
        cursor.execute("SELECT respondent_name FROM cases_caserequest WHERE id = %s", [case_x.pk])
        token = bytearray(base64.urlsafe_b64decode(cursor.fetchone()[0]))
        token[-40] ^= 1
        cursor.execute(
            "UPDATE cases_caserequest SET respondent_name = %s WHERE id = %s",
            [base64.urlsafe_b64encode(bytes(token)).decode(), case_x.pk],
        )
    client.force_login(coord_viewer)
    response = client.get(_change(case_x))
    assert response.status_code == 200
    assert "unreadable" in response.content.decode().lower()
    assert client.get(CHANGELIST).status_code == 200


def test_search_finds_a_case_by_reference(client, coord_viewer, case_x):
    CaseRequestFactory.create_batch(3)
    client.force_login(coord_viewer)
    response = client.get(CHANGELIST, {"q": case_x.reference})
    assert [c.pk for c in response.context["cl"].result_list] == [case_x.pk]


@pytest.mark.parametrize("term", ["A-087-654-321", "087654321", "a 087 654 321", "87654321"])
def test_an_a_number_in_the_search_box_is_refused_and_dropped_from_the_url(
    client, coord_viewer, case_x, term
):  # SEC-23
    client.force_login(coord_viewer)
    response = client.get(CHANGELIST, {"status": "open", "q": term})
    assert response.status_code == 302
    assert response.url == f"{CHANGELIST}?status=open"  # the list, without the number
    page = client.get(response.url)
    assert "Find by A-number" in page.content.decode()
    assert "not searched from the search box" in page.content.decode()
    assert list(page.context["cl"].result_list) == [case_x]


def test_the_search_help_points_to_the_a_number_lookup(client, coord_viewer):  # SEC-23
    client.force_login(coord_viewer)
    help_text = client.get(CHANGELIST).context["cl"].search_help_text
    assert "Find by A-number" in help_text and "exact A-number" not in help_text


def test_a_reference_is_still_searched(client, coord, case_x):
    client.force_login(coord)
    response = client.get(CHANGELIST, {"q": case_x.reference.lower()})
    assert response.status_code == 200
    assert list(response.context["cl"].result_list) == [case_x]


def test_the_language_filter_lists_common_and_used_languages_only(client, coord):
    CaseRequestFactory(language_id="quc")
    client.force_login(coord)
    response = client.get(CHANGELIST)
    spec = next(s for s in response.context["cl"].filter_specs if s.title == "language")
    codes = [code for code, _ in spec.lookup_choices]
    assert "quc" in codes and "spa" in codes and len(codes) < 60


@pytest.mark.parametrize(
    "query",
    [{"band": "urgent"}, {"band": "low"}, {"status": "open"}, {"detained__exact": "1"}],
)
def test_filters_work(client, coord, query):
    CaseRequestFactory(priority=700)
    CaseRequestFactory(priority=100)
    client.force_login(coord)
    response = client.get(CHANGELIST, query)
    assert response.status_code == 200


def _closed(outcome="termination", **fields):
    now = timezone.now()
    return CaseRequestFactory(status="closed", outcome=outcome, outcome_date=now.date(),
                              closed_at=now, **fields)  # fmt: skip


def _most_urgent_first(cases) -> list[str]:
    """The changelist's order: -priority, created_at, then -pk."""
    by_order = sorted(cases, key=lambda c: c.pk, reverse=True)
    by_order.sort(key=lambda c: (-c.priority, c.created_at))
    return [case.reference for case in by_order]


def _filter_cases(nyc):
    """Per filter (its query, given the other court): the cases it keeps, among others it
    leaves out; equal priorities, so the creation time and the id decide."""
    from cases.models import ImmigrationCourt

    other = ImmigrationCourt.objects.exclude(pk=nyc.pk).first()
    priorities = (300, 900, 300)
    CaseRequestFactory(priority=999), _closed(priority=999, outcome="admin_closed")
    return {
        "case_type": (
            {"case_type__code__exact": "t-visa"},
            [CaseRequestFactory(case_type_id="t-visa", priority=p) for p in priorities],
        ),
        "court": (
            {"court__id__exact": other.pk},
            [CaseRequestFactory(court=other, priority=p) for p in priorities],
        ),
        "outcome": ({"outcome__exact": "termination"}, [_closed(priority=p) for p in priorities]),
    }


def test_the_case_type_court_and_outcome_filters_keep_their_cases_most_urgent_first(
    client, coord, nyc
):
    client.force_login(coord)
    for name, (query, cases) in _filter_cases(nyc).items():
        shown = client.get(CHANGELIST, query).context["cl"].result_list
        assert [case.reference for case in shown] == _most_urgent_first(cases), name


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's planner")
@pytest.mark.parametrize(
    "name, index",
    [("case_type", "case_type_order_idx"), ("court", "case_court_order_idx"),
     ("outcome", "case_outcome_order_idx")],
)  # fmt: skip
def test_a_filtered_page_is_read_as_a_range_of_its_index(client, coord, nyc, name, index):
    """Not a walk of the whole list's order until 50 rows match (a T visa page at 1,000,000
    cases read 38,000 of them)."""
    query, _ = _filter_cases(nyc)[name]
    client.force_login(coord)
    with CaptureQueriesContext(connection) as queries:
        assert client.get(CHANGELIST, query).status_code == 200
    order = 'ORDER BY "cases_caserequest"."priority" DESC'
    (page,) = [q["sql"] for q in queries if q["sql"].startswith("SELECT") and order in q["sql"]]
    # A few rows: steer the planner off reading them all and sorting them, which is the cheaper
    # plan at this size. Which of those plans it picks otherwise follows the table's statistics,
    # so what ran before: a fresh table (never vacuumed) is costed at ten pages and read in the
    # index's order, but once autovacuum has passed over the rows earlier tests rolled back it
    # is costed at its one page, read through a bitmap of the same index and sorted. With
    # sorting off, only an index already in the page's order can serve it: this filter's own
    # (a range of it) or the whole list's (a walk that filters).
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("SET LOCAL enable_bitmapscan = off")
        cursor.execute("SET LOCAL enable_sort = off")
        cursor.execute(f"EXPLAIN {page} LIMIT 50")  # a page of a longer list
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert f"Index Scan using {index}" in plan and "Index Cond" in plan


def test_the_list_never_reads_the_identifiers(client, coord_viewer):
    """The list shows no name or A-number, even to an identifier viewer: it neither fetches
    nor decrypts them, row by row (the change page does, and records the view)."""
    CaseRequestFactory.create_batch(3)
    client.force_login(coord_viewer)
    with CaptureQueriesContext(connection) as queries:
        assert client.get(CHANGELIST).status_code == 200
    columns = [f'"cases_caserequest"."{name}"' for name in IDENTIFIER_FIELDS]
    pages = [q["sql"] for q in queries if q["sql"].startswith('SELECT "cases_caserequest"')]
    assert pages and not [sql for sql in pages if any(c in sql for c in columns)]


def _changelist_queries(client, django_assert_max_num_queries, rows, ceiling):
    CaseRequestFactory.create_batch(rows)
    with django_assert_max_num_queries(ceiling) as captured:
        assert client.get(CHANGELIST).status_code == 200
    return len(captured)


def test_the_changelist_uses_a_constant_number_of_queries(
    client, coord, django_assert_max_num_queries
):
    client.force_login(coord)
    five = _changelist_queries(client, django_assert_max_num_queries, 5, 20)
    fifty = _changelist_queries(client, django_assert_max_num_queries, 45, 20)
    assert five == fifty


def test_find_by_a_number_posts_and_redirects_by_id(client, coord_viewer, case_x):  # SEC-23
    client.force_login(coord_viewer)
    body = client.get(CHANGELIST).content.decode()
    assert 'id="find-a-number"' in body
    assert reverse("admin:cases_caserequest_import") in body  # the import button stays
    url = reverse("admin:cases_caserequest_find_a_number")
    response = client.post(url, {"a_number": "A 087 654 321"})
    assert response.status_code == 302 and response.url == _change(case_x)
    assert client.get(url, {"a_number": "087654321"}).status_code == 405
    missing = client.post(url, {"a_number": "A-099-888-777"})
    assert missing.url == CHANGELIST


def test_find_by_a_number_needs_the_permission(client, coord, case_x):
    client.force_login(coord)
    assert 'id="find-a-number"' not in client.get(CHANGELIST).content.decode()
    url = reverse("admin:cases_caserequest_find_a_number")
    assert client.post(url, {"a_number": "A-087-654-321"}).status_code == 403


def test_a_coordinator_makes_a_user_partner_staff_by_email(client, coord_viewer):
    from cases.models import PartnerMembership
    from core.roles import PARTNER_INTAKE
    from tests.factories import OrganizationFactory, UserFactory

    coord = coord_viewer
    org = OrganizationFactory(name="Clinic Z")
    user = UserFactory(username="staffer@example.org")
    client.force_login(coord)
    url = reverse("admin:cases_partnermembership_add")
    assert client.get(url).status_code == 200
    response = client.post(url, {"email": "STAFFER@example.org", "organization": org.pk})
    assert response.status_code == 302
    membership = PartnerMembership.objects.get()
    assert (membership.user, membership.organization) == (user, org)
    assert user.groups.filter(name=PARTNER_INTAKE).exists()
    assert DomainEvent.objects.filter(verb="partner_membership.set", actor=coord).exists()
    unknown = client.post(url, {"email": "nobody@example.org", "organization": org.pk})
    assert "No account has this email" in unknown.content.decode()


def test_the_case_page_shows_the_priority_in_the_words_of_the_match_page(client, coord):
    case = CaseRequestFactory()
    CaseRequest.objects.filter(pk=case.pk).update(
        priority=500, priority_parts={"detention": 300, "hearing": 200, "deadline": 0, "total": 500}
    )
    client.force_login(coord)
    html = client.get(reverse("admin:cases_caserequest_change", args=[case.pk])).content.decode()
    assert "detention 300, hearing soon 200; 500 in all" in html
    assert "deadline 0" not in html  # parts that earned nothing are left out, as on the match page


# Partner staff read identifiers: granting that needs the identifier permission (issue 11 #3).


def test_a_coordinator_without_identifier_access_cannot_make_partner_staff(client, coord, case_x):
    from cases.models import PartnerMembership

    spy = UserFactory(username="spy@example.org")
    client.force_login(coord)
    url = reverse("admin:cases_partnermembership_add")
    assert client.get(url).status_code == 403
    response = client.post(url, {"email": spy.email, "organization": case_x.organization_id})
    assert response.status_code == 403
    assert not PartnerMembership.objects.filter(user=spy).exists()
    client.force_login(spy)  # the account the coordinator tried to use reads nothing
    assert client.get(reverse("cases:detail", args=[case_x.reference])).status_code == 404


def test_a_coordinator_without_identifier_access_cannot_move_or_remove_partner_staff(
    client, coord, partner_x, org_y
):
    from cases.models import PartnerMembership

    membership = PartnerMembership.objects.get(user=partner_x)
    client.force_login(coord)
    change = reverse("admin:cases_partnermembership_change", args=[membership.pk])
    assert client.post(change, {"organization": org_y.pk}).status_code == 403
    delete = reverse("admin:cases_partnermembership_delete", args=[membership.pk])
    assert client.post(delete, {"post": "yes"}).status_code == 403
    membership.refresh_from_db()
    assert membership.organization != org_y
    assert client.get(reverse("admin:cases_partnermembership_changelist")).status_code == 200


def test_the_service_refuses_an_actor_without_identifier_access(coord, org_x):
    from cases.models import PartnerMembership
    from cases.services import IdentifierAccessRequired, partner_membership_set

    with pytest.raises(IdentifierAccessRequired):
        partner_membership_set(user=UserFactory(), organization=org_x, actor=coord)
    assert not PartnerMembership.objects.exists()
    assert not DomainEvent.objects.filter(verb="partner_membership.set").exists()


def test_moving_partner_staff_is_logged_with_the_previous_organization(
    client, coord_viewer, partner_x, org_x, org_y
):
    from cases.models import PartnerMembership

    membership = PartnerMembership.objects.get(user=partner_x)
    client.force_login(coord_viewer)
    change = reverse("admin:cases_partnermembership_change", args=[membership.pk])
    assert client.post(change, {"organization": org_y.pk}).status_code == 302
    event = DomainEvent.objects.filter(verb="partner_membership.set").latest("pk")
    assert event.actor == coord_viewer
    assert event.data == {
        "user_id": partner_x.pk,
        "organization_id": org_y.pk,
        "previous_organization_id": org_x.pk,
    }


def test_removing_partner_staff_ends_their_access_and_is_logged(
    client, coord_viewer, partner_x, case_x
):  # SEC-24
    from cases.models import PartnerMembership

    membership = PartnerMembership.objects.get(user=partner_x)
    client.force_login(coord_viewer)
    delete = reverse("admin:cases_partnermembership_delete", args=[membership.pk])
    assert client.post(delete, {"post": "yes"}).status_code == 302
    assert not PartnerMembership.objects.exists()
    assert not partner_x.groups.exists()
    event = DomainEvent.objects.get(verb="partner_membership.ended")
    assert event.actor == coord_viewer and event.data["user_id"] == partner_x.pk
    client.force_login(partner_x)
    assert client.get(reverse("cases:detail", args=[case_x.reference])).status_code == 404


def test_removing_partner_staff_in_bulk_is_logged_per_membership(
    client, coord_viewer, partner_x, partner_y
):
    from cases.models import PartnerMembership

    client.force_login(coord_viewer)
    response = client.post(
        reverse("admin:cases_partnermembership_changelist"),
        {
            "action": "delete_selected",
            "_selected_action": list(PartnerMembership.objects.values_list("pk", flat=True)),
            "post": "yes",
        },
    )
    assert response.status_code == 302
    assert not PartnerMembership.objects.exists()
    assert DomainEvent.objects.filter(verb="partner_membership.ended").count() == 2


def test_coordinators_find_and_withdraw_requests_held_for_review(
    client, coord_viewer, partner_x, case_y
):  # issue 11 #5
    from cases.services import case_request_submit_by_partner
    from tests.cases.conftest import case_data

    held, _ = case_request_submit_by_partner(
        data=case_data(a_number="A-011-222-333"),
        created_by=partner_x,
        organization=partner_x.partner_membership.organization,
    )
    client.force_login(coord_viewer)
    listed = client.get(CHANGELIST, {"status__exact": "review"})
    assert list(listed.context["cl"].result_list) == [held]
    page = client.get(_change(held)).content.decode()
    assert case_y.reference in page and "Needs review" in page
    response = client.post(
        CHANGELIST, {"action": "review_withdraw", "_selected_action": [held.pk, case_y.pk]}
    )
    assert response.status_code == 302
    held.refresh_from_db()
    case_y.refresh_from_db()
    assert held.status == "withdrawn" and case_y.status == "open"  # only held requests move


def test_coordinators_without_identifier_access_get_no_review_actions(
    client, coord, held
):  # issue 11 #5: resolving a review compares A-numbers
    client.force_login(coord)
    listed = client.get(CHANGELIST, {"status__exact": "review"})
    offered = {name for name, _ in listed.context["action_form"].fields["action"].choices}
    assert not offered & {"review_release", "review_withdraw"}
    client.post(CHANGELIST, {"action": "review_withdraw", "_selected_action": [held.pk]})
    held.refresh_from_db()
    assert held.status == "review"


# The accepted match's outcome form, linked from the case page (matching's "Record the outcome")


def _outcome_link(client, case) -> str | None:
    page = client.get(_change(case))
    assert page.status_code == 200
    return page.context["outcome_url"]


def test_a_represented_case_links_to_its_matchs_outcome_form(client, coord, att_a):
    match = accepted_case(attorney=att_a, coordinator=coord, days_ago=10)
    client.force_login(coord)
    url = reverse("admin:matching_match_outcome", args=[match.pk])
    assert _outcome_link(client, match.case) == url
    assert f'href="{url}"' in client.get(_change(match.case)).content.decode()
    assert client.get(url).status_code == 200  # the link leads to a form the coordinator may use


def test_no_outcome_link_once_the_case_is_closed(client, coord, att_a):
    match = accepted_case(attorney=att_a, coordinator=coord, days_ago=10)
    yesterday = timezone.localdate() - timedelta(days=1)
    match_case_close(match=match, actor=coord, outcome="termination", outcome_date=yesterday)
    client.force_login(coord)
    assert _outcome_link(client, match.case) is None
    assert "Record the outcome" not in client.get(_change(match.case)).content.decode()


def test_no_outcome_link_for_a_case_without_an_accepted_match(client, coord, case_x):
    client.force_login(coord)
    assert _outcome_link(client, case_x) is None


def test_no_outcome_link_for_staff_who_may_not_record_outcomes(client, coord, att_a):
    """Staff who may see and edit cases but not decide matches: the form would refuse them."""
    match = accepted_case(attorney=att_a, coordinator=coord, days_ago=10)
    clerk = _with_totp(UserFactory(username="clerk@example.org", is_staff=True))
    codenames = ["view_caserequest", "change_caserequest", "view_match"]
    clerk.user_permissions.add(*Permission.objects.filter(codename__in=codenames))
    client.force_login(clerk)
    assert _outcome_link(client, match.case) is None
    assert "Record the outcome" not in client.get(_change(match.case)).content.decode()
    url = reverse("admin:matching_match_outcome", args=[match.pk])
    assert client.get(url).status_code == 403


# The add form sent again after Back (never cached, as every admin page): a request without an
# A-number that repeats one the same coordinator just recorded is asked about.


def test_a_coordinators_request_sent_again_is_asked_about_then_recorded_when_ticked(
    client, coord, nyc
):
    client.force_login(coord)
    assert client.post(ADD, admin_post(court=nyc.pk, a_number="")).status_code == 302
    case = CaseRequest.objects.get()
    again = client.post(ADD, admin_post(court=nyc.pk, a_number=""))
    form = again.context["adminform"].form
    [error] = form.errors["again"]
    assert f"a minute ago, as {case.reference}. If this is a different person" in error
    assert NAME not in error
    assert 'type="checkbox" name="again"' in again.content.decode()
    assert CaseRequest.objects.count() == 1
    assert DomainEvent.objects.filter(verb="case_request.created").count() == 1
    ticked = client.post(ADD, admin_post(court=nyc.pk, a_number="", again="on"))
    assert ticked.status_code == 302
    assert CaseRequest.objects.count() == 2


def test_another_coordinators_or_an_older_request_is_recorded_without_asking(
    client, coord, granter, nyc
):
    from cases.services import REQUEST_REPEAT_WINDOW

    client.force_login(_with_totp(granter))
    assert client.post(ADD, admin_post(court=nyc.pk, a_number="")).status_code == 302
    client.force_login(coord)
    assert client.post(ADD, admin_post(court=nyc.pk, a_number="")).status_code == 302
    CaseRequest.objects.update(created_at=timezone.now() - REQUEST_REPEAT_WINDOW)
    assert client.post(ADD, admin_post(court=nyc.pk, a_number="")).status_code == 302
    again = client.post(ADD, admin_post(court=nyc.pk, a_number=""))  # the one just recorded
    assert again.status_code == 200 and "again" in again.context["adminform"].form.errors
    assert CaseRequest.objects.count() == 3


def test_the_add_form_hides_the_box_and_the_change_form_has_none(client, coord, case_x):
    client.force_login(coord)
    add = client.get(ADD).content.decode()
    change = client.get(_change(case_x)).content.decode()
    assert '<div class="form-row hidden field-again">' in add  # its label too, until asked
    assert 'type="hidden" name="again"' in add and 'name="again"' not in change


# Dates in their window and a detained person's facility (SEC-18): the partner form's rules
# (cases.validation), on an update judged only where the value changed.


def test_the_add_form_refuses_a_detained_person_without_a_facility(client, coord, nyc):
    client.force_login(coord)
    response = client.post(ADD, admin_post(court=nyc.pk, detained="on", case_type="bond"))
    [error] = response.context["adminform"].form.errors["detention_facility"]
    assert error.startswith("Name the facility where the person is detained")
    assert CaseRequest.objects.count() == 0
    facility = admin_post(court=nyc.pk, detained="on", case_type="bond", detention_facility="Krome")
    assert client.post(ADD, facility).status_code == 302
    assert CaseRequest.objects.get().detention_facility == "Krome"


@pytest.mark.parametrize("field", ["filing_deadline", "next_hearing_date"])
def test_the_add_form_refuses_a_date_long_past(client, coord, nyc, field):
    client.force_login(coord)
    response = client.post(ADD, admin_post(court=nyc.pk, **{field: "2001-05-01"}))
    [error] = response.context["adminform"].form.errors[field]
    earliest = timezone.localdate() - timedelta(days=PAST_DAYS[field])
    # The range is stated: a coordinator who typed last year's hearing sees why it is refused.
    assert error.startswith("This date is outside the accepted range (")
    assert f"{earliest.day} {earliest:%b %Y} to " in error and error.endswith("check the year.")
    assert CaseRequest.objects.count() == 0


def _aged(case, **fields):
    """The case as years of waiting leave it: dates past the window, detained with no facility
    (before one was asked for)."""
    CaseRequest.objects.filter(pk=case.pk).update(
        next_hearing_date=date(2022, 3, 1), filing_deadline=date(2019, 1, 1), **fields
    )


def _change_post(case, **overrides):
    stored = {"next_hearing_date": "2022-03-01", "filing_deadline": "2019-01-01"}
    data = admin_post(court=case.court_id, **{**stored, **overrides})
    for name in ("respondent_name", "a_number", "contact_route", "organization"):
        data.pop(name)
    return data


def test_an_old_case_whose_dates_and_facility_aged_still_saves(client, coord, case_x):
    _aged(case_x, detained=True, case_type_id="bond")
    client.force_login(coord)
    data = _change_post(case_x, summary="New summary.", detained="on", case_type="bond")
    response = client.post(_change(case_x), data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    case_x.refresh_from_db()
    assert (case_x.summary, case_x.filing_deadline) == ("New summary.", date(2019, 1, 1))
    assert DomainEvent.objects.get(verb="case_request.updated").data["fields"] == ["summary"]


def test_a_change_into_a_date_long_past_or_to_detained_without_facility_is_refused(
    client, coord, case_x
):
    _aged(case_x)
    client.force_login(coord)
    moved = _change_post(case_x, filing_deadline="2001-05-01")
    errors = client.post(_change(case_x), moved).context["adminform"].form.errors
    assert set(errors) == {"filing_deadline"}
    detained = _change_post(case_x, detained="on")
    errors = client.post(_change(case_x), detained).context["adminform"].form.errors
    assert set(errors) == {"detention_facility"}
    case_x.refresh_from_db()
    assert (case_x.filing_deadline, case_x.detained) == (date(2019, 1, 1), False)


# The add form's one-time token (core.forms): sent twice, it records one request and the second
# lands on it.


@pytest.mark.parametrize("a_number", ["", "A-087-654-321"], ids=["no A-number", "A-number"])
def test_the_add_form_sent_twice_records_once_and_lands_on_the_request(
    client, coord_viewer, nyc, a_number
):
    client.force_login(coord_viewer)
    data = admin_post(court=nyc.pk, a_number=a_number)
    assert client.post(ADD, data).status_code == 302
    case = CaseRequest.objects.get()
    again = client.post(ADD, data, follow=True)
    assert again.redirect_chain == [(_change(case), 302)]
    assert f"This form was sent already: it recorded {case.reference}." in again.content.decode()
    assert CaseRequest.objects.count() == 1
    assert DomainEvent.objects.filter(verb="case_request.created").count() == 1
    assert case.submission_token == uuid.UUID(data["submission_token"])


def test_the_add_form_without_its_token_records_nothing(client, coord, nyc):
    client.force_login(coord)
    data = admin_post(court=nyc.pk)
    del data["submission_token"]
    response = client.post(ADD, data)
    assert response.status_code == 200
    assert "incomplete or out of date" in str(response.context["adminform"].form.non_field_errors())
    assert 'type="hidden" name="submission_token"' in response.content.decode()  # a fresh one
    assert CaseRequest.objects.count() == 0


def test_a_partners_token_sent_to_the_add_form_records_nothing_and_names_nothing(
    client, coord, nyc, case_x
):
    token = uuid.uuid4()
    CaseRequest.objects.filter(pk=case_x.pk).update(submission_token=token)
    client.force_login(coord)
    response = client.post(ADD, admin_post(court=nyc.pk, submission_token=str(token)), follow=True)
    assert response.redirect_chain == [(ADD, 302)]
    assert "This form was already used" in response.content.decode()
    assert case_x.reference not in response.content.decode()
    assert CaseRequest.objects.count() == 1


def test_the_add_form_has_a_token_and_the_change_form_none(client, coord, case_x):
    client.force_login(coord)
    assert 'type="hidden" name="submission_token"' in client.get(ADD).content.decode()
    assert 'name="submission_token"' not in client.get(_change(case_x)).content.decode()
