"""The small run: load only the open cases that attorneys with free capacity could take.

After a full run, what is left free is usually unusable (no open case within reach), and what a
newly verified attorney or a new case request brings is a few slots: loading the whole backlog
to place them costs as much as the full run's load. This loader reads, for each *place*
(language, case type, detained flag, court, remote flag; see reach.py) that some attorney with
free capacity can reach, only the best open cases there, in the solver's order, from
``case_cell_priority_idx``: at most as many as the free capacity and exclusions in reach, and
at first at most FIRST_DEPTH; the optimum of what was read says whether a place must be read
deeper. Work in proportion to what can be placed: a place nobody free reaches is not read, a
reached place with no open case costs one index probe, and a place gives about as many cases
as the optimum takes from it. A debounced run (after a change) takes this path when it reads
at most MATCHING_SMALL_RUN_MAX_CASES cases; else, and for the scheduled run, the full load runs.

What a read costs the server: an index descent per place, and a heap fetch per case met, the
matched ones included (no index holds the status, so that claims stay heap-only; see
CaseRequest.Meta), and the last run matched the best cases of each place, which the index
gives first. A batch of 300 verifications at 1M cases reaches 48.6k places: 27k hold no case
(a descent each: skipping them through a trigger-kept list of places saved no measurable CPU),
13k hold cases behind ~80k matched ones, a third of the reads' server CPU (of its
40.0k places without other languages: 27.6k hold no case, 2,958 only matched ones, 33.7k walked
for nothing; 9,470 give 29.4k open cases behind 39.7k matched; with stock shared_buffers a
quarter of the 229k pages touched come from the OS cache). An index
without the court would save descents, not those fetches: a (language, kind)'s matched cases
lead it over all courts as in each court (Spanish asylum, remote: 947 of its 963 matched cases
come before its eighth open one).

Nor would a lower bound per cell pay for its upkeep: the priority of each cell's first open
case (a full run knows it after its write; every path that opens a case or raises its priority
would have to lower it, by trigger) as an index condition of each probe skips all but 247 of
the 88,778 matched cases ahead of the open ones at 1M. Prototyped on a copy (bounds computed in
SQL, joined by the probes), 300 verifications after a full run: the read without other
languages touched 162k + 63k pages (hit + read) -> 121k + 29k; server CPU on one connection
0.68-0.95 -> 0.50-0.66 s (6 alternated reads each; 0.49-0.57 s also skipping places with no
open case), summed over the first read's three connections 0.71-0.84 -> 0.59-0.79 s, the
busiest one 0.29-0.34 -> 0.22-0.29 s (each builds the join's hash); client CPU unchanged
(0.50-0.65 s), same 44,520 cases read. About 0.1 s of a batch near 1 s: the descents (3-4 pages
each) and the open cases' own fetches remain, and the client's CPU is spread over a dozen steps
that each follow the ~16.5k places read (cells, scoring, instance: 30-150 ms each). At 3.7M
(94,252 cases read in 2 rounds) it pays more: one connection 1.44-1.56 -> 0.87-0.99 s, the
first read's busiest connection 0.59-0.65 -> 0.32-0.41 s, about 0.3 s of a 2.0-2.5 s batch.
Its upkeep is not small either: the nightly priority refresh raises open cases' priorities by
the hundred thousand (a per-row trigger would write a bound per row), a full run can advance
the bounds only from what its write actually claimed, and an advance must lose against any
lowering committed since its snapshot (a version per bound, compared when it writes).

Why the result is exactly the full run's optimum (the tests check it against full runs on
random worlds, PostgreSQL and SQLite). Write P for the full problem (every open case) and P' for
the same attorneys and exclusions restricted to the cases loaded here. For a cell k (a solver
cell before exclusions split it), U_k is the free capacity of the attorneys eligible for it and
X_k their exclusions with open cases. The loader reads each cell as one or more *parts*: the
cases of one (main language, other languages, relay key, kind, court, remote) key, so a part
lies within one cell (cells with equal CellFacts are merged, so a cell may have several).
Other languages count in the key only when they count at all (MATCHING_OTHER_LANGUAGES); their
parts come from case_other_cell_priority_idx (migration cases/0014), the others from
case_cell_priority_idx, and a part is probed only where an attorney with free capacity speaks
one of its languages (main, other or relay) and reaches its kind and court. From a part it
reads the best min(size, K) cases in the solver's order (priority clipped at 0, highest
first, then case id).
Either K is the capacity and exclusions of every attorney who speaks a language of the part,
takes its kind and reaches its court, so K >= U_k + X_k (a *full-depth* part), or K is smaller
(a *capped* part), and then the round's optimum S of P' must leave unassigned one loaded case
of the part that no exclusion names; else the part is read DEEPER times deeper and the round
starts again (until it is read whole, so the rounds end).

1. The best n cases of a cell are, part by part, among the best n of their part: a case with
   n - 1 cases of the cell ahead of it has at most n - 1 ahead of it in its part.
2. Full-depth parts lose nothing. Let P1 be P without the unread cases of full-depth parts. By
   step 1, P1 holds the best m_k = min(|k|, U_k + X_k) cases of every cell k. Take an optimal
   solution of P with the fewest cases outside P1, and suppose it gives a case e of cell k,
   outside P1, to attorney b. At most U_k - 1 other cases of k are assigned, at most X_k are
   excluded for b, so one of the best m_k, e', is free and allowed for b; e' ranks before e,
   so priority(e') >= priority(e), and b scores the same affinity on both (one cell): giving
   e' instead loses nothing and leaves P1 once less, a contradiction. So OPT(P1) = OPT(P), and
   an optimal solution of P1 is optimal for P.
3. Capped parts lose nothing either. Suppose S is not optimal for P1: some T of P1 scores more.
   The edges of S and T that differ form alternating paths and cycles, each of which can be
   flipped in S on its own (attorneys keep within capacity), and their gains add up to
   T - S > 0: one of them, C, gains. If C used only loaded cases, flipping it would improve S
   in P'. So C ends at an unread case e of a capped part A (a case assigned in T, not in S, is
   the end of a path; a path has at most one such end), given to attorney b. A's loaded cases
   all rank before e, and one of them, e', is unassigned in S and named by no exclusion: so it
   is not on C, b may take it, with the same affinity and a priority no lower. C with e' for
   e is a flip within P' that gains: S was not optimal in P', a contradiction.
4. So S, optimal for P', is optimal for P (the full run may pick another among equal optima).

Cells split by exclusions and hubs are built from the loaded cases exactly as the full loader
builds them (load_problem's steps 2-3 run unchanged), and every read is in one REPEATABLE READ
snapshot on PostgreSQL, as the full load's.
"""

