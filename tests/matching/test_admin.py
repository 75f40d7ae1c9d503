"""The coordinator's review queue, match detail, swap and "run now" in the admin."""

import random
from unittest import mock

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.contrib.auth.models import Permission
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from kombu.exceptions import OperationalError as BrokerError

from cases.models import CaseRequest
from core.models import DomainEvent
from matching import selectors
from matching.admin import MatchAdmin
from matching.in_flight import RUN_LOCK_KEY
from matching.models import Match, MatchingRun
from matching.scoring import affinity, eligibility
from matching.selectors import match_sentences, next_best_attorneys
from matching.services import match_approve, match_propose
from tests.factories import AttorneyFactory, CaseRequestFactory, MatchFactory, UserFactory
from volunteers.models import AttorneyProfile

pytestmark = pytest.mark.django_db

CHANGELIST = reverse("admin:matching_match_changelist")
BREAKDOWN = {
    "affinity": {"language": 300, "distance": 150, "experience": 60, "miles": 12.4},
    "priority": {"stored": 240, "detention": 0, "hearing": 200, "deadline": 0, "waiting": 40},
    "explanation": ["Speaks Spanish fluently", "12 miles from the court"],
}


def _proposed(attorney=None, **case):
    return match_propose(
        case=CaseRequestFactory(**case),
        attorney=attorney or AttorneyFactory(),
        score=500,
        breakdown=BREAKDOWN,
    )


def _act(client, action, matches, **extra):
    data = {"action": action, ACTION_CHECKBOX_NAME: [m.pk for m in matches], **extra}
    # The selection as seen under "All": the default filter would hide approved matches.
    return client.post(f"{CHANGELIST}?status=all", data, follow=True)


def _messages(response) -> list[str]:
    return [str(m) for m in response.context["messages"]]


def test_the_queue_opens_on_proposed_matches(client, coord):
    proposed, approved = _proposed(), _proposed()
    match_approve(match=approved, actor=coord)
    client.force_login(coord)
    shown = client.get(CHANGELIST).context["cl"].result_list
    assert [m.pk for m in shown] == [proposed.pk]
    everything = client.get(CHANGELIST, {"status": "all"}).context["cl"].result_list
    assert {m.pk for m in everything} == {proposed.pk, approved.pk}


def test_the_queue_puts_the_most_urgent_case_first(client, coord):
    _proposed(priority=100)
    urgent = _proposed(priority=900)
    client.force_login(coord)
    assert client.get(CHANGELIST).context["cl"].result_list[0].pk == urgent.pk


def test_the_queue_shows_what_a_coordinator_decides_on(client, coord):
    match = _proposed()
    client.force_login(coord)
    page = client.get(CHANGELIST).content.decode()
    for text in (
        match.case.reference,
        "Spanish",
        match.attorney.user.get_full_name(),
        ">12<",
        ">500<",
    ):
        assert text in page


def test_search_finds_a_match_by_case_reference_or_attorney_email(client, coord):
    match, other = _proposed(), _proposed()
    client.force_login(coord)
    for q in (match.case.reference, match.attorney.user.email):
        shown = client.get(CHANGELIST, {"q": q}).context["cl"].result_list
        assert [m.pk for m in shown] == [match.pk], q
    assert other.pk


def _changelist_queries(client, coord, rows: int) -> int:
    for _ in range(rows):
        _proposed()
    client.force_login(coord)
    client.get(CHANGELIST)  # warm the session and content-type caches
    with CaptureQueriesContext(connection) as queries:
        assert client.get(CHANGELIST).status_code == 200
    return len(queries)


def test_the_changelist_uses_a_constant_number_of_queries(client, coord):
    few = _changelist_queries(client, coord, 5)
    many = _changelist_queries(client, coord, 45)
    assert many == few
    # 18, and on PostgreSQL 3 more to read the page without parallel workers (BEGIN,
    # set_config, COMMIT: core.admin_lists.rows_serially).
    assert many <= (21 if connection.vendor == "postgresql" else 18)


def _page_query(client, query=None) -> str:
    """The SQL that reads the page's rows (the one that selects the score column)."""
    with CaptureQueriesContext(connection) as queries:
        assert client.get(CHANGELIST, query).status_code == 200
    (sql,) = [q["sql"] for q in queries if q["sql"].startswith('SELECT "matching_match"."id"')
              and '"matching_match"."score"' in q["sql"]]  # fmt: skip
    return sql


