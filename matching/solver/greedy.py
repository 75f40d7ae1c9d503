"""The greedy baseline: best pair first, to report the optimum against."""

import heapq
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from matching.solver.arrays import lexsort_ints
from matching.solver.cells import _cells_without_exclusions
from matching.solver.hubs import Hubs
from matching.solver.instance import Ids, Instance, IntArray
from matching.solver.solution import Solution, solution_of


def solve_greedy(instance: Instance) -> Solution:
    """Take allowed pairs best score first (ties by attorney id, then case id) while the case is
    free and the attorney has capacity. A baseline to report the optimum against.

    Without materialising attorney x case pairs:

    1. Split exclusions out (:func:`_cells_without_exclusions`), so an arc allows every case of
       its cell. All arcs of a cell then take its cases in the same order, so the taken cases
       form a prefix: the cell's best pair is (its best attorney with capacity left, its next
       free case). Attorneys only lose capacity, so both are pointers that only move forward.
    2. Heap the cells keyed by (-score, attorney, case id) of their best pair; popping merges
       the cells' pair sequences in global sorted order.
    3. A popped key may be stale (its attorney filled up in another cell); re-push the current
       key, which is never better. Otherwise take the pair and re-push the cell.
    """
    cells = _cells_without_exclusions(instance)
    order = lexsort_ints((cells.arc_attorney, -cells.affinity, cells.arc_cell))
    arc_attorney = cells.arc_attorney[order].tolist()
    affinity = cells.affinity[order].tolist()
    arc_start = np.searchsorted(cells.arc_cell[order], np.arange(cells.n_cells + 1)).tolist()
    case_start, case = cells.start.tolist(), cells.case.tolist()
    priority, case_ids = instance.priority.tolist(), instance.case_ids.tolist()
    remaining = instance.capacity.tolist()
    next_arc, next_case = arc_start[:-1], case_start[:-1]

    def best(cell: int) -> GreedyKey | None:
        while next_arc[cell] < arc_start[cell + 1] and not remaining[arc_attorney[next_arc[cell]]]:
            next_arc[cell] += 1
        if next_arc[cell] == arc_start[cell + 1] or next_case[cell] == case_start[cell + 1]:
            return None  # the cell is done: neither pointer ever moves back
        arc, c = next_arc[cell], case[next_case[cell]]
        return (-(affinity[arc] + priority[c]), arc_attorney[arc], case_ids[c], cell)

    def take(cell: int, attorney: int) -> int:
        taken_case: int = case[next_case[cell]]
        next_case[cell] += 1
        remaining[attorney] -= 1
        return taken_case

    taken = greedy_merge(cells.n_cells, best, take)
    attorney, case_taken, score = np.array(taken, dtype=np.int64).reshape(-1, 3).T
    return solution_of(instance, attorney, case_taken, score)


GreedyKey = tuple[int, int, str, int]  # (-score, attorney, case id, cell): heap order


def greedy_merge(
    n_cells: int,
    best: Callable[[int], GreedyKey | None],
    take: Callable[[int, int], int],
) -> list[tuple[int, int, int]]:
    """Merge the cells' best-pair sequences in global score order (steps 2-3 of
    :func:`solve_greedy`); shared with the run pipeline's hub greedy.

    `best(cell)` gives the key of the cell's current best pair or None when it is done;
    `take(cell, attorney)` records the pair, advances the cell and returns the case position.
    Returns (attorney, case position, score) triples in the order taken.
    """
    heap = [key for cell in range(n_cells) if (key := best(cell)) is not None]
    heapq.heapify(heap)
    taken: list[tuple[int, int, int]] = []
    while heap:
        popped = heapq.heappop(heap)
        cell = popped[3]
        current = best(cell)
        if current != popped:  # stale: the attorney filled up elsewhere; the new key is no better
            if current is not None:
                heapq.heappush(heap, current)
            continue
        taken.append((popped[1], take(cell, popped[1]), -popped[0]))
        if (key := best(cell)) is not None:
            heapq.heappush(heap, key)
    return taken


