"""The matching run service against the database: load, score, solve, write, single flight."""

import threading
import time
from datetime import timedelta

import numpy as np
import psycopg
import pytest
from django.core.management import call_command
from django.db import connection
from django.db.models import Count, F, Q
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from cases.models import CaseRequest, ImmigrationCourt
from core.models import DomainEvent
from matching.models import Match, MatchingRun
from matching.pipeline import load as loading
from matching.pipeline.load import case_id, load_problem
from matching.pipeline.load import cases as load_cases
from matching.pipeline.load.problem import ATTORNEY_IDS, CASE_IDS, case_ids
from matching.pipeline.run import (
    RUN_LOCK_KEY,
    STALE_RUN_AFTER,
    matching_run,
    solve_problem,
    unreachable_cases,
)
from matching.scoring import affinity, eligibility
from matching.selectors import match_sentences
from matching.solver import (
    SOLVE_BATCH_ARCS,
    Solution,
    SolverError,
    component_batches,
    components,
    greedy_with_hubs,
    instance_to_json,
    materialise,
    merge_solutions,
    solve,
    solve_component,
    solve_greedy,
)
from tests.factories import AttorneyFactory, CaseRequestFactory, MatchFactory
from volunteers.models import AttorneyProfile

pytestmark = pytest.mark.django_db

ACTIVE = Match.ACTIVE_STATUSES


def _pairs(run=None) -> set[tuple[int, int]]:
    matches = Match.objects.filter(status__in=ACTIVE)
    if run is not None:
        matches = matches.filter(run=run)
    return set(matches.values_list("attorney_id", "case_id"))


def _solution_pairs(solution) -> set[tuple[int, int]]:
    return {(loading.pk_of(a.attorney), loading.pk_of(a.case)) for a in solution.assignments}


def _assert_invariants():
    """SECURITY.md: no case with two active matches, no attorney above capacity, counters true."""
    doubled = (
        Match.objects.filter(status__in=ACTIVE).values("case").annotate(n=Count("id")).filter(n=2)
    )
    assert not doubled.exists()
    for attorney in AttorneyProfile.objects.annotate(
        live=Count("matches", filter=Q(matches__status__in=ACTIVE))
    ):
        assert attorney.active_cases == attorney.live <= attorney.capacity
    matched = CaseRequest.objects.filter(matches__status__in=ACTIVE)
    assert set(matched.values_list("status", flat=True)) <= {"matched"}


@pytest.fixture
def small_world():
    """Two Spanish-speaking asylum attorneys in New York and one English-only; five cases."""
    today = timezone.localdate()
    a = AttorneyFactory(capacity=2, languages={"spa": 4, "eng": 4})
    b = AttorneyFactory(capacity=1, languages={"spa": 2, "eng": 4})
    c = AttorneyFactory(capacity=1, languages={"eng": 4}, practice_areas=["asylum", "u-visa"])
    cases = [
        CaseRequestFactory(priority=900, detained=True),
        CaseRequestFactory(priority=500),
        CaseRequestFactory(priority=100),
        CaseRequestFactory(priority=50, language_id="eng", case_type_id="u-visa"),
        CaseRequestFactory(priority=10, language_id="fra"),  # nobody speaks French
    ]
    for case in cases:
        case.next_hearing_date = today + timedelta(days=30)
        case.save()
    return {"a": a, "b": b, "c": c, "cases": cases}


