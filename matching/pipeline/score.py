"""Score every eligible attorney-cell pair without looping over attorney x cell in Python.

The numbers equal :func:`matching.scoring.affinity` and :func:`matching.scoring.eligibility`
exactly (tests/matching/test_runs.py checks every pair of a random world); remote-only pairs are
folded into hubs (see :func:`score_arcs_and_hubs` and matching/pipeline/flow.py).
"""

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from matching.scoring import (
    AFFINITY_WEIGHTS,
    MAX_PROFICIENCY,
    MIN_PROFICIENCY,
    AffinityWeights,
    CellFacts,
)

IntArray = NDArray[np.int64]


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

    def __len__(self) -> int:
        return len(self.pk)


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
    arcs, _ = score_arcs_and_hubs(
        attorneys, cells, miles, court_position, np.zeros(len(cells), dtype=bool), weights
    )
    return arcs


def score_arcs_and_hubs(
    attorneys: Attorneys,
    cells: list[CellFacts],
    miles: NDArray[np.float64],
    court_position: dict[int, int],
    hub_member: NDArray[np.bool_],
    weights: AffinityWeights = AFFINITY_WEIGHTS,
) -> tuple[Arcs, "Hubs"]:
    """Eligible (attorney, cell) arcs and their affinity, as scoring.py defines them, with the
    remote-only pairs of ``hub_member`` cells folded into hubs.

    1. Dense matrices: proficiency[attorney, language] (0 = does not speak it) and
       handled[attorney, case type] (-1 = not a practice area), over the codes cells use.
    2. Direct route: for each (language, case type) group of cells, the attorneys who speak the
       language and take the type, against all the group's cells as one 2-D block; language
       points are the better of the direct and (where the cell allows one) the relay route.
    3. Relay route: the same per (relay language, case type) group, for attorneys who do not
       speak the client's language (those who do were scored in step 2).
    4. Keep pairs within the travel radius, or remote-capable on both sides.
    5. Hubs: a pair that scores the fixed remote distance points (both sides remote-capable and
       the court farther than the remote points' equivalent) scores the same for every court.
       For hub-member cells such pairs become one attorney -> hub arc per (attorney, language
       route, case type) plus hub -> cell arcs, instead of one arc per court: on the backlog's
       distributions this removes over 80% of the arcs. See matching/pipeline/flow.py for why
       the optimum is unchanged.
    """
    languages = sorted({c.language for c in cells} | {c.relay_language for c in cells} - {None})
    case_types = sorted({c.case_type for c in cells})
    lang_index = {code: i for i, code in enumerate(languages)}
    type_index = {code: i for i, code in enumerate(case_types)}
    n = len(attorneys)
    level = np.zeros((n, len(languages) + 1), dtype=np.int64)  # last column: "no relay"
    for i, code, proficiency in attorneys.languages:
        if code in lang_index and proficiency >= MIN_PROFICIENCY:
            level[i, lang_index[code]] = min(proficiency, MAX_PROFICIENCY)
    handled = np.full((n, len(case_types)), -1, dtype=np.int64)
    for i, code, cases in attorneys.practice_areas:
        if code in type_index:
            handled[i, type_index[code]] = max(0, cases)

    c_lang = np.array([lang_index[c.language] for c in cells], dtype=np.int64)
    c_relay = np.array(
        [lang_index[c.relay_language] if c.relay_language else len(languages) for c in cells],
        dtype=np.int64,
    )
    c_type = np.array([type_index[c.case_type] for c in cells], dtype=np.int64)
    c_court = np.array([court_position[c.court_id] for c in cells], dtype=np.int64)
    c_remote = np.array([c.remote_ok for c in cells], dtype=bool)
    years_points = np.minimum(weights.years_max, attorneys.years * weights.years_per_year)
    per_level, percent = weights.language_per_level, weights.relay_percent

    parts: list[tuple[IntArray, IntArray, IntArray]] = []
    if hub_member.any():
        parts.append(
            _member_arcs(
                attorneys, level, handled, years_points, miles, weights,
                cells=(c_lang, c_relay, c_type, c_court, c_remote, hub_member),
            )
        )  # fmt: skip
    for relay_route in (False, True):
        # Cells outside hubs (all of them when there are none) in dense blocks.
        group_lang = np.where(hub_member, len(languages), c_relay if relay_route else c_lang)
        for (lang, kind), group in _groups(group_lang, c_type, skip=len(languages)).items():
            speaks = level[:, lang] > 0
            who = np.flatnonzero(speaks & (handled[:, kind] >= 0))
            if not len(who):
                continue
            direct = per_level * level[np.ix_(who, c_lang[group])]
            relay = per_level * level[np.ix_(who, c_relay[group])] * percent // 100
            if relay_route:
                ok = direct == 0  # who speaks the client's language was scored directly
                language_points = relay
            else:
                ok = np.ones(direct.shape, dtype=bool)
                language_points = np.maximum(direct, relay)
            distance = miles[np.ix_(who, c_court[group])]
            remote = attorneys.remote_ok[who][:, None] & c_remote[group][None, :]
            ok &= remote | (distance <= attorneys.radius[who][:, None])
            half = weights.distance_half_miles
            near = np.floor(weights.distance_max * half / (half + np.maximum(0.0, distance)))
            near = near.astype(np.int64)
            distance_points = np.where(remote & (weights.remote > near), weights.remote, near)
            cases = handled[who, kind]
            experience = (
                weights.experience_max * cases // (cases + weights.experience_half_cases)
                + years_points[who]
            )
            total = language_points + distance_points + experience[:, None]
            covered = remote & (weights.remote > near) & hub_member[group][None, :]
            rows, columns = np.nonzero(ok & ~covered)
            parts.append((who[rows], group[columns], total[rows, columns]))
    hubs = _hubs(
        attorneys, level, handled, years_points, c_lang, c_relay, c_type,
        c_remote & hub_member, skip=len(languages), weights=weights,
    )  # fmt: skip
    if not parts:
        empty = np.zeros(0, dtype=np.int64)
        return Arcs(empty, empty, empty), hubs
    attorney, cell, affinity = (np.concatenate(p) for p in zip(*parts, strict=True))
    return Arcs(attorney=attorney, cell=cell, affinity=affinity), hubs


