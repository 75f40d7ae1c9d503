"""From a commit to its proposals: `bench_time_to_proposal` (issue 15 #2 and #3).

Each try verifies newly signed-up attorneys (attorney_verify; ``--attorneys`` of them in one
transaction, like attorneys the backlog needs) and enters a case request a free attorney can take
(case_request_create), each in its own transaction, as a coordinator would. The
commit asks for the debounced run exactly as in production (matching.tasks.runs); Celery runs
eagerly here, so the run starts at the commit instead of DEBOUNCE_SECONDS later: the figure is
commit -> proposals written, without the debounce. Each try also times a run with nothing new.

The small run's cost is reported against a full run on the same world: ``--full-run`` runs one
first (on a freshly seeded world, the run that matches the backlog), else ``--full-run-id`` or
the last run that loaded the whole backlog is taken. The runs are real: they write proposals,
like benchmark_matching's.
"""

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime

import numpy as np
from django.core.cache import cache
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.test.utils import override_settings
from django.utils import timezone

from cases.models import CaseRequest
from cases.services import case_request_create
from config.celery import app
from matching.models import Match, MatchingRun
from matching.pipeline.load.attorneys import load_attorneys
from matching.pipeline.run import matching_run
from matching.scale.arrivals import NoTaker, case_data_for, pending_attorney
from matching.solver import import_solver_libraries
from matching.tasks import runs
from volunteers.services import attorney_verify


class Command(BaseCommand):
    help = "Time commit -> proposals for a verified attorney and a new case; small vs full run."

    def add_arguments(self, parser):
        parser.add_argument("--tries", type=int, default=3)
        parser.add_argument("--full-run", action="store_true", help="Run a full run first.")
        parser.add_argument(
            "--full-run-id", type=int, help="The full run to compare with (default: the last)."
        )
        parser.add_argument("--seed", type=int, default=15)
        parser.add_argument(
            "--attorneys", type=int, default=1, help="Attorneys verified in one transaction."
        )
        parser.add_argument("--json", action="store_true", help="Print one JSON object.")

    def handle(self, *args, tries, full_run, full_run_id, seed, attorneys, **options):
        # What a worker imports when it starts (matching.tasks.runs), so that the first try is
        # timed as in a running worker, not with this process's first import of scipy and
        # OR-Tools.
        import_solver_libraries()
        full = _full_run() if full_run else _last_full_run(full_run_id)
        rng = np.random.default_rng(seed)
        rows = []
        for _ in range(tries):
            newcomers = [pending_attorney(rng) for _ in range(attorneys)]
            rows.append(_try("attorney", lambda batch=newcomers: _verify(batch)))
            try:
                rows.append(_try("case", lambda: _intake(rng)))
            except NoTaker:
                rows.append({"what": "case", "skipped": "no free attorney can take a case"})
            rows.append(_try("nothing new", _nothing_new))
        total = full.stats["seconds"]["total"]
        for row in rows:
            if "run_seconds" in row:
                row["ratio_to_full"] = round(row["run_seconds"] / total, 4)
        figures = {"full_run": {"run": full.pk, "seconds": total, "cases": full.cases_considered,
                                "proposals": full.proposals}, "tries": rows}  # fmt: skip
        if options["json"]:
            self.stdout.write(json.dumps(figures))
            return
        self.stdout.write(f"full run {full.pk}: {total} s, {full.cases_considered} open cases")
        for row in rows:
            self.stdout.write(", ".join(f"{k} {v}" for k, v in row.items()))


def _full_run() -> MatchingRun:
    run = matching_run(trigger="benchmark")
    if run.status != MatchingRun.Status.FINISHED:
        raise CommandError(f"The full run did not finish ({run.status}).")
    return run


def _last_full_run(pk: int | None) -> MatchingRun:
    runs = MatchingRun.objects.filter(
        status=MatchingRun.Status.FINISHED, stats__has_key="unreachable_cases"
    )
    run = runs.filter(pk=pk).first() if pk else runs.first()
    if run is None:
        raise CommandError("No full run recorded: pass --full-run.")
    return run


@contextmanager
def _eager() -> Iterator[None]:
    """Tasks run in this process at once (the run at the commit, without the debounce's
    countdown), mail stays in memory, and each try opens a fresh debounce window."""
    cache.delete(runs._DEBOUNCE_KEY)
    app.conf.task_always_eager = True
    try:
        with override_settings(
            MATCHING_RUN_ON_CHANGE=True,
            MAILERS={"default": {"BACKEND": "django.core.mail.backends.locmem.EmailBackend"}},
        ):
            yield
    finally:
        app.conf.task_always_eager = False
        cache.delete(runs._DEBOUNCE_KEY)


def _try(kind: str, act: Callable[[], tuple[datetime, Callable[[], int]]]) -> dict:
    """Run ``act`` (which commits and returns the commit's time and a proposal counter) and
    time the run its commit triggered: the first one after it. A transaction that outlasts the
    debounce window asks for a run again (each new window's first change does), and those
    later runs find nothing new; taking the last run reported one of them."""
    before = MatchingRun.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    with _eager():
        committed, proposals = act()
    after = list(MatchingRun.objects.filter(pk__gt=before).order_by("pk"))
    run = after[0] if after else None
    stats = run.stats if run else {}
    small = stats.get("small_run", {})
    done = run.finished_at if run and run.finished_at else timezone.now()
    return {
        "what": kind,
        "commit_to_proposals_s": round((done - committed).total_seconds(), 3),
        "proposals": proposals(),
        "run": run.pk if run else None,
        "later_runs": len(after) - 1 if after else 0,
        "run_seconds": stats.get("seconds", {}).get("total", 0.0),
        "small_path": bool(small),
        "usable_slots": small.get("usable_slots"),
        "cases_read": small.get("cases_read"),
        "probes": small.get("probes"),
        "slots_placed": run.proposals if run else 0,
        "phases": stats.get("seconds", {}),
    }


def _committed[T](work: Callable[[], T]) -> tuple[datetime, T]:
    """Do ``work`` in a transaction; the time of its commit (the first on-commit callback)."""
    at: list[datetime] = []
    with transaction.atomic():
        transaction.on_commit(lambda: at.append(timezone.now()))
        result = work()
    return at[0], result


def _verify(attorneys: list) -> tuple[datetime, Callable[[], int]]:
    committed, _ = _committed(
        lambda: [attorney_verify(attorney=attorney, actor=None) for attorney in attorneys]
    )
    return committed, lambda: Match.objects.filter(attorney__in=attorneys).count()


def _intake(rng: np.random.Generator) -> tuple[datetime, Callable[[], int]]:
    data = case_data_for(load_attorneys(timezone.localdate()), rng)
    committed, case = _committed(
        lambda: case_request_create(
            data=data, created_by=None, source=CaseRequest.Source.COORDINATOR
        )
    )
    return committed, lambda: Match.objects.filter(case=case).count()


def _nothing_new() -> tuple[datetime, Callable[[], int]]:
    started = timezone.now()
    runs.run_matching.apply(kwargs={"trigger": "benchmark", "small": True})
    return started, lambda: 0
