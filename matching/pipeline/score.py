"""Score every eligible attorney-cell pair without looping over attorney x cell in Python.

The numbers equal :func:`matching.scoring.affinity` and :func:`matching.scoring.eligibility`
exactly (tests/matching/test_runs.py checks every pair of a random world); remote-only pairs are
folded into hubs (see :meth:`Scoring.arcs_and_hubs`), which the solver's flow takes as they are
(matching/solver/hubs.py).

Why hubs leave the optimum unchanged. On the backlog's distributions most attorney-cell arcs are
remote-only: a remote-capable case, an attorney who accepts remote work, a court too far for
proximity points. Such a pair scores ``language + remote + experience`` whatever the court, so
one hub per (route language, via relay, case type) carries those pairs once: attorney -> hub at
that affinity, hub -> each of its cells at 0. (1) Every hub path joins an eligible pair at a
value no higher than the pair's true affinity; (2) every eligible pair has a path at exactly its
true affinity (:func:`_hubs` proves both). Cases with an exclusion sit in cells of their own
that join no hub. So any flow decomposes into allowed pairs whose true total is at least the
flow's value, and any assignment is a flow of exactly its value: the two optima coincide, and
the decomposed pairs score exactly their path values. tests/matching/test_runs.py checks this
against ``solver.solve`` on the materialised instance.
"""

import ctypes
import ctypes.util
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from itertools import pairwise

import numpy as np
from numpy.typing import NDArray

from matching.scoring import (
    AFFINITY_WEIGHTS,
    MAX_PROFICIENCY,
    MIN_PROFICIENCY,
    AffinityWeights,
    CellFacts,
)
from matching.solver import Hubs, ranges

IntArray = NDArray[np.int64]
# (attorney, cell, affinity) of some arcs
ArcPart = tuple[IntArray, IntArray, IntArray]


@dataclass(frozen=True, eq=False, slots=True)
class Attorneys:
    """Available attorneys in primary-key order, and their skills as rows sorted by attorney."""

    pk: IntArray
    latitude: NDArray[np.float64]
    longitude: NDArray[np.float64]
    radius: IntArray
    remote_ok: NDArray[np.bool_]
    years: IntArray
    free: IntArray
    # (attorney position, language code, proficiency) and (position, case type, cases handled)
    languages: list[tuple[int, str, int]]
    practice_areas: list[tuple[int, str, int]]
    # Preferences (issue 13), None = nobody has one: remote_preferred and detained_ok by
    # position, (position, case type) rows of preferred and excluded types.
    remote_preferred: NDArray[np.bool_] | None = None
    detained_ok: NDArray[np.bool_] | None = None
    preferred_types: list[tuple[int, str]] = dataclass_field(default_factory=list)
    excluded_types: list[tuple[int, str]] = dataclass_field(default_factory=list)
    # position -> (monthly offer cap, free capacity) of the attorneys whose room this run the cap
    # cut below their free capacity (``free`` holds what the cap left): the explanation says so.
    capped: dict[int, tuple[int, int]] = dataclass_field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.pk)

    def remote_points(self, weights: AffinityWeights) -> IntArray:
        """Each attorney's value of remote handling: the remote points, plus the bonus for those
        who prefer remote work (scoring._distance_points with its remote_bonus)."""
        points = np.full(len(self), weights.remote, dtype=np.int64)
        if self.remote_preferred is not None:
            points += self.remote_preferred.astype(np.int64) * weights.remote_preferred
        return points


@dataclass(frozen=True, eq=False, slots=True)
class Arcs:
    attorney: IntArray
    cell: IntArray
    affinity: IntArray

    def __len__(self) -> int:
        return len(self.attorney)


def score_arcs(
    attorneys: Attorneys,
    cells: list[CellFacts],
    miles: NDArray[np.float64],
    court_position: dict[int, int],
    weights: AffinityWeights = AFFINITY_WEIGHTS,
) -> Arcs:
    """Every eligible (attorney, cell) pair and its affinity, as scoring.py defines them."""
    no_hubs = np.zeros(len(cells), dtype=bool)
    arcs, _ = Scoring(attorneys, cells, miles, court_position, no_hubs, weights).arcs_and_hubs()
    return arcs