def greedy_with_hubs(instance: Instance, hubs: Hubs) -> Solution:
    """solver.solve_greedy's rule (best pair first; ties by attorney, then case id) over direct
    arcs and hubs, without materialising remote-only pairs (:func:`greedy_pairs`)."""
    return solution_of(instance, *greedy_pairs(instance, hubs))


def greedy_pairs(instance: Instance, hubs: Hubs) -> tuple[IntArray, IntArray, IntArray]:
    """The (attorney, case position, score) arrays of :func:`greedy_with_hubs`, in the order
    taken; the run's baseline needs only their sum and length.

    1. Runs: each cell's direct arcs and each hub's arcs, best first (:func:`_runs`; only
       their heads sorted up front, :func:`_tiered`). A cell merges its direct run with the
       runs of its hubs; a hub's pointer is shared by its cells, since pointers only ever
       skip attorneys who are full, for good. An attorney met twice in one cell (directly
       and through a hub) comes first at its higher, true affinity.
    2. A heap of cells keyed by one integer (:func:`_merge`): (-score, attorney, cell) packed,
       so most comparisons are one machine word. Ties on (score, attorney) are the same
       attorney in several cells at one score; the original rule takes the lowest case id
       first, so a tie is settled by comparing case ids then (rare), not by a rank of every
       case id (sorting a million strings costs more than the whole merge).
    3. A popped key is stale exactly when its attorney filled up since it was pushed (a
       cell's own pointers move only when it is popped): one lookup, not a recomputation.
    """
    return _merge(instance, hubs, _runs(instance, hubs))


@dataclass(frozen=True, slots=True)
class _Runs:
    """Attorney lists, best first. Run r is ``attorney[pointer[r]:end[r]]`` (with
    ``affinity``; its pointer is -1 once it is done), then, once those are used up, its tail
    ``tail_start[r]:tail_end[r]``: worse arcs, unsorted until needed (:func:`_tiered`). Runs
    0..n_cells-1 are the cells' direct arcs, then one per hub; ``cell_runs[k]`` lists the runs
    cell k merges."""

    attorney: NDArray[np.int32]
    affinity: NDArray[np.int32]
    pointer: list[int]
    end: list[int]
    tail_start: list[int]
    tail_end: list[int]
    cell_runs: list[tuple[int, ...]]


def _runs(instance: Instance, hubs: Hubs) -> _Runs:
    """The direct arcs grouped by cell, then the hub arcs by hub, as compact int32 arrays:
    tens of millions of arcs at backlog scale, in a forked child beside the solve, where every
    byte adds to the run's memory."""
    n_direct = instance.n_arcs
    attorney = np.empty(n_direct + len(hubs.arc_attorney), dtype=np.int32)
    affinity = np.empty(len(attorney), dtype=np.int32)
    cases = np.diff(instance.cell_start)
    direct = _tiered(
        (instance.arc_cell, instance.affinity, instance.arc_attorney),
        _HEAD_ARCS + _HEAD_ARCS_PER_CASE * cases,
        attorney[:n_direct],
        affinity[:n_direct],
    )
    hub_of_reach = np.repeat(np.arange(hubs.n_hubs), np.diff(hubs.cell_start))
    by_hub = _tiered(
        (hubs.arc_hub, hubs.affinity, hubs.arc_attorney),
        _HEAD_ARCS
        + _HEAD_ARCS_PER_CASE
        * np.bincount(hub_of_reach, weights=cases[hubs.cell], minlength=hubs.n_hubs).astype(
            np.int64
        ),
        attorney[n_direct:],
        affinity[n_direct:],
    )
    start, end, tail_start, tail_end = (
        np.concatenate((d, n_direct + h)) for d, h in zip(direct, by_hub, strict=True)
    )
    # A run's pointer, -1 once it is done. A group with arcs has some in its head (want > 0).
    pointer = np.where(end > start, start, -1)
    return _Runs(
        attorney,
        affinity,
        pointer.tolist(),
        end.tolist(),
        tail_start.tolist(),
        tail_end.tolist(),
        _cell_runs(instance, hubs, direct),
    )


