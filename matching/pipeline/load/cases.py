"""Open cases grouped into cells: packed binary columns on PostgreSQL, ``values_list`` elsewhere.

Both loaders return (cells, case primary keys ascending, each case's cell, priorities) and agree
cell for cell (tests/matching/test_runs.py).
"""

from collections.abc import Callable
from functools import lru_cache, partial

import numpy as np
from django.conf import settings
from django.db import connection
from numpy.typing import NDArray

from cases.models import CaseRequest, CaseType, ImmigrationCourt, Language
from matching.pipeline.load.beside import Submit
from matching.pipeline.load.problem import CHUNK, IntArray
from matching.scoring import CellFacts, other_languages_key
from matching.solver.arrays import unique_ints


def _cell_facts(key: tuple, courts: dict[int, tuple[float, float]]) -> CellFacts:
    return _cell_at(key, *courts[key[3]])


# A worker's runs meet the same cells again and again (a small run after a verification reads
# ~16k of them at 1M cases, a full run all ~39k): making each CellFacts again (a frozen
# dataclass, normalised on construction) took ~0.13 s of CPU of a 300-verification small run
# of ~0.9 s. A CellFacts is a value of its key and its court's coordinates, so a cell made once
# serves every later run of the process; the bound keeps a backlog's cells with room to spare.
@lru_cache(maxsize=1 << 17)
def _cell_at(key: tuple, latitude: float, longitude: float) -> CellFacts:
    language, others, relay, court, case_type, detained, remote_ok = key
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


type Cases = tuple[list[CellFacts], IntArray, IntArray, IntArray]

# Parts of the case table read at once by start_cases_packed when given other connections: one
# per core of the machine this was measured on (two), with this connection's own reads beside.
PARTS = 2


def load_cases_packed() -> Cases:
    """Open cases as two packed binary columns ((id, priority), cell key), 8 bytes each per
    case, and their other languages as numbered sets. Priorities below 0 come as 0 (as
    build_instance counts them): id and priority share an int64, one aggregate fewer.

    The cell key is one integer computed by PostgreSQL from small-integer codes of the language,
    relay language and case type (hash joins with the tiny reference tables) and the court,
    detained and remote flags. Other languages are a set per case, too many combinations for
    fixed-width codes: a second query aggregates the M2M table per case (``array_agg``) and
    numbers the distinct sets (``dense_rank``), returning (case id, set number) packed and the
    sets once; numpy places them by case id. Kept out of the big query: a join there costs it
    its parallel scan. numpy's unique then numbers the (key, set) pairs and
    :func:`_merge_equal_cells` the cells. No sort and no Python object per case.
    """
    return start_cases_packed()()


def start_cases_packed(submit: Submit | None = None) -> Callable[[], Cases]:
    """:func:`load_cases_packed` in two steps, so the caller can read something else between
    them: this one reads the reference codes and starts the big aggregate, the callable it
    returns reads the other languages, waits for the aggregate and decodes.

    With ``submit`` (beside.py: a connection of its own per read, in this one's snapshot) the
    table is read as PARTS ranges of its pages, each on its own connection, so PostgreSQL's
    work spreads over the cores (PostgreSQL 15 cannot run ``string_agg`` in parallel itself);
    without, in one query here.
    """
    if _largest_pk(ImmigrationCourt) >= _COURT_KEYS or _largest_pk(CaseRequest) >= _CASE_KEYS:
        return load_cases_orm  # ids too large to pack; never with real data
    languages, case_types = Language._meta.db_table, CaseType._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT code FROM {languages} ORDER BY code")  # noqa: S608
        language_codes = [row[0] for row in cursor.fetchall()]
        cursor.execute(f"SELECT code FROM {case_types} ORDER BY code")  # noqa: S608
        type_codes = [row[0] for row in cursor.fetchall()]
    sizes = {"nl": len(language_codes) + 1, "nt": len(type_codes), "courts": _COURT_KEYS}
    if submit is None:
        columns = _packed_cases(sizes, pages=None)
        parts: list[Callable[[], tuple[IntArray, IntArray]]] = [lambda: columns]
    else:
        parts = [
            submit(partial(_packed_cases, sizes, pages=pages)).result
            for pages in _page_ranges(PARTS)
        ]

    def finish() -> Cases:
        with connection.cursor() as cursor:
            other_sets = (
                _other_language_sets(cursor) if other_languages_matched() else _NO_OTHER_LANGUAGES
            )
        read = [part() for part in parts]
        cases_, keys = (np.concatenate([columns[k] for columns in read]) for k in (0, 1))
        return _decoded_cases(cases_, keys, other_sets, language_codes, type_codes)

    return finish