import datetime
from collections.abc import Callable
from contextlib import nullcontext
from dataclasses import dataclass
from functools import partial
from time import perf_counter

import numpy as np
from django.db import connection

from cases.models import CaseRequest, ImmigrationCourt
from matching.models import Match
from matching.pipeline.load import Problem, Snapshot, pk_of, problem_of, snapshot
from matching.pipeline.load.attorneys import load_attorneys
from matching.pipeline.load.beside import Submit, beside
from matching.pipeline.load.cases import cells_of_keys, other_languages_matched
from matching.pipeline.load.problem import pg_array
from matching.pipeline.load.reach import IntArray, Reach, reach_of
from matching.pipeline.score import Attorneys
from matching.scoring import distance_matrix_miles, other_languages_key
from matching.solver import Solution, solve_component


@dataclass(frozen=True, eq=False, slots=True)
class Probes:
    """Parts of cells to read: the cases whose main language is ``language[i]``, other
    languages ``others[i]`` (their cell's key, comma-separated; '' for none or when they do
    not count), relay key ``relay[i]`` (None: no relay), kind, court and remote flag, at most
    ``k[i]`` of them."""

    language: list[str]
    others: list[str]
    relay: list[str | None]
    case_type: list[str]
    detained: list[bool]
    court: list[int]
    remote: list[bool]
    k: list[int]
    # Whether k is the round's depth rather than ``most``, the capacity and exclusions in reach.
    capped: list[bool]
    most: list[int]

    def __len__(self) -> int:
        return len(self.k)

    def key(self, n: int) -> tuple:
        """Probe n's part."""
        return tuple(getattr(self, name)[n] for name in _KEY)

    def deeper(self, chosen: list[int]) -> "Probes":
        """The same probes, ``chosen`` ones DEEPER times deeper (at most ``most``)."""
        k, capped = list(self.k), list(self.capped)
        for n in chosen:
            k[n] = min(self.most[n], DEEPER * k[n])
            capped[n] = k[n] < self.most[n]
        fields = {name: getattr(self, name) for name in self.__slots__}
        return Probes(**{**fields, "k": k, "capped": capped})


