"""Write an instance in the JSON format of io.py a piece at a time, with its hubs, or with hubs
made plain arcs for tools that do not know hubs.

With hubs, the file holds them as the run does: one hub arc per (attorney, hub), a few hundred
thousand at backlog scale. Expanded, the materialised arcs are tens of millions (a remote
attorney reaches every court's docket in their language through a hub), gigabytes of text.
Neither the text nor the materialised arcs are ever whole in memory, and no Python object is
made per hub path: a hub arc's paths are one ``bytes.join`` of its cells' texts (shared by every
attorney entering the hub at that affinity) with the attorney's text as the separator. Items come
in no particular order within a section (readers put everything in canonical order); the
sections come in the order ``read_instance`` reads in one pass.
"""

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from itertools import pairwise
from json.encoder import encode_basestring_ascii as _quote  # json.dumps' own (ASCII output)
from typing import Protocol

import numpy as np
from numpy.typing import NDArray

from matching.solver.arrays import lexsort_ints, ranges, unique_ints
from matching.solver.hubs import Hubs, hub_ids
from matching.solver.instance import IdArray, Instance, IntArray

ObjectArray = NDArray[np.object_]

# Bytes handed to ``out.write`` at a time.
_FLUSH_AT = 1 << 22


class BinarySink(Protocol):
    """Where the bytes go: a file opened in binary mode, or anything with its ``write``."""

    def write(self, data: bytes, /) -> object: ...


def write_instance(
    instance: Instance, out: BinarySink, *, hubs: Hubs | None = None, expand_hubs: bool = False
) -> None:
    """Write the compact JSON of ``instance`` to ``out`` (ASCII bytes); with ``hubs``, with its
    ``"hubs"`` and ``"hub_arcs"`` sections, or (``expand_hubs``) as the JSON of
    ``materialise(instance, hubs)``: every hub path an arc, one per pair at its best affinity.

    1. Attorneys, then cells with their cases, then arcs, then hubs and hub arcs (the best
       one of an (attorney, hub) pair; each hub's cells once), then exclusions.
    2. Expanded: arcs are the direct arcs, less those a hub path beats (:func:`_duplicates`);
       then each hub arc's paths, less those beaten by a direct arc or another hub's path
       (holes).
    """
    if hubs is not None and not expand_hubs:
        _write(instance, out, hubs=hubs)
    else:
        _write(instance, out, paths=Hubs.none() if hubs is None else hubs)


def _write(
    instance: Instance, out: BinarySink, *, paths: Hubs | None = None, hubs: Hubs | None = None
) -> None:
    """Write ``paths`` as arcs, ``hubs`` as hubs."""
    texts = _Texts.of(instance)
    out.write(b'{"attorneys":[')
    section = _Section(out)
    for a, capacity in zip(texts.attorney, instance.capacity.tolist(), strict=True):
        section.add(f',{{"id":{a},"capacity":{capacity}}}'.encode())
    section = section.next(b'],"cells":[')
    for item in _cell_items(instance, texts):
        section.add(item)
    section = section.next(b'],"arcs":[')
    if paths is not None:
        duplicates = _duplicates(instance, paths)
        for item in _direct_items(instance, texts, keep=~duplicates.direct):
            section.add(item)
        for item in _hub_items(paths, texts, duplicates):
            section.add(item)
    else:
        for item in _direct_items(instance, texts, keep=np.ones(instance.n_arcs, dtype=bool)):
            section.add(item)
    if hubs is not None:
        section = section.next(b'],"hubs":[')
        names = _objects(_quote(h).encode() for h in hub_ids(hubs.n_hubs))
        for item in _hub_cells(hubs, texts, names):
            section.add(item)
        section = section.next(b'],"hub_arcs":[')
        for item in _hub_arc_items(hubs, texts, names):
            section.add(item)
    section = section.next(b'],"excluded":[')
    excluded = zip(
        instance.excluded_attorney.tolist(), instance.excluded_case.tolist(), strict=True
    )
    for a, c in excluded:
        case = _quote(texts.case_ids[c])
        section.add(f',{{"attorney":{texts.attorney[a]},"case":{case}}}'.encode())
    section.next(b"]}")