def _packed_cases(
    sizes: dict, *, pages: tuple[int, int | None] | None
) -> tuple[IntArray, IntArray]:
    """The two packed columns of the open cases (load_cases_packed), of the table's pages
    ``[first, stop)`` (``stop`` None: to the end) or of all of it, as int64 arrays."""
    cases, languages = CaseRequest._meta.db_table, Language._meta.db_table
    case_types = CaseType._meta.db_table
    within = ""
    if pages is not None:  # a TID range scan (PostgreSQL 14) reads only these pages
        first, stop = pages
        within = " AND x.ctid >= %(first)s::tid"
        sizes = {**sizes, "first": f"({first},0)"}
        if stop is not None:
            within += " AND x.ctid < %(stop)s::tid"
            sizes["stop"] = f"({stop},0)"
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT string_agg(int8send((x.id << 31) | GREATEST(x.priority, 0)), ''::bytea), "  # noqa: S608 (constants only)
            "string_agg(int8send(((((l.n * %(nl)s + COALESCE(r.n, 0)) * %(nt)s + t.n) "
            "* %(courts)s + x.court_id) * 2 + x.detained::int) * 2 + x.remote_ok::int), ''::bytea) "
            f"FROM {cases} x "
            f"JOIN (SELECT code, row_number() OVER (ORDER BY code) AS n FROM {languages}) l "
            "ON l.code = x.language_id "
            f"LEFT JOIN (SELECT code, row_number() OVER (ORDER BY code) AS n FROM {languages}) r "
            "ON x.relay_interpreter_ok AND r.code = x.relay_language_id "
            f"JOIN (SELECT code, row_number() OVER (ORDER BY code) - 1 AS n FROM {case_types}) t "
            "ON t.code = x.case_type_id "
            f"WHERE x.status = 'open'{within}",
            sizes,
        )
        packed = cursor.fetchone()
    cases_, keys = (
        np.frombuffer(bytes(column or b""), dtype=">i8").astype(np.int64) for column in packed
    )
    return cases_, keys