def _cell_runs(
    instance: Instance, hubs: Hubs, direct: tuple[IntArray, ...]
) -> list[tuple[int, ...]]:
    """The runs each cell merges: its direct run and its hubs' (all of them: a run empty now
    is simply done at once)."""
    has_direct = (direct[1] > direct[0]).tolist()
    cell_runs: list[list[int]] = [[k] if has_direct[k] else [] for k in range(instance.n_cells)]
    for h, k in zip(*(a.tolist() for a in hubs.cell_arcs()), strict=True):
        cell_runs[k].append(instance.n_cells + h)
    return [tuple(runs) for runs in cell_runs]


# A run's sorted head holds at least this many arcs plus this many per case its cells hold
# (hubs: all their cells' cases); the rest waits, unsorted, until a cell reaches it.
_HEAD_ARCS = 16
_HEAD_ARCS_PER_CASE = 2
# Affinity buckets the heads are cut at (uint8).
_BUCKETS = 64


def _tiered(
    arcs: tuple[IntArray, IntArray, IntArray],
    want: IntArray,
    out_attorney: NDArray[np.int32],
    out_affinity: NDArray[np.int32],
) -> tuple[IntArray, IntArray, IntArray, IntArray]:
    """Fill ``out_*`` with each group's head, its best arcs sorted by (-affinity, attorney),
    then each group's tail, the rest in any order; return (start, end, tail_start, tail_end)
    of each group's head and tail.

    A run is mostly walked for nothing: ~90% of a million-case world's arcs lie past the last
    pair their cell takes, behind attorneys already full. So only about ``want`` arcs of each
    group (of ``arcs``, its (group, affinity, attorney)) are sorted here: whole affinity
    buckets, best first, until they hold ``want``, so every tail arc is worse than every head
    arc of its group. The merge sorts a tail only if it reaches it, and then only its
    attorneys with room (:func:`_advancer`).
    """
    group, affinity, attorney = arcs
    n_groups = len(want)
    if not len(group):
        nothing = np.zeros(n_groups, dtype=np.int64)
        return nothing, nothing, nothing, nothing
    head = _head(group, affinity, want)
    start = _sorted_head(
        group[head], affinity[head], attorney[head], n_groups, out_attorney, out_affinity
    )
    n_head = int(start[-1])
    tail_start = n_head + _grouped_tails(
        arcs, head, n_groups, out_attorney[n_head:], out_affinity[n_head:]
    )
    return start[:-1], start[1:], tail_start[:-1], tail_start[1:]


def _head(group: IntArray, affinity: IntArray, want: IntArray) -> NDArray[np.bool_]:
    """Which arcs are in their group's head: the best affinity buckets whose count reaches the
    group's ``want`` (all of a group that has fewer)."""
    n_groups = len(want)
    high = int(affinity.max())
    width = high - int(affinity.min()) + 1
    bucket = np.empty(len(group), dtype=np.uint8)
    counts = np.zeros(n_groups * _BUCKETS, dtype=np.int64)
    for at in range(0, len(group), _CHUNK):  # a chunk at a time: no int64 temporary per arc
        piece = slice(at, at + _CHUNK)
        scratch = np.subtract(high, affinity[piece])
        scratch *= _BUCKETS
        scratch //= width
        bucket[piece] = scratch
        np.multiply(group[piece], _BUCKETS, out=scratch)
        scratch += bucket[piece]
        counts += np.bincount(scratch, minlength=n_groups * _BUCKETS)
    reached = counts.reshape(n_groups, _BUCKETS).cumsum(axis=1) >= want[:, None]
    # Each head's last bucket: the first whose running count reaches want (else all).
    last = np.where(reached.any(axis=1), reached.argmax(axis=1), _BUCKETS - 1).astype(np.uint8)
    for at in range(0, len(group), _CHUNK):
        piece = slice(at, at + _CHUNK)
        bucket[piece] = bucket[piece] <= last[group[piece]]
    return bucket.view(np.bool_)


