"""Load open cases and available attorneys as arrays, score them, and build the solver's instance.

ARCHITECTURE.md, matching pipeline, steps 1-3. Nothing here builds a model instance: attorneys,
their languages and practice areas come from ``values_list``; open cases, the big table, come
from one packed binary value on PostgreSQL (three integers a row, parsed by numpy) and from
``values_list`` elsewhere. Everything is read in one REPEATABLE READ snapshot on PostgreSQL, so
cells, cases and exclusions agree with each other.

Scoring (matching/pipeline/score.py) never loops over attorney x cell in Python: dense
attorney x language and attorney x case-type matrices, one attorney x court distance matrix,
sparse joins and 2-D numpy blocks. Remote-only pairs become hubs (matching/solver/hubs.py).
"""

import datetime
from dataclasses import dataclass, field
from time import perf_counter
from typing import Any

import numpy as np
from django.conf import settings
from django.db import connection, transaction
from django.db.models import F, Q
from django.utils import timezone
from numpy.typing import NDArray

from cases.models import CaseRequest, CaseType, ImmigrationCourt, Language
from matching.models import Match
from matching.pipeline.score import Arcs, Attorneys, score_arcs_and_hubs
from matching.scoring import (
    AttorneyFacts,
    CellFacts,
    distance_matrix_miles,
    other_languages_key,
)
from matching.solver import Hubs, Instance
from volunteers.models import AttorneyLanguage, AttorneyProfile, PracticeArea

IntArray = NDArray[np.int64]

CHUNK = 20_000


# ---------------------------------------------------------------------------------------------
# Ids in the solver's format. Zero-padded so that sorting the strings (the solver's canonical
# order) keeps primary-key order; a cell's id is its key, so it is the same in every run.


def attorney_id(pk: int) -> str:
    return f"a{pk:09d}"


def case_id(pk: int) -> str:
    return f"c{pk:011d}"


def cell_id(cell: CellFacts) -> str:
    """``k.<language>[+<other>...].<relay>.<court>.<case type>.<detained><remote>``: a cell without
    other languages keeps the id it had before they counted."""
    flags = f"{int(cell.detained)}{int(cell.remote_ok)}"
    spoken = "+".join((cell.language, *cell.other_languages))
    return f"k.{spoken}.{cell.relay_language or ''}.{cell.court_id}.{cell.case_type}.{flags}"


def pk_of(solver_id: str) -> int:
    return int(solver_id[1:])


# ---------------------------------------------------------------------------------------------
# The loaded problem


@dataclass(eq=False, slots=True)
class Problem:
    """What a run solves, plus what it needs to write and explain the proposals."""

    instance: Instance
    attorneys: Attorneys
    cells: list[CellFacts]  # by cell position
    cell_position: dict[str, int]  # solver cell id -> position in ``cells``
    case_pk: IntArray  # ascending
    case_cell: IntArray  # cell position of each case
    miles: NDArray[np.float64]  # attorney x court distance matrix
    court_position: dict[int, int]  # court pk -> column of ``miles``
    hubs: Hubs  # cells by position in ``instance``
    stats: dict[str, Any] = field(default_factory=dict)
    _facts: dict[int, AttorneyFacts] = field(default_factory=dict)
    _by_attorney: dict[str, dict[int, dict[str, int]]] = field(default_factory=dict)

    def attorney_facts(self, position: int) -> AttorneyFacts:
        """The scorer's view of one attorney, built on first use: a run explains the pairs it
        writes, a fraction of the attorneys loaded."""
        facts = self._facts.get(position)
        if facts is None:
            facts = self._facts[position] = self._build_facts(position)
        return facts

    def _build_facts(self, i: int) -> AttorneyFacts:
        if not self._by_attorney:
            for key, rows in (("languages", self.attorneys.languages),
                              ("areas", self.attorneys.practice_areas)):  # fmt: skip
                grouped: dict[int, dict[str, int]] = {}
                for position, code, value in rows:
                    grouped.setdefault(position, {})[code] = value
                self._by_attorney[key] = grouped
        a = self.attorneys
        return AttorneyFacts(
            id=int(a.pk[i]),
            languages=self._by_attorney["languages"].get(i, {}),
            practice_areas=self._by_attorney["areas"].get(i, {}),
            years_experience=int(a.years[i]),
            latitude=float(a.latitude[i]),
            longitude=float(a.longitude[i]),
            travel_radius_miles=int(a.radius[i]),
            remote_ok=bool(a.remote_ok[i]),
            verified=True,
            available=True,
            free_capacity=int(a.free[i]),
        )

    def pair_miles(self, attorney: int, cell: CellFacts) -> float:
        return float(self.miles[attorney, self.court_position[cell.court_id]])