def _member_arcs(
    attorneys: Attorneys,
    level: IntArray,
    handled: IntArray,
    years_points: IntArray,
    miles: NDArray[np.float64],
    weights: AffinityWeights,
    *,
    cells: tuple,
) -> tuple[IntArray, IntArray, IntArray]:
    """Direct arcs into hub-member cells, by sparse joins instead of dense blocks.

    (Cells outside hubs, and every cell when there are none, are scored by dense blocks per
    (language, case type) group in :func:`score_arcs_and_hubs`.)

    Into such a cell, a direct arc is needed only where proximity points count: within the
    attorney's radius, or within the distance at which proximity still beats the remote points
    (hubs carry the rest). So: (attorney, court) pairs within that reach, joined with the
    attorney's (language, case type) pairs, looked up in the cells indexed by (court, language,
    case type) for the direct route and (court, relay language, case type) for the relay route.
    """
    c_lang, c_relay, c_type, c_court, c_remote, member = cells
    n_lang, n_type = level.shape[1], handled.shape[1]
    if weights.remote > 0:
        proximity_reach = weights.distance_max * weights.distance_half_miles / weights.remote
        proximity_reach -= weights.distance_half_miles
    else:
        proximity_reach = np.inf
    reach = np.maximum(attorneys.radius.astype(np.float64), proximity_reach + 1e-6)
    near_attorney, near_court = np.nonzero(miles <= reach[:, None])
    lang_attorney, lang = np.nonzero(level[:, : n_lang - 1] > 0)
    type_attorney, kind = np.nonzero(handled >= 0)
    # (attorney, language, type), then x (attorney, court): all sorted by attorney.
    i, j = _join(lang_attorney, type_attorney, len(attorneys))
    lt_attorney, lt_lang, lt_type = lang_attorney[i], lang[i], kind[j]
    i, j = _join(lt_attorney, near_attorney, len(attorneys))
    q_attorney, q_lang, q_type, q_court = lt_attorney[i], lt_lang[i], lt_type[i], near_court[j]

    found_attorney, found_cell = [], []
    member_cells = np.flatnonzero(member)
    for route_lang in (c_lang, c_relay):
        code = (c_court[member_cells] * n_lang + route_lang[member_cells]) * n_type
        code = code + c_type[member_cells]
        order = np.argsort(code, kind="stable")
        sorted_code, sorted_cell = code[order], member_cells[order]
        wanted = (q_court * n_lang + q_lang) * n_type + q_type
        start = np.searchsorted(sorted_code, wanted, side="left")
        count = np.searchsorted(sorted_code, wanted, side="right") - start
        found_attorney.append(np.repeat(q_attorney, count))
        found_cell.append(sorted_cell[_ranges(start, count)])
    direct_attorney, direct_cell = found_attorney[0], found_cell[0]
    relay_attorney, relay_cell = found_attorney[1], found_cell[1]
    # Relay route only for who does not speak the client's language (else scored directly).
    keep = level[relay_attorney, c_lang[relay_cell]] == 0
    attorney = np.concatenate([direct_attorney, relay_attorney[keep]])
    cell = np.concatenate([direct_cell, relay_cell[keep]])

    per_level, percent = weights.language_per_level, weights.relay_percent
    direct = per_level * level[attorney, c_lang[cell]]
    relay = per_level * level[attorney, c_relay[cell]] * percent // 100
    language_points = np.maximum(direct, relay)
    distance = miles[attorney, c_court[cell]]
    remote = attorneys.remote_ok[attorney] & c_remote[cell]
    half = weights.distance_half_miles
    near = np.floor(weights.distance_max * half / (half + np.maximum(0.0, distance)))
    near = near.astype(np.int64)
    covered = remote & (weights.remote > near)
    ok = (remote | (distance <= attorneys.radius[attorney])) & ~covered
    distance_points = near  # never the remote points: those pairs are covered
    cases = handled[attorney, c_type[cell]]
    experience = (
        weights.experience_max * cases // (cases + weights.experience_half_cases)
        + years_points[attorney]
    )
    total = language_points + distance_points + experience
    return attorney[ok], cell[ok], total[ok]