# Arcs per chunk where a pass over all arcs would otherwise make int64 temporaries.
_CHUNK = 1 << 20


def _grouped_tails(
    arcs: tuple[IntArray, IntArray, IntArray],
    head: NDArray[np.bool_],
    n_groups: int,
    out_attorney: NDArray[np.int32],
    out_affinity: NDArray[np.int32],
) -> IntArray:
    """Write the arcs outside ``head`` into ``out_*`` grouped by group, in any order within
    one; return each group's start (n_groups + 1 of them). A counting sort, a chunk of arcs at
    a time: in the child beside the run, no temporary as large as all the arcs."""
    group, affinity, attorney = arcs
    sizes = np.zeros(n_groups, dtype=np.int64)
    for at in range(0, len(group), _CHUNK):
        piece = slice(at, at + _CHUNK)
        sizes += np.bincount(group[piece][~head[piece]], minlength=n_groups)
    starts = np.concatenate(([0], np.cumsum(sizes)))
    free = starts[:-1].copy()  # where each group's next arc goes
    for at in range(0, len(group), _CHUNK):
        tail = at + np.flatnonzero(~head[at : at + _CHUNK])
        keys = group[tail]
        # Grouped by a 16-bit radix sort where the groups fit (as arrays.stable_order does).
        tail = tail[
            np.argsort(keys.astype(np.uint16) if n_groups <= 1 << 16 else keys, kind="stable")
        ]
        tail_group = group[tail]
        counts = np.bincount(tail_group, minlength=n_groups)
        # An arc's place: its group's next free one, plus its rank among the chunk's group.
        first = np.cumsum(counts) - counts
        where = free[tail_group] + np.arange(len(tail)) - first[tail_group]
        out_attorney[where], out_affinity[where] = attorney[tail], affinity[tail]
        free += counts
    return starts


def _sorted_head(
    group: IntArray,
    affinity: IntArray,
    attorney: IntArray,
    n_groups: int,
    out_attorney: NDArray[np.int32],
    out_affinity: NDArray[np.int32],
) -> IntArray:
    """Write the arcs sorted by (group, -affinity, attorney) at the start of ``out_*``; return
    each group's start (n_groups + 1 of them).

    The three keys packed in one int64 sort as values (several times faster than a stable
    argsort and its gathers) and unpack; (group, attorney) is unique, so the order is total.
    """
    starts = np.concatenate(([0], np.cumsum(np.bincount(group, minlength=n_groups))))
    n = len(group)
    if not n:
        return starts
    high = int(affinity.max())
    width, n_attorneys = high - int(affinity.min()) + 1, int(attorney.max()) + 1
    if n_groups * width * n_attorneys >= 1 << 63:  # pragma: no cover (affinities span 2**31)
        order = lexsort_ints((attorney, -affinity, group))
        out_attorney[:n], out_affinity[:n] = attorney[order], affinity[order]
        return starts
    key = (group * width + (high - affinity)) * n_attorneys + attorney
    key.sort()
    out_attorney[:n] = key % n_attorneys
    key //= n_attorneys
    out_affinity[:n] = high - key % width
    return starts