@dataclass(frozen=True, eq=False, slots=True)
class _Loaded:
    """One round's read: the snapshot, and the cases of each probe read to its depth (it may
    hold more), by probe."""

    rows: Snapshot
    truncated: dict[int, list[int]]


# A part is first read this deep (or to capacity + exclusions in reach, when less), and a part
# the round's optimum uses up is read DEEPER times deeper in the next round. 8: a batch of 300
# verifications reads 45k cases in 1 round at 1M, 87k in 3 at 3.7M (4: 4 and 6 rounds, each
# scoring and solving what was read again; 16: 105k at 3.7M, over the small run's limit).
FIRST_DEPTH = 8
DEEPER = 8
ROUNDS = 6


def load_small_problem(
    *,
    today: datetime.date,
    max_cases: int,
    timings: dict | None = None,
    solve: Callable[[Problem], Solution] | None = None,
) -> Problem | None:
    """The problem restricted to the cases the free attorneys could take (module docstring), or
    None when the full load must run instead: more than ``max_cases`` cases to read.

    All in one snapshot (every round reads the same data, so a round re-reads only what it
    deepens):
    1. Available attorneys, courts, the attorneys' exclusions with open cases.
    2. Their reach (reach.py) as probes, one per part of a cell, each with its depth.
    3. Read the best cases of each probe to its depth (a LATERAL query on PostgreSQL for the
       parts without other languages, one for those with; from BESIDE_PROBES probes, the
       former in two interleaved halves on two more connections sharing the snapshot,
       beside.py and halves_of).
    4. Build cells, score and build exactly as load_problem does; solve (``solve``, the exact
       flow by default; the run passes its own, and writes the last round's optimum,
       ``Problem.solved``, without solving again). The parts read to their depth whose loaded
       cases the optimum uses up (or may not give to everyone) are read DEEPER times deeper,
       and the round starts again (with the same distances, and the same scored arcs while
       the split cells stay the same: ``scored``'s reuse; the second round of a
       300-verification batch at 1M).
    """
    solve = solve or (lambda problem: solve_component(problem.instance, problem.hubs))
    timings = {} if timings is None else timings
    started = perf_counter()
    with snapshot() as own:
        base, probes, figures = _read_base(today)
        with beside(2) if own and len(probes) >= BESIDE_PROBES else nullcontext() as submit:
            read = _read_probes(probes, others=base.others, limit=max_cases + 1, submit=submit)
        timings["load"] = timings.get("load", 0.0) + perf_counter() - started
        if read is None:
            return None
        table = _table(read)  # (case pk, priority, probe) of every case read so far
        known: dict = {}  # the cells, from one round to the next
        reuse: dict = {}  # the scored arcs and hubs, while the split cells stay the same
        for round_ in range(1, ROUNDS + 1):
            loaded = _loaded(base, probes, table, known)
            problem = problem_of(loaded.rows, timings=timings, reuse=reuse)
            solution = solve(problem)
            used_up = _used_up(loaded, solution)
            if not used_up:
                figures.update(
                    rounds=round_, cases_read=len(table), usable_slots=usable_slots(problem)
                )
                problem.stats["small_run"] = figures
                problem.solved = solution
                return problem
            started = perf_counter()
            probes = probes.deeper(used_up)
            kept = table[~np.isin(table[:, 2], used_up)]
            again = _read_probes(
                probes, others=base.others, limit=max_cases + 1 - len(kept), chosen=used_up
            )
            timings["load"] = timings.get("load", 0.0) + perf_counter() - started
            if again is None:
                return None
            table = np.concatenate((kept, _table(again)))
            figures["probes_read_again"] = figures.get("probes_read_again", 0) + len(used_up)
    return None