def _join(left: IntArray, right: IntArray, n: int) -> tuple[IntArray, IntArray]:
    """Index pairs (i, j) with left[i] == right[j]; both arrays sorted ascending, values < n."""
    right_count = np.bincount(right, minlength=n)
    right_start = np.concatenate(([0], np.cumsum(right_count)))[:-1]
    per_left = right_count[left]
    return np.repeat(np.arange(len(left)), per_left), _ranges(right_start[left], per_left)


def _ranges(starts: IntArray, lengths: IntArray) -> IntArray:
    lengths = lengths.astype(np.int64)
    offsets = np.cumsum(lengths) - lengths
    steps = np.arange(int(lengths.sum()), dtype=np.int64) - np.repeat(offsets, lengths)
    return np.repeat(starts.astype(np.int64), lengths) + steps


@dataclass(frozen=True, eq=False, slots=True)
class Hubs:
    """Remote-only access: hub h reaches cells ``cell[cell_start[h]:cell_start[h + 1]]``, and
    arc i lets attorney ``arc_attorney[i]`` into hub ``arc_hub[i]`` at ``affinity[i]``."""

    cell_start: IntArray
    cell: IntArray
    arc_attorney: IntArray
    arc_hub: IntArray
    affinity: IntArray

    @property
    def n_hubs(self) -> int:
        return len(self.cell_start) - 1


def _hubs(
    attorneys: Attorneys,
    level: IntArray,
    handled: IntArray,
    years_points: IntArray,
    c_lang: IntArray,
    c_relay: IntArray,
    c_type: IntArray,
    member: NDArray[np.bool_],
    *,
    skip: int,
    weights: AffinityWeights,
) -> Hubs:
    """One hub per (route language, via relay, case type) over remote-capable member cells."""
    cells, starts, arcs = [], [0], []
    remote_ok = attorneys.remote_ok
    for relay_route in (False, True):
        group_lang = np.where(member, c_relay if relay_route else c_lang, skip)
        for (lang, kind), group in _groups(group_lang, c_type, skip=skip).items():
            who = np.flatnonzero(remote_ok & (level[:, lang] > 0) & (handled[:, kind] >= 0))
            hub = len(starts) - 1
            cells.append(group)
            starts.append(starts[-1] + len(group))
            points = weights.language_per_level * level[who, lang]
            if relay_route:
                points = points * weights.relay_percent // 100
            cases = handled[who, kind]
            experience = weights.experience_max * cases // (cases + weights.experience_half_cases)
            alpha = points + weights.remote + experience + years_points[who]
            arcs.append((who, np.full(len(who), hub, dtype=np.int64), alpha))
    empty = np.zeros(0, dtype=np.int64)
    attorney, hub, affinity = (
        (np.concatenate(p) for p in zip(*arcs, strict=True)) if arcs else (empty, empty, empty)
    )
    return Hubs(
        cell_start=np.array(starts, dtype=np.int64),
        cell=np.concatenate(cells) if cells else empty,
        arc_attorney=attorney,
        arc_hub=hub,
        affinity=affinity,
    )


def _groups(lang: IntArray, kind: IntArray, *, skip: int) -> dict[tuple[int, int], IntArray]:
    """Cell positions grouped by (language, case type), leaving out language ``skip``."""
    groups: dict[tuple[int, int], list[int]] = {}
    for k, (language, case_type) in enumerate(zip(lang.tolist(), kind.tolist(), strict=True)):
        if language != skip:
            groups.setdefault((language, case_type), []).append(k)
    return {key: np.array(cells, dtype=np.int64) for key, cells in sorted(groups.items())}
