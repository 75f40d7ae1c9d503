"""export_instance, solve_instance, seed_scale and benchmark_matching."""

import gc
import json
import os
import re
import subprocess
import sys
from io import StringIO
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from django.db import connections
from django.db.models import Count, F, Q
from django.utils import timezone

from cases.models import CaseRequest
from matching.management.commands import export_instance
from matching.models import Match, MatchingRun
from matching.pipeline import load as loading
from matching.pipeline.load import load_problem
from matching.pipeline.run import matching_run, solve_problem
from matching.selectors import match_sentences
from matching.solver import instance_to_json, materialise, read_instance
from matching.tasks import runs
from tests.factories import AttorneyFactory, MatchFactory
from volunteers.models import AttorneyProfile

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]
INSTANCE = {
    "attorneys": [{"id": "a1", "capacity": 1}, {"id": "a2", "capacity": 2}],
    "cells": [
        {"id": "k1", "cases": [{"id": "c1", "priority": 120}, {"id": "c2", "priority": 50}]},
        {"id": "k2", "cases": [{"id": "c3", "priority": 0}]},
    ],
    "arcs": [
        {"attorney": "a1", "cell": "k1", "affinity": 300},
        {"attorney": "a2", "cell": "k1", "affinity": 100},
        {"attorney": "a2", "cell": "k2", "affinity": 10},
    ],
    "excluded": [{"attorney": "a1", "case": "c1"}],
}


def _solve(path) -> dict:
    out = StringIO()
    call_command("solve_instance", str(path), stdout=out)
    return json.loads(out.getvalue())


def _write(tmp_path, content: str | dict) -> Path:
    path = tmp_path / "instance.json"
    path.write_text(content if isinstance(content, str) else json.dumps(content))
    return path


@pytest.fixture
def world():
    call_command("seed_scale", attorneys=40, cases=300, seed=11)


def test_solve_instance_prints_the_optimal_solution(tmp_path):
    solution = _solve(_write(tmp_path, INSTANCE))
    # a1 may not take c1: a1 takes c2 (350), a2 takes c1 (220) and c3 (10).
    assert solution == {
        "objective": 580,
        "assigned": 3,
        "assignments": [
            {"attorney": "a1", "case": "c2", "score": 350},
            {"attorney": "a2", "case": "c1", "score": 220},
            {"attorney": "a2", "case": "c3", "score": 10},
        ],
    }


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ('{"attorneys": [', "malformed JSON"),
        ({**INSTANCE, "arcs": [{"attorney": "a9", "cell": "k1", "affinity": 1}]}, "unknown"),
        (
            {**INSTANCE, "attorneys": [{"id": "a1", "capacity": -1}, {"id": "a2", "capacity": 1}]},
            "negative",
        ),
        ({**INSTANCE, "extra": 1}, "unexpected key"),
        ("[" * 100_000, "malformed JSON"),
    ],
)
def test_solve_instance_names_the_problem_in_a_bad_file(tmp_path, content, message):
    with pytest.raises(CommandError, match=message):
        _solve(_write(tmp_path, content))


