"""Writing a planned match history: its runs, scored rows, and the cases and counters it moves."""

import datetime
import json
from collections import Counter
from collections.abc import Iterable

import numpy as np
from django.db import connection
from django.db.models import F
from django.utils import timezone

from cases.models import CaseRequest, ImmigrationCourt
from cases.priority import case_priority
from matching.models import Match, MatchingRun
from matching.scale.common import BATCH, RUN_TRIGGER
from matching.scale.world import _World
from matching.scoring import AttorneyFacts, CellFacts, affinity
from volunteers.models import AttorneyProfile

Outcome, Relief = CaseRequest.Outcome, CaseRequest.Relief


def _runs(rows: list[dict]) -> list[tuple[float, int]]:
    """One finished run a day at 02:00, from the day before the first match to today: each
    match names the last run before it, as if that run had proposed it."""
    zone = timezone.get_current_timezone()
    day = datetime.datetime.fromtimestamp(min(r["created"] for r in rows), zone).date()
    days = (timezone.localdate() - day).days + 2
    starts = [
        datetime.datetime.combine(day + datetime.timedelta(days=i - 1), datetime.time(2), zone)
        for i in range(days)
    ]
    runs = MatchingRun.objects.bulk_create(
        MatchingRun(status="finished", trigger=RUN_TRIGGER) for _ in starts
    )
    for run, start in zip(runs, starts, strict=True):
        # started_at is auto_now_add: set it afterwards.
        run.started_at, run.finished_at = start, start + datetime.timedelta(seconds=45)
    MatchingRun.objects.bulk_update(runs, ["started_at", "finished_at"])
    return [(start.timestamp(), run.pk) for start, run in zip(starts, runs, strict=True)]


_MATCH_COLUMNS = [
    "case_id", "attorney_id", "run_id", "status", "score", "breakdown", "decline_reason",
    "reject_reason", "conflict_attested_at", "created_at", "status_changed_at", "offered_at",
    "expires_at", "responded_at", "put_back_reason",
]  # fmt: skip


def _match_rows(
    world: _World, rows: list[dict], runs: list[tuple[float, int]], explainer: "_Breakdowns"
) -> Iterable[tuple]:
    """Rows for copy_rows, each with a breakdown shaped like the pipeline's (pipeline/write.py)."""
    starts = np.array([start for start, _ in runs])
    run_of = np.searchsorted(starts, [row["created"] for row in rows], side="right") - 1
    zone = datetime.UTC
    for row, run in zip(rows, run_of.tolist(), strict=True):
        score, breakdown = explainer(world.facts[row["attorney"]], row["case"])
        when = {
            key: None if row[key] is None else datetime.datetime.fromtimestamp(row[key], zone)
            for key in ("created", "changed", "offered", "expires", "responded")
        }
        attested = when["responded"] if row["status"] in ("accepted", "returned") else None
        yield (
            row["case"][0], world.attorney_pk[row["attorney"]], runs[max(run, 0)][1],
            row["status"], score,
            json.dumps(breakdown) if connection.vendor == "postgresql" else breakdown,
            row.get("decline_reason", ""), row.get("reject_reason", ""), attested,
            when["created"], when["changed"], when["offered"], when["expires"], when["responded"],
            row.get("put_back_reason", ""),
        )  # fmt: skip


