"""Persist one component batch of a run's solution: ARCHITECTURE.md, matching pipeline, step 6.

Between loading and writing, minutes may pass at backlog scale, and coordinators and attorneys keep
working: an attorney may have taken a case by hand, a case may have been withdrawn. So each batch,
in one transaction:

1. locks its attorneys (``SELECT ... FOR UPDATE`` in primary-key order, so two writers never
   deadlock on each other) and re-reads their free capacity and availability;
2. keeps, per attorney, its best-scoring proposals up to its free capacity;
3. claims their cases with one conditional update from open to matched, which locks them and
   returns only those still open, with the facts their breakdowns keep;
4. inserts the matches with compact breakdowns (matching/breakdown.py: the inputs of the parts,
   which are worked out when a proposal is read) and raises each attorney's counter by its
   number of new matches. On PostgreSQL, steps 3 and 4 are one statement per CLAIM_CHUNK
   proposals, each checking its foreign keys as it ends, and one statement for the counters;
   no Python runs per proposal. Elsewhere they are bulk statements.

A large batch is written on two connections at once, each for its own attorneys, and still
commits all or nothing (:func:`_write_twice`). The database still has the last word: the
counter's check constraint and the one-active-match and one-match-per-pair constraints abort the
whole batch rather than let a bad row in.
"""

import json
from collections import Counter
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from time import perf_counter
from types import SimpleNamespace
from typing import NamedTuple

import numpy as np
from django.conf import settings
from django.db import connection, transaction
from django.db.backends.utils import CursorWrapper
from django.db.models import F, Q
from django.utils import timezone

from cases.models import CaseRequest
from matching.breakdown import COMPACT, compact, pair_facts
from matching.models import Match, MatchingRun
from matching.pipeline.connections import SecondConnection
from matching.pipeline.load import Problem, cell_id
from matching.pipeline.load.problem import IntArray, pg_array, solution_pks
from matching.solver import Solution
from matching.solver.arrays import lexsort_ints
from volunteers.models import AttorneyProfile
from volunteers.timezones import DATE_MARGIN, attorney_paused