def test_the_page_reads_its_columns_only(client, coord):
    """No identifiers, no run plan, no breakdown, and no join to the reference tables (joined,
    the eight tables took PostgreSQL 20-70 ms to plan at scale)."""
    _proposed()
    client.force_login(coord)
    sql = _page_query(client)
    breakdown = ', "matching_match"."breakdown"'  # the whole column; the miles come in SQL
    for column in ("respondent_name", "a_number", "contact_route", '"plan"', "priority_parts",
                   '"stats"', breakdown):  # fmt: skip
        assert column not in sql, column
    for table in ("cases_language", "cases_immigrationcourt", "cases_casetype"):
        assert f'JOIN "{table}"' not in sql, table


def _returned_and_others() -> list[Match]:
    """Returned matches (the ones kept, most urgent case first), among others left out."""
    returned = [MatchFactory(status=Match.Status.RETURNED, case=CaseRequestFactory(priority=p))
                for p in (200, 900, 200, 500, 200)]  # fmt: skip
    MatchFactory(status=Match.Status.REJECTED, case=CaseRequestFactory(priority=999))
    _proposed(priority=999)
    return sorted(returned, key=lambda m: (-m.case.priority, m.created_at, -m.pk))


def test_the_returned_filter_pages_through_put_back_matches_most_urgent_case_first(
    client, coord, monkeypatch
):
    expected = _returned_and_others()
    monkeypatch.setattr(MatchAdmin, "list_per_page", 2)
    client.force_login(coord)
    pages = [client.get(CHANGELIST, {"status": "returned", "p": n}).context["cl"].result_list
             for n in (1, 2, 3)]  # fmt: skip
    assert [[m.pk for m in page] for page in pages] == [
        [m.pk for m in expected[:2]],
        [m.pk for m in expected[2:4]],
        [expected[4].pk],
    ]


def test_a_page_picks_its_matches_by_id_before_reading_their_columns(client, coord, monkeypatch):
    """The ids in a LIMIT subquery, which PostgreSQL plans alone: it then walks the cases'
    urgency index without reading the cases (at 1,000,000 cases, 11,400 of them read for one
    page of returned matches); the columns are read for the page's rows only."""
    _returned_and_others()
    monkeypatch.setattr(MatchAdmin, "list_per_page", 2)
    client.force_login(coord)
    sql = _page_query(client, {"status": "returned", "p": 2})
    outer, picked = sql.split(' IN (SELECT "U0"."id"')
    assert "LIMIT 2 OFFSET 2)" in picked and "LIMIT" not in outer


def test_the_columns_name_the_language_court_and_case_type_and_the_miles(client, coord):
    match = _proposed()
    case = match.case
    client.force_login(coord)
    (row,) = client.get(CHANGELIST).context["cl"].result_list
    columns = (row.language_name, row.court_name, row.case_type_name, row.miles)
    assert columns == (case.language.name, case.court.name, case.case_type.name, 12.4)


def test_approve_reports_partial_failures(client, coord):
    proposed, approved = _proposed(), _proposed()
    match_approve(match=approved, actor=coord)
    client.force_login(coord)
    response = _act(client, "approve_selected", [proposed, approved])
    assert "1 approved; 1 could not be: Only a proposed match can be approved (1)." in _messages(
        response
    )
    proposed.refresh_from_db()
    assert proposed.status == Match.Status.APPROVED


def test_approve_goes_through_the_service(client, coord):
    match = _proposed()
    client.force_login(coord)
    with mock.patch("matching.admin.match_approve") as service:
        _act(client, "approve_selected", [match])
    assert service.call_count == 1
    match.refresh_from_db()
    assert match.status == Match.Status.PROPOSED


def test_reject_asks_for_a_reason_first(client, coord):
    match = _proposed()
    client.force_login(coord)
    response = _act(client, "reject_selected", [match])
    assert response.status_code == 200
    assert "reason" in response.context["form"].fields
    match.refresh_from_db()
    assert match.status == Match.Status.PROPOSED


def test_reject_with_a_reason_frees_the_cases(client, coord):
    matches = [_proposed(), _proposed()]
    client.force_login(coord)
    response = _act(client, "reject_selected", matches, reason="Attorney on leave")
    assert "2 rejected." in _messages(response)
    for match in matches:
        match.refresh_from_db()
        assert match.status == Match.Status.REJECTED
        assert match.reject_reason == "Attorney on leave"
        assert match.case.status == "open"