def _used_up(loaded: _Loaded, solution: Solution) -> list[int]:
    """The probes of the parts read to their depth in which the solution leaves no loaded case
    free of exclusions unassigned (module docstring, step 3)."""
    taken = {pk_of(pair.case) for pair in solution.assignments}
    taken.update(case for _, case in loaded.rows.excluded)
    return sorted(n for n, cases in loaded.truncated.items() if all(c in taken for c in cases))


def usable_slots(problem: Problem) -> int:
    """Free capacity of the attorneys with an arc or a hub path into a loaded cell (every loaded
    cell has open cases), as the run's statistics report it. Counts an attorney whose only
    case in reach is excluded for them."""
    instance, hubs = problem.instance, problem.hubs
    reaching = np.unique(np.concatenate((instance.arc_attorney, hubs.arc_attorney)))
    return int(instance.capacity[reaching].sum())


@dataclass(frozen=True, eq=False, slots=True)
class _Base:
    """What every round shares: the attorneys, courts and exclusions of the snapshot, whether
    other languages count, and the attorney x court distances (computed once, not per round)."""

    attorneys: Attorneys
    courts: list
    excluded: list[tuple[int, int]]
    others: bool
    miles: np.ndarray


def _read_base(today: datetime.date) -> tuple[_Base, Probes, dict]:
    if connection.vendor == "postgresql":
        # Every query here reads a few pages, but the estimates of the array lookups are
        # large enough to start JIT compilation, which alone took 0.26 s of a 0.28 s query.
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL jit = off")
    attorneys = load_attorneys(today)
    courts = list(
        ImmigrationCourt.objects.order_by("pk").values_list("pk", "latitude", "longitude")
    )
    miles = distance_matrix_miles(
        attorneys.latitude,
        attorneys.longitude,
        np.array([float(lat) for _, lat, _ in courts]),
        np.array([float(lon) for _, _, lon in courts]),
    )
    excluded = _exclusions(attorneys)
    reach = reach_of(
        attorneys, miles, [pk for pk, _, _ in courts], _per_attorney(attorneys, excluded)
    )
    others = other_languages_matched()
    probes = probes_of(reach, _relay_pairs(), _other_cells() if others else [])
    figures = {"free_slots": int(attorneys.free.sum()), "probes": len(probes)}
    return _Base(attorneys, courts, excluded, others, miles), probes, figures


def _table(read: list[tuple[int, int, int]]) -> IntArray:
    """The rows read, (case pk, priority, probe) each, as an n x 3 array."""
    return np.array(read, dtype=np.int64).reshape(-1, 3)


def _loaded(base: _Base, probes: Probes, table: IntArray, known: dict) -> _Loaded:
    cells, case_pk, case_cell, priority = _cells(probes, table, known)
    rows = Snapshot(
        base.attorneys, base.courts, cells, case_pk, case_cell, priority, base.excluded, base.miles
    )
    return _Loaded(rows, _truncated(probes, table))


def _truncated(probes: Probes, table: IntArray) -> dict[int, list[int]]:
    """The cases read of each capped probe that gave as many as its depth, by probe (numpy:
    Python touches only those probes)."""
    capped = table[np.array(probes.capped, dtype=bool)[table[:, 2]]]
    capped = capped[np.argsort(capped[:, 2], kind="stable")]
    used, start, count = np.unique(capped[:, 2], return_index=True, return_counts=True)
    full = np.flatnonzero(count >= np.array(probes.k, dtype=np.int64)[used])
    return {int(used[i]): capped[start[i] : start[i] + count[i], 0].tolist() for i in full.tolist()}