LOCK_CHUNK = 10_000
# Proposals claimed and inserted per statement on PostgreSQL (_claim_and_insert): the cases
# pages a statement claims (about one per proposal) must still be in PostgreSQL's buffer cache
# (stock 128 MB, shared by both connections) when its foreign-key checks lock them again.
CLAIM_CHUNK = 4_000
# How long either connection of a batch written on two waits for another transaction's row
# lock before failing the batch (_write_twice says why it cannot wait forever).
LOCK_TIMEOUT = "30s"


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

    A large batch on PostgreSQL is written on two connections at once (:func:`_write_twice`).
    ``timings`` accumulates seconds per step (lock, explain, claim_insert, commit), so a
    benchmark shows where the write phase goes.
    """
    if not solution.assigned:
        return 0
    proposals = _Proposals.of(solution)
    status = Match.Status.APPROVED if auto_approve else Match.Status.PROPOSED
    facts = _Facts(run, problem, status, today)
    clock = _Clock(timings)
    if _two_connections(len(proposals.case)):
        return _write_twice(facts, proposals, clock)
    with transaction.atomic():
        free = _lock_attorneys(np.unique(proposals.attorney).tolist(), today)
        clock.lap("lock")
        candidates = _chosen(proposals, free)
        if candidates is None:
            return 0
        batch = _explained(facts, candidates)
        clock.lap("explain")
        if connection.vendor == "postgresql":
            written = _claim_and_insert(batch)
        else:
            written = _claim_and_insert_elsewhere(batch)
        clock.lap("claim_insert")
    clock.lap("commit")  # deferred foreign-key checks run here
    return written


def _two_connections(proposals: int) -> bool:
    above = settings.MATCHING_WRITE_TWO_CONNECTIONS_ABOVE
    return connection.vendor == "postgresql" and 0 < above <= proposals


def _write_twice(facts: "_Facts", proposals: "_Proposals", clock: "_Clock") -> int:
    """Write a batch on this connection and a second one at once, split by attorney, so that
    PostgreSQL's work (claims, index entries, foreign-key checks: most of the write) runs on
    two cores. Still all or nothing:

    1. each connection opens a transaction and locks its own attorneys (disjoint sets, so the
       two never wait for each other: no attorney, case or match key is shared);
    2. the proposals the capacity allows are chosen from both sets of locks, as in one
       transaction, and each connection claims and inserts those of its attorneys;
    3. each connection then runs its deferred checks (``SET CONSTRAINTS ALL IMMEDIATE``), so
       every constraint has passed on both before either commits; any error rolls both back;
    4. the second connection commits, then this one.

    Only a lost connection or a database stop between the two commits can leave half a batch,
    as between two batches: the run then fails with its plan kept, and the next run writes
    the rest (plan.py). PostgreSQL cannot see a wait that goes through this process (one
    connection waiting for a row another transaction holds, which waits for the other
    connection), so both wait for a row lock at most LOCK_TIMEOUT, then fail the batch.
    """
    mine, theirs = _halves(proposals.attorney)
    with SecondConnection() as second, transaction.atomic():
        their_free = second.call(_lock_waiting_at_most, theirs, facts.today)
        free = _lock_waiting_at_most(mine, facts.today)
        free.update(their_free.result())
        clock.lap("lock")
        candidates = _chosen(proposals, free)
        if candidates is None:
            return 0
        theirs_set = np.isin(candidates.attorney, theirs)
        # The second connection claims its half while this one explains its own.
        claimed = second.call(
            _claim_insert_and_check, _explained(facts, candidates.part(theirs_set))
        )
        clock.lap("explain")  # (the second half's; the first's runs beside its claims)
        written = _claim_insert_and_check(_explained(facts, candidates.part(~theirs_set)))
        written += claimed.result()
        clock.lap("claim_insert")
        second.commit()
    clock.lap("commit")
    return written


class _Proposals(NamedTuple):
    """A batch's assignments as arrays, best first, so a shrunken capacity keeps the best
    (ties by attorney, then case)."""

    case: IntArray
    attorney: IntArray
    score: IntArray

    @classmethod
    def of(cls, solution: Solution) -> "_Proposals":
        attorneys, cases, scores = solution_pks(solution)
        best_first = lexsort_ints((cases, attorneys, -scores))
        return cls(cases[best_first], attorneys[best_first], scores[best_first])


class _Facts(NamedTuple):
    run: MatchingRun
    problem: Problem
    status: str
    today: date


def _chosen(proposals: _Proposals, free: dict[int, int]) -> "_Candidates | None":
    """The proposals the locked attorneys' free capacity allows, in case order (the matches'
    indexes on case_id then grow at their right edge, and the foreign-key checks visit the
    cases table page by page instead of jumping at random through a table far larger than
    PostgreSQL's buffer cache); None if there are none. Each attorney keeps its first ``free``
    proposals in best-first order (none when it is not in ``free``)."""
    room, kept = dict(free), []
    for i, attorney in enumerate(proposals.attorney.tolist()):
        if room.get(attorney, 0) > 0:
            room[attorney] -= 1
            kept.append(i)
    if not kept:
        return None
    chosen = np.array(kept, dtype=np.int64)
    chosen = chosen[np.argsort(proposals.case[chosen], kind="stable")]
    return _Candidates(*(column[chosen] for column in proposals))


def _explained(facts: _Facts, candidates: "_Candidates") -> "_Batch":
    """The candidates with their pairs' facts: what the claim and the insert need."""
    pairs, pair_of = _pair_facts(facts.problem, candidates)
    return _Batch(facts.run, facts.status, facts.today, candidates, pairs, pair_of)


def _halves(attorneys: IntArray) -> tuple[list[int], list[int]]:
    """The batch's attorneys in two disjoint sets of about as many proposals each (runs of
    consecutive primary keys)."""
    pks, counts = np.unique(attorneys, return_counts=True)
    cut = int(np.searchsorted(np.cumsum(counts), counts.sum() / 2))
    return pks[:cut].tolist(), pks[cut:].tolist()


class _Candidates(NamedTuple):
    """The proposals the attorneys' free capacity allows, in case order."""

    case: IntArray
    attorney: IntArray
    score: IntArray

    def part(self, mask: np.ndarray) -> "_Candidates":
        return _Candidates(*(column[mask] for column in self))


class _Batch(NamedTuple):
    """What the claim and the insert need: the candidates, each with its pair's facts."""

    run: MatchingRun
    status: str
    today: date
    candidates: _Candidates
    pairs: list[list]  # compact facts of each (attorney, cell) pair (matching/breakdown.py)
    pair_of: IntArray  # each candidate's pair


class _Clock:
    def __init__(self, timings: dict[str, float] | None) -> None:
        self.timings, self.last = timings, perf_counter()

    def lap(self, step: str) -> None:
        if self.timings is None:
            return
        now = perf_counter()
        self.timings[step] = self.timings.get(step, 0.0) + now - self.last
        self.last = now


def _lock_waiting_at_most(pks: Sequence[int], today: date) -> dict[int, int]:
    _limit_lock_waits()
    return _lock_attorneys(pks, today)


def _limit_lock_waits() -> None:
    with connection.cursor() as cursor:
        cursor.execute(f"SET LOCAL lock_timeout = '{LOCK_TIMEOUT}'")


