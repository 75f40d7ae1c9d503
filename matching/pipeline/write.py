"""Persist one component batch of a run's solution: ARCHITECTURE.md, matching pipeline, step 6.

Between loading and writing, minutes may pass at backlog scale, and coordinators and attorneys keep
working: an attorney may have taken a case by hand, a case may have been withdrawn. So each batch,
in one transaction:

1. locks its attorneys (``SELECT ... FOR UPDATE`` in primary-key order, so two writers never
   deadlock on each other) and re-reads their free capacity and availability;
2. keeps, per attorney, its best-scoring proposals up to its free capacity;
3. claims their cases with one conditional update from open to matched, which locks them and
   returns only those still open, with what their priority parts need;
4. inserts the matches (COPY on PostgreSQL, bulk_create elsewhere) and raises each attorney's
   counter by its number of new matches with one ``F()`` update per distinct count.

The database still has the last word: the counter's check constraint and the one-active-match
and one-match-per-pair constraints abort the whole batch rather than let a bad row in.
"""

import json
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import fields
from datetime import date, datetime
from time import perf_counter
from types import SimpleNamespace
from typing import Any

import numpy as np
from django.db import connection, transaction
from django.db.models import F, Q
from django.utils import timezone

from cases.models import CaseRequest
from cases.priority import case_priority
from matching.models import Match, MatchingRun
from matching.pipeline.load import Problem, cell_id, pk_of
from matching.scoring import AffinityBreakdown, affinity
from matching.solver import Solution
from volunteers.models import AttorneyProfile
from volunteers.timezones import DATE_MARGIN, attorney_paused

LOCK_CHUNK = 10_000


def write_batch(
    *,
    run: MatchingRun,
    problem: Problem,
    solution: Solution,
    auto_approve: bool,
    today: date,
    timings: dict[str, float] | None = None,
) -> int:
    """Write one batch's proposals in one transaction; return how many were written.

    ``timings`` accumulates seconds per step (lock, claim, explain_insert, counters, commit), so
    a benchmark shows where the write phase goes.
    """
    if not solution.assignments:
        return 0
    clock = _Clock(timings)
    proposals = sorted(
        ((a.score, pk_of(a.attorney), pk_of(a.case)) for a in solution.assignments),
        key=lambda p: (-p[0], p[1], p[2]),  # best first, so a shrunken capacity keeps the best
    )
    attorney_pks = sorted({p[1] for p in proposals})
    with transaction.atomic():
        free = _lock_attorneys(attorney_pks, today)
        clock.lap("lock")
        candidates = []
        for score, attorney, case in proposals:
            if free.get(attorney, 0) > 0:
                free[attorney] -= 1
                candidates.append((score, attorney, case))
        cases = _claim_open_cases(sorted(case for _, _, case in candidates))
        clock.lap("claim")
        # In case order: the matches' indexes on case_id then grow at their right edge, and the
        # foreign-key checks at commit visit the cases table page by page, instead of jumping
        # at random through a table far larger than PostgreSQL's buffer cache.
        kept = sorted((p for p in candidates if p[2] in cases), key=lambda p: p[2])
        if not kept:
            return 0
        status = Match.Status.APPROVED if auto_approve else Match.Status.PROPOSED
        explain_pair = _Explainer(problem, today)
        kept_attorneys = np.array([attorney for _, attorney, _ in kept], dtype=np.int64)
        kept_cases = np.array([case for _, _, case in kept], dtype=np.int64)
        positions = np.searchsorted(problem.attorneys.pk, kept_attorneys).tolist()
        cell_positions = problem.case_cell[np.searchsorted(problem.case_pk, kept_cases)].tolist()
        # A generator: on PostgreSQL each row is explained while COPY streams the previous ones,
        # so the Python work overlaps the server's; the breakdown goes out as ready-made JSON.
        encoded = connection.vendor == "postgresql"
        rows = (
            (case, attorney, score, explain_pair(position, cell, cases[case], encoded=encoded))
            for (score, attorney, case), position, cell in zip(
                kept, positions, cell_positions, strict=True
            )
        )
        _insert(run, status, rows)
        clock.lap("explain_insert")
        _raise_counters(Counter(attorney for _, attorney, _ in kept))
        clock.lap("counters")
    clock.lap("commit")  # deferred foreign-key checks run here
    return len(kept)