def test_offer_offers_approved_matches_and_reports_the_others(client, coord):
    approved, proposed = _proposed(), _proposed()
    match_approve(match=approved, actor=coord)
    client.force_login(coord)
    response = _act(client, "offer_selected", [approved, proposed])
    assert "1 offered; 1 could not be: Only an approved match can be offered (1)." in _messages(
        response
    )
    approved.refresh_from_db()
    assert approved.status == Match.Status.OFFERED


def test_staff_who_may_only_view_matches_cannot_decide(client):
    viewer = UserFactory(is_staff=True)
    viewer.user_permissions.add(Permission.objects.get(codename="view_match"))
    from tests.conftest import _with_totp

    _with_totp(viewer)
    match = _proposed()
    client.force_login(viewer)
    _act(client, "approve_selected", [match])
    _act(client, "reject_selected", [match], reason="no")
    match.refresh_from_db()
    assert match.status == Match.Status.PROPOSED


def test_the_change_form_cannot_save(client, coord):
    match = _proposed()
    client.force_login(coord)
    url = reverse("admin:matching_match_change", args=[match.pk])
    client.post(url, {"status": "accepted", "score": "1"})
    match.refresh_from_db()
    assert match.status == Match.Status.PROPOSED and match.score == 500


def test_the_detail_explains_the_match_and_lists_the_next_best(client, coord):
    match = _proposed()
    other = AttorneyFactory()
    client.force_login(coord)
    response = client.get(reverse("admin:matching_match_change", args=[match.pk]))
    page = response.content.decode()
    assert "Speaks Spanish fluently" in page
    assert "hearing soon 200" in page
    assert "travel radius" in page
    assert [c.attorney.pk for c in response.context["next_best"]] == [other.pk]


def test_swap_rejects_the_proposal_and_proposes_the_chosen_attorney(client, coord):
    match = _proposed()
    other = AttorneyFactory()
    client.force_login(coord)
    url = reverse("admin:matching_match_swap", args=[match.pk])
    response = client.post(url, {"attorney": other.pk})
    assert response.status_code == 302
    match.refresh_from_db()
    assert match.status == Match.Status.REJECTED and match.reject_reason == "swapped"
    new = Match.objects.get(case=match.case, attorney=other)
    assert new.status == Match.Status.PROPOSED
    assert match_sentences(new.breakdown)
    match.attorney.refresh_from_db()
    assert match.attorney.active_cases == 0


def test_swap_to_an_ineligible_attorney_changes_nothing(client, coord):
    match = _proposed()
    stranger = AttorneyFactory(languages={"fra": 4})
    client.force_login(coord)
    client.post(reverse("admin:matching_match_swap", args=[match.pk]), {"attorney": stranger.pk})
    match.refresh_from_db()
    assert match.status == Match.Status.PROPOSED
    assert not Match.objects.filter(attorney=stranger).exists()


def test_swap_is_refused_to_staff_without_the_coordinator_permission(client, staff_plain):
    match = _proposed()
    other = AttorneyFactory()
    client.force_login(staff_plain)
    url = reverse("admin:matching_match_swap", args=[match.pk])
    assert client.post(url, {"attorney": other.pk}).status_code == 403
    match.refresh_from_db()
    assert match.status == Match.Status.PROPOSED
    assert not Match.objects.filter(attorney=other).exists()


def test_swap_needs_a_post(client, coord):
    match = _proposed()
    client.force_login(coord)
    response = client.get(reverse("admin:matching_match_swap", args=[match.pk]))
    assert response.status_code == 405


def test_run_now_queues_a_run_after_commit(client, coord, django_capture_on_commit_callbacks):
    client.force_login(coord)
    with (
        mock.patch("matching.tasks.runs.run_matching.delay") as delay,
        django_capture_on_commit_callbacks(execute=True),
    ):
        response = client.post(reverse("admin:matching_matchingrun_run_now"), follow=True)
    delay.assert_called_once_with(trigger="admin", user_id=coord.pk)
    assert any("queued" in text for text in _messages(response))


def test_run_now_is_refused_to_staff_without_the_coordinator_permission(client, staff_plain):
    client.force_login(staff_plain)
    with mock.patch("matching.tasks.runs.run_matching.delay") as delay:
        response = client.post(reverse("admin:matching_matchingrun_run_now"))
    assert response.status_code == 403
    delay.assert_not_called()