class _Breakdowns:
    """Score and breakdown of a pair with matching.scoring, memoised per (attorney, cell)."""

    def __init__(self) -> None:
        self.courts = {
            pk: (float(lat), float(lon))
            for pk, lat, lon in ImmigrationCourt.objects.values_list("pk", "latitude", "longitude")
        }
        self.today = timezone.localdate()
        self.pairs: dict[tuple, dict] = {}

    def __call__(self, attorney: AttorneyFacts, case: tuple) -> tuple[int, dict]:
        _, language, relay, others, court, case_type, detained, remote, *dates = case
        stored, hearing, deadline, at = dates
        lat, lon = self.courts[court]
        cell = CellFacts(
            language=language, other_languages=others, relay_language=relay, case_type=case_type,
            court_id=court, court_latitude=lat, court_longitude=lon, detained=detained,
            remote_ok=remote,
        )  # fmt: skip
        key = (attorney.id, cell)
        if key not in self.pairs:
            self.pairs[key] = affinity(attorney, cell).as_dict()
        stored_parts = self.pairs[key]
        waiting_since = datetime.datetime.fromtimestamp(at, datetime.UTC).date()
        priority = case_priority(
            detained=detained, next_hearing_date=hearing, filing_deadline=deadline,
            waiting_since=waiting_since, today=self.today,
        )  # fmt: skip
        priority_parts = {
            "stored": max(stored, 0), "detention": priority.detention, "hearing": priority.hearing,
            "deadline": priority.deadline, "waiting": priority.waiting, "total": priority.total,
        }  # fmt: skip
        breakdown = {
            "affinity": stored_parts, "priority": priority_parts, "cell": _cell_id(cell),
        }  # fmt: skip
        return stored_parts["total"] + max(stored, 0), breakdown


def _cell_id(cell: CellFacts) -> str:
    """As matching.pipeline.load.cell_id (not imported: the pipeline pulls in the solver)."""
    flags = f"{int(cell.detained)}{int(cell.remote_ok)}"
    spoken = "+".join((cell.language, *cell.other_languages))
    return f"k.{spoken}.{cell.relay_language or ''}.{cell.court_id}.{cell.case_type}.{flags}"


CASE_AFTER = {
    "proposed": "matched", "approved": "matched", "offered": "matched", "accepted": "represented",
    "withdrawn": "withdrawn", "completed": "closed",
}  # fmt: skip
# How the closed cases ended, in turn (relief granted by its type, or another outcome).
CLOSED_AS = [
    (Outcome.RELIEF_GRANTED, Relief.ASYLUM), (Outcome.RELIEF_GRANTED, Relief.CANCELLATION),
    (Outcome.TERMINATION, ""), (Outcome.VOLUNTARY_DEPARTURE, ""), (Outcome.REMOVAL_ORDERED, ""),
    (Outcome.ADMIN_CLOSED, ""),
]  # fmt: skip


def _move_cases(rows: list[dict]) -> None:
    """Each case as its match left it; a case with only ended history stays open."""
    by_status: dict[str, list[int]] = {}
    for row in rows:
        if row["status"] in CASE_AFTER:
            by_status.setdefault(CASE_AFTER[row["status"]], []).append(row["case"][0])
    for status, pks in by_status.items():
        for start in range(0, len(pks), BATCH):
            CaseRequest.objects.filter(pk__in=pks[start : start + BATCH]).update(status=status)
    closed = by_status.get("closed", [])
    now = timezone.now()
    for turn, (outcome, relief_type) in enumerate(CLOSED_AS):
        pks = closed[turn :: len(CLOSED_AS)]
        for start in range(0, len(pks), BATCH):
            CaseRequest.objects.filter(pk__in=pks[start : start + BATCH]).update(
                outcome=outcome, relief_type=relief_type, outcome_date=now.date(), closed_at=now
            )


def _raise_counters(world: _World, rows: list[dict]) -> None:
    """active_cases += the attorney's new active matches: one UPDATE per distinct count."""
    added = Counter(row["attorney"] for row in rows if row["status"] in Match.ACTIVE_STATUSES)
    by_count: dict[int, list[int]] = {}
    for attorney, count in added.items():
        by_count.setdefault(count, []).append(world.attorney_pk[attorney])
    for count, pks in sorted(by_count.items()):
        for start in range(0, len(pks), BATCH):
            AttorneyProfile.objects.filter(pk__in=pks[start : start + BATCH]).update(
                active_cases=F("active_cases") + count
            )