class _Clock:
    def __init__(self, timings: dict[str, float] | None) -> None:
        self.timings, self.last = timings, perf_counter()

    def lap(self, step: str) -> None:
        if self.timings is None:
            return
        now = perf_counter()
        self.timings[step] = self.timings.get(step, 0.0) + now - self.last
        self.last = now


def _lock_attorneys(pks: Sequence[int], today: date) -> dict[int, int]:
    """Free capacity of each attorney who is still verified and available, under a row lock.

    A pause ends on the attorney's own date: rows within DATE_MARGIN of the site's date are
    locked too, and those still paused where the attorney is are left out (attorney_paused).
    """
    horizon, now = today + DATE_MARGIN, timezone.now()
    rows: list[tuple] = []
    if connection.vendor == "postgresql":
        rows = _raw(
            "SELECT id, capacity - active_cases, paused_until, time_zone, home_zip "  # noqa: S608
            f"FROM {AttorneyProfile._meta.db_table} "
            "WHERE id = ANY(%s) AND verification = %s "
            "AND (paused_until IS NULL OR paused_until <= %s) ORDER BY id FOR UPDATE",
            [list(pks), AttorneyProfile.Verification.VERIFIED, horizon],
        )
    else:
        for chunk in _chunks(pks):
            rows += (
                AttorneyProfile.objects.select_for_update()
                .filter(pk__in=chunk, verification=AttorneyProfile.Verification.VERIFIED)
                .filter(Q(paused_until__isnull=True) | Q(paused_until__lte=horizon))
                .order_by("pk")
                .values_list(
                    "pk", F("capacity") - F("active_cases"), "paused_until", "time_zone",
                    "home_zip",
                )
            )  # fmt: skip
    return {
        pk: free
        for pk, free, until, zone, zip_code in rows
        if not attorney_paused(
            SimpleNamespace(paused_until=until, time_zone=zone, home_zip=zip_code), now=now
        )
    }


_CASE_FACTS = "priority, detained, next_hearing_date, filing_deadline, created_at"


def _claim_open_cases(pks: Sequence[int]) -> dict[int, tuple]:
    """Move the cases that are still open to matched, returning what their explanations need.

    A conditional update claims them (STYLE.md 10): a case withdrawn or matched by hand since
    the load is simply not returned, and the row lock it takes holds until the batch commits.
    """
    if connection.vendor == "postgresql":
        rows = _raw(
            f"UPDATE {CaseRequest._meta.db_table} SET status = %s, updated_at = %s "  # noqa: S608
            f"WHERE id = ANY(%s) AND status = %s RETURNING id, {_CASE_FACTS}",
            [CaseRequest.Status.MATCHED, timezone.now(), list(pks), CaseRequest.Status.OPEN],
        )
        return {row[0]: row[1:] for row in rows}
    cases = {}
    for chunk in _chunks(pks):
        open_cases = CaseRequest.objects.filter(pk__in=chunk, status=CaseRequest.Status.OPEN)
        rows = list(
            open_cases.select_for_update()
            .order_by("pk")
            .values_list(
                "pk", "priority", "detained", "next_hearing_date", "filing_deadline", "created_at"
            )
        )
        open_cases.filter(pk__in=[row[0] for row in rows]).update(
            status=CaseRequest.Status.MATCHED, updated_at=timezone.now()
        )
        cases.update({row[0]: row[1:] for row in rows})
    return cases