def _exclusions(attorneys: Attorneys) -> list[tuple[int, int]]:
    """(attorney pk, case pk) of every match row of these attorneys with a case still open:
    the exclusions the full load keeps for them. On PostgreSQL the attorneys go as one array
    (``= ANY``), and each match's case is looked up by primary key (a join would tempt the
    planner into hashing every open case)."""
    if connection.vendor != "postgresql":
        return list(
            Match.objects.filter(
                attorney_id__in=attorneys.pk.tolist(), case__status=CaseRequest.Status.OPEN
            ).values_list("attorney_id", "case_id")
        )
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT m.attorney_id, m.case_id FROM {Match._meta.db_table} m "  # noqa: S608
            "WHERE m.attorney_id = ANY(%s) AND (SELECT c.status FROM "
            f"{CaseRequest._meta.db_table} c WHERE c.id = m.case_id) = %s",
            [attorneys.pk.tolist(), CaseRequest.Status.OPEN],
        )
        return cursor.fetchall()


def _per_attorney(attorneys: Attorneys, excluded: list[tuple[int, int]]) -> IntArray:
    pks = np.array([a for a, _ in excluded], dtype=np.int64)
    counts = np.zeros(len(attorneys), dtype=np.int64)
    np.add.at(counts, np.searchsorted(attorneys.pk, pks), 1)
    return counts


def probes_of(
    reach: Reach,
    relay_pairs: list[tuple[str, str]],
    other_cells: list[tuple] = (),  # type: ignore[assignment]
) -> Probes:
    """One probe per place with capacity (main language, no relay), per (main language, relay)
    pair in use and place where either language is spoken, and per cell of cases with other
    languages (``other_cells``, keys as _other_cells gives them) where one of its languages is
    spoken. Its depth: the capacity and exclusions in reach (summed over the languages of the
    part), at most FIRST_DEPTH."""
    out: dict[str, list] = {name: [] for name in Probes.__slots__}
    parts: list[tuple[str, str | None, tuple[int | None, ...]]] = [
        (code, None, (reach.language_index(code),)) for code in reach.languages
    ]
    parts += [
        (main, relay, (reach.language_index(main), reach.language_index(relay)))
        for main, relay in relay_pairs
    ]
    for main, relay, indices in parts:
        spoken = [i for i in indices if i is not None]
        if not spoken:
            continue
        capacity = sum(reach.capacity[i] for i in spoken)
        excluded = sum(reach.excluded[i] for i in spoken)
        kind, court, remote = np.nonzero(capacity > 0)
        reached = (capacity + excluded)[kind, court, remote].tolist()
        columns: dict[str, list] = {
            "language": [main] * len(kind),
            "others": [""] * len(kind),
            "relay": [relay] * len(kind),
            "case_type": [reach.kinds[k][0] for k in kind.tolist()],
            "detained": [reach.kinds[k][1] for k in kind.tolist()],
            "court": [reach.courts[c] for c in court.tolist()],
            "remote": [bool(r) for r in remote.tolist()],
        }
        _add_probes(out, columns, reached)
    _add_probes(out, *_other_probes(reach, other_cells))
    return Probes(**out)