# Threads expanding the member arcs at once when the whole scoring is wanted (one per core of
# the machine this was measured on): numpy releases the GIL in the large array operations.
WORKERS = 2


class Scoring:
    """Scoring a step at a time: the arcs as parts (concatenated, they are
    its arcs), then the hubs. export_instance writes each part as it comes, the run joins them.
    """

    def __init__(
        self,
        attorneys: Attorneys,
        cells: list[CellFacts],
        miles: NDArray[np.float64],
        court_position: dict[int, int],
        hub_member: NDArray[np.bool_],
        weights: AffinityWeights = AFFINITY_WEIGHTS,
    ) -> None:
        self.attorneys, self.miles, self.weights = attorneys, miles, weights
        self.hub_member = hub_member
        self.routes = routes = _Routes.of(cells)
        self.skills = _Skills.of(attorneys, routes, sorted({c.case_type for c in cells}), weights)
        self.columns = _CellColumns.of(cells, self.skills.type_index, court_position)

    def arcs_and_hubs(self) -> tuple[Arcs, "Hubs"]:
        """Eligible (attorney, cell) arcs and their affinity, as scoring.py defines them, with the
        remote-only pairs of ``hub_member`` cells folded into hubs.

        1. Dense matrices: proficiency[attorney, language] (0 = does not speak it) and
           handled[attorney, case type] (-1 = not a practice area), over the codes cells use; and
           each cell's language routes as a row of :class:`_Routes` (main language, other
           languages, relay), in scoring._language_routes' order.
        2. For each (route language, case type) group of route entries (cell, column), the
           attorneys who speak the language and take the type, against the group's cells as one
           2-D block. A pair is kept only from the first route the attorney speaks (so it is made
           exactly once); its language points are the best over all of the cell's routes.
        3. Keep pairs within the travel radius, or remote-capable on both sides.
        4. Hubs: a pair that scores the fixed remote distance points (both sides remote-capable and
           the court farther than the remote points' equivalent) scores the same for every court.
           For hub-member cells such pairs become one attorney -> hub arc per (attorney, language
           route, case type) plus hub -> cell arcs, instead of one arc per court: on the backlog's
           distributions this removes over 80% of the arcs. See the module docstring and
           :func:`_hubs` for why the optimum is unchanged.
        """
        arcs = _concatenated(list(self.arc_parts(workers=WORKERS)))
        _release_freed_memory()  # the threads' parts, joined and freed
        return arcs, self.hubs()

    def arc_parts(self, *, part_pairs: int | None = None, workers: int = 1) -> Iterator[ArcPart]:
        """Steps 1-3: the member arcs (in parts of about ``part_pairs`` candidate pairs each, by
        attorney, when given: the peak memory of scoring is their expansion; else in
        ``workers`` parts expanded by as many threads at once), then the other cells' arcs a
        block at a time."""
        attorneys, skills, routes, columns = self.attorneys, self.skills, self.routes, self.columns
        if self.hub_member.any():
            member = (routes, columns.type, columns.court, columns.remote, self.hub_member)
            yield from _member_arcs(
                attorneys, skills, self.miles, self.weights, cells=member,
                part_pairs=part_pairs, workers=workers,
            )  # fmt: skip
        # Cells outside hubs (all of them when there are none) in dense blocks.
        entry_cell, entry_column = routes.entries(~self.hub_member)
        entry_lang = routes.lang[entry_cell, entry_column].astype(np.int64)
        for (lang, kind), (group, column) in _groups(
            entry_lang, columns.type[entry_cell], entry_cell, entry_column
        ).items():
            who = np.flatnonzero((skills.level[:, lang] > 0) & (skills.handled[:, kind] >= 0))
            if len(who):
                block = _Block(who=who, kind=kind, group=group, column=column)
                yield _block_arcs(
                    block, attorneys, skills, routes, columns, self.miles, self.weights
                )

    def hubs(self) -> Hubs:
        """Step 4."""
        remote, kind = self.columns.remote & self.hub_member, self.columns.type
        return _hubs(self.attorneys, self.skills, self.routes, kind, remote, weights=self.weights)