def _claim_insert_and_check(batch: "_Batch") -> int:
    """Claim and insert on this connection, then run the checks deferred to the commit."""
    written = _claim_and_insert(batch)
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
    return written


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
            "WHERE id = ANY(%s::bigint[]) AND verification = %s "
            "AND (paused_until IS NULL OR paused_until <= %s) ORDER BY id FOR UPDATE",
            [pg_array(pks), AttorneyProfile.Verification.VERIFIED, horizon],
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


def _pair_facts(problem: Problem, candidates: _Candidates) -> tuple[list[list], IntArray]:
    """The compact facts of each distinct (attorney, cell) pair among the candidates (what their
    affinity parts are worked out from when read: matching/breakdown.py), and each candidate's
    pair. Read from the problem's arrays: no scoring runs here."""
    a = problem.attorneys
    positions = np.searchsorted(a.pk, candidates.attorney)
    cells = problem.case_cell[np.searchsorted(problem.case_pk, candidates.case)]
    keys, pair_of = np.unique(positions * len(problem.cells) + cells, return_inverse=True)
    pair_positions, pair_cells = np.divmod(keys, len(problem.cells))
    courts = np.array(
        [problem.court_position[problem.cells[c].court_id] for c in pair_cells.tolist()],
        dtype=np.int64,
    )
    miles = problem.miles[pair_positions, courts].tolist()
    wanted = set(pair_positions.tolist())
    languages: dict[int, dict[str, int]] = {}
    for position, code, level in a.languages:
        if position in wanted:
            languages.setdefault(position, {})[code] = level
    handled = {(p, code): n for p, code, n in a.practice_areas if p in wanted}
    preferred = {(p, code) for p, code in a.preferred_types if p in wanted}
    remote_preferred = a.remote_preferred
    cell_keys: dict[int, tuple[str, str, tuple[str, ...]]] = {}
    pairs = []
    for position, cell_position, distance in zip(
        pair_positions.tolist(), pair_cells.tolist(), miles, strict=True
    ):
        if cell_position not in cell_keys:
            cell = problem.cells[cell_position]
            routes = (cell.language, *cell.other_languages, *filter(None, [cell.relay_language]))
            cell_keys[cell_position] = (cell_id(cell), cell.case_type, routes)
        key, case_type, routes = cell_keys[cell_position]
        spoken = languages.get(position, {})
        cap = None
        if position in a.capped:  # the monthly cap bounded this attorney's load
            monthly_cap, capacity_free = a.capped[position]
            cap = (monthly_cap, int(a.free[position]), capacity_free)
        pairs.append(
            pair_facts(
                cell_key=key,
                miles=distance,
                radius=int(a.radius[position]),
                remote_ok=bool(a.remote_ok[position]),
                remote_preferred=bool(remote_preferred[position])
                if remote_preferred is not None
                else False,
                years=int(a.years[position]),
                cases_handled=handled.get((position, case_type), 0),
                preferred=(position, case_type) in preferred,
                languages={code: spoken[code] for code in routes if code in spoken},
                cap=cap,
            )
        )
    return pairs, pair_of


_CASES, _MATCHES = CaseRequest._meta.db_table, Match._meta.db_table
_ATTORNEYS = AttorneyProfile._meta.db_table
_CLAIM_AND_INSERT = f"""
WITH claimed AS (
    UPDATE {_CASES} AS c SET status = %(matched)s, updated_at = %(now)s
    FROM unnest(%(cases)s::bigint[], %(attorneys)s::bigint[], %(scores)s::int[],
                %(pairs)s::int[]) AS p(case_id, attorney_id, score, pair)
    WHERE c.id = p.case_id AND c.status = %(open)s
    RETURNING c.id, p.attorney_id, p.score, p.pair, c.priority, c.detained,
              c.next_hearing_date, c.filing_deadline, c.created_at
), inserted AS (
    INSERT INTO {_MATCHES} (case_id, attorney_id, run_id, status, score, breakdown,
                            decline_reason, decline_note, reject_reason, created_at,
                            status_changed_at)
    SELECT id, attorney_id, %(run)s, %(status)s, score,
           jsonb_build_array({COMPACT}, %(facts)s::jsonb -> pair, priority, detained,
                             next_hearing_date, filing_deadline, created_at, %(today)s::date),
           '', '', '', %(now)s, %(now)s
    FROM claimed
    ORDER BY id
    RETURNING attorney_id
)
SELECT coalesce(array_agg(attorney_id), '{{}}') FROM inserted
"""  # noqa: S608 (table names from the models)
_RAISE = f"""
UPDATE {_ATTORNEYS} AS a SET active_cases = a.active_cases + v.n
FROM unnest(%s::bigint[], %s::int[]) AS v(id, n) WHERE a.id = v.id
"""  # noqa: S608