def test_the_run_detail_shows_phase_seconds_and_objective_against_greedy(client, coord):
    run = MatchingRun.objects.create(
        status=MatchingRun.Status.FINISHED,
        objective=1100,
        greedy_objective=1000,
        stats={"seconds": {"load": 1.25, "solve": 0.5}},
    )
    client.force_login(coord)
    page = client.get(reverse("admin:matching_matchingrun_change", args=[run.pk])).content
    page = page.decode()
    assert "load: 1.25" in page and "solve: 0.5" in page
    assert "+10.0%" in page


def test_the_run_list_offers_run_now_to_coordinators(client, coord):
    client.force_login(coord)
    page = client.get(reverse("admin:matching_matchingrun_changelist")).content.decode()
    assert reverse("admin:matching_matchingrun_run_now") in page


def test_the_queue_filters_by_language_and_run(client, coord):
    spanish, portuguese = _proposed(), _proposed(language_id="por")
    run = MatchingRun.objects.create(status=MatchingRun.Status.FINISHED)
    Match.objects.filter(pk=portuguese.pk).update(run=run)  # test set-up: attach to a run
    client.force_login(coord)
    shown = client.get(CHANGELIST, {"language": "por"}).context["cl"].result_list
    assert [m.pk for m in shown] == [portuguese.pk]
    shown = client.get(CHANGELIST, {"run": str(run.pk)}).context["cl"].result_list
    assert [m.pk for m in shown] == [portuguese.pk]
    assert spanish.pk


def test_export_writes_the_selection_to_csv_and_logs_it(client, coord):
    matches = [_proposed(), _proposed()]
    client.force_login(coord)
    data = {"action": "export_selected", ACTION_CHECKBOX_NAME: [m.pk for m in matches]}
    response = client.post(CHANGELIST, data)
    assert response["Content-Type"].startswith("text/csv")
    content = response.getvalue().decode()
    lines = content.strip().splitlines()
    assert len(lines) == 3 and matches[0].case.reference in lines[1] + lines[2]
    assert "Respondent" not in content  # no identifiers in a match export
    event = DomainEvent.objects.get(verb="admin.exported")
    assert event.actor == coord
    assert event.data == {"model": "match", "rows": 2, "identifiers": False}


def test_the_detail_of_a_match_without_a_stored_explanation_still_renders(client, coord):
    match = MatchFactory(breakdown={})
    client.force_login(coord)
    response = client.get(reverse("admin:matching_match_change", args=[match.pk]))
    assert response.status_code == 200
    assert "No explanation was stored" in response.content.decode()


def test_an_offered_match_cannot_be_swapped(client, coord):
    match = _proposed()
    match_approve(match=match, actor=coord)
    client.force_login(coord)
    client.post(
        reverse("admin:matching_match_changelist") + "?status=all",
        {"action": "offer_selected", ACTION_CHECKBOX_NAME: [match.pk]},
    )
    other = AttorneyFactory()
    client.post(reverse("admin:matching_match_swap", args=[match.pk]), {"attorney": other.pk})
    match.refresh_from_db()
    assert match.status == Match.Status.OFFERED
    assert not Match.objects.filter(attorney=other).exists()


def _brute_force_best(case, limit):
    """Every attorney scored with matching.scoring, the way the run ranks them."""
    cell = selectors._cell(case)
    attorneys = list(AttorneyProfile.objects.exclude(matches__case=case).order_by("pk"))
    facts = selectors._facts(attorneys)
    scored = [
        (-affinity(facts[a.pk], cell).total, a.pk)
        for a in attorneys
        if a.active_cases < a.capacity and eligibility(facts[a.pk], cell).ok
    ]
    return [pk for _, pk in sorted(scored)[:limit]]


def test_the_next_best_finds_the_best_attorney_beyond_the_first_300(coord):
    match = _proposed()
    AttorneyFactory.create_batch(
        320, languages={"eng": 4, "spa": 1}, travel_radius_miles=100, latitude="41.20000"
    )
    best = AttorneyFactory(languages={"spa": 4})  # native, in Manhattan: the highest pk
    shown = next_best_attorneys(case=match.case)
    assert shown[0].attorney.pk == best.pk
    assert [c.attorney.pk for c in shown] == _brute_force_best(match.case, 5)