# ---------------------------------------------------------------------------------------------
# Loading


def load_problem(
    *, today: datetime.date | None = None, fast: bool | None = None, timings: dict | None = None
) -> Problem:
    """Load, score and build the instance. ``fast`` forces (or refuses) the PostgreSQL packed path.

    1. In one snapshot: attorneys, their skills, courts, open cases (grouped into cells) and the
       (case, attorney) pairs that already have a match row of any status.
    2. Score all eligible attorney-cell arcs (:func:`score_arcs`).
    3. Build the solver's instance with stable ids.
    """
    today = today or timezone.localdate()  # the program's date (TIME_ZONE), like paused_until
    postgres = connection.vendor == "postgresql"
    fast = postgres if fast is None else fast
    timings = {} if timings is None else timings
    started = perf_counter()
    outermost = not connection.in_atomic_block
    with transaction.atomic():
        if postgres and outermost:
            # Cells, cases and exclusions come from several queries: make them agree.
            with connection.cursor() as cursor:
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        attorneys = _load_attorneys(today)
        courts = list(
            ImmigrationCourt.objects.order_by("pk").values_list("pk", "latitude", "longitude")
        )
        cells, case_pk, case_cell, priority = _load_cases_packed() if fast else _load_cases_orm()
        excluded = list(
            Match.objects.filter(case__status=CaseRequest.Status.OPEN)
            .values_list("attorney_id", "case_id")
            .iterator(chunk_size=CHUNK)
        )
    timings["load"] = perf_counter() - started

    started = perf_counter()
    court_position = {pk: i for i, (pk, _, _) in enumerate(courts)}
    miles = distance_matrix_miles(
        attorneys.latitude,
        attorneys.longitude,
        np.array([float(lat) for _, lat, _ in courts]),
        np.array([float(lon) for _, _, lon in courts]),
    )
    split = _split_excluded(cells, attorneys.pk, case_pk, case_cell, excluded)
    arcs, hubs = score_arcs_and_hubs(
        attorneys, split.cells, miles, court_position, split.hub_member
    )
    arcs = _drop_excluded(arcs, split, len(split.cells))
    timings["score"] = perf_counter() - started

    started = perf_counter()
    instance = _build(attorneys, split, case_pk, priority, arcs)
    timings["build"] = perf_counter() - started
    return Problem(
        instance=instance,
        attorneys=attorneys,
        cells=split.cells,
        cell_position={cid: k for k, cid in enumerate(split.cell_ids)},
        case_pk=case_pk,
        case_cell=split.case_cell,
        miles=miles,
        court_position=court_position,
        hubs=_hubs_by_instance_position(hubs, instance, split.cell_ids),
    )


def _available_attorneys(today: datetime.date):
    # Serves from volunteers' attorney_available_idx (verified, below capacity).
    return AttorneyProfile.objects.filter(
        Q(paused_until__isnull=True) | Q(paused_until__lte=today),
        verification=AttorneyProfile.Verification.VERIFIED,
        active_cases__lt=F("capacity"),
    )