def _merge(instance: Instance, hubs: Hubs, runs: _Runs) -> tuple[IntArray, IntArray, IntArray]:
    """Steps 2-3 of :func:`greedy_pairs`. One frame with local names: it runs a few hundred
    thousand times per million cases, where each attribute lookup shows."""
    attorney, affinity = memoryview(runs.attorney), memoryview(runs.affinity)
    pointer, cell_runs = runs.pointer, runs.cell_runs
    remaining = instance.capacity.tolist()
    priority = memoryview(np.ascontiguousarray(instance.priority, dtype=np.int64))
    next_case, case_end = instance.cell_start[:-1].tolist(), instance.cell_start[1:].tolist()
    advance, filled = _advancer(instance, hubs, runs, remaining)
    cell_bits = max(instance.n_cells - 1, 0).bit_length()
    shift = cell_bits + max(instance.n_attorneys - 1, 0).bit_length()
    # Keys hold top - score >= 0: the best score possible comes first.
    top = _top_score(instance, runs)

    def key(cell: int) -> int | None:
        c = next_case[cell]
        if c == case_end[cell]:
            return None  # the cell is done: neither pointer ever moves back
        best_w = best_a = -1
        for r in cell_runs[cell]:
            p = pointer[r]
            if p < 0:
                continue  # the run is done
            if not remaining[attorney[p]]:
                p = advance(r)
                if p < 0:
                    continue
            a, w = attorney[p], affinity[p]
            if best_a < 0 or w > best_w or (w == best_w and a < best_a):
                best_w, best_a = w, a
        if best_a < 0:
            return None
        score: int = best_w + priority[c]
        return ((top - score) << shift) | (best_a << cell_bits) | cell

    heap = [k for cell in range(instance.n_cells) if (k := key(cell)) is not None]
    heapq.heapify(heap)
    heappop, heappush, heapreplace = heapq.heappop, heapq.heappush, heapq.heapreplace
    cell_mask, attorney_mask = (1 << cell_bits) - 1, (1 << (shift - cell_bits)) - 1
    taken: list[int] = []  # attorney, case, score, ...
    while heap:
        first = heap[0]
        cell, a = first & cell_mask, (first >> cell_bits) & attorney_mask
        if not remaining[a]:  # stale: recompute; the new key is no better
            if (new := key(cell)) is None:
                heappop(heap)
            else:
                heapreplace(heap, new)
            continue
        pair = first >> cell_bits
        tied = len(heap) > 1 and (
            heap[1] >> cell_bits == pair or (len(heap) > 2 and heap[2] >> cell_bits == pair)
        )
        if tied:
            cell = _lowest_case_of_tie(heap, pair, cell_bits, instance.case_ids, next_case)
        c = next_case[cell]
        next_case[cell] = c + 1
        score = top - (first >> shift)
        taken += (a, c, score)
        remaining[a] -= 1
        if remaining[a]:
            # The attorney still heads the cell (pointers move only past full attorneys).
            if c + 1 < case_end[cell]:
                w = score - priority[c]
                new = ((top - w - priority[c + 1]) << shift) | (a << cell_bits) | cell
            else:
                new = None
        else:
            filled(a)
            new = key(cell)
        if tied:
            if new is not None:
                heappush(heap, new)
        elif new is None:
            heappop(heap)
        else:
            heapreplace(heap, new)
    pairs = np.array(taken, dtype=np.int64).reshape(-1, 3).T
    return pairs[0], pairs[1], pairs[2]


def _lowest_case_of_tie(
    heap: list[int], pair: int, cell_bits: int, case_ids: Ids, next_case: list[int]
) -> int:
    """The cell, among the heap's entries for one (score, attorney), whose next case has the
    lowest id (the original rule's last tie-break); it leaves the heap, the others stay."""
    tied = []
    while heap and heap[0] >> cell_bits == pair:
        tied.append(heapq.heappop(heap))
    chosen = min(tied, key=lambda k: case_ids[next_case[k & ((1 << cell_bits) - 1)]])
    for k in tied:
        if k != chosen:
            heapq.heappush(heap, k)
    return chosen & ((1 << cell_bits) - 1)