@dataclass(frozen=True, slots=True)
class _Texts:
    """Ids as JSON strings (``cell``: an object array), and each attorney's arc prefix
    (``,{"attorney":…,"cell":``, an object array)."""

    attorney: list[str]
    arc_prefix: ObjectArray
    cell: ObjectArray
    case_ids: IdArray

    @classmethod
    def of(cls, instance: Instance) -> "_Texts":
        attorney = [_quote(a) for a in instance.attorney_ids.tolist()]
        return cls(
            attorney=attorney,
            arc_prefix=_objects(f',{{"attorney":{a},"cell":'.encode() for a in attorney),
            cell=_objects(_quote(k).encode() for k in instance.cell_ids.tolist()),
            case_ids=instance.case_ids,
        )

    def cases(self, positions: slice) -> ObjectArray:
        return _objects(_quote(c).encode() for c in self.case_ids[positions].tolist())


class _Section:
    """The items of one JSON list, each given with a leading comma (the first one's dropped),
    written in batches of about ``_FLUSH_AT`` bytes."""

    def __init__(self, out: BinarySink) -> None:
        self._out, self._batch, self._size, self._first = out, list[bytes](), 0, True

    def add(self, item: bytes) -> None:
        if not item:
            return
        if self._first:
            item, self._first = item[1:], False
        self._batch.append(item)
        self._size += len(item)
        if self._size >= _FLUSH_AT:
            self._flush()

    def next(self, closing: bytes) -> "_Section":
        """Close this list, and open the next section, with ``closing``."""
        self._batch.append(closing)
        self._flush()
        return _Section(self._out)

    def _flush(self) -> None:
        self._out.write(b"".join(self._batch))
        self._batch, self._size = [], 0


def _cell_items(instance: Instance, texts: _Texts, *, block: int = 1 << 17) -> Iterator[bytes]:
    """Each cell with its cases, about ``block`` cases at a time; an empty cell on its own."""
    for k in np.flatnonzero(np.diff(instance.cell_start) == 0).tolist():
        yield b',{"id":' + texts.cell[k] + b',"cases":[]}'
    start = instance.cell_start
    opening = b',{"id":' + texts.cell + b',"cases":[{"id":'
    block_of = start[:-1] // block
    bounds = [0, *(np.flatnonzero(np.diff(block_of)) + 1).tolist(), instance.n_cells]
    for k0, k1 in pairwise(bounds):
        first, stop = int(start[k0]), int(start[k1])
        cell = np.repeat(np.arange(k0, k1), np.diff(start[k0 : k1 + 1]))
        position = np.arange(first, stop)
        tail = _number_texts(instance.priority[first:stop], ',"priority":{}}}')
        last = position == start[cell + 1] - 1
        tail[last] += b"]}"
        yield _joined(
            np.where(position == start[cell], opening[cell], b',{"id":'),
            texts.cases(slice(first, stop)),
            tail,
        )


def _direct_items(
    instance: Instance, texts: _Texts, *, keep: NDArray[np.bool_], block: int = 1 << 17
) -> Iterator[bytes]:
    for first in range(0, instance.n_arcs, block):
        part = slice(first, first + block)
        kept = keep[part]
        yield _joined(
            texts.arc_prefix[instance.arc_attorney[part][kept]],
            texts.cell[instance.arc_cell[part][kept]],
            _number_texts(instance.affinity[part][kept], ',"affinity":{}}}'),
        )


def _hub_cells(hubs: Hubs, texts: _Texts, names: ObjectArray) -> Iterator[bytes]:
    """Each hub with its cells, each cell once."""
    starts = hubs.cell_start.tolist()
    for h, name in enumerate(names.tolist()):
        cells = unique_ints(hubs.cell[starts[h] : starts[h + 1]])
        yield b',{"id":' + name + b',"cells":[' + b",".join(texts.cell[cells].tolist()) + b"]}"


def _hub_arc_items(
    hubs: Hubs, texts: _Texts, names: ObjectArray, *, block: int = 1 << 17
) -> Iterator[bytes]:
    """The hub arcs, the best one of each (attorney, hub) pair."""
    entries = _best_entries(hubs)
    prefix = _objects(f',{{"attorney":{a},"hub":'.encode() for a in texts.attorney)
    for first in range(0, len(entries), block):
        part = entries[first : first + block]
        yield _joined(
            prefix[hubs.arc_attorney[part]],
            names[hubs.arc_hub[part]],
            _number_texts(hubs.affinity[part], ',"affinity":{}}}'),
        )


def _objects(texts: Iterable[bytes]) -> ObjectArray:
    array = np.array(list(texts), dtype=object)
    return array if len(array) else np.empty(0, dtype=object)


def _number_texts(values: IntArray, template: str) -> ObjectArray:
    """``template.format(v)`` for each of ``values``, each distinct value formatted once."""
    distinct = unique_ints(values)
    table = _objects(template.format(v).encode() for v in distinct.tolist())
    return table[np.searchsorted(distinct, values)]