def _load_attorneys(today: datetime.date) -> Attorneys:
    available = _available_attorneys(today)
    rows = list(
        available.order_by("pk")
        .values_list(
            "pk",
            "latitude",
            "longitude",
            "travel_radius_miles",
            "remote_ok",
            "years_experience",
            "capacity",
            "active_cases",
        )
        .iterator(chunk_size=CHUNK)
    )
    columns = list(zip(*rows, strict=True)) if rows else [()] * 8
    pk = np.array(columns[0], dtype=np.int64)
    position = {p: i for i, p in enumerate(pk.tolist())}
    ids = available.values("pk")
    languages = [
        (position[a], code, level)
        for a, code, level in AttorneyLanguage.objects.filter(attorney__in=ids)
        .values_list("attorney_id", "language_id", "proficiency")
        .iterator(chunk_size=CHUNK)
        if a in position
    ]
    areas = [
        (position[a], code, handled)
        for a, code, handled in PracticeArea.objects.filter(attorney__in=ids)
        .values_list("attorney_id", "case_type_id", "cases_handled")
        .iterator(chunk_size=CHUNK)
        if a in position
    ]
    return Attorneys(
        pk=pk,
        latitude=np.array([float(v) for v in columns[1]], dtype=np.float64),
        longitude=np.array([float(v) for v in columns[2]], dtype=np.float64),
        radius=np.array(columns[3], dtype=np.int64),
        remote_ok=np.array(columns[4], dtype=bool),
        years=np.array(columns[5], dtype=np.int64),
        free=np.array(columns[6], dtype=np.int64) - np.array(columns[7], dtype=np.int64),
        languages=languages,
        practice_areas=areas,
    )


def _cell_facts(key: tuple, courts: dict[int, tuple[float, float]]) -> CellFacts:
    language, others, relay, court, case_type, detained, remote_ok = key
    latitude, longitude = courts[court]
    return CellFacts(
        language=language,
        other_languages=others,
        relay_language=relay,
        case_type=case_type,
        court_id=court,
        court_latitude=latitude,
        court_longitude=longitude,
        detained=bool(detained),
        remote_ok=bool(remote_ok),
    )


def _court_coordinates() -> dict[int, tuple[float, float]]:
    return {
        pk: (float(lat), float(lon))
        for pk, lat, lon in ImmigrationCourt.objects.values_list("pk", "latitude", "longitude")
    }