@dataclass(frozen=True, eq=False, slots=True)
class _Skills:
    """What attorneys bring, as dense matrices over the codes the cells use: proficiency
    ``level[attorney, language]`` (0 = does not speak it; the last column is the "no such
    route" padding), cases ``handled[attorney, case type]`` (-1 = not a practice area), and
    the years-of-practice points."""

    level: IntArray
    handled: IntArray
    years_points: IntArray
    type_index: dict[tuple[str, bool], int]
    remote_points: IntArray  # Attorneys.remote_points
    # Experience plus the preferred-type bonus, by attorney and kind (-1 where ``handled`` is).
    kind_points: IntArray

    @classmethod
    def of(
        cls,
        attorneys: Attorneys,
        routes: "_Routes",
        case_types: list[str],
        weights: AffinityWeights,
    ) -> "_Skills":
        """A *kind* is a (case type, detained) pair: every preference that rules a pair out
        (an excluded type, no detained cases) then reads as "does not take this kind", the
        test every arc and hub already makes, so hubs split by detained flag on their own."""
        lang_index = {code: i for i, code in enumerate(routes.languages)}
        type_number = {code: i for i, code in enumerate(case_types)}
        type_index = {
            (code, detained): 2 * i + detained
            for i, code in enumerate(case_types)
            for detained in (False, True)
        }
        n = len(attorneys)
        level = np.zeros((n, routes.pad + 1), dtype=np.int64)
        i, code, proficiency = _coded(attorneys.languages, lang_index)
        spoken = proficiency >= MIN_PROFICIENCY
        level[i[spoken], code[spoken]] = np.minimum(proficiency[spoken], MAX_PROFICIENCY)
        # A case type's two kinds (not detained, detained) are columns 2t and 2t + 1.
        handled = np.full((n, len(type_index)), -1, dtype=np.int64)
        i, code, cases = _coded(attorneys.practice_areas, type_number)
        handled[i, 2 * code] = handled[i, 2 * code + 1] = np.maximum(cases, 0)
        i, code, _ = _coded(attorneys.excluded_types, type_number)
        handled[i, 2 * code] = handled[i, 2 * code + 1] = -1
        if attorneys.detained_ok is not None:
            handled[~attorneys.detained_ok, 1::2] = -1
        years_points = np.minimum(weights.years_max, attorneys.years * weights.years_per_year)
        bonus = np.zeros(handled.shape, dtype=np.int64)
        i, code, _ = _coded(attorneys.preferred_types, type_number)
        bonus[i, 2 * code] = bonus[i, 2 * code + 1] = weights.preferred_type
        kind_points = np.where(
            handled >= 0,
            _experience_points(np.maximum(handled, 0), years_points[:, None], weights) + bonus,
            -1,
        )
        return cls(
            level, handled, years_points, type_index, attorneys.remote_points(weights), kind_points
        )


def _coded(rows: list[tuple], index: dict[str, int]) -> tuple[IntArray, IntArray, IntArray]:
    """Skill rows (position, code[, value]) as arrays (position, code's index, value; 1 when
    rows have none), leaving out codes ``index`` does not know (no cell uses them)."""
    if not rows:
        return tuple(np.zeros(0, dtype=np.int64) for _ in range(3))  # type: ignore[return-value]
    columns = list(zip(*rows, strict=True))
    code = np.array([index.get(c, -1) for c in columns[1]], dtype=np.int64)
    known = code >= 0
    position = np.array(columns[0], dtype=np.int64)[known]
    value = np.array(columns[2], dtype=np.int64)[known] if len(columns) > 2 else code[known] * 0 + 1
    return position, code[known], value


@dataclass(frozen=True, eq=False, slots=True)
class _CellColumns:
    """Each cell's case type (index), court (column of the distance matrix) and remote flag."""

    type: IntArray
    court: IntArray
    remote: NDArray[np.bool_]

    @classmethod
    def of(
        cls,
        cells: list[CellFacts],
        type_index: dict[tuple[str, bool], int],
        court_position: dict[int, int],
    ) -> "_CellColumns":
        return cls(
            type=np.array([type_index[c.case_type, c.detained] for c in cells], dtype=np.int64),
            court=np.array([court_position[c.court_id] for c in cells], dtype=np.int64),
            remote=np.array([c.remote_ok for c in cells], dtype=bool),
        )