@pytest.mark.parametrize("other_languages", [[], ["fra", "hat"]])
def test_the_next_best_ranks_like_the_scorer_over_every_eligible_attorney(coord, other_languages):
    match = _proposed(relay_interpreter_ok=True, relay_language_id="spa", language_id="mam")
    CaseRequest.objects.filter(pk=match.case_id).update(remote_ok=True)
    match.case.other_languages.add(*other_languages)
    rng = random.Random(7)
    for _ in range(80):
        AttorneyFactory(
            languages={rng.choice(["spa", "mam", "fra", "hat"]): rng.randint(1, 4), "eng": 4},
            practice_areas=rng.choice([["asylum"], ["bond"]]),
            latitude=f"{40.7 + rng.uniform(-1.5, 1.5):.5f}",
            longitude=f"{-74.0 + rng.uniform(-1.5, 1.5):.5f}",
            travel_radius_miles=rng.choice([25, 50, 100]),
            remote_ok=rng.random() < 0.5,
            years_experience=rng.randint(0, 20),
            capacity=rng.choice([1, 2]),
        )
    case = CaseRequest.objects.select_related(
        "language", "relay_language", "case_type", "court"
    ).get(pk=match.case_id)
    shown = next_best_attorneys(case=case, limit=15)
    assert len(shown) == 15
    assert [c.attorney.pk for c in shown] == _brute_force_best(case, 15)
    assert [c.score for c in shown] == sorted((c.score for c in shown), reverse=True)
    used = {c.breakdown.language_code for c in shown}
    assert ("fra" in used or "hat" in used) == bool(other_languages)


def test_the_next_best_names_the_other_language_it_would_use(coord):
    match = _proposed(language_id="quc")
    match.case.other_languages.add("spa")
    spanish = AttorneyFactory(languages={"spa": 4})
    shown = {c.attorney.pk: c for c in next_best_attorneys(case=match.case, limit=10)}
    assert shown[spanish.pk].sentences[0] == "Speaks Spanish natively"
    assert not shown[spanish.pk].breakdown.via_relay


def test_the_match_detail_uses_a_constant_number_of_queries(client, coord):
    match = _proposed()
    url = reverse("admin:matching_match_change", args=[match.pk])
    client.force_login(coord)
    counts = []
    for more in (5, 60):
        AttorneyFactory.create_batch(more)
        client.get(url)
        with CaptureQueriesContext(connection) as queries:
            response = client.get(url)
        assert len(response.context["next_best"]) == 5
        counts.append(len(queries))
    assert counts[0] == counts[1] <= 25


def test_a_run_page_never_shows_the_stored_plan(client, coord):
    run = MatchingRun.objects.create(status=MatchingRun.Status.RUNNING, plan=b"\x00secret-ids")
    client.force_login(coord)
    response = client.get(reverse("admin:matching_matchingrun_change", args=[run.pk]))
    assert response.status_code == 200
    assert "secret-ids" not in response.content.decode()
    assert "Plan" not in response.content.decode()


def test_a_running_run_shows_its_progress_and_reloads_until_done(client, coord, monkeypatch):
    from matching.pipeline import run as run_module

    seen = []
    real_write = run_module.write_batch

    def look_at_the_run_page(**kwargs):
        run = kwargs["run"]
        page = client.get(reverse("admin:matching_matchingrun_change", args=[run.pk]))
        seen.append(page.content.decode())
        return real_write(**kwargs)

    AttorneyFactory(capacity=2, languages={"spa": 4})
    CaseRequestFactory()
    client.force_login(coord)
    monkeypatch.setattr(run_module, "write_batch", look_at_the_run_page)
    run = run_module.matching_run(trigger="test")

    assert seen, "the run wrote at least one batch"
    assert "Writing proposals: batch 1 of 1, 0 written" in seen[0]
    assert 'http-equiv="refresh"' in seen[0]
    done = client.get(reverse("admin:matching_matchingrun_change", args=[run.pk])).content.decode()
    assert 'http-equiv="refresh"' not in done
    assert "Finished" in done and "seconds per phase" in done.lower()


# "Run matching now" while a run is already queued or running: one run, and a clear answer.

RUN_NOW = reverse("admin:matching_matchingrun_run_now")


def _click(client, captured):
    with captured(execute=True):
        return client.post(RUN_NOW, follow=True)


def _hh_mm(moment) -> str:
    return timezone.localtime(moment).strftime("%H:%M")