def _other_probes(reach: Reach, cells: list[tuple]) -> tuple[dict[str, list], list[int]]:
    """The probe columns of the cells of cases with other languages that some attorney with
    free capacity may be eligible for (speaks one of the cell's languages, main, other or
    relay, takes its kind, reaches its court), and each one's capacity and exclusions in reach.
    Python touches each cell once (a few dict look-ups); the sums are numpy gathers."""
    columns: dict[str, list] = {name: [] for name in _KEY}
    if not cells:
        return columns, []
    others, language, case_type, detained, court, remote, relay = map(
        list, zip(*cells, strict=True)
    )
    kinds = {kind: k for k, kind in enumerate(reach.kinds)}
    courts = {pk: c for c, pk in enumerate(reach.courts)}
    kind = np.array([kinds.get(pair, -1) for pair in zip(case_type, detained, strict=True)])
    at = np.array([courts.get(pk, -1) for pk in court])
    flag = np.array(remote, dtype=np.int64)
    routes: dict[tuple, list[int]] = {}  # (language, others, relay) -> spoken language indices
    spoken = []
    for route in zip(language, others, relay, strict=True):
        if route not in routes:
            codes = [route[0], *route[1].split(","), *([route[2]] if route[2] else [])]
            routes[route] = [i for i in map(reach.language_index, codes) if i is not None]
        spoken.append(routes[route])
    count = np.array([len(indices) for indices in spoken], dtype=np.int64)
    count[(kind < 0) | (at < 0)] = 0
    cell = np.repeat(np.arange(len(cells)), count)
    lang = np.fromiter(
        (i for indices, n in zip(spoken, count.tolist(), strict=True) if n for i in indices),
        dtype=np.int64,
        count=int(count.sum()),
    )
    place = (lang, kind[cell], at[cell], flag[cell])
    capacity = np.bincount(cell, weights=reach.capacity[place], minlength=len(cells))
    excluded = np.bincount(cell, weights=reach.excluded[place], minlength=len(cells))
    chosen = np.flatnonzero(capacity > 0).tolist()
    values = (language, others, relay, case_type, detained, court, remote)
    for name, column in zip(_KEY, values, strict=True):
        columns[name] = [column[n] for n in chosen]
    columns["relay"] = [code or None for code in columns["relay"]]
    columns["remote"] = [bool(value) for value in columns["remote"]]
    reached = np.rint(capacity + excluded)[chosen].astype(np.int64).tolist()
    return columns, reached


def _add_probes(out: dict[str, list], columns: dict[str, list], reached: list[int]) -> None:
    for name in _KEY:
        out[name] += columns[name]
    out["most"] += reached
    out["k"] += [min(most, FIRST_DEPTH) for most in reached]
    out["capped"] += [most > FIRST_DEPTH for most in reached]


_KEY = ("language", "others", "relay", "case_type", "detained", "court", "remote")


def _relay_pairs() -> list[tuple[str, str]]:
    """(main language, relay language) of the cases that accept a relay interpreter (open or
    not: a superset is enough). PostgreSQL walks case_relay_pair_idx one distinct pair at a
    time (a loose index scan), so this costs a few index probes, not a scan."""
    if connection.vendor != "postgresql":
        return sorted(
            set(
                CaseRequest.objects.filter(relay_interpreter_ok=True)
                .values_list("language_id", "relay_language_id")
                .distinct()
            )
        )
    table = CaseRequest._meta.db_table
    relay = "relay_interpreter_ok AND closed_at IS NULL"
    with connection.cursor() as cursor:
        cursor.execute(
            "WITH RECURSIVE pairs(r, l) AS ("  # noqa: S608 (constants only)
            f"(SELECT relay_language_id, language_id FROM {table} WHERE {relay} "
            "ORDER BY 1, 2 LIMIT 1) UNION ALL "
            "SELECT n.r, n.l FROM pairs p CROSS JOIN LATERAL ("
            f"SELECT relay_language_id AS r, language_id AS l FROM {table} WHERE {relay} "
            "AND (relay_language_id, language_id) > (p.r, p.l) ORDER BY 1, 2 LIMIT 1) n) "
            "SELECT l, r FROM pairs"
        )
        return sorted(cursor.fetchall())


def _other_cells() -> list[tuple]:
    """(other languages key, language, case type, detained, court, remote, relay or '') of
    every cell holding a case with other languages that is not closed, or more: on PostgreSQL
    the rows of cases_other_language_cell (migration cases/0014: a superset, kept by trigger in
    the transaction that changes the case, so this snapshot's open cases are all covered)."""
    if connection.vendor != "postgresql":
        return [
            (others, language, case_type, detained, court, remote, relay or "")
            for language, others, relay, case_type, detained, court, remote in _open_cases_orm(
                others=True
            )
            if others
        ]
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT other_languages_key, language_id, case_type_id, detained, court_id, "
            "remote_ok, relay FROM cases_other_language_cell"
        )
        return cursor.fetchall()


# The expressions of case_cell_priority_idx (cases/models.py) and case_other_cell_priority_idx
# (migration cases/0014), as Django writes them; "" is the relay key of a case without a relay
# (an equality, so the index gives its rows in order).
_RELAY_KEY = "COALESCE(CASE WHEN x.relay_interpreter_ok THEN x.relay_language_id ELSE NULL END, '')"
_ORDER = "GREATEST(x.priority, 0) DESC, x.id"