def test_solve_instance_exits_non_zero_with_one_line_and_no_traceback(tmp_path):
    bad = [{"id": "a1", "capacity": -3}, {"id": "a2", "capacity": 1}]
    path = _write(tmp_path, {**INSTANCE, "attorneys": bad})
    done = subprocess.run(
        [sys.executable, "manage.py", "solve_instance", str(path)],
        cwd=ROOT, env={**os.environ, "PYTHONWARNINGS": "ignore"}, capture_output=True,
        text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode != 0
    assert "Traceback" not in done.stderr
    assert "capacity -3 is negative" in done.stderr
    assert done.stdout == ""


def test_a_command_loads_neither_the_solver_library_nor_the_dashboard_until_it_needs_them():
    """Every process loads the admin (its registrations) and the matching pipeline; OR-Tools
    (~0.1 s) and the need dashboard's selectors load where a solve or the dashboard runs."""
    heavy = ["ortools.graph.python.min_cost_flow", "core.dashboard", "interpreters.selectors"]
    code = (
        "import sys, django; django.setup(); "
        "from django.core.management import load_command_class; "
        "load_command_class('matching', 'export_instance'); "
        f"print([name for name in {heavy!r} if name in sys.modules])"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env={**os.environ, "PYTHONWARNINGS": "ignore"},
        capture_output=True, text=True, timeout=120, check=True,
    )  # fmt: skip
    assert done.stdout.strip() == "[]"


def test_solve_instance_reports_a_missing_file(tmp_path):
    with pytest.raises(CommandError, match="cannot read"):
        _solve(tmp_path / "missing.json")


def _export(tmp_path) -> Path:
    path = tmp_path / "export.json"
    call_command("export_instance", str(path), stderr=StringIO())
    return path


@pytest.mark.smoke  # the round trip on SQLite too (`make smoke`)
def test_export_then_solve_equals_the_run_objective(world, tmp_path):
    offline = _solve(_export(tmp_path))

    run = matching_run()

    assert offline["objective"] == run.objective > 0
    assert offline["assigned"] == run.proposals
    # The pairs may differ where several assignments tie for the optimum. Each written score is
    # the pair's true score (affinity from scoring.py plus the stored priority).
    for score, parts in Match.objects.values_list("score", "breakdown"):
        assert score == parts["affinity"]["total"] + parts["priority"]["stored"]


@pytest.mark.parametrize("seed", [21, 22, 23])
def test_the_export_is_the_runs_problem_with_hubs_and_declined_pairs(tmp_path, seed):
    """Remote work (hubs, paths that overlap direct arcs) and declined pairs (cells of their
    own) in random small worlds: the file read back is the materialised problem, and
    solve_instance finds the run's optimum on it."""
    call_command("seed_scale", attorneys=30, cases=300, seed=seed)
    for assignment in solve_problem(load_problem()).assignments[:6]:
        case = loading.pk_of(assignment.case)
        attorney = loading.pk_of(assignment.attorney)
        MatchFactory(
            case_id=case, attorney_id=attorney, status=Match.Status.DECLINED, decline_reason="other"
        )
        CaseRequest.objects.filter(pk=case).update(status=CaseRequest.Status.OPEN)
    problem = load_problem()
    assert problem.hubs.n_hubs > 0 and len(problem.instance.excluded_attorney) == 6

    path = _export(tmp_path)

    with path.open("rb") as handle:
        exported = instance_to_json(read_instance(handle))
    assert exported == instance_to_json(materialise(problem.instance, problem.hubs))
    assert _solve(path)["objective"] == solve_problem(problem).objective > 0


@pytest.mark.smoke  # on SQLite too (`make smoke`)
@pytest.mark.parametrize("seed", [31, 32, 33])
def test_an_export_with_hubs_solves_to_the_runs_objective(tmp_path, seed):
    """The file carries the run's hubs as the run holds them (not one arc per path), and
    solve_instance, solving with them, finds the run's optimum."""
    call_command("seed_scale", attorneys=30, cases=300, seed=seed, stdout=StringIO())
    problem = load_problem()

    path = _export(tmp_path)

    data = json.loads(path.read_text())
    assert len(data["hubs"]) == problem.hubs.n_hubs > 0 and data["hub_arcs"]
    assert len(data["arcs"]) == problem.instance.n_arcs
    offline = _solve(path)
    run = matching_run()
    assert offline["objective"] == run.objective > 0
    assert offline["assigned"] == run.proposals


@pytest.mark.parametrize("seed", [41, 42])
def test_an_export_with_expanded_hubs_is_the_same_problem_without_hubs(tmp_path, seed):
    call_command("seed_scale", attorneys=30, cases=300, seed=seed, stdout=StringIO())
    expanded = tmp_path / "expanded.json"
    call_command("export_instance", str(expanded), "--expand-hubs", stderr=StringIO())

    with_hubs = _export(tmp_path)

    assert not {"hubs", "hub_arcs"} & set(json.loads(expanded.read_text()))
    with with_hubs.open("rb") as one, expanded.open("rb") as other:
        assert instance_to_json(read_instance(one)) == instance_to_json(read_instance(other))
    assert _solve(with_hubs)["objective"] == _solve(expanded)["objective"] > 0


@pytest.mark.parametrize(
    ("hubs", "hub_arcs", "message"),
    [
        ([{"id": "h1", "cells": ["k9"]}], [], r"hubs\[0\]\.cells\[0\]: unknown cell 'k9'"),
        ([{"id": "h1", "cells": ["k1", "k1"]}], [], "hub 'h1' lists cell 'k1' twice"),
        ([], [{"attorney": "a1", "hub": "h2", "affinity": 5}], "hub_arcs\\[0\\]: unknown hub"),
        ([{"id": "h1", "cells": ["k1"]}], [{"attorney": "a1", "hub": "h1"}], "missing key"),
    ],
)
def test_solve_instance_names_the_bad_hub_item(tmp_path, hubs, hub_arcs, message):
    with pytest.raises(CommandError, match=message):
        _solve(_write(tmp_path, {**INSTANCE, "hubs": hubs, "hub_arcs": hub_arcs}))


def test_solve_instance_solves_a_file_with_hubs(tmp_path):
    # a2 reaches k1 only through the hub: with a1 barred from c1, a2 takes it.
    instance = {
        **INSTANCE,
        "arcs": INSTANCE["arcs"][:1],
        "hubs": [{"id": "h1", "cells": ["k1", "k2"]}],
        "hub_arcs": [{"attorney": "a2", "hub": "h1", "affinity": 100}],
    }

    assert _solve(_write(tmp_path, instance)) == {
        "objective": 670,
        "assigned": 3,
        "assignments": [
            {"attorney": "a1", "case": "c2", "score": 350},
            {"attorney": "a2", "case": "c1", "score": 220},
            {"attorney": "a2", "case": "c3", "score": 100},
        ],
    }


def test_export_to_standard_output_writes_the_same_json(world, tmp_path):
    out = StringIO()
    call_command("export_instance", "-", stdout=out, stderr=StringIO())
    assert json.loads(out.getvalue()) == json.loads(_export(tmp_path).read_text())


def test_export_reports_a_file_it_cannot_write(world, tmp_path):
    with pytest.raises(CommandError, match="cannot write"):
        call_command("export_instance", str(tmp_path / "missing" / "x.json"), stderr=StringIO())


def test_an_export_over_a_longer_file_leaves_only_the_export(world, tmp_path):
    """The file is written over in place, then cut to the export's length."""
    fresh = _export(tmp_path).read_bytes()
    path = tmp_path / "again.json"
    path.write_bytes(b"x" * (2 * len(fresh)))

    call_command("export_instance", str(path), stderr=StringIO())

    assert path.read_bytes() == fresh


def test_an_export_to_a_device_writes_without_cutting_it(world):
    call_command("export_instance", os.devnull, stderr=StringIO())


def test_export_instance_in_a_process_of_its_own_stops_the_garbage_collector(monkeypatch):
    """From manage.py (run_from_argv), no collection runs while it exports and those at exit
    pass over start-up's objects no more; call_command leaves the collector be."""
    seen = []

    def execute(*args, **options):
        seen.append((gc.isenabled(), gc.get_freeze_count()))

    monkeypatch.setattr(export_instance.Command, "execute", execute)
    monkeypatch.setattr(connections, "close_all", lambda: None)  # the test's own connection

    call_command("export_instance", "unused.json")
    try:
        export_instance.Command().run_from_argv(["manage.py", "export_instance", "unused.json"])
    finally:
        gc.enable()
        gc.unfreeze()

    (enabled, frozen), (enabled_after, frozen_after) = seen
    assert enabled and not enabled_after
    assert frozen_after > frozen


def test_solve_instance_names_the_problem_in_a_cut_short_export(world, tmp_path):
    path = _export(tmp_path)
    text = path.read_bytes()
    path.write_bytes(text[: len(text) // 2])
    with pytest.raises(CommandError, match="malformed JSON"):
        _solve(path)


def test_the_export_is_anonymous(world, tmp_path):
    case = CaseRequest.objects.first()
    case.respondent_name = "Zyxwvut Quintanilla"
    case.a_number = "A123456789"
    case.save()
    text = _export(tmp_path).read_text()
    assert "Quintanilla" not in text and "123456789" not in text
    assert "@" not in text and "Attorney" not in text and case.reference not in text
    data = json.loads(text)
    assert set(data) == {"attorneys", "cells", "arcs", "hubs", "hub_arcs", "excluded"}
    assert all(re.fullmatch(r"h[0-9]+", hub["id"]) for hub in data["hubs"])


def test_seed_scale_seeds_verified_attorneys_and_open_cases_and_resets():
    call_command("seed_scale", attorneys=25, cases=200, seed=3, stdout=StringIO())
    scale = AttorneyProfile.objects.filter(user__email__endswith="@scale.probono.test")
    assert scale.count() == 25
    assert set(scale.values_list("verification", flat=True)) == {"verified"}
    assert all(a.language_skills.exists() and a.practice_area_links.exists() for a in scale)
    assert CaseRequest.objects.filter(status="open").count() == 200
    assert CaseRequest.objects.filter(relay_interpreter_ok=True, relay_language=None).count() == 0
    spoken = CaseRequest.other_languages.through.objects.all()
    assert 0 < spoken.count() < 200 * 0.1  # a realistic share: some indigenous, Haitian… cases
    assert not spoken.filter(language_id=F("caserequest__language_id")).exists()
    matching_run()

    call_command("seed_scale", reset=True, stdout=StringIO())

    assert not AttorneyProfile.objects.exists()
    assert not CaseRequest.objects.exists()
    assert not CaseRequest.other_languages.through.objects.exists()
    assert not get_user_model().objects.filter(email__endswith="@scale.probono.test").exists()
    assert not Match.objects.exists()


def test_seed_scale_is_reproducible_from_its_seed():
    call_command("seed_scale", attorneys=10, cases=50, seed=9, stdout=StringIO())
    first = list(CaseRequest.objects.order_by("pk").values_list("language", "court", "priority"))
    call_command("seed_scale", attorneys=10, cases=50, seed=9, reset=True, stdout=StringIO())
    again = list(CaseRequest.objects.order_by("pk").values_list("language", "court", "priority"))
    assert first == again


def test_benchmark_matching_prints_the_figures_as_json(world):
    out = StringIO()
    call_command("benchmark_matching", "--json", stdout=out)
    figures = json.loads(out.getvalue())
    assert figures["status"] == MatchingRun.Status.FINISHED
    assert figures["objective"] >= figures["greedy_objective"] > 0
    assert figures["seconds_solver"] <= figures["seconds_total"]
    assert figures["peak_rss_mib"] > 0
    if Path("/proc/self/smaps_rollup").exists():
        assert figures["peak_pss_mib"] > 0
    assert figures["cases_assigned"] == figures["proposals_written"] > 0


@pytest.mark.django_db(transaction=True)  # the benchmark times real commits
def test_bench_time_to_proposal_verifies_an_attorney_and_enters_a_case_through_small_runs(world):
    AttorneyFactory(languages={"cym": 4}, capacity=3)  # free after the full run: no Welsh cases
    out = StringIO()
    call_command("bench_time_to_proposal", "--full-run", "--tries", "1", "--json", stdout=out)
    figures = json.loads(out.getvalue())
    attorney, case, idle = figures["tries"]
    assert figures["full_run"]["proposals"] > 0
    assert attorney["what"] == "attorney" and case["what"] == "case"
    assert all(row["small_path"] for row in (attorney, case, idle))
    assert case["proposals"] == 1 and idle["slots_placed"] == 0
    assert attorney["proposals"] == attorney["slots_placed"]
    verified = AttorneyProfile.objects.order_by("-pk").first()
    assert verified.verification == AttorneyProfile.Verification.VERIFIED


@pytest.mark.django_db(transaction=True)
def test_bench_time_to_proposal_times_the_first_run_after_the_commit(world, monkeypatch):
    """A batch that outlasts the debounce window asks for a run again; that later run finds
    nothing new, and the try reports the first, the one that placed the batch."""
    monkeypatch.setattr(runs, "_debounce_claim", lambda trigger: True)  # every change asks
    call_command("bench_time_to_proposal", "--full-run", "--tries", "1", "--json",
                 "--attorneys", "3", stdout=(out := StringIO()))  # fmt: skip
    attorney = json.loads(out.getvalue())["tries"][0]
    assert attorney["later_runs"] == 2
    assert attorney["slots_placed"] == attorney["proposals"] > 0
    assert attorney["run"] == MatchingRun.objects.filter(trigger="attorney").earliest("pk").pk


ACTIVE = {"proposed", "approved", "offered", "accepted"}


@pytest.fixture
def history():
    call_command("seed_scale", attorneys=40, cases=400, matches=150, seed=5, stdout=StringIO())


def test_seed_scale_matches_seeds_every_status(history):
    assert Match.objects.count() == 150
    assert set(Match.objects.values_list("status", flat=True)) == set(Match.Status.values)
    assert Match.objects.filter(run__trigger="seed_scale").count() == 150


def test_seed_scale_matches_keeps_attorney_counters_and_capacity(history):
    for attorney in AttorneyProfile.objects.annotate(
        active=Count("matches", filter=Q(matches__status__in=Match.ACTIVE_STATUSES))
    ):
        assert attorney.active_cases == attorney.active <= attorney.capacity
    assert AttorneyProfile.objects.filter(active_cases__gt=0).exists()


def test_seed_scale_matches_moves_each_case_with_its_matches(history):
    for case in CaseRequest.objects.prefetch_related("matches"):
        statuses = [m.status for m in case.matches.all()]
        active = [s for s in statuses if s in ACTIVE]
        assert len(active) <= 1, case.pk
        if active:
            assert case.status == ("represented" if active == ["accepted"] else "matched")
        elif "withdrawn" in statuses:
            assert case.status == "withdrawn"
        elif "completed" in statuses:
            assert case.status == "closed" and case.outcome and case.outcome_date
        else:
            assert case.status == "open"


def test_seed_scale_matches_dates_each_step_in_order(history):
    now = timezone.now()
    for match in Match.objects.select_related("case"):
        assert match.case.created_at <= match.created_at <= match.status_changed_at <= now
        if match.offered_at:
            assert match.created_at <= match.offered_at <= match.status_changed_at
        if match.status in ("accepted", "declined"):
            assert match.offered_at < match.responded_at <= match.expires_at
        if match.status == "offered":
            assert match.expires_at > now
        if match.status == "expired":
            assert match.expires_at <= match.status_changed_at
    months = Match.objects.dates("created_at", "month")
    assert len(months) >= 3


def test_seed_scale_matches_scores_and_explains_like_a_run(history):
    declined = Match.objects.filter(status="declined")
    assert declined.exists() and "" not in set(declined.values_list("decline_reason", flat=True))
    for match in Match.objects.all():
        parts = match.breakdown
        assert match.score == parts["affinity"]["total"] + parts["priority"]["stored"] > 0
        assert match_sentences(parts) and parts["cell"].startswith("k.")
        assert parts["affinity"]["language_code"] in match.attorney.language_skills.values_list(
            "language_id", flat=True
        )


def test_seed_scale_reset_removes_matches_and_their_runs(history):
    call_command("seed_scale", reset=True, stdout=StringIO())
    assert not Match.objects.exists()
    assert not MatchingRun.objects.exists()
    assert not CaseRequest.objects.exists()