def test_a_second_click_while_a_run_is_queued_queues_nothing(
    client, coord, django_capture_on_commit_callbacks
):
    client.force_login(coord)
    with mock.patch("matching.tasks.runs.run_matching.delay") as delay:
        before = timezone.now()
        _click(client, django_capture_on_commit_callbacks)
        after = timezone.now()
        second = _click(client, django_capture_on_commit_callbacks)
    delay.assert_called_once_with(trigger="admin", user_id=coord.pk)
    [message] = _messages(second)
    assert message in {
        f"A matching run is already queued (since {_hh_mm(moment)}); its proposals will "
        "appear in the review queue. No other run was queued."
        for moment in (before, after)  # the click's minute, whichever side of a minute's turn
    }
    assert not MatchingRun.objects.exists()


def test_a_click_while_a_run_holds_the_lock_queues_nothing(
    client, coord, django_capture_on_commit_callbacks
):
    if connection.vendor != "postgresql":
        pytest.skip("advisory locks are PostgreSQL only")
    running = MatchingRun.objects.create(status=MatchingRun.Status.RUNNING, trigger="schedule")
    client.force_login(coord)
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_lock(%s)", [RUN_LOCK_KEY])
    try:
        with mock.patch("matching.tasks.runs.run_matching.delay") as delay:
            response = _click(client, django_capture_on_commit_callbacks)
    finally:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock(%s)", [RUN_LOCK_KEY])
    delay.assert_not_called()
    [message] = _messages(response)
    assert message.startswith(
        f"A matching run is already running (since {_hh_mm(running.started_at)}); its proposals"
    )


def test_a_running_row_without_the_lock_is_a_dead_run_and_does_not_block(
    client, coord, django_capture_on_commit_callbacks
):
    if connection.vendor != "postgresql":
        pytest.skip("advisory locks are PostgreSQL only")
    MatchingRun.objects.create(status=MatchingRun.Status.RUNNING)  # its worker died
    client.force_login(coord)
    with mock.patch("matching.tasks.runs.run_matching.delay") as delay:
        response = _click(client, django_capture_on_commit_callbacks)
    delay.assert_called_once()
    assert _messages(response) == ["Matching run queued; it appears below when it starts."]


def test_without_advisory_locks_a_recent_running_row_blocks_a_click(
    client, coord, django_capture_on_commit_callbacks, monkeypatch
):
    monkeypatch.setattr("matching.in_flight.advisory_locks", lambda: False)
    MatchingRun.objects.create(status=MatchingRun.Status.RUNNING)
    client.force_login(coord)
    with mock.patch("matching.tasks.runs.run_matching.delay") as delay:
        response = _click(client, django_capture_on_commit_callbacks)
    delay.assert_not_called()
    assert "already running" in _messages(response)[0]


def test_once_the_queued_run_has_ended_a_click_queues_the_next(
    client, coord, django_capture_on_commit_callbacks
):
    from matching.tasks.runs import run_matching

    client.force_login(coord)
    with mock.patch("matching.tasks.runs.run_matching.delay") as delay:
        _click(client, django_capture_on_commit_callbacks)
        run_matching.apply(kwargs={"trigger": "admin", "user_id": coord.pk})  # the worker
        _click(client, django_capture_on_commit_callbacks)
    assert delay.call_count == 2
    assert MatchingRun.objects.get().status == MatchingRun.Status.FINISHED


def test_a_broker_outage_leaves_nothing_marked_queued(
    client, coord, django_capture_on_commit_callbacks
):
    client.force_login(coord)
    with mock.patch(
        "matching.tasks.runs.run_matching.delay", side_effect=BrokerError("down")
    ) as delay:
        _click(client, django_capture_on_commit_callbacks)
        _click(client, django_capture_on_commit_callbacks)
    assert delay.call_count == 2  # the second click tried again: nothing was queued


def test_with_the_cache_down_a_click_still_queues_and_the_home_opens(
    client, coord, django_capture_on_commit_callbacks
):
    from redis.exceptions import ConnectionError as CacheDown

    client.force_login(coord)
    with (
        mock.patch("matching.tasks.runs.run_matching.delay") as delay,
        mock.patch("matching.in_flight.cache") as cache,
    ):
        cache.add.side_effect = cache.get.side_effect = CacheDown("down")
        response = _click(client, django_capture_on_commit_callbacks)
        home = client.get(reverse("admin:index"))
    delay.assert_called_once()  # the run's own lock still keeps it single-flight
    assert _messages(response) == ["Matching run queued; it appears below when it starts."]
    assert home.status_code == 200