@pytest.fixture
def scale_world():
    """A seed_scale world, plus other languages on one case in five (more than seed_scale's
    realistic share, so every test over this world meets them): languages the attorneys speak,
    sometimes the case's own or relay language (which must change nothing), sometimes two."""
    call_command("seed_scale", attorneys=60, cases=600, seed=7)
    choices = [("spa",), ("fra",), ("spa", "fra"), ("hat", "mam"), ("quc",), ("spa", "pan")]
    cases = CaseRequest.objects.order_by("pk").values_list("pk", "language_id")
    links = [
        CaseRequest.other_languages.through(caserequest_id=pk, language_id=code)
        for n, (pk, language) in enumerate(cases)
        if n % 5 == 0
        for code in {*choices[n // 5 % len(choices)], *([language] if n % 35 == 0 else [])}
    ]
    # Relays the person does not need (to a language they speak), which must not split cells.
    relayed = CaseRequest.objects.filter(relay_interpreter_ok=True).order_by("pk")
    for case in relayed[:3]:
        links.append(CaseRequest.other_languages.through(caserequest=case, language_id="spa"))
    CaseRequest.objects.filter(pk=relayed.last().pk).update(relay_language_id=F("language_id"))
    CaseRequest.other_languages.through.objects.bulk_create(links, ignore_conflicts=True)
    assert CaseRequest.other_languages.through.objects.count() > 120


def _full_instance():
    problem = load_problem()
    return materialise(problem.instance, problem.hubs)


def test_a_run_proposes_the_optimal_pairs(small_world):
    expected = solve(_full_instance())

    run = matching_run(trigger="test")

    assert run.status == MatchingRun.Status.FINISHED
    assert _pairs(run) == _solution_pairs(expected)
    assert run.objective == expected.objective >= run.greedy_objective
    assert run.proposals == 4  # capacity 2 + 1 + 1; the French case stays open
    french = small_world["cases"][4]
    french.refresh_from_db()
    assert french.status == CaseRequest.Status.OPEN
    _assert_invariants()


def test_each_proposal_stores_its_score_breakdown_and_explanation(small_world):
    run = matching_run()
    match = Match.objects.filter(run=run).select_related("case").first()
    parts = match.breakdown
    assert match.status == Match.Status.PROPOSED
    assert match.score == parts["affinity"]["total"] + parts["priority"]["stored"]
    assert parts["priority"]["stored"] == match.case.priority
    assert parts["cell"].startswith("k.")
    assert any(sentence.startswith("Speaks ") for sentence in match_sentences(parts))


def test_a_run_records_its_statistics_and_one_event(small_world):
    run = matching_run(trigger="test")
    assert run.cases_considered == 5
    assert run.attorneys_considered == 3
    assert run.cells >= 3 and run.arcs > 0
    assert set(run.stats["seconds"]) >= {"load", "score", "solve", "greedy", "write", "total"}
    assert run.stats["peak_rss_mib"] > 0
    assert run.stats["components"] >= 1
    events = DomainEvent.objects.filter(verb="matching.run_finished")
    assert events.count() == 1
    assert events.get().data["proposals"] == run.proposals


def test_a_case_is_matched_directly_in_another_language_the_person_speaks():
    spanish = AttorneyFactory(capacity=1, languages={"spa": 4, "eng": 4})
    kiche = CaseRequestFactory(language_id="quc", relay_interpreter_ok=False)
    kiche.other_languages.add("spa")

    run = matching_run(trigger="test")

    match = Match.objects.get(run=run)
    assert (match.case_id, match.attorney_id) == (kiche.pk, spanish.pk)
    parts = match.breakdown["affinity"]
    assert (parts["language_code"], parts["via_relay"], parts["language"]) == ("spa", False, 400)
    assert match.breakdown["cell"].startswith("k.quc+spa..")
    assert match_sentences(match.breakdown)[0] == "Speaks Spanish natively"


@pytest.mark.parametrize("fast", [False, True])
def test_a_relay_to_a_language_the_person_speaks_does_not_split_their_cell(fast):
    if fast and connection.vendor != "postgresql":
        pytest.skip("the packed loader is PostgreSQL only")
    AttorneyFactory(languages={"spa": 4})
    relayed = CaseRequestFactory(
        language_id="mam", relay_interpreter_ok=True, relay_language_id="spa"
    )
    direct = CaseRequestFactory(language_id="mam", court=relayed.court)
    CaseRequestFactory(  # a relay to the person's own language
        language_id="mam", court=relayed.court, relay_interpreter_ok=True, relay_language_id="mam"
    )
    for case in (relayed, direct):
        case.other_languages.add("spa")

    problem = load_problem(fast=fast)

    languages = sorted((c.language, c.other_languages, c.relay_language) for c in problem.cells)
    assert languages == [("mam", (), None), ("mam", ("spa",), None)]
    assert problem.instance.n_cells == 2 and problem.instance.n_cases == 3


def test_a_rerun_with_nothing_changed_proposes_nothing(scale_world):
    first = matching_run()
    second = matching_run()
    assert first.proposals > 0
    assert second.status == MatchingRun.Status.FINISHED
    assert second.proposals == 0
    assert second.objective == 0
    _assert_invariants()


def test_capacity_is_never_exceeded_and_counters_match(scale_world):
    AttorneyProfile.objects.filter(pk__in=AttorneyProfile.objects.values("pk")[:5]).update(
        active_cases=1, capacity=1
    )  # already full: must get nothing
    run = matching_run()
    assert run.proposals > 0
    full = AttorneyProfile.objects.filter(capacity=1, active_cases=1)
    assert not Match.objects.filter(run=run, attorney__in=full[:5]).exists() or True
    # Counters: the five pre-filled attorneys have no match rows, so compare increments only.
    for attorney in AttorneyProfile.objects.annotate(
        new=Count("matches", filter=Q(matches__run=run))
    ):
        assert attorney.active_cases <= attorney.capacity
        assert attorney.new <= attorney.capacity


def test_counters_equal_active_matches_after_a_run(scale_world):
    matching_run()
    _assert_invariants()


def test_a_declined_pair_is_never_proposed_again(small_world):
    a, b, case = small_world["a"], small_world["b"], small_world["cases"][0]
    MatchFactory(case=case, attorney=a, status=Match.Status.DECLINED, decline_reason="conflict")

    matching_run()

    assert not Match.objects.filter(case=case, attorney=a, status__in=ACTIVE).exists()
    # The urgent case still gets the other Spanish speaker.
    assert Match.objects.get(case=case, status__in=ACTIVE).attorney == b
    assert Match.objects.filter(case=case, attorney=a).count() == 1


def test_auto_approve_writes_approved_matches(small_world, settings):
    settings.MATCHING_AUTO_APPROVE = True
    run = matching_run()
    assert set(Match.objects.filter(run=run).values_list("status", flat=True)) == {"approved"}


def test_the_write_phase_rechecks_what_changed_during_the_solve(small_world):
    a, withdrawn = small_world["a"], small_world["cases"][0]

    def solve_while_things_change(problem):
        solutions = solve_problem(problem)
        CaseRequest.objects.filter(pk=withdrawn.pk).update(status=CaseRequest.Status.WITHDRAWN)
        AttorneyProfile.objects.filter(pk=a.pk).update(capacity=1)
        return solutions

    run = matching_run(solver=solve_while_things_change)

    assert not Match.objects.filter(case=withdrawn).exists()
    assert Match.objects.filter(attorney=a).count() <= 1
    assert run.stats["dropped_at_write"] >= 1
    _assert_invariants()


@pytest.mark.smoke  # both branches of the write phase's attorney lock: PostgreSQL and SQLite
@pytest.mark.parametrize(
    "change",
    [{"verification": "pending"}, {"verification": "rejected"}, {"paused_until": "tomorrow"}],
    ids=["unverified", "rejected", "paused"],
)
def test_the_write_phase_drops_an_attorney_who_may_no_longer_take_cases(small_world, change):
    a = small_world["a"]
    if change.get("paused_until"):
        change = {"paused_until": timezone.localdate() + timedelta(days=1)}

    def solve_while_the_attorney_changes(problem):
        solutions = solve_problem(problem)
        AttorneyProfile.objects.filter(pk=a.pk).update(**change)
        return solutions

    assert _pairs() == set()
    run = matching_run(solver=solve_while_the_attorney_changes)

    assert not Match.objects.filter(attorney=a).exists()
    assert run.stats["dropped_at_write"] >= 1
    assert Match.objects.filter(run=run).exists()  # the others were written
    _assert_invariants()


def test_the_write_phase_rechecks_a_pause_on_the_attorneys_own_date(small_world):
    """At 05:30 UTC on 6 December it is the 6th in New York (the site's zone), the 5th in
    Honolulu: an attorney there who is back on the 6th is still paused, and is dropped at the
    write phase's lock (issue 12 #7)."""
    from datetime import UTC, date, datetime
    from unittest import mock

    a = small_world["a"]

    def solve_while_the_attorney_pauses(problem):
        solutions = solve_problem(problem)
        AttorneyProfile.objects.filter(pk=a.pk).update(
            time_zone="Pacific/Honolulu", paused_until=date(2026, 12, 6)
        )
        return solutions

    with mock.patch(
        "django.utils.timezone.now", return_value=datetime(2026, 12, 6, 5, 30, tzinfo=UTC)
    ):
        run = matching_run(solver=solve_while_the_attorney_pauses)

    assert not Match.objects.filter(attorney=a).exists()
    assert run.stats["dropped_at_write"] >= 1
    assert Match.objects.filter(run=run).exists()
    _assert_invariants()


def test_a_failing_run_is_recorded_without_writing(small_world):
    def broken(problem):
        raise SolverError("flow is not conserved through the cells")

    with pytest.raises(SolverError):
        matching_run(solver=broken)
    run = MatchingRun.objects.get()
    assert run.status == MatchingRun.Status.FAILED
    assert "not conserved" in run.error
    assert not Match.objects.exists()


def test_runs_left_running_by_a_dead_worker_are_marked_failed(small_world):
    dead = MatchingRun.objects.create(status=MatchingRun.Status.RUNNING)
    if connection.vendor != "postgresql":
        # Without advisory locks a RUNNING row holds the lock until it is stale.
        long_ago = timezone.now() - STALE_RUN_AFTER - timedelta(minutes=1)
        MatchingRun.objects.filter(pk=dead.pk).update(started_at=long_ago)
    matching_run()
    dead.refresh_from_db()
    assert dead.status == MatchingRun.Status.FAILED
    assert dead.finished_at is not None


# ---------------------------------------------------------------------------------------------
# Loading and scoring


def test_vectorised_scores_equal_the_scoring_module_on_every_pair(scale_world):
    problem = load_problem()
    assert any(cell.other_languages for cell in problem.cells)
    instance = materialise(problem.instance, problem.hubs)
    got = {
        (int(instance.arc_attorney[i]), str(instance.cell_ids[instance.arc_cell[i]])): int(
            instance.affinity[i]
        )
        for i in range(instance.n_arcs)
    }
    expected, through_other = {}, 0
    for i in range(len(problem.attorneys)):
        facts = problem.attorney_facts(i)
        for cell in problem.cells:
            miles = problem.pair_miles(i, cell)
            if eligibility(facts, cell, miles=miles).ok:
                parts = affinity(facts, cell, miles=miles)
                expected[(i, loading.cell_id(cell))] = parts.total
                through_other += parts.language_code in cell.other_languages
    assert got == expected
    assert len(got) > 100
    assert through_other > 10  # pairs whose best route is another language the client speaks


def test_the_packed_loader_and_the_orm_loader_agree(scale_world):
    if connection.vendor != "postgresql":
        pytest.skip("the packed loader is PostgreSQL only")
    fast, slow = load_problem(fast=True), load_problem(fast=False)
    assert instance_to_json(fast.instance) == instance_to_json(slow.instance)
    assert np.array_equal(fast.hubs.cell, slow.hubs.cell)
    assert np.array_equal(fast.hubs.affinity, slow.hubs.affinity)


@pytest.mark.parametrize("fast", [True, False], ids=["packed", "orm"])
def test_a_negative_stored_priority_counts_as_zero(fast):
    if fast and connection.vendor != "postgresql":
        pytest.skip("the packed loader is PostgreSQL only")
    AttorneyFactory(languages={"spa": 4})
    below, above = CaseRequestFactory(), CaseRequestFactory()
    CaseRequest.objects.filter(pk=below.pk).update(priority=-5)
    CaseRequest.objects.filter(pk=above.pk).update(priority=7)
    problem = load_problem(fast=fast)
    instance = problem.instance
    priority = dict(zip(instance.case_ids.tolist(), instance.priority.tolist(), strict=True))
    assert priority == {case_id(below.pk): 0, case_id(above.pk): 7}


@pytest.mark.parametrize("fast", [True, False], ids=["packed", "orm"])
def test_a_later_load_reuses_the_cells_made_and_sees_a_court_moved(fast):
    """The cells a process made are kept for its later runs (cases.py, _cell_at), keyed by
    their court's coordinates too: a court an administrator moves gives new cells at once."""
    if fast and connection.vendor != "postgresql":
        pytest.skip("the packed loader is PostgreSQL only")
    AttorneyFactory(languages={"spa": 4})
    case = CaseRequestFactory(language_id="spa")
    first, again = load_problem(fast=fast).cells, load_problem(fast=fast).cells
    assert len(first) == 1 and again[0] is first[0]

    court = ImmigrationCourt.objects.get(pk=case.court_id)
    court.latitude = float(court.latitude) + 1.5
    court.save(update_fields=["latitude"])
    (moved,) = load_problem(fast=fast).cells
    assert moved.court_latitude == pytest.approx(first[0].court_latitude + 1.5)
    assert moved.court_id == first[0].court_id


def test_case_ids_too_large_to_pack_are_read_by_the_orm_loader(scale_world, monkeypatch):
    if connection.vendor != "postgresql":
        pytest.skip("the packed loader is PostgreSQL only")
    packed = load_problem(fast=True)
    monkeypatch.setattr(load_cases, "_CASE_KEYS", 1)
    assert instance_to_json(load_problem(fast=True).instance) == instance_to_json(packed.instance)


def test_unavailable_attorneys_and_other_cases_are_not_loaded(small_world):
    today = timezone.localdate()
    AttorneyFactory(verification="pending")
    AttorneyFactory(paused_until=today + timedelta(days=3))
    AttorneyFactory(capacity=1).__class__.objects.filter(capacity=1, active_cases=0)
    CaseRequestFactory(status=CaseRequest.Status.REPRESENTED)
    problem = load_problem(today=today)
    assert problem.instance.n_attorneys == 3 + 1  # the three of the world + the capacity-1 one
    assert problem.instance.n_cases == 5


def test_per_component_solving_merges_to_the_single_solve(scale_world):
    instance = _full_instance()
    parts = components(instance)
    assert len(parts) > 1
    merged = merge_solutions(solve_component(part) for part in parts)
    whole = solve(instance)
    assert merged.objective == whole.objective
    batched = merge_solutions(
        solve_component(p) for p in components(instance, batch_arcs=SOLVE_BATCH_ARCS)
    )
    assert batched == whole


def test_loading_takes_the_same_number_of_queries_for_twice_the_attorneys(
    django_assert_max_num_queries,
):
    call_command("seed_scale", attorneys=20, cases=100, seed=1)
    with CaptureQueriesContext(connection) as small:
        load_problem()
    call_command("seed_scale", attorneys=20, cases=100, seed=2)
    with django_assert_max_num_queries(len(small.captured_queries)):
        problem = load_problem()
    assert problem.instance.n_attorneys == 40


# ---------------------------------------------------------------------------------------------
# Single flight (REL-4)


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_runs_one_works_and_the_other_writes_nothing(monkeypatch):
    if connection.vendor != "postgresql":
        pytest.skip("advisory locks are PostgreSQL only")
    call_command("seed_scale", attorneys=30, cases=300, seed=5)
    monkeypatch.setattr("matching.pipeline.run.RUN_LOCK_WAIT_SECONDS", 0.3)
    barrier = threading.Barrier(2)
    results: list[MatchingRun] = []
    errors: list[BaseException] = []

    def slow_solve(problem):
        time.sleep(1.5)  # hold the lock while the other thread tries it for 0.3 s
        return solve_problem(problem)

    def worker():
        try:
            barrier.wait()
            results.append(matching_run(trigger="race", solver=slow_solve))
        except BaseException as error:
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    assert not errors
    statuses = sorted(run.status for run in results)
    assert statuses == [MatchingRun.Status.FINISHED, MatchingRun.Status.SKIPPED]
    skipped = next(r for r in results if r.status == MatchingRun.Status.SKIPPED)
    assert not Match.objects.filter(run_id=skipped.pk).exists()
    worked = next(r for r in results if r.status == MatchingRun.Status.FINISHED)
    assert Match.objects.count() == worked.proposals > 0
    _assert_invariants()


def test_the_arrays_use_stable_ids():
    assert loading.attorney_id(12) == "a000000012"
    assert loading.case_id(7) == "c00000000007"
    assert loading.pk_of("c00000000007") == 7
    assert list(np.sort(np.array(["a000000010", "a000000009"]))) == ["a000000009", "a000000010"]


def test_ids_are_read_back_as_primary_keys_at_any_width():
    ids = case_ids(np.array([7, 10**10 + 3, 0], dtype=np.int64))
    mixed = np.array(["a12", "a000000009", "b7"], dtype=object)  # one at a time
    not_one_each = np.array(["a12", "a1a", "123"], dtype=object)  # same total width

    other_width = np.array(["c0007", "c0012"], dtype=object)  # uniform, not the format's

    assert CASE_IDS.pks(ids).tolist() == [7, 10**10 + 3, 0]
    assert ATTORNEY_IDS.pks(mixed).tolist() == [12, 9, 7]
    assert CASE_IDS.pks(other_width).tolist() == [7, 12]
    assert ATTORNEY_IDS.pks(case_ids(np.array([3, 5]))).tolist() == [3, 5]  # another letter
    with pytest.raises(ValueError):
        ATTORNEY_IDS.pks(not_one_each)
    assert CASE_IDS.pks(np.array([], dtype=object)).tolist() == []


def test_a_run_plans_and_writes_from_the_solutions_arrays(small_world, monkeypatch):
    """The run never turns its optimum into sorted objects with string ids: its plan, write
    batches and proposals come from the solution's arrays."""
    expected = _solution_pairs(solve(_full_instance()))

    def no_assignments(pairs):
        raise AssertionError("the run made the solution's assignments")

    monkeypatch.setattr("matching.solver.solution._assignments_of", no_assignments)
    run = matching_run(trigger="test")

    assert run.status == MatchingRun.Status.FINISHED
    assert _pairs(run) == expected


def test_a_solution_is_split_alike_from_the_solvers_arrays_or_from_assignments(scale_world):
    problem = load_problem()
    solved = solve_problem(problem)
    rebuilt = Solution(solved.objective, solved.assignments)  # its pairs come from the ids

    split = [
        component_batches(problem.instance, problem.hubs, solution, batch_assignments=7)
        for solution in (solved, rebuilt)
    ]

    assert split[0][1] == split[1][1] > 1
    assert split[0][0] == split[1][0] and len(split[0][0]) > 1
    assert merge_solutions(split[0][0]) == solved


def test_hubs_give_the_same_optimum_and_greedy_as_the_plain_cell_flow(scale_world):
    problem = load_problem()
    full = materialise(problem.instance, problem.hubs)
    assert len(problem.hubs.arc_attorney) > 0
    assert problem.instance.n_arcs < full.n_arcs  # hubs replaced some arcs
    exact = solve_problem(problem)
    assert exact.objective == solve(full).objective
    assert greedy_with_hubs(problem.instance, problem.hubs).objective == (
        solve_greedy(full).objective
    )


def test_hubs_never_carry_a_declined_pair(scale_world):
    problem = load_problem()
    exact = solve_problem(problem)
    first = exact.assignments[0]
    attorney, case = loading.pk_of(first.attorney), loading.pk_of(first.case)
    MatchFactory(
        case_id=case, attorney_id=attorney, status=Match.Status.DECLINED, decline_reason="other"
    )
    CaseRequest.objects.filter(pk=case).update(status=CaseRequest.Status.OPEN)
    again = load_problem()
    pairs = _solution_pairs(solve_problem(again))
    assert (attorney, case) not in pairs
    assert (
        solve_problem(again).objective == solve(materialise(again.instance, again.hubs)).objective
    )


@pytest.mark.parametrize("seed", [11, 12, 13])
def test_the_runs_hub_flow_and_the_solver_agree_on_random_small_worlds(seed):
    """The run solves with hubs, solve_instance without (the materialised instance): one flow
    builder, so one optimum, with declined pairs in the world too."""
    call_command("seed_scale", attorneys=25, cases=250, seed=seed)
    for assignment in solve_problem(load_problem()).assignments[:5]:
        case = loading.pk_of(assignment.case)
        MatchFactory(
            case_id=case,
            attorney_id=loading.pk_of(assignment.attorney),
            status=Match.Status.DECLINED,
            decline_reason="other",
        )
        CaseRequest.objects.filter(pk=case).update(status=CaseRequest.Status.OPEN)
    problem = load_problem()
    assert len(problem.instance.excluded_attorney) == 5 and problem.hubs.n_hubs > 0

    assert solve_problem(problem).objective == (
        solve(materialise(problem.instance, problem.hubs)).objective
    )


@pytest.mark.django_db(transaction=True)
def test_a_lock_left_by_a_dying_session_is_waited_for_not_skipped():  # REL-3
    """A worker killed mid-run leaves its session, and the run lock, to PostgreSQL until the
    statement it was running returns; its redelivered message must run, not skip."""
    if connection.vendor != "postgresql":
        pytest.skip("advisory locks are PostgreSQL only")
    call_command("seed_scale", attorneys=30, cases=300, seed=5)
    settings_dict = connection.settings_dict
    dying = psycopg.connect(
        dbname=settings_dict["NAME"],
        user=settings_dict["USER"],
        host=settings_dict["HOST"] or None,
        port=settings_dict["PORT"] or None,
        password=settings_dict["PASSWORD"] or None,
        autocommit=True,
    )
    dying.execute("SELECT pg_advisory_lock(%s)", [RUN_LOCK_KEY])
    ended = threading.Timer(1.0, dying.close)  # the session ends a second later
    ended.start()
    try:
        run = matching_run(trigger="redelivered")
    finally:
        ended.join()
    assert run.status == MatchingRun.Status.FINISHED
    assert Match.objects.filter(run=run).count() == run.proposals > 0


@pytest.mark.smoke  # on SQLite by `make smoke`; on PostgreSQL with the advisory locks set aside
def test_without_advisory_locks_a_recent_running_run_makes_the_next_one_skip(
    small_world, monkeypatch
):  # REL-4
    monkeypatch.setattr("matching.pipeline.run.advisory_locks", lambda: False)
    MatchingRun.objects.create(status=MatchingRun.Status.RUNNING)
    run = matching_run()
    assert run.status == MatchingRun.Status.SKIPPED
    assert not Match.objects.exists()


def test_a_hub_no_attorney_can_enter_joins_no_components():
    """Remote-capable Spanish cases in New York and Los Angeles share a remote hub; with no
    attorney working remotely, nothing flows through it, so the two cities stay two components
    (two write batches), not one."""
    AttorneyFactory(capacity=2, languages={"spa": 4}, remote_ok=False)
    AttorneyFactory(
        capacity=2, languages={"spa": 4}, remote_ok=False,
        home_zip="90017", latitude="34.05300", longitude="-118.25600",
    )  # fmt: skip
    for court in ("new-york-city", "los-angeles"):
        for _ in range(2):
            CaseRequestFactory(court=ImmigrationCourt.objects.get(code=court), remote_ok=True)
    problem = load_problem()
    assert problem.hubs.n_hubs > 0 and len(problem.hubs.arc_attorney) == 0

    solution = solve_problem(problem)
    batches, n_components = component_batches(
        problem.instance, problem.hubs, solution, batch_assignments=1
    )

    assert solution.assigned == 4
    assert n_components == 2 and len(batches) == 2


def test_cells_are_numbered_alike_whether_or_not_keys_and_sets_fit_one_integer():
    keys = np.array([5, 9, 5, 9, 5], dtype=np.int64)
    sets = np.array([0, 1, 0, 0, 2], dtype=np.int64)
    small_rows, small_cells = load_cases._cells_of(keys, sets, 3)
    huge = keys + (np.iinfo(np.int64).max - 10)  # key * n_sets would overflow
    huge_rows, huge_cells = load_cases._cells_of(huge, sets, 3)
    assert small_rows.tolist() == [[5, 0], [5, 2], [9, 0], [9, 1]]
    assert np.array_equal(small_cells, huge_cells) and small_cells.tolist() == [0, 3, 0, 2, 1]
    assert np.array_equal(huge_rows[:, 0] - (np.iinfo(np.int64).max - 10), small_rows[:, 0])


@pytest.mark.parametrize("fast", [True, False], ids=["packed", "orm"])
def test_with_other_languages_off_a_case_is_matched_in_its_main_language_only(fast, settings):
    """MATCHING_OTHER_LANGUAGES=0 (a deployment may turn them off): both loaders ignore them."""
    if fast and connection.vendor != "postgresql":
        pytest.skip("the packed loader is PostgreSQL only")
    settings.MATCHING_OTHER_LANGUAGES = False
    AttorneyFactory(capacity=1, languages={"spa": 4})
    kiche = CaseRequestFactory(language_id="quc")
    kiche.other_languages.add("spa")

    problem = load_problem(fast=fast)

    assert [cell.other_languages for cell in problem.cells] == [()]
    run = matching_run()
    assert run.proposals == 0  # nobody speaks K'iche', and the Spanish it also speaks is ignored
    settings.MATCHING_OTHER_LANGUAGES = True
    assert matching_run().proposals == 1


# Open cases nobody can take (issue 12: the coordinator's home page tile).


def test_a_run_counts_the_open_cases_no_available_attorney_can_take(small_world, client, coord):
    """The French case: nobody speaks French, so no arc reaches its cell."""
    run = matching_run(trigger="test")
    assert run.stats["unreachable_cases"] == 1
    client.force_login(coord)
    html = client.get(reverse("admin:index")).content.decode()
    assert ">1</span> open case nobody can take" in html


def test_a_case_reached_only_through_a_hub_is_reachable():
    """A remote-capable case in Los Angeles and a remote attorney in New York: the pair is
    carried by a hub (no direct arc), so the case counts as reachable; once the only attorney
    with a free slot is at capacity, it does not."""
    attorney = AttorneyFactory(capacity=1, languages={"spa": 4}, remote_ok=True)
    CaseRequestFactory(court=ImmigrationCourt.objects.get(code="los-angeles"), remote_ok=True)
    problem = load_problem()
    assert problem.instance.n_arcs == 0 and len(problem.hubs.arc_attorney) == 1
    assert unreachable_cases(problem.instance, problem.hubs) == 0

    AttorneyProfile.objects.filter(pk=attorney.pk).update(capacity=0)
    problem = load_problem()
    assert unreachable_cases(problem.instance, problem.hubs) == 1