@dataclass(frozen=True, eq=False, slots=True)
class _Block:
    """Attorneys ``who`` (speaking the group's route language, taking case type ``kind``)
    against the cells ``group``, entered through route ``column`` of each."""

    who: IntArray
    kind: int
    group: IntArray
    column: IntArray


def _block_arcs(
    block: _Block,
    attorneys: Attorneys,
    skills: _Skills,
    routes: "_Routes",
    columns: _CellColumns,
    miles: NDArray[np.float64],
    weights: AffinityWeights,
) -> tuple[IntArray, IntArray, IntArray]:
    """Steps 2-3 of :meth:`Scoring.arcs_and_hubs` for one (route language, case type) group, as
    one 2-D block: (attorney, cell, affinity) of every eligible pair made through this route."""
    who, group = block.who, block.group
    language_points, first = _route_points(
        skills.level,
        who[:, None],
        routes.lang[group][None],
        block.column[None],
        routes.relay_column,
        weights,
    )
    distance = miles[np.ix_(who, columns.court[group])]
    remote = attorneys.remote_ok[who][:, None] & columns.remote[group][None, :]
    ok = first & (remote | (distance <= attorneys.radius[who][:, None]))
    near = _proximity_points(distance, weights)
    remote_points = skills.remote_points[who][:, None]
    distance_points = np.where(remote & (remote_points > near), remote_points, near)
    experience = skills.kind_points[who, block.kind]  # with the preferred-type bonus
    total = language_points + distance_points + experience[:, None]
    rows, cols = np.nonzero(ok)
    return who[rows], group[cols], total[rows, cols]


def _proximity_points(distance: NDArray[np.float64], weights: AffinityWeights) -> IntArray:
    """scoring's distance points for the court at ``distance`` miles (not the remote points)."""
    half = weights.distance_half_miles
    near = np.floor(weights.distance_max * half / (half + np.maximum(0.0, distance)))
    return near.astype(np.int64)


def _experience_points(cases: IntArray, years_points: IntArray, weights: AffinityWeights):
    """scoring's experience points: cases handled of the type, plus years of practice."""
    return weights.experience_max * cases // (cases + weights.experience_half_cases) + years_points


def _concatenated(parts: list[tuple[IntArray, IntArray, IntArray]]) -> Arcs:
    """The parts as one set of arcs. Takes the list's parts out of it: each column's parts are
    freed once joined, so the join holds a third more than the arcs, not twice as much."""
    if not parts:
        empty = np.zeros(0, dtype=np.int64)
        return Arcs(empty, empty, empty)
    if len(parts) == 1:  # member arcs alone, as scored (sorted): no copy
        return Arcs(*parts.pop())
    columns: list = [list(column) for column in zip(*parts, strict=True)]
    parts.clear()
    for k, column in enumerate(columns):
        columns[k] = np.concatenate(column)
        column.clear()
    return Arcs(attorney=columns[0], cell=columns[1], affinity=columns[2])


@dataclass(frozen=True, eq=False, slots=True)
class _Routes:
    """Every cell's language routes, as scoring._language_routes lists them: row k holds cell
    k's main language (column 0), its other languages (columns 1 …), padding, and its relay
    language in the last column. Padding and "no relay" are ``pad``, a language nobody speaks.
    """

    languages: list[str]  # codes by index
    # cells x columns of language indices; int32: gathered per candidate pair x column in
    # _member_arcs, tens of millions of rows at backlog scale
    lang: NDArray[np.int32]
    pad: int

    @classmethod
    def of(cls, cells: list[CellFacts]) -> "_Routes":
        # CellFacts normalises its languages: no direct language is listed twice.
        direct = [(c.language, *c.other_languages) for c in cells]
        relays = {c.relay_language for c in cells if c.relay_language is not None}
        languages = sorted({code for codes in direct for code in codes} | relays)
        index = {code: i for i, code in enumerate(languages)}
        pad = len(languages)
        width = max((len(codes) for codes in direct), default=1) + 1
        lang = np.full((len(cells), width), pad, dtype=np.int32)
        for k, (codes, cell) in enumerate(zip(direct, cells, strict=True)):
            lang[k, : len(codes)] = [index[code] for code in codes]
            if cell.relay_language is not None:
                lang[k, -1] = index[cell.relay_language]
        return cls(languages=languages, lang=lang, pad=pad)

    @property
    def relay_column(self) -> int:
        return self.lang.shape[1] - 1

    def entries(self, among: NDArray[np.bool_]) -> tuple[IntArray, IntArray]:
        """(cell, column) of every real route of the cells in ``among``, by cell then column."""
        cell, column = np.nonzero((self.lang != self.pad) & among[:, None])
        return cell.astype(np.int64), column.astype(np.int64)