def _joined(*columns: ObjectArray) -> bytes:
    """The texts of every column, row after row: a row is one item, without a Python loop."""
    grid = np.empty((len(columns[0]), len(columns)), dtype=object)
    for j, column in enumerate(columns):
        grid[:, j] = column
    return b"".join(grid.ravel().tolist())


def _hub_items(hubs: Hubs, texts: _Texts, duplicates: "_Duplicates") -> Iterator[bytes]:
    """Each hub arc's paths, hub arcs grouped by (hub, affinity): the cells' texts (``"k",
    "affinity":w}``) are made once per group and joined with each attorney's prefix."""
    entries = duplicates.entries
    order = entries[lexsort_ints((hubs.arc_hub[entries], hubs.affinity[entries]))]
    hole_start = np.searchsorted(
        duplicates.hole_entry, np.arange(len(hubs.arc_attorney) + 1)
    ).tolist()
    starts = hubs.cell_start.tolist()
    group: tuple[int, int] | None = None
    paths: list[bytes] = []
    for e, a, h, w in zip(
        order.tolist(),
        hubs.arc_attorney[order].tolist(),
        hubs.arc_hub[order].tolist(),
        hubs.affinity[order].tolist(),
        strict=True,
    ):
        if (h, w) != group:
            group = (h, w)
            cells = texts.cell[hubs.cell[starts[h] : starts[h + 1]]]
            paths = (cells + b',"affinity":%d}' % w).tolist()
        prefix = texts.arc_prefix[a]
        first, stop = hole_start[e], hole_start[e + 1]
        if first == stop and paths:
            yield prefix + prefix.join(paths)
        else:
            yield b"".join(_runs(prefix, paths, duplicates.hole_position[first:stop].tolist()))


def _runs(prefix: bytes, paths: list[bytes], holes: Iterable[int]) -> Iterator[bytes]:
    """The prefixed paths with the positions ``holes`` (ascending) left out."""
    at = 0
    for hole in (*holes, len(paths)):
        if hole > at:
            yield prefix + prefix.join(paths[at:hole])
        at = hole + 1


@dataclass(frozen=True, slots=True)
class _Duplicates:
    """Which arcs and paths lose to another one for the same (attorney, cell) pair.

    ``direct``: a mask of the direct arcs that lose. ``entries``: the hub arcs to write (one per
    (attorney, hub), the best). ``hole_entry``, ``hole_position`` (sorted): the paths that lose,
    as (hub arc, position in its hub's cells).
    """

    direct: NDArray[np.bool_]
    entries: IntArray
    hole_entry: IntArray
    hole_position: IntArray


def _duplicates(instance: Instance, hubs: Hubs) -> _Duplicates:
    """Find every (attorney, cell) pair with two sources or more, without listing all paths.

    1. Keep one hub arc per (attorney, hub), the best: the others' paths all lose.
    2. Candidates: each direct arc into a hub's cell whose attorney enters that hub, with that
       path; and every path (of a kept hub arc) to a cell that lies in two hubs or more.
    3. Sort the candidates by (pair, best affinity first): all but the first of a pair lose.
    """
    entries = _best_entries(hubs)
    reach_hub, reach_cell = hubs.cell_arcs()
    n_reach = max(len(reach_hub), 1)
    hubs_over = np.bincount(reach_cell, minlength=instance.n_cells)
    arc, path = _direct_candidates(instance, hubs, entries, hubs_over)
    path = unique_ints(np.concatenate((path, _shared_candidates(hubs, entries, hubs_over))))
    path_entry, path_reach = path // n_reach, path % n_reach
    arc = unique_ints(arc)
    n_cells = max(instance.n_cells, 1)
    key = np.concatenate(
        (
            instance.arc_attorney[arc] * n_cells + instance.arc_cell[arc],
            hubs.arc_attorney[path_entry] * n_cells + reach_cell[path_reach],
        )
    )
    affinity = np.concatenate((instance.affinity[arc], hubs.affinity[path_entry]))
    order = lexsort_ints((-affinity, key))
    loses = np.zeros(len(key), dtype=bool)
    loses[order[1:]] = key[order[1:]] == key[order[:-1]]
    direct = np.zeros(instance.n_arcs, dtype=bool)
    direct[arc[loses[: len(arc)]]] = True
    lost = loses[len(arc) :]  # path codes are sorted: by hub arc, then position
    hole_reach = path_reach[lost]
    return _Duplicates(
        direct=direct,
        entries=entries,
        hole_entry=path_entry[lost],
        hole_position=hole_reach - hubs.cell_start[reach_hub[hole_reach]],
    )