def _load_cases_packed() -> tuple[list[CellFacts], IntArray, IntArray, IntArray]:
    """Open cases as three packed binary columns (id, priority, cell key), 8 bytes each per case,
    and their other languages as numbered sets.

    The cell key is one integer computed by PostgreSQL from small-integer codes of the language,
    relay language and case type (hash joins with the tiny reference tables) and the court,
    detained and remote flags. Other languages are a set per case, too many combinations for
    fixed-width codes: a second query aggregates the M2M table per case (``array_agg``) and
    numbers the distinct sets (``dense_rank``), returning (case id, set number) packed and the
    sets once; numpy places them by case id. Kept out of the big query: a join there costs it
    its parallel scan. numpy's unique then numbers the (key, set) pairs and
    :func:`_merge_equal_cells` the cells. No sort and no Python object per case.
    """
    if (ImmigrationCourt.objects.order_by("-pk").values_list("pk", flat=True).first() or 0) >= (
        _COURT_KEYS
    ):
        return _load_cases_orm()  # ids too large to pack; never with real reference data
    cases = CaseRequest._meta.db_table
    languages, case_types = Language._meta.db_table, CaseType._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT code FROM {languages} ORDER BY code")  # noqa: S608
        language_codes = [row[0] for row in cursor.fetchall()]
        cursor.execute(f"SELECT code FROM {case_types} ORDER BY code")  # noqa: S608
        type_codes = [row[0] for row in cursor.fetchall()]
        cursor.execute(
            "SELECT string_agg(int8send(x.id), ''::bytea), "  # noqa: S608 (constants only)
            "string_agg(int8send(x.priority::int8), ''::bytea), "
            "string_agg(int8send(((((l.n * %(nl)s + COALESCE(r.n, 0)) * %(nt)s + t.n) "
            "* %(courts)s + x.court_id) * 2 + x.detained::int) * 2 + x.remote_ok::int), ''::bytea) "
            f"FROM {cases} x "
            f"JOIN (SELECT code, row_number() OVER (ORDER BY code) AS n FROM {languages}) l "
            "ON l.code = x.language_id "
            f"LEFT JOIN (SELECT code, row_number() OVER (ORDER BY code) AS n FROM {languages}) r "
            "ON x.relay_interpreter_ok AND r.code = x.relay_language_id "
            f"JOIN (SELECT code, row_number() OVER (ORDER BY code) - 1 AS n FROM {case_types}) t "
            "ON t.code = x.case_type_id "
            "WHERE x.status = 'open'",
            {"nl": len(language_codes) + 1, "nt": len(type_codes), "courts": _COURT_KEYS},
        )
        packed = cursor.fetchone()
        spoken_ids, spoken_sets, sets = (
            _other_language_sets(cursor) if other_languages_matched() else _NO_OTHER_LANGUAGES
        )
    ids, priorities, keys = (
        np.frombuffer(bytes(column or b""), dtype=">i8").astype(np.int64) for column in packed
    )
    order = np.argsort(ids, kind="stable")
    ids = ids[order]
    spoken = np.zeros(len(ids), dtype=np.int64)
    at = np.minimum(np.searchsorted(ids, spoken_ids), max(len(ids) - 1, 0))
    found = (at < len(ids)) & (ids[at] == spoken_ids) if len(ids) else np.zeros(0, dtype=bool)
    spoken[at[found]] = spoken_sets[found]
    unique_keys, case_cell = _cells_of(keys[order], spoken, len(sets))
    courts = _court_coordinates()
    cells = [
        _cell_facts(_decode(key, sets[other], language_codes, type_codes), courts)
        for key, other in unique_keys.tolist()
    ]
    cells, case_cell = _merge_equal_cells(cells, case_cell)
    return cells, ids, case_cell, priorities[order]


def other_languages_matched() -> bool:
    """Whether a case's other languages count as direct routes (MATCHING_OTHER_LANGUAGES).

    Off by default for now: with them, the realistic backlog has 20% more cells and 56% more
    arcs, and a 1,000,000-case run takes 21 s instead of 17.5 s, over its 20 s budget. Off, a
    case is matched in its main language and through its relay, as before.
    """
    return settings.MATCHING_OTHER_LANGUAGES


_NO_OTHER_LANGUAGES = (np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64), [()])


def _other_language_sets(cursor) -> tuple[IntArray, IntArray, list[tuple[str, ...]]]:
    """(case id, set number) of every case with other languages, and the sets by number (0 is
    the empty set). All cases, not only open ones: filtering would scan the big table, and the
    caller keeps only the ids it loaded."""
    other = CaseRequest.other_languages.through._meta.db_table
    cursor.execute(
        "WITH spoken AS (SELECT caserequest_id AS id, "  # noqa: S608 (constants only)
        "array_agg(language_id ORDER BY language_id) AS codes "
        f"FROM {other} GROUP BY caserequest_id), "
        "sets AS (SELECT id, codes, dense_rank() OVER (ORDER BY codes) AS n FROM spoken) "
        "SELECT string_agg(int8send(id), ''::bytea), string_agg(int8send(n), ''::bytea), "
        "(SELECT array_agg(d.codes ORDER BY d.n) FROM "
        "(SELECT DISTINCT n, array_to_string(codes, ' ') AS codes FROM sets) d) "
        "FROM sets"
    )
    ids, numbers, codes = cursor.fetchone()
    ids, numbers = (
        np.frombuffer(bytes(column or b""), dtype=">i8").astype(np.int64)
        for column in (ids, numbers)
    )
    return ids, numbers, [(), *(tuple(text.split(" ")) for text in codes or ())]