def _page_ranges(parts: int) -> list[tuple[int, int | None]]:
    """``parts`` ranges of the case table's pages, ``[first, stop)``, the last open-ended (the
    table may have grown since its size was read; every row lies in exactly one range)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_relation_size(%s) / current_setting('block_size')::int",
            [CaseRequest._meta.db_table],
        )
        pages = cursor.fetchone()[0]
    bounds = [pages * k // parts for k in range(parts)]
    return [(first, stop) for first, stop in zip(bounds, [*bounds[1:], None], strict=True)]


def _decoded_cases(
    cases_: IntArray,
    keys: IntArray,
    other_sets: "OtherSets",
    language_codes: list[str],
    type_codes: list[str],
) -> Cases:
    """The cells, case ids (ascending), each case's cell and the priorities, from the packed
    columns (in any order) and the other-language sets."""
    spoken_ids, spoken_sets, sets = other_sets
    ids, priorities = cases_ >> 31, cases_ & (2**31 - 1)
    if len(ids) > 1 and not (ids[1:] > ids[:-1]).all():  # usually in heap order, by id
        order = np.argsort(ids, kind="stable")
        ids, keys, priorities = ids[order], keys[order], priorities[order]
    case_set = np.zeros(len(ids), dtype=np.int64)
    at = np.minimum(np.searchsorted(ids, spoken_ids), max(len(ids) - 1, 0))
    found = (at < len(ids)) & (ids[at] == spoken_ids) if len(ids) else np.zeros(0, dtype=bool)
    case_set[at[found]] = spoken_sets[found]
    unique_keys, case_cell = _cells_of(keys, case_set, len(sets))
    courts = _court_coordinates()
    cells = [
        _cell_facts((language, sets[other], relay, court, case_type, detained, remote), courts)
        for language, relay, court, case_type, detained, remote, other in zip(
            *_decoded(unique_keys, language_codes, type_codes), strict=True
        )
    ]
    cells, case_cell = _merge_equal_cells(cells, case_cell)
    return cells, ids, case_cell, priorities


def other_languages_matched() -> bool:
    """Whether a case's other languages count as direct routes (MATCHING_OTHER_LANGUAGES).

    Off by default for now: with them, the realistic backlog has 20% more cells and 56% more
    arcs, and a 1,000,000-case run takes 21 s instead of 17.5 s, over its 20 s budget. Off, a
    case is matched in its main language and through its relay, as before.
    """
    return settings.MATCHING_OTHER_LANGUAGES


# (case id, set number) of the cases with other languages, and the sets by number.
type OtherSets = tuple[IntArray, IntArray, list[tuple[str, ...]]]
_NO_OTHER_LANGUAGES: OtherSets = (np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64), [()])


def _other_language_sets(cursor) -> OtherSets:
    """(case id, set number) of every case with other languages, and the sets by number (0 is
    the empty set). All cases, not only open ones: filtering would scan the big table, and the
    caller keeps only the ids it loaded."""
    other = CaseRequest.other_languages.through._meta.db_table
    # The few distinct sets are numbered, then joined back: ranking every case's set over a
    # sort of arrays cost a disk sort and 4x the time at 3.7M cases.
    cursor.execute(
        "WITH spoken AS (SELECT caserequest_id AS id, "  # noqa: S608 (constants only)
        "string_agg(language_id, ' ' ORDER BY language_id) AS codes "
        f"FROM {other} GROUP BY caserequest_id), "
        "sets AS (SELECT codes, row_number() OVER (ORDER BY codes) AS n "
        "FROM (SELECT DISTINCT codes FROM spoken) d) "
        "SELECT string_agg(int8send(s.id), ''::bytea), string_agg(int8send(t.n), ''::bytea), "
        "(SELECT array_agg(codes ORDER BY n) FROM sets) "
        "FROM spoken s JOIN sets t ON t.codes = s.codes"
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
        unique, case_cell = _unique_inverse(keys * n_sets + sets)
        return np.column_stack([unique // n_sets, unique % n_sets]), case_cell
    unique_keys, key_cell = _unique_inverse(keys)
    unique_pairs, case_cell = _unique_inverse(key_cell * n_sets + sets)
    pairs = np.column_stack([unique_keys[unique_pairs // n_sets], unique_pairs % n_sets])
    return pairs, case_cell


def _unique_inverse(values: IntArray) -> tuple[IntArray, IntArray]:
    """``np.unique(values, return_inverse=True)``, faster (numpy 2.5's unique hashes)."""
    unique = unique_ints(values)
    return unique, np.searchsorted(unique, values).astype(np.int64)


# Court ids must stay below this for the packed cell key (a few hundred courts exist), case
# ids below this to share an int64 with their priority (31 bits: an int4, negative ones as 0).
_COURT_KEYS = 1 << 20
_CASE_KEYS = 1 << 32


def _largest_pk(model) -> int:
    return model.objects.order_by("-pk").values_list("pk", flat=True).first() or 0


def _decoded(keys: NDArray, languages: list[str], case_types: list[str]) -> tuple[list, ...]:
    """The packed keys' rows (key, other-languages set) as columns: language, relay or None,
    court, case type, detained, remote, set number (the other languages are the caller's)."""
    key, other = keys[:, 0], keys[:, 1]
    key, remote_ok = np.divmod(key, 2)
    key, detained = np.divmod(key, 2)
    key, court = np.divmod(key, _COURT_KEYS)
    key, case_type = np.divmod(key, len(case_types))
    language, relay = np.divmod(key, len(languages) + 1)
    relays = [None, *languages]
    return (
        [languages[k - 1] for k in language.tolist()],
        [relays[k] for k in relay.tolist()],
        court.tolist(),
        [case_types[k] for k in case_type.tolist()],
        detained.astype(bool).tolist(),
        remote_ok.astype(bool).tolist(),
        other.tolist(),
    )


def load_cases_orm() -> tuple[list[CellFacts], IntArray, IntArray, IntArray]:
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
    pks, priorities, keys = [], [], []
    for pk, priority, language, relay_ok, relay, court, case_type, detained, remote in rows:
        # Normalised here only to keep the dict small; CellFacts and the merge decide equality.
        others = other_languages_key(language, spoken.get(pk, ()))
        pks.append(pk)
        priorities.append(priority)
        keys.append(
            (language, others, relay if relay_ok else None, court, case_type, detained, remote)
        )
    cells, cell_of_case = cells_of_keys(keys)
    return (
        cells,
        np.array(pks, dtype=np.int64),
        cell_of_case,
        np.array(priorities, dtype=np.int64),
    )


def cells_of_keys(keys: list[tuple]) -> tuple[list[CellFacts], IntArray]:
    """The cells of cases given by their keys (language, other languages, relay or None, court,
    case type, detained, remote), and each case's cell: numbered in order of appearance, then
    merged by CellFacts (:func:`_merge_equal_cells`)."""
    index: dict[tuple, int] = {}
    case_cell = np.array([index.setdefault(key, len(index)) for key in keys], dtype=np.int64)
    courts = _court_coordinates()
    return _merge_equal_cells([_cell_facts(key, courts) for key in index], case_cell)


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