def _read_probes(
    probes: Probes,
    *,
    others: bool,
    limit: int,
    chosen: list[int] | None = None,
    submit: Submit | None = None,
) -> list[tuple[int, int, int]] | None:
    """(case pk, priority, probe) of the best K open cases of each probe (of ``chosen`` ones
    when given); None past ``limit``. ``others``: whether other languages count (then a probe
    reads the cases whose other languages are its ``others``; else every case of its place).
    With ``submit`` (beside.py) the two halves of the probes without other languages
    (halves_of) are read on two other connections in this one's snapshot while this one reads
    the rest."""
    chosen = list(range(len(probes))) if chosen is None else chosen
    if not chosen:
        return []
    if connection.vendor != "postgresql":
        rows = _read_probes_orm(probes, chosen, others, limit)
    elif submit is not None:
        plain = [n for n in chosen if not probes.others[n]]
        halves = [
            submit(partial(_read_beside, probes, half, others=others, limit=limit))
            for half in halves_of(plain)
        ]
        rest = [n for n in chosen if probes.others[n]]
        rows = _read_probes_postgresql(probes, rest, others=others, limit=limit)
        for half in halves:
            rows += half.result()
    else:
        plain = [n for n in chosen if not probes.others[n]]
        rows = _read_probes_postgresql(probes, plain, others=others, limit=limit)
        if len(rows) < limit:
            rest = [n for n in chosen if probes.others[n]]
            rows += _read_probes_postgresql(probes, rest, others=others, limit=limit - len(rows))
    return None if len(rows) >= limit else rows


# Probes from which the first read runs on three connections: below, a read takes a few
# milliseconds, less than opening two connections (one verification reaches ~5k places at 1M,
# a batch of 300 ~49k).
BESIDE_PROBES = 20_000


def halves_of(plain: list[int]) -> tuple[list[int], list[int]]:
    """The probes read on the two other connections: every other one, in order. The probes come
    in language order and a read's work is the matched cases it walks past, most of them in the
    backlog's languages: split in the middle, a 300-verification batch at 1M read those in one
    half (backend CPU 0.61-0.76 s against 0.22-0.26 s), interleaved 0.38-0.50 s each."""
    return plain[0::2], plain[1::2]


def _read_beside(probes: Probes, chosen: list[int], *, others: bool, limit: int) -> list:
    """_read_probes_postgresql on a connection of beside.py's, without JIT (see _read_base)."""
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL jit = off")
    return _read_probes_postgresql(probes, chosen, others=others, limit=limit)


def _read_probes_postgresql(probes: Probes, chosen: list[int], *, others: bool, limit: int) -> list:
    """One LATERAL query for the probes ``chosen``: per probe, an index range read in order
    until K open cases (the matched ones met on the way are skipped by status). Probes with
    other languages go through case_other_cell_priority_idx, the others through
    case_cell_priority_idx (only the cases without other languages when they count).

    The probes go as arrays of numbers: each string once in ``words``, a probe naming its
    strings by their place there (psycopg quotes a list of strings element by element in
    Python, 1.0 s of a 300-verification batch's 48k probes)."""
    if not chosen:
        return []
    table = CaseRequest._meta.db_table
    with_others = bool(probes.others[chosen[0]])
    if with_others:
        which = "AND x.other_languages_key = v.w[p.others] AND x.other_languages_key <> '' "
    elif others:
        which = "AND COALESCE(x.other_languages_key, '') = '' "  # NULL: written before 0014
    else:
        which = ""

    def column(name: str) -> list:
        values = getattr(probes, name)
        return [values[n] if name != "relay" else values[n] or "" for n in chosen]

    words = sorted({word for name in _WORDS for word in column(name)})
    place = {word: at for at, word in enumerate(words, start=1)}
    coded = [pg_array([place[word] for word in column(name)]) for name in _WORDS]
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.id, c.priority, p.n FROM (SELECT %s::text[] AS w) v CROSS JOIN unnest("  # noqa: S608 (constants only)
            "%s::int[], %s::int[], %s::int[], %s::int[], %s::bool[], %s::bigint[], %s::bool[], "
            "%s::int[], %s::int[]) AS p(language, others, relay, case_type, detained, court, "
            f"remote, k, n) CROSS JOIN LATERAL (SELECT x.id, x.priority FROM {table} x "
            "WHERE x.language_id = v.w[p.language] AND x.case_type_id = v.w[p.case_type] "
            "AND x.detained = p.detained AND x.court_id = p.court AND x.remote_ok = p.remote "
            f"AND {_RELAY_KEY} = v.w[p.relay] {which}AND x.closed_at IS NULL "
            f"AND x.status = %s ORDER BY {_ORDER} LIMIT p.k) c LIMIT %s",
            [
                words, *coded, pg_array(column("detained")), pg_array(column("court")),
                pg_array(column("remote")), pg_array(column("k")), pg_array(chosen),
                CaseRequest.Status.OPEN, limit,
            ],
        )  # fmt: skip
        return cursor.fetchall()