def _route_points(
    level: IntArray,
    attorney: IntArray,
    lang: NDArray[np.int32],
    column: IntArray,
    relay_column: int,
    weights: AffinityWeights,
) -> tuple[IntArray, NDArray[np.bool_]]:
    """For pairs (broadcast): the language points of the best route, as scoring's
    _best_language_route, and whether route ``column`` is the first one the attorney speaks.

    ``lang`` holds each pair's cell routes along its last axis. One pass per route column
    (a handful), each vectorised over all pairs; columns no pair uses are skipped.
    """
    best = np.zeros(np.broadcast_shapes(attorney.shape, lang.shape[:-1]), dtype=np.int64)
    spoken_before = np.zeros(best.shape, dtype=bool)
    pad = level.shape[1] - 1
    for q in range(lang.shape[-1]):
        route = lang[..., q]
        if (route == pad).all():
            continue
        proficiency = level[attorney, route]
        points = weights.language_per_level * proficiency
        if q == relay_column:
            points = points * weights.relay_percent // 100
        np.maximum(best, points, out=best)
        spoken_before |= (proficiency > 0) & (q < column)
    return best, ~spoken_before


def _member_arcs(
    attorneys: Attorneys,
    skills: _Skills,
    miles: NDArray[np.float64],
    weights: AffinityWeights,
    *,
    cells: tuple,
    part_pairs: int | None = None,
    workers: int = 1,
) -> Iterator[ArcPart]:
    """Direct arcs into hub-member cells, by sparse joins instead of dense blocks, sorted by
    (attorney, cell): in one part, or (``part_pairs``) in parts of whole attorneys with about
    that many candidate pairs each, or (``workers`` > 1, without ``part_pairs``) in that many
    such parts, expanded by as many threads at once.

    (Cells outside hubs, and every cell when there are none, are scored by dense blocks per
    (route language, case type) group in :meth:`Scoring.arcs_and_hubs`.)

    Into such a cell, a direct arc is needed only where proximity points count: within the
    attorney's radius, or within the distance at which proximity still beats the remote points
    (hubs carry the rest). So:

    1. (attorney, court) pairs within that reach, joined with the attorney's (language, case
       type) pairs: queries (attorney, language, type, court), each scored once (distance,
       proximity and experience points).
    2. The cells' route entries, direct routes and relay routes apart, each in one index sorted
       by (court, route language, case type, remote). A query takes the cells it is eligible
       for as one slice: the non-remote ones when the court is within its radius; the remote
       ones when it is within its radius and the attorney does not work remotely, or when
       proximity beats the attorney's remote value (otherwise the hub carries the pair).
    3. Eligibility does not depend on the route, so a pair is found once through each route of
       the cell that the attorney speaks: it keeps the best of their points (scoring's best
       route; a route not spoken scores nothing), once.
    """
    routes, c_type, c_court, c_remote, member = cells
    q_attorney, q_lang, q_type, q_court = _queries(attorneys, skills, miles, weights)
    distance = miles[q_attorney, q_court]
    near = _proximity_points(distance, weights)
    within = distance <= attorneys.radius[q_attorney]
    # An attorney who prefers remote work values it more: hubs cover more of their pairs.
    remote_wanted = np.where(
        attorneys.remote_ok[q_attorney], skills.remote_points[q_attorney] <= near, within
    )
    # Never the remote points: those pairs are the hubs'.
    base = near + skills.kind_points[q_attorney, q_type]
    language = weights.language_per_level * skills.level[q_attorney, q_lang]
    n_lang, n_type = skills.level.shape[1], skills.handled.shape[1]
    key = ((q_court * n_lang + q_lang) * n_type + q_type) * 2
    entry_cell, entry_column = routes.entries(member)
    code = (c_court[entry_cell] * n_lang + routes.lang[entry_cell, entry_column]) * n_type
    code = (code + c_type[entry_cell]) * 2 + c_remote[entry_cell]
    parts = []  # per kind of route: (its entries' cells sorted by code, slices, values)
    for relay in (False, True):
        use = (entry_column == routes.relay_column) == relay
        order = np.argsort(code[use], kind="stable")
        sorted_code = code[use][order]
        middle = np.searchsorted(sorted_code, key + 1)
        start = np.where(within, np.searchsorted(sorted_code, key), middle)
        stop = np.where(remote_wanted, np.searchsorted(sorted_code, key + 2), middle)
        points = language * weights.relay_percent // 100 if relay else language
        parts.append((entry_cell[use][order].astype(np.int32), start, stop - start, base + points))
    # Pairs are sorted by (attorney, cell): parts of whole attorneys, in order, are the same.
    pairs = sum(count for _, _, count, _ in parts)

    def expanded(run: tuple[int, int]) -> ArcPart:
        a, b = run
        some = [(cell, start[a:b], count[a:b], value[a:b]) for cell, start, count, value in parts]
        return _best_per_pair(*_expanded(q_attorney[a:b], some), len(member))

    if part_pairs is not None or workers < 2:
        yield from map(expanded, _attorney_runs(q_attorney, pairs, part_pairs))
        return
    runs = _attorney_runs(q_attorney, pairs, -(-int(np.sum(pairs)) // workers) or None)
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="score") as pool:
        yield from pool.map(expanded, runs)


def _release_freed_memory() -> None:
    """Give back to the OS what the expansion threads allocated and the run freed. glibc keeps
    it in the threads' own arenas, where the rest of the run never reuses it: 350 MB of a 1M
    run's RSS after scoring (900 MB instead of 550). Elsewhere (no ``malloc_trim``) there is
    nothing to do."""
    try:
        trim = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6").malloc_trim
    except (OSError, AttributeError):
        return
    trim(0)


def _attorney_runs(
    q_attorney: IntArray, pairs: IntArray, part_pairs: int | None
) -> list[tuple[int, int]]:
    """Ranges of queries (sorted by attorney) that hold whole attorneys and about ``part_pairs``
    of ``pairs`` (each query's) each; one range if ``part_pairs`` is None."""
    n = len(q_attorney)
    if part_pairs is None or not n:
        return [(0, n)]
    starts = np.flatnonzero(q_attorney[1:] != q_attorney[:-1]) + 1  # an attorney's first query
    before = np.cumsum(pairs)[starts - 1]  # the pairs of the queries before it
    at = np.searchsorted(before, np.arange(part_pairs, int(pairs.sum()), part_pairs))
    cuts = [0, *np.unique(starts[at[at < len(starts)]]).tolist(), n]
    return list(pairwise(cuts))


def _expanded(q_attorney: IntArray, parts: list) -> tuple[NDArray, NDArray, NDArray]:
    """(attorney, cell, value) of every pair found, narrow (memory is the limit at scale)."""
    n = sum(int(count.sum()) for _, _, count, _ in parts)
    wide = max((int(np.abs(value).max(initial=0)) for *_, value in parts), default=0) >= 2**31
    attorney = np.empty(n, dtype=np.int32)
    cell = np.empty(n, dtype=np.int32)
    value = np.empty(n, dtype=np.int64 if wide else np.int32)
    at = 0
    for cells, start, count, values in parts:
        end = at + int(count.sum())
        attorney[at:end] = np.repeat(q_attorney.astype(np.int32), count)
        cell[at:end] = cells[_slices(start, count)]
        value[at:end] = np.repeat(values, count)
        at = end
    return attorney, cell, value


def _slices(starts: IntArray, counts: IntArray) -> NDArray:
    """:func:`ranges` (``arange(s, s + n)`` for each (s, n), concatenated) in int32."""
    steps = np.arange(int(counts.sum()), dtype=np.int32)
    steps -= np.repeat((np.cumsum(counts) - counts - starts).astype(np.int32), counts)
    return steps


def _best_per_pair(
    attorney: NDArray, cell: NDArray, value: NDArray, n_cells: int
) -> tuple[IntArray, IntArray, IntArray]:
    """One (attorney, cell, value) per pair, with its best value, sorted by (attorney, cell).

    One in-place sort of (pair, value) packed into an int64 when both fit (they do for any
    real weights: values have about 10 bits), so a pair's best value is its last; else an
    argsort of the pairs and a maximum per pair."""
    n_cells = max(n_cells, 1)
    if not len(attorney):
        return tuple(np.zeros(0, dtype=np.int64) for _ in range(3))  # type: ignore[return-value]
    pairs = (int(attorney.max(initial=0)) + 1) * n_cells
    bits = int(value.max(initial=0)).bit_length()
    if int(value.min(initial=0)) < 0 or pairs.bit_length() + bits > 63:
        return _best_per_pair_by_argsort(attorney, cell, value, n_cells)
    key = attorney.astype(np.int64)
    key *= n_cells
    key += cell
    key <<= bits
    key |= value
    key.sort(kind="stable")  # timsort: scoring gives it runs sorted by attorney
    pair = key >> bits
    last = np.flatnonzero(np.append(pair[1:] != pair[:-1], True))
    best = key[last] & ((1 << bits) - 1)
    pair = pair[last]
    attorney = pair // n_cells
    return attorney, pair - attorney * n_cells, best


def _best_per_pair_by_argsort(
    attorney: NDArray, cell: NDArray, value: NDArray, n_cells: int
) -> tuple[IntArray, IntArray, IntArray]:
    key = attorney.astype(np.int64) * n_cells + cell
    order = np.argsort(key, kind="stable")
    key, value = key[order], value[order]
    del order  # a pair's worth of int64 fewer at scoring's peak (the run's, at 3.7M)
    empty = np.zeros(0, dtype=np.int64)
    head = np.flatnonzero(np.concatenate(([True], key[1:] != key[:-1]))) if len(key) else empty
    best = (np.maximum.reduceat(value, head) if len(head) else value).astype(np.int64)
    del value
    key = key[head]
    attorney = key // n_cells
    np.remainder(key, n_cells, out=key)  # the cell, in place: no temporaries at the peak
    return attorney, key, best


def _queries(
    attorneys: Attorneys, skills: _Skills, miles: NDArray[np.float64], weights: AffinityWeights
) -> tuple[IntArray, IntArray, IntArray, IntArray]:
    """(attorney, language, case type, court) of every attorney's languages x kinds x courts
    within reach (see :func:`_member_arcs`), sorted by attorney."""
    if weights.remote > 0:
        proximity_reach = weights.distance_max * weights.distance_half_miles / weights.remote
        proximity_reach -= weights.distance_half_miles
    else:
        proximity_reach = np.inf
    reach = np.maximum(attorneys.radius.astype(np.float64), proximity_reach + 1e-6)
    near_attorney, near_court = np.nonzero(miles <= reach[:, None])
    lt_attorney, lt_lang, lt_type = _skill_triples(skills, len(attorneys))
    i, j = _join(lt_attorney, near_attorney, len(attorneys))
    return lt_attorney[i], lt_lang[i], lt_type[i], near_court[j]


def _skill_triples(skills: _Skills, n: int) -> tuple[IntArray, IntArray, IntArray]:
    """(attorney, language, kind) of every language an attorney speaks and kind they take,
    sorted by attorney."""
    lang_attorney, lang = np.nonzero(skills.level[:, :-1] > 0)
    type_attorney, kind = np.nonzero(skills.handled >= 0)
    i, j = _join(lang_attorney, type_attorney, n)
    return lang_attorney[i], lang[i], kind[j]


def _join(left: IntArray, right: IntArray, n: int) -> tuple[IntArray, IntArray]:
    """Index pairs (i, j) with left[i] == right[j]; both arrays sorted ascending, values < n."""
    right_count = np.bincount(right, minlength=n)
    right_start = np.concatenate(([0], np.cumsum(right_count)))[:-1]
    per_left = right_count[left]
    return np.repeat(np.arange(len(left)), per_left), ranges(right_start[left], per_left)


def _hubs(
    attorneys: Attorneys,
    skills: _Skills,
    routes: _Routes,
    c_type: IntArray,
    member: NDArray[np.bool_],
    *,
    weights: AffinityWeights,
) -> Hubs:
    """One hub per (route language, via relay, case type) over remote-capable member cells.

    A cell joins the hub of every one of its routes: its main language's, each other
    language's (direct) and its relay language's. The module's argument still holds with several
    direct languages. (1) A hub path is an eligible pair at no more than its true affinity: the
    hub takes only cells that list its language as a route of its kind and have its case type
    and remote handling, and only attorneys who speak that language, take that type and accept
    remote work, so language, case type and distance (waived: remote on both sides) are all
    satisfied; its value, that one route's points plus the remote points, is at most the true
    affinity, which takes the best route and the better of proximity and remote. (2) Every
    eligible pair has a path at exactly its true affinity: a direct arc where proximity points
    win, else the hub of its best route (which exists, since the cell joins every route's hub),
    whose value is exactly the best route's points plus the remote points.
    """
    entry_cell, entry_column = routes.entries(member)
    via_relay = entry_column == routes.relay_column
    entry_lang = routes.lang[entry_cell, entry_column]
    # Direct hubs first, then relay hubs (language + pad codes a relay hub's language apart).
    hub_lang = entry_lang + via_relay * (routes.pad + 1)
    groups = _groups(hub_lang, c_type[entry_cell], entry_cell, entry_column)
    key = np.array(list(groups), dtype=np.int64).reshape(-1, 2)
    relay_route, lang = np.divmod(key[:, 0], routes.pad + 1)
    attorney, hub = _hub_attorneys(attorneys, skills, lang * skills.handled.shape[1] + key[:, 1])
    lang, kind, relay_route = lang[hub], key[hub, 1], relay_route[hub].astype(bool)
    points = weights.language_per_level * skills.level[attorney, lang]
    points[relay_route] = points[relay_route] * weights.relay_percent // 100
    empty = np.zeros(0, dtype=np.int64)
    return Hubs(
        cell_start=np.concatenate(([0], np.cumsum([len(g) for g, _ in groups.values()]))).astype(
            np.int64
        ),
        cell=np.concatenate([g for g, _ in groups.values()]) if groups else empty,
        arc_attorney=attorney,
        arc_hub=hub,
        affinity=points + skills.remote_points[attorney] + skills.kind_points[attorney, kind],
    )


def _hub_attorneys(
    attorneys: Attorneys, skills: _Skills, hub_key: IntArray
) -> tuple[IntArray, IntArray]:
    """(attorney, hub) of every attorney who accepts remote work and speaks the language and
    takes the kind of a hub, given as ``language * kinds + kind``: by hub, then attorney."""
    attorney, lang, kind = _skill_triples(skills, len(attorneys))
    remote = attorneys.remote_ok[attorney]
    attorney, key = attorney[remote], (lang * skills.handled.shape[1] + kind)[remote]
    order = np.argsort(key, kind="stable")  # by key, then attorney (as the triples come)
    key = key[order]
    start = np.searchsorted(key, hub_key)
    count = np.searchsorted(key, hub_key, side="right") - start
    hub = np.repeat(np.arange(len(hub_key), dtype=np.int64), count)
    return attorney[order][ranges(start, count)], hub


def _groups(
    lang: IntArray, kind: IntArray, cell: IntArray, column: IntArray
) -> dict[tuple[int, int], tuple[IntArray, IntArray]]:
    """Route entries (cell, column) grouped by (language, case type), in key order; within a
    group, by cell. One sort, no Python loop over entries."""
    order = np.lexsort((column, cell, kind, lang))
    lang, kind, cell, column = lang[order], kind[order], cell[order], column[order]
    bounds = np.flatnonzero((np.diff(lang) != 0) | (np.diff(kind) != 0)) + 1
    starts = np.concatenate(([0], bounds)).tolist() if len(lang) else []
    stops = [*starts[1:], len(lang)] if starts else []
    return {
        (int(lang[a]), int(kind[a])): (cell[a:b], column[a:b])
        for a, b in zip(starts, stops, strict=True)
    }