def _direct_candidates(
    instance: Instance, hubs: Hubs, entries: IntArray, hubs_over: IntArray
) -> tuple[IntArray, IntArray]:
    """(direct arc, path code) for every hub over a direct arc's cell that its attorney enters;
    a path code is hub arc * reach arcs + reach arc (reach arcs: ``hubs.cell_arcs()``)."""
    reach_hub, reach_cell = hubs.cell_arcs()
    by_cell = np.argsort(reach_cell, kind="stable")
    first_over = np.cumsum(hubs_over) - hubs_over
    over = hubs_over[instance.arc_cell]
    arc = np.repeat(np.arange(instance.n_arcs, dtype=np.int64), over)
    reach = by_cell[ranges(first_over[instance.arc_cell], over)]
    entry = _entry_of(hubs, entries, instance.arc_attorney[arc], reach_hub[reach])
    entered = entry >= 0
    return arc[entered], entry[entered] * max(len(reach_hub), 1) + reach[entered]


def _shared_candidates(hubs: Hubs, entries: IntArray, hubs_over: IntArray) -> IntArray:
    """The path codes of the paths to a cell that one attorney reaches through two of the hub
    arcs ``entries``: pairs of one attorney's hub arcs, joined with pairs of hubs over a cell."""
    reach_hub, reach_cell = hubs.cell_arcs()
    n_hubs, n_reach = max(hubs.n_hubs, 1), max(len(reach_hub), 1)
    by_cell = np.argsort(reach_cell, kind="stable")  # within a cell, by hub
    left, right = (by_cell[i] for i in _pairs_within_runs(hubs_over[hubs_over > 0]))
    overlap_key = reach_hub[left] * n_hubs + reach_hub[right]
    order = np.argsort(overlap_key, kind="stable")
    overlap_key = overlap_key[order]
    mine = entries[lexsort_ints((hubs.arc_hub[entries], hubs.arc_attorney[entries]))]
    per_attorney = _run_lengths(hubs.arc_attorney[mine])
    first, second = (mine[i] for i in _pairs_within_runs(per_attorney))
    key = hubs.arc_hub[first] * n_hubs + hubs.arc_hub[second]
    low = np.searchsorted(overlap_key, key, side="left")
    count = np.searchsorted(overlap_key, key, side="right") - low
    pair = order[ranges(low, count)]
    return np.concatenate(
        (
            np.repeat(first, count) * n_reach + left[pair],
            np.repeat(second, count) * n_reach + right[pair],
        )
    )


def _run_lengths(values: IntArray) -> IntArray:
    """The lengths of the runs of equal values."""
    starts = np.flatnonzero(np.diff(values, prepend=-1, append=-1) != 0)
    return np.diff(starts) if len(values) else values


def _pairs_within_runs(sizes: IntArray) -> tuple[IntArray, IntArray]:
    """(i, j), i < j, for every two positions in one run, runs of ``sizes`` laid end to end."""
    n = int(sizes.sum())
    after = np.repeat(np.cumsum(sizes), sizes) - np.arange(n) - 1
    return np.repeat(np.arange(n, dtype=np.int64), after), ranges(np.arange(n) + 1, after)


def _best_entries(hubs: Hubs) -> IntArray:
    """One hub arc per (attorney, hub): the best affinity."""
    order = lexsort_ints((-hubs.affinity, hubs.arc_hub, hubs.arc_attorney))
    a, h = hubs.arc_attorney[order], hubs.arc_hub[order]
    first = np.ones(len(order), dtype=bool)
    first[1:] = (a[1:] != a[:-1]) | (h[1:] != h[:-1])
    return np.sort(order[first])


def _entry_of(hubs: Hubs, entries: IntArray, attorney: IntArray, hub: IntArray) -> IntArray:
    """The kept hub arc of each (attorney, hub), or -1."""
    n_hubs = max(hubs.n_hubs, 1)
    keys = hubs.arc_attorney[entries] * n_hubs + hubs.arc_hub[entries]
    order = np.argsort(keys, kind="stable")
    sorted_keys = keys[order]
    wanted = attorney * n_hubs + hub
    if not len(sorted_keys):
        return np.full(len(wanted), -1, dtype=np.int64)
    at = np.minimum(np.searchsorted(sorted_keys, wanted), len(sorted_keys) - 1)
    return np.where(sorted_keys[at] == wanted, entries[order[at]], -1).astype(np.int64)