# The string columns of a probe, in the query's order.
_WORDS = ("language", "others", "relay", "case_type")


def _open_cases_orm(*, others: bool) -> dict[tuple, list[tuple[int, int]]]:
    """The embedded set-up's path (small worlds): every open case by its probe key (_KEY
    order, relay None for none), as (pk, priority) in the solver's order."""
    spoken: dict[int, list[str]] = {}
    if others:
        links = CaseRequest.other_languages.through.objects.filter(
            caserequest__status=CaseRequest.Status.OPEN
        )
        for case, code in links.values_list("caserequest_id", "language_id"):
            spoken.setdefault(case, []).append(code)
    by_key: dict[tuple, list[tuple[int, int]]] = {}
    rows = CaseRequest.objects.filter(status=CaseRequest.Status.OPEN).values_list(
        "pk", "priority", "language_id", "relay_interpreter_ok", "relay_language_id",
        "case_type_id", "detained", "court_id", "remote_ok",
    )  # fmt: skip
    for pk, priority, language, relay_ok, relay, case_type, detained, court, remote in rows:
        codes = ",".join(other_languages_key(language, spoken.get(pk, ())))
        key = (language, codes, relay if relay_ok else None, case_type, detained, court, remote)
        by_key.setdefault(key, []).append((pk, priority))
    for cases in by_key.values():
        cases.sort(key=lambda row: (-max(row[1], 0), row[0]))
    return by_key


def _read_probes_orm(probes: Probes, chosen: list[int], others: bool, limit: int) -> list:
    by_key = _open_cases_orm(others=others)
    rows: list = []
    for n in chosen:
        cases = by_key.get(probes.key(n), [])
        rows += [(pk, priority, n) for pk, priority in cases[: probes.k[n]]]
        if len(rows) >= limit:
            break
    return rows


def _cells(
    probes: Probes, rows: IntArray, known: dict | None = None
) -> tuple[list, IntArray, IntArray, IntArray]:
    """Cells as the full load builds them (cells_of_keys, from the probes' keys), cases by pk,
    from the rows read ((case pk, priority, probe) each). ``known`` keeps the cells of the
    probes that read something from one round to the next (deeper reads leave that set of
    probes as it was)."""
    known = {} if known is None else known
    used, case_probe = np.unique(rows[:, 2], return_inverse=True)
    if "used" not in known or not np.array_equal(known["used"], used):
        keys: list[tuple] = [
            (probes.language[n], tuple(probes.others[n].split(",")) if probes.others[n] else (),
             probes.relay[n], probes.court[n], probes.case_type[n], probes.detained[n],
             probes.remote[n])
            for n in used.tolist()
        ]  # fmt: skip
        cells, probe_cell = cells_of_keys(keys)
        known.update(used=used, cells=cells, probe_cell=probe_cell)
    cells, probe_cell = known["cells"], known["probe_cell"]
    order = np.argsort(rows[:, 0], kind="stable")
    return cells, rows[order, 0], probe_cell[case_probe][order], rows[order, 1]