class _Explainer:
    """Builds each proposal's breakdown: the facts its explanation is worded from when someone
    views it (matching.selectors.match_sentences), not the words. The affinity part depends only
    on the (attorney, cell) pair, so it is computed and serialised once per pair."""

    def __init__(self, problem: Problem, today: date) -> None:
        self.problem, self.today = problem, today
        self.zone = timezone.get_current_timezone()
        self.pairs: dict[tuple[int, int], tuple[dict[str, Any], str]] = {}

    def __call__(
        self, position: int, cell_position: int, case: tuple, *, encoded: bool = False
    ) -> dict[str, Any] | str:
        """The proposal's breakdown: a dict, or its JSON text when ``encoded``."""
        key = (position, cell_position)
        if key not in self.pairs:
            self.pairs[key] = self._affinity(position, cell_position)
        pair, pair_json = self.pairs[key]
        priority = self._priority(case)
        if encoded:
            return f'{{"priority": {json.dumps(priority)}, {pair_json}}}'
        return {"priority": priority, **pair}

    def _priority(self, case: tuple) -> dict[str, int]:
        stored_priority, detained, hearing, deadline, created_at = case
        priority = case_priority(
            detained=detained,
            next_hearing_date=hearing,
            filing_deadline=deadline,
            waiting_since=created_at.astimezone(self.zone).date(),
            today=self.today,
        )
        # The score used the priority stored on the case (recomputed daily); the parts are
        # today's recomputation, shown for the explanation.
        return {
            "stored": max(stored_priority, 0),
            "detention": priority.detention,
            "hearing": priority.hearing,
            "deadline": priority.deadline,
            "waiting": priority.waiting,
            "total": priority.total,
        }

    def _affinity(self, position: int, cell_position: int) -> tuple[dict[str, Any], str]:
        problem = self.problem
        cell = problem.cells[cell_position]
        parts = affinity(
            problem.attorney_facts(position), cell, miles=problem.pair_miles(position, cell)
        )
        # AffinityBreakdown.as_dict() without dataclasses.asdict's deep copy: all plain values.
        as_dict = {name: getattr(parts, name) for name in _AFFINITY_FIELDS}
        as_dict["total"] = parts.total
        cell_key = cell_id(cell)
        pair: dict[str, Any] = {"affinity": as_dict, "cell": cell_key}
        if position in problem.attorneys.capped:  # the monthly cap bounded this attorney's load
            cap, capacity_free = problem.attorneys.capped[position]
            left = int(problem.attorneys.free[position])
            pair["monthly_cap"] = {"cap": cap, "left": left, "capacity_free": capacity_free}
        # The pair's part of the JSON, serialised once for all the cases it takes ("{...}"
        # without its braces, to be joined with each case's priority).
        pair_json = json.dumps(pair)
        return pair, pair_json[1:-1]


_AFFINITY_FIELDS = tuple(f.name for f in fields(AffinityBreakdown))


_COLUMNS = (
    "case_id", "attorney_id", "run_id", "status", "score", "breakdown", "decline_reason",
    "decline_note", "reject_reason", "created_at", "status_changed_at",
)  # fmt: skip


def _insert(run: MatchingRun, status: str, rows: Iterable[tuple[int, int, int, Any]]) -> None:
    """Insert the rows; their breakdowns are JSON text on PostgreSQL, dicts elsewhere."""
    now = timezone.now()
    if connection.vendor == "postgresql":
        _copy_matches(run, status, rows, now)
        return
    Match.objects.bulk_create(
        (
            Match(
                case_id=case, attorney_id=attorney, run=run, status=status, score=score,
                breakdown=breakdown, created_at=now, status_changed_at=now,
            )
            for case, attorney, score, breakdown in rows
        ),
        batch_size=1000,
    )  # fmt: skip


def _copy_matches(
    run: MatchingRun, status: str, rows: Iterable[tuple[int, int, int, str]], now: datetime
) -> None:
    table = Match._meta.db_table
    query = f"COPY {table} ({', '.join(_COLUMNS)}) FROM STDIN"
    with connection.cursor() as cursor, cursor.cursor.copy(query) as copy:
        for case, attorney, score, breakdown in rows:
            copy.write_row((case, attorney, run.pk, status, score, breakdown, "", "", "", now, now))


def _raw(sql: str, params: list) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def _raise_counters(new_matches: Counter) -> None:
    """PostgreSQL: one UPDATE joined to (id, count) arrays. Elsewhere: one UPDATE per distinct
    count (attorneys take 1..50 cases, so a handful of statements)."""
    if connection.vendor == "postgresql":
        ids = sorted(new_matches)
        with connection.cursor() as cursor:
            cursor.execute(
                f"UPDATE {AttorneyProfile._meta.db_table} AS a "  # noqa: S608
                "SET active_cases = a.active_cases + v.n "
                "FROM unnest(%s::bigint[], %s::int[]) AS v(id, n) WHERE a.id = v.id",
                [ids, [new_matches[i] for i in ids]],
            )
        return
    by_count: dict[int, list[int]] = {}
    for attorney, count in new_matches.items():
        by_count.setdefault(count, []).append(attorney)
    for count, attorneys in sorted(by_count.items()):
        for chunk in _chunks(sorted(attorneys)):
            AttorneyProfile.objects.filter(pk__in=chunk).update(
                active_cases=F("active_cases") + count
            )


def _chunks(items: Sequence[int]) -> Iterable[Sequence[int]]:
    for start in range(0, len(items), LOCK_CHUNK):
        yield items[start : start + LOCK_CHUNK]