def _claim_and_insert(batch: _Batch) -> int:
    """PostgreSQL: claim the cases still open (a conditional update: a case withdrawn or matched
    by hand since the load is not returned, and the row lock it takes holds until the batch
    commits) and insert their matches with the case's facts from the claimed row, one statement
    per CLAIM_CHUNK candidates; then raise each attorney's counter by its number of new matches,
    in one statement. Only the attorney of each match comes back.

    A batch of more than one statement checks its foreign keys at the end of each statement
    (``SET CONSTRAINTS ALL IMMEDIATE``) instead of at the commit: each check then finds the case
    it locks (``FOR KEY SHARE``, a heap write) on a page its statement has just claimed, still in
    PostgreSQL's buffer cache, instead of reading and dirtying the whole cases table a second
    time once every claim has pushed it out.
    """
    n, now = len(batch.candidates.case), timezone.now()
    with connection.cursor() as cursor:
        # Plans for thousands of rows sorted in memory, not compiled: the row estimates of
        # unnest are rough, and JIT-compiling for them took longer than the statement.
        cursor.execute("SET LOCAL jit = off")
        cursor.execute("SET LOCAL work_mem = '64MB'")
        # Each case found by its primary key, in the candidates' (case) order, and updated while
        # its page is at hand: a hash join read the whole table first (or probed the index for
        # an array of every id, which took 30 ms to plan), ~25% more PostgreSQL CPU for the
        # claims at 1M. The transaction runs nothing after these but the counters and checks.
        cursor.execute("SET LOCAL enable_hashjoin = off")
        cursor.execute("SET LOCAL enable_mergejoin = off")
        if n > CLAIM_CHUNK:
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        matched = [
            _claim_chunk(cursor, batch, slice(start, start + CLAIM_CHUNK), now)
            for start in range(0, n, CLAIM_CHUNK)
        ]
        attorneys, counts = np.unique(np.concatenate([_NONE, *matched]), return_counts=True)
        if len(attorneys):
            cursor.execute(_RAISE, [pg_array(attorneys), pg_array(counts)])
    return int(counts.sum())


_NONE = np.zeros(0, dtype=np.int64)


def _claim_chunk(cursor: CursorWrapper, batch: _Batch, part: slice, now: datetime) -> IntArray:
    """Claim and insert the candidates in ``part``; return the attorney of each new match. The
    statement gets the facts of its own pairs only, as one JSON array that each row indexes."""
    candidates = batch.candidates
    pairs, pair_of = np.unique(batch.pair_of[part], return_inverse=True)
    cursor.execute(
        _CLAIM_AND_INSERT,
        {
            "cases": pg_array(candidates.case[part]),
            "attorneys": pg_array(candidates.attorney[part]),
            "scores": pg_array(candidates.score[part]),
            "pairs": pg_array(pair_of),
            "facts": json.dumps([batch.pairs[p] for p in pairs.tolist()]),
            "matched": CaseRequest.Status.MATCHED,
            "open": CaseRequest.Status.OPEN,
            "now": now,
            "run": batch.run.pk,
            "status": batch.status,
            "today": batch.today,
        },
    )
    return np.array(cursor.fetchone()[0], dtype=np.int64)


def _claim_and_insert_elsewhere(batch: _Batch) -> int:
    """The same steps as _claim_and_insert, one statement at a time (SQLite)."""
    run, status, today, candidates, pairs, pair_of = batch
    cases = _claim_open_cases(candidates.case.tolist())
    now = timezone.now()
    kept = [
        (score, attorney, case, pair)
        for case, attorney, score, pair in zip(
            *(column.tolist() for column in (*candidates, pair_of)), strict=True
        )
        if case in cases
    ]
    Match.objects.bulk_create(
        (
            Match(
                case_id=case, attorney_id=attorney, run=run, status=status, score=score,
                breakdown=compact(pairs[pair], cases[case], today), created_at=now,
                status_changed_at=now,
            )
            for score, attorney, case, pair in kept
        ),
        batch_size=1000,
    )  # fmt: skip
    _raise_counters(Counter(attorney for _, attorney, _, _ in kept))
    return len(kept)


def _claim_open_cases(pks: Sequence[int]) -> dict[int, tuple]:
    """Move the cases that are still open to matched, returning the facts their breakdowns keep
    (the conditional claim of STYLE.md 10, under a row lock that holds until the commit)."""
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


def _raw(sql: str, params: list) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def _raise_counters(new_matches: Counter) -> None:
    """One UPDATE per distinct count (attorneys take 1..50 cases, so a handful of statements)."""
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