def _advancer(
    instance: Instance, hubs: Hubs, runs: _Runs, remaining: list[int]
) -> tuple[Callable[[int], int], Callable[[int], None]]:
    """``advance(r)``: move run r's pointer to its next attorney with room and return it, or
    -1 when the run is done; ``filled(a)``: attorney a has just filled up.

    Most runs end with every attorney full, and a cell would walk its whole run to find
    nobody. So each run counts its attorneys with room, ``filled`` takes one off the runs of
    the attorney's arcs (two numpy calls), and a run with none left is done at once.
    Otherwise a few steps go one by one in Python (a run usually resumes within one or two),
    then numpy scans chunks that grow fourfold. At the end of its head the run turns to its
    tail: the tail's attorneys with room (the others are full for good), sorted, written over
    its start.
    """
    attorney, affinity = runs.attorney, runs.affinity
    attorneys = memoryview(attorney)
    pointer, end, tail_start, tail_end = runs.pointer, runs.end, runs.tail_start, runs.tail_end
    n_attorneys, n_cells = instance.n_attorneys, instance.n_cells
    high = int(affinity.max(initial=0))
    room = instance.capacity > 0
    # Each attorney's runs: its direct arcs' cells (canonical arcs are sorted by attorney),
    # and its hubs, as run numbers.
    hub_order = np.argsort(hubs.arc_attorney, kind="stable")
    hub_run = n_cells + hubs.arc_hub[hub_order]
    by_attorney = np.arange(n_attorneys + 1)
    direct_at = np.searchsorted(instance.arc_attorney, by_attorney).tolist()
    hub_at = np.searchsorted(hubs.arc_attorney[hub_order], by_attorney).tolist()
    live = _live(instance, hubs, room)
    arc_cell = instance.arc_cell

    def filled(a: int) -> None:
        room[a] = False
        live[arc_cell[direct_at[a] : direct_at[a + 1]]] -= 1
        if hub_at[a] < hub_at[a + 1]:
            live[hub_run[hub_at[a] : hub_at[a + 1]]] -= 1

    def advance(r: int) -> int:
        if not live[r]:
            pointer[r] = -1
            return -1
        p, stop = pointer[r] + 1, end[r]
        limit = p + _PYTHON_STEPS if p + _PYTHON_STEPS < stop else stop
        while p < limit:
            if remaining[attorneys[p]]:
                pointer[r] = p
                return p
            p += 1
        size = 64
        while p < stop:
            chunk = room[attorney[p : min(p + size, stop)]]
            i = int(chunk.argmax())
            if chunk[i]:
                pointer[r] = p + i
                return p + i
            p, size = p + size, size * 4
        pointer[r] = p = tail(r)
        return p

    def tail(r: int) -> int:
        """Sort the tail's attorneys with room over its start; it becomes the run's head."""
        p, stop = tail_start[r], tail_end[r]
        tail_end[r] = p
        with_room = room[attorney[p:stop]].nonzero()[0]
        if not len(with_room):
            return -1
        with_room += p
        key = (high - affinity[with_room].astype(np.int64)) * n_attorneys
        key += attorney[with_room]
        key.sort()
        end[r] = stop = p + len(key)
        attorney[p:stop] = key % n_attorneys
        affinity[p:stop] = high - key // n_attorneys
        return p

    return advance, filled


def _live(instance: Instance, hubs: Hubs, room: NDArray[np.bool_]) -> IntArray:
    """How many attorneys with room each run holds (cells' direct runs, then hubs')."""
    counts = []
    for group, attorney, n in (
        (instance.arc_cell, instance.arc_attorney, instance.n_cells),
        (hubs.arc_hub, hubs.arc_attorney, hubs.n_hubs),
    ):
        if room.all():  # as usual: no weights, no float temporary
            counts.append(np.bincount(group, minlength=n))
        else:
            counts.append(np.bincount(group, weights=room[attorney], minlength=n).astype(np.int64))
    return np.concatenate(counts)


# Steps skip() takes in Python before scanning with numpy (a call costs ~1.5 us, a step ~0.1).
_PYTHON_STEPS = 8


def _top_score(instance: Instance, runs: _Runs) -> int:
    """A score no pair exceeds."""
    if not len(runs.affinity) or not instance.n_cases:
        return 0
    return int(runs.affinity.max()) + int(instance.priority.max())