def _merge_equal_cells(
    cells: list[CellFacts], case_cell: IntArray
) -> tuple[list[CellFacts], IntArray]:
    """One cell per distinct CellFacts. Keys that differ only in what CellFacts normalises away
    (the main language among the other languages, a relay to a language the person speaks)
    describe one cell: the database keys the raw columns, CellFacts decides what is equal."""
    index: dict[CellFacts, int] = {}
    into = np.array([index.setdefault(cell, len(index)) for cell in cells], dtype=np.int64)
    return list(index), into[case_cell] if len(case_cell) else case_cell


def _cells_of(keys: IntArray, sets: IntArray, n_sets: int) -> tuple[NDArray, IntArray]:
    """Distinct (key, other-languages set) pairs as rows, and each case's row. One unique over
    ``key * n_sets + set`` when that fits in an int64 (it does for any real reference data),
    else numbered through the distinct keys first."""
    if not len(keys) or int(keys.max()) < np.iinfo(np.int64).max // n_sets:
        unique, case_cell = np.unique(keys * n_sets + sets, return_inverse=True)
        return np.column_stack([unique // n_sets, unique % n_sets]), case_cell.astype(np.int64)
    unique_keys, key_cell = np.unique(keys, return_inverse=True)
    unique_pairs, case_cell = np.unique(key_cell * n_sets + sets, return_inverse=True)
    pairs = np.column_stack([unique_keys[unique_pairs // n_sets], unique_pairs % n_sets])
    return pairs, case_cell.astype(np.int64)


# Court ids must stay below this for the packed cell key (a few hundred courts exist).
_COURT_KEYS = 1 << 20


def _decode(
    key: int, others: tuple[str, ...], languages: list[str], case_types: list[str]
) -> tuple:
    key, remote_ok = divmod(key, 2)
    key, detained = divmod(key, 2)
    key, court = divmod(key, _COURT_KEYS)
    key, case_type = divmod(key, len(case_types))
    language, relay = divmod(key, len(languages) + 1)
    return (
        languages[language - 1],
        others,
        languages[relay - 1] if relay else None,
        court,
        case_types[case_type],
        bool(detained),
        bool(remote_ok),
    )


def _load_cases_orm() -> tuple[list[CellFacts], IntArray, IntArray, IntArray]:
    spoken = _other_languages_orm() if other_languages_matched() else {}
    rows = (
        CaseRequest.objects.filter(status=CaseRequest.Status.OPEN)
        .order_by("pk")
        .values_list(
            "pk",
            "priority",
            "language_id",
            "relay_interpreter_ok",
            "relay_language_id",
            "court_id",
            "case_type_id",
            "detained",
            "remote_ok",
        )
        .iterator(chunk_size=CHUNK)
    )
    index: dict[tuple, int] = {}
    pks, priorities, case_cell = [], [], []
    for pk, priority, language, relay_ok, relay, court, case_type, detained, remote in rows:
        # Normalised here only to keep the dict small; CellFacts and the merge decide equality.
        others = other_languages_key(language, spoken.get(pk, ()))
        key = (language, others, relay if relay_ok else None, court, case_type, detained, remote)
        pks.append(pk)
        priorities.append(priority)
        case_cell.append(index.setdefault(key, len(index)))
    courts = _court_coordinates()
    cells, cell_of_case = _merge_equal_cells(
        [_cell_facts(key, courts) for key in index], np.array(case_cell, dtype=np.int64)
    )
    return (
        cells,
        np.array(pks, dtype=np.int64),
        cell_of_case,
        np.array(priorities, dtype=np.int64),
    )


def _other_languages_orm() -> dict[int, list[str]]:
    """Other languages of every open case, in one query, grouped by case."""
    spoken: dict[int, list[str]] = {}
    rows = (
        CaseRequest.other_languages.through.objects.filter(
            caserequest__status=CaseRequest.Status.OPEN
        )
        .values_list("caserequest_id", "language_id")
        .iterator(chunk_size=CHUNK)
    )
    for case, code in rows:
        spoken.setdefault(case, []).append(code)
    return spoken


# ---------------------------------------------------------------------------------------------
# The instance


@dataclass(eq=False, slots=True)
class _Split:
    """Cells after giving every case with a binding exclusion a cell of its own."""

    cells: list[CellFacts]
    cell_ids: list[str]
    case_cell: IntArray
    hub_member: NDArray[np.bool_]
    excluded_attorney: IntArray  # positions
    excluded_case: IntArray  # positions


def _split_excluded(
    cells: list[CellFacts],
    attorney_pk: IntArray,
    case_pk: IntArray,
    case_cell: IntArray,
    excluded: list[tuple[int, int]],
) -> _Split:
    """A declined (or otherwise ended) pair must never be proposed again, but the rest of its
    cell may: so its case moves to a cell of its own (same facts, id suffixed with the case),
    which takes no part in hubs and whose arcs leave the excluded attorneys out. Exclusions
    naming an attorney or case outside the load are dropped: they cannot bind."""
    pairs = np.array(excluded, dtype=np.int64).reshape(-1, 2)
    ex_attorney = _positions(attorney_pk, pairs[:, 0])
    ex_case = _positions(case_pk, pairs[:, 1])
    known = (ex_attorney >= 0) & (ex_case >= 0)
    ex_attorney, ex_case = ex_attorney[known], ex_case[known]
    cells, cell_ids = list(cells), [cell_id(c) for c in cells]
    case_cell = case_cell.copy()
    for position in np.unique(ex_case).tolist():
        facts = cells[case_cell[position]]
        case_cell[position] = len(cells)
        cells.append(facts)
        cell_ids.append(f"{cell_id(facts)}.x{int(case_pk[position])}")
    hub_member = np.arange(len(cells)) < len(cell_ids) - len(np.unique(ex_case))
    return _Split(cells, cell_ids, case_cell, hub_member, ex_attorney, ex_case)


def _drop_excluded(arcs: Arcs, split: _Split, n_cells: int) -> Arcs:
    if not len(split.excluded_attorney):
        return arcs
    banned = split.excluded_attorney * n_cells + split.case_cell[split.excluded_case]
    keep = ~np.isin(arcs.attorney * n_cells + arcs.cell, banned)
    return Arcs(arcs.attorney[keep], arcs.cell[keep], arcs.affinity[keep])


def _build(
    attorneys: Attorneys, split: _Split, case_pk: IntArray, priority: IntArray, arcs: Arcs
) -> Instance:
    """The solver's instance; the exclusions are passed too, though no arc can make them."""
    instance = Instance.from_arrays(
        attorney_ids=[attorney_id(pk) for pk in attorneys.pk.tolist()],
        capacity=attorneys.free,
        cell_ids=split.cell_ids,
        case_ids=[case_id(pk) for pk in case_pk.tolist()],
        case_cell=split.case_cell,
        # Stored priority is meant to be >= 0; a negative one must not make a pair score <= 0.
        priority=np.maximum(priority, 0),
        arc_attorney=arcs.attorney,
        arc_cell=arcs.cell,
        affinity=arcs.affinity,
        excluded_attorney=split.excluded_attorney,
        excluded_case=split.excluded_case,
    )
    return instance


def _hubs_by_instance_position(hubs: Hubs, instance: Instance, cell_ids: list[str]) -> Hubs:
    ids = np.empty(len(cell_ids), dtype=object)
    ids[:] = cell_ids
    position = np.searchsorted(instance.cell_ids, ids)
    cells = position[hubs.cell]
    hub_of = np.repeat(np.arange(hubs.n_hubs), np.diff(hubs.cell_start))
    order = np.lexsort((cells, hub_of))
    return Hubs(hubs.cell_start, cells[order], hubs.arc_attorney, hubs.arc_hub, hubs.affinity)


def _positions(sorted_pks: IntArray, pks: IntArray) -> IntArray:
    """Position of each pk in an ascending array, or -1 when absent."""
    if not len(sorted_pks):
        return np.full(len(pks), -1, dtype=np.int64)
    at = np.minimum(np.searchsorted(sorted_pks, pks), len(sorted_pks) - 1)
    return np.where(sorted_pks[at] == pks, at, -1).astype(np.int64)
