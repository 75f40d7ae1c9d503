"""Write an instance in the JSON format of io.py a piece at a time, with its hubs, or with hubs
made plain arcs for tools that do not know hubs.

With hubs, the file holds them as the run does: one hub arc per (attorney, hub), a few hundred
thousand at backlog scale. Expanded, the materialised arcs are tens of millions (a remote
attorney reaches every court's docket in their language through a hub), gigabytes of text.
Neither the text nor the materialised arcs are ever whole in memory.

The text is made by numpy, a block of items at a time, with no Python object per item: each
item is the concatenation of a few texts picked from small tables (an attorney's
``,{"attorney":"a1","cell":"``, a cell's ``k1","affinity":``, a number's ``300}``), gathered as
the fixed-width fields of one record array, NUL-padded, then the NULs dropped (JSON text never
holds a raw NUL). Items come in no particular order within a section (readers put everything in
canonical order), so the run's arrays are written as they are (:class:`Columns`), unsorted; the
sections come in the order ``read_instance`` reads in one pass.
"""

import errno
import io
import os
import pickle  # arrays down a pipe to our own forked child
import queue
import re
import sys
import threading
from collections.abc import Buffer, Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from json.encoder import encode_basestring_ascii as _quote  # json.dumps' own (ASCII output)
from typing import BinaryIO, NoReturn, Protocol, TypeGuard

import numpy as np
from numpy.typing import NDArray

from matching.solver.arrays import lexsort_ints, ranges, unique_ints
from matching.solver.hubs import Hubs, hub_ids
from matching.solver.instance import Instance, IntArray

ObjectArray = NDArray[np.object_]
# (attorney, cell, affinity) of some arcs, positions as in Columns
ArcPart = tuple[IntArray, IntArray, IntArray]
# Texts as a numpy bytes array ("S" dtype: fixed width, NUL-padded).
TextArray = NDArray[np.bytes_]
# A table of texts and each item's row in it (None: item i is row i): see _items.
Column = tuple[TextArray, IntArray | None]

# Bytes handed to ``out.write`` at a time (at least), and items made at a time.
_FLUSH_AT = 1 << 22
_BLOCK = 1 << 16
# Written by a child (write_in_parts), parts of arcs the child has yet to take, at most; when
# more are waiting, the parent writes the next part's text itself (~7 MB a part at 1M).
_SEND_AHEAD = 2

# What encode_basestring_ascii would escape: such ids take the slow road (_quote, one by one).
_ESCAPED = re.compile(r'["\\\x00-\x1f]')


class BinarySink(Protocol):
    """Where the bytes go: a file opened in binary mode, or anything with its ``write``."""

    def write(self, data: Buffer, /) -> object: ...


@dataclass(frozen=True, eq=False, slots=True)
class Columns:
    """What a file holds, in any order: ids as texts (:func:`id_texts`, :func:`numbered_texts`),
    references as positions, as in :class:`Instance` except that nothing need be sorted (cases
    carry their cell, ``case_cell``, instead of being grouped by it)."""

    attorney_ids: TextArray
    capacity: IntArray
    cell_ids: TextArray
    case_ids: TextArray
    case_cell: IntArray
    priority: IntArray
    arc_attorney: IntArray
    arc_cell: IntArray
    affinity: IntArray
    excluded_attorney: IntArray
    excluded_case: IntArray

    @property
    def n_cells(self) -> int:
        return len(self.cell_ids)

    @property
    def n_arcs(self) -> int:
        return len(self.arc_attorney)

    @classmethod
    def of(cls, instance: Instance) -> "Columns":
        return cls(
            attorney_ids=id_texts(instance.attorney_ids.tolist()),
            capacity=instance.capacity,
            cell_ids=id_texts(instance.cell_ids.tolist()),
            case_ids=id_texts(instance.case_ids.tolist()),
            case_cell=instance.case_cell(),
            priority=instance.priority,
            arc_attorney=instance.arc_attorney,
            arc_cell=instance.arc_cell,
            affinity=instance.affinity,
            excluded_attorney=instance.excluded_attorney,
            excluded_case=instance.excluded_case,
        )


def id_texts(ids: Sequence[str]) -> TextArray:
    """Ids as they stand between the quotes of a JSON string (escaped as ``json.dumps`` does)."""
    whole = "".join(ids)
    if whole.isascii() and not _ESCAPED.search(whole):
        return _texts(ids)
    return _texts([_quote(i)[1:-1] for i in ids])


def numbered_texts(prefix: str, numbers: IntArray, digits: int) -> TextArray:
    """``f"{prefix}{n:0{digits}d}"`` for each of ``numbers`` (``prefix`` plain ASCII), digits
    made by numpy when none is negative or wider than ``digits``."""
    if len(numbers) and (numbers.min() < 0 or numbers.max() >= 10**digits):
        return id_texts([f"{prefix}{n:0{digits}d}" for n in numbers.tolist()])
    head = np.frombuffer(prefix.encode("ascii"), dtype=np.uint8)
    text = np.empty((len(numbers), len(head) + digits), dtype=np.uint8)
    text[:, : len(head)] = head
    rest = numbers.astype(np.int64)
    for column in range(text.shape[1] - 1, len(head) - 1, -1):
        rest, digit = np.divmod(rest, 10)
        text[:, column] = digit + ord("0")
    return text.view(f"S{text.shape[1]}").reshape(len(numbers))


def _texts(values: Sequence[str | bytes]) -> TextArray:
    texts = np.array(values, dtype=np.bytes_)
    return texts if len(texts) else np.zeros(0, dtype="S1")


def write_instance(
    instance: Instance | Columns,
    out: BinarySink,
    *,
    hubs: Hubs | None = None,
    expand_hubs: bool = False,
) -> None:
    """Write the compact JSON of ``instance`` (or of :class:`Columns`, with ``hubs`` over their
    cell positions) to ``out`` (ASCII bytes); with ``hubs``, with its ``"hubs"`` and
    ``"hub_arcs"`` sections, or (``expand_hubs``) as the JSON of ``materialise(instance,
    hubs)``: every hub path an arc, one per pair at its best affinity.

    1. Attorneys, then cells with their cases, then arcs, then hubs and hub arcs (the best
       one of an (attorney, hub) pair; each hub's cells once), then exclusions.
    2. Expanded: arcs are the direct arcs, less those a hub path beats (:func:`_duplicates`);
       then each hub arc's paths, less those beaten by a direct arc or another hub's path
       (holes).
    """
    columns = instance if isinstance(instance, Columns) else Columns.of(instance)
    if hubs is not None and not expand_hubs:
        _write(columns, out, hubs=hubs)
    else:
        _write(columns, out, paths=Hubs.none() if hubs is None else hubs)


def _write(
    columns: Columns,
    out: BinarySink,
    *,
    paths: Hubs | None = None,
    hubs: Hubs | None = None,
) -> None:
    """Write ``paths`` as arcs, ``hubs`` as hubs."""
    c = columns
    section = _head(c, out)
    keep = None
    if paths is not None:
        duplicates = _duplicates(c, paths)
        keep = np.flatnonzero(~duplicates.direct)
    for item in _arc_items(c, keep):
        section.add(item)
    if paths is not None:
        for path_items in _hub_items(paths, c, duplicates):
            section.add(path_items)
    _tail(c, section, hubs)


def _head(c: Columns, out: BinarySink) -> "_Section":
    """The attorneys and the cells with their cases; the arcs' section opened."""
    attorneys, cells = _head_lists(c)
    out.write(b'{"attorneys":[')
    section = _Section(out)
    for columns in attorneys:
        section.add(_items(*columns))
    section = section.next(b'],"cells":[')
    for columns in cells:
        section.add(_items(*columns))
    return section.next(b'],"arcs":[')


def _head_length(c: Columns) -> int:
    """The length of what :func:`_head` writes, without making its text."""
    lists = (_items_length(*_attorney_columns(c)), _cells_length(c))
    return len(b'{"attorneys":[],"cells":[],"arcs":[') + sum(max(n - 1, 0) for n in lists)


def _head_lists(c: Columns) -> tuple[Iterable[tuple[Column, ...]], Iterable[tuple[Column, ...]]]:
    """The columns (:func:`_items`) of the attorneys' items, and of the cells' with their
    cases."""
    return [_attorney_columns(c)], _cell_columns(c)


def _attorney_columns(c: Columns) -> tuple[Column, ...]:
    attorney = _affixed(b',{"id":"', c.attorney_ids, b'","capacity":')
    return (attorney, None), _numbers(c.capacity, b"}")


def _tail(c: Columns, section: "_Section", hubs: Hubs | None) -> None:
    """After the arcs (``section``): the hubs and hub arcs if any, the exclusions."""
    if hubs is not None:
        section = section.next(b'],"hubs":[')
        names = id_texts(hub_ids(hubs.n_hubs))
        for hub in _hub_cells(hubs, c, names):
            section.add(hub)
        section = section.next(b'],"hub_arcs":[')
        for item in _hub_arc_items(hubs, c, names):
            section.add(item)
    section = section.next(b'],"excluded":[')
    attorney = _affixed(b',{"attorney":"', c.attorney_ids, b'","case":"')
    case = _affixed(b"", c.case_ids[c.excluded_case], b'"}')
    section.add(_items((attorney, c.excluded_attorney), (case, None)))
    section.next(b"]}")


def write_in_parts(
    columns: Callable[[], Columns],
    parts: Iterable[ArcPart],
    hubs: Callable[[], Hubs],
    out: BinarySink,
    *,
    child: bool = False,
) -> None:
    """Write what ``write_instance(columns, out, hubs=hubs)`` writes, the arcs coming as
    ``parts`` (``columns``' own arcs are not written), each written as it comes and then
    dropped: the arcs are never whole in memory. ``columns`` is called first, ``hubs`` once
    ``parts`` is exhausted. With ``child`` and a file, a forked child writes everything while
    this process makes ``parts`` and ``hubs`` (:func:`_written_by_child`).
    """
    if child and _is_file(out):
        _written_by_child(columns, parts, hubs, out)
    else:
        _write_parts(columns(), parts, hubs, out)


def _write_parts(
    c: Columns, parts: Iterable[ArcPart | int], hubs: Callable[[], Hubs], out: BinarySink
) -> None:
    """:func:`write_in_parts` here; a part given as a number is that many bytes of arcs' text
    that another process writes at their place (``_Section.skip``)."""
    section = _head(c, out)
    tables = _ArcTables.of(c)
    for part in parts:
        if isinstance(part, int):
            section.skip(part)
            continue
        for items in tables.items(*part):
            section.add(items)
    _tail(c, section, hubs())


def _written_by_child(
    columns: Callable[[], Columns],
    parts: Iterable[ArcPart],
    hubs: Callable[[], Hubs],
    out: io.BufferedIOBase,
) -> None:
    """:func:`write_in_parts` by a forked child, which writes the attorneys and cells while
    this process makes the first part (scoring, on the other core), then each part as it comes
    down a pipe, then the hubs: the file is done soon after the last part is made.

    Making the text can be the longer task (at 1M cases ~1 s CPU for the whole file against
    ~1 s of scoring, and the machine's other load decides who is ahead), so the work is shared
    as it goes: a thread sends the parts, and when ``_SEND_AHEAD`` of them wait for the child,
    this process makes the next one's text and writes it at its place in the file (``pwrite``:
    the head's length and each part's are known without their text), sending the child only
    its length to leave. ``out`` is left at the end of what was written (the child's last
    write: the file's position is shared), which may not be the end of the file when ``out``
    was written over one that was longer."""
    out.flush()
    begin = out.tell()  # the file's position is shared with the child once forked
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover (the child's coverage is not collected)
        os.close(write_end)
        _child_writes(columns, out, os.fdopen(read_end, "rb"))
    os.close(read_end)
    try:
        with _Sender(os.fdopen(write_end, "wb")) as sender:
            c = columns()
            tables = _ArcTables.of(c)
            at = start = begin + _head_length(c)
            for part in parts:
                length = tables.length(*part) - (at == start)  # the list's first comma
                if length > 0 and sender.waiting >= _SEND_AHEAD:
                    _write_at(out.fileno(), at, tables.items(*part), drop=at == start)
                    sender.send(length)
                else:
                    sender.send(part)
                at += max(length, 0)
            sender.send(None)
            sender.send(hubs())
    except BrokenPipeError:
        pass  # the child has stopped: its status says why
    finally:
        _, status = os.waitpid(pid, 0)  # on an error here, the child ends at the pipe's EOF
    if status != 0:
        raise OSError(errno.EIO, f"the writing process failed (status {status})")
    out.seek(0, os.SEEK_CUR)  # the buffer's idea of the position, from the file's


def _write_at(fd: int, at: int, texts: Iterable[NDArray[np.uint8]], *, drop: bool) -> None:
    """``texts`` one after the other from offset ``at`` of ``fd`` (the first byte dropped)."""
    for text in texts:
        view = memoryview(text)[int(drop and len(text) > 0) :]
        drop = drop and not len(text)
        while len(view):
            written = os.pwrite(fd, view, at)
            at, view = at + written, view[written:]


class _Sender:
    """Pickles sent down a pipe by a thread, in order; ``waiting``: the parts of arcs sent
    and not yet taken by the reader. Leaving the block sends what is queued and closes the
    pipe (at once on an error: the reader then meets the pipe's end)."""

    def __init__(self, pipe: BinaryIO) -> None:
        self._pipe, self._queue = pipe, queue.SimpleQueue[object]()
        # Counted apart, each by one thread: a shared += could lose a count.
        self._parts_sent = self._parts_taken = 0
        self._error: BaseException | None = None
        self._stopped = False
        self._thread = threading.Thread(target=self._run, name="export-sender", daemon=True)
        self._thread.start()

    @property
    def waiting(self) -> int:
        return self._parts_sent - self._parts_taken

    def send(self, item: object) -> None:
        if self._error is not None:
            raise self._error
        if isinstance(item, tuple):
            self._parts_sent += 1
        self._queue.put(item)

    def __enter__(self) -> "_Sender":
        return self

    def __exit__(self, kind: object, error: BaseException | None, traceback: object) -> None:
        self._stopped = error is not None  # what is queued is then dropped
        self._queue.put(_END)
        self._thread.join()
        self._pipe.close()
        if error is None and self._error is not None:
            raise self._error

    def _run(self) -> None:
        while (item := self._queue.get()) is not _END:
            if self._error is None and not self._stopped:
                try:
                    pickle.dump(item, self._pipe, protocol=pickle.HIGHEST_PROTOCOL)
                except BaseException as error:  # a broken pipe: the child has stopped
                    self._error = error
            if isinstance(item, tuple):
                self._parts_taken += 1


_END = object()


def _child_writes(
    columns: Callable[[], Columns], out: io.BufferedIOBase, pipe: BinaryIO
) -> NoReturn:
    """The child's part of :func:`_written_by_child`: exit 0 once the whole file is written."""
    status = 1
    try:
        parts = iter(lambda: pickle.load(pipe), None)  # noqa: S301 (our own parent's pickles)
        _write_parts(columns(), parts, lambda: pickle.load(pipe), out)  # noqa: S301
        out.flush()
        status = 0
    except BaseException as error:  # the parent raises; the child says why
        sys.stderr.write(f"export writer: {error!r}\n")
    finally:
        os._exit(status)


def _is_file(out: BinarySink) -> TypeGuard[io.BufferedIOBase]:
    """A file opened in binary mode, with a descriptor and a position."""
    if not isinstance(out, io.BufferedIOBase) or not out.seekable():
        return False
    try:
        out.fileno()
    except (OSError, io.UnsupportedOperation):
        return False
    return True


class _Section:
    """The items of one JSON list, each given with a leading comma (the first one's dropped),
    written in batches of at least ``_FLUSH_AT`` bytes."""

    def __init__(self, out: BinarySink) -> None:
        self._out, self._batch, self._size, self._first = out, list[Buffer](), 0, True

    def add(self, items: bytes | NDArray[np.uint8]) -> None:
        if not len(items):
            return
        text = items[1:] if self._first else items
        self._first = False
        self._batch.append(text)
        self._size += len(text)
        if self._size >= _FLUSH_AT:
            self._flush()

    def skip(self, length: int) -> None:
        """Leave ``length`` bytes of items (the first one's comma dropped) to be written by
        another process: the batch is written and the file's position moved past them."""
        if not length:
            return
        self._flush()
        seek = getattr(self._out, "seek", None)
        if seek is None:
            raise io.UnsupportedOperation("skipping needs a file")
        seek(length, os.SEEK_CUR)
        self._first = False

    def next(self, closing: bytes) -> "_Section":
        """Close this list, and open the next section, with ``closing``."""
        self._batch.append(closing)
        self._flush()
        return _Section(self._out)

    def _flush(self) -> None:
        batch = self._batch
        if batch:
            self._out.write(batch[0] if len(batch) == 1 else b"".join(batch))
        self._batch, self._size = [], 0


def _items(*columns: Column) -> NDArray[np.uint8]:
    """Item i: the texts ``table[index[i]]`` of every (table, index) column in turn (index
    None: the table's row i), as bytes. Every column is one field of a record array, gathered
    by numpy; the NUL padding is dropped last."""
    n = len(columns[0][0] if columns[0][1] is None else columns[0][1])
    record = np.dtype([(f"f{j}", table.dtype) for j, (table, _) in enumerate(columns)])
    items = np.empty(n, dtype=record)
    for j, (table, index) in enumerate(columns):
        if index is None:
            items[f"f{j}"] = table
        else:  # straight into the field: ~2x faster than assigning table[index]
            np.take(table, index, out=items[f"f{j}"], mode="clip")
    text = items.view(np.uint8)
    kept: NDArray[np.uint8] = text[text != 0]
    return kept


def _items_length(*columns: Column) -> int:
    """The length of ``_items(*columns)``, without making it (the columns need not be as long
    as each other: each one's texts are counted)."""
    total = 0
    for table, index in columns:
        lengths = np.strings.str_len(table)
        total += int(lengths.sum() if index is None else np.take(lengths, index, mode="clip").sum())
    return total


def _affixed(prefix: bytes, texts: TextArray, suffix: bytes) -> TextArray:
    affixed: TextArray = np.strings.add(np.strings.add(prefix, texts), suffix)
    return affixed


def _numbers(values: IntArray, suffix: bytes) -> tuple[TextArray, IntArray]:
    """``b"%d" % v + suffix`` for each of ``values``: a table of the distinct values' texts,
    and each value's row in it."""
    if not len(values):
        return np.zeros(0, dtype="S1"), np.zeros(0, dtype=np.int64)
    low, high = int(values.min()), int(values.max())
    if high - low <= max(len(values), 1 << 16):
        present = np.zeros(high - low + 1, dtype=bool)
        present[values - low] = True
        distinct = np.flatnonzero(present) + low
        row = (np.cumsum(present) - 1)[values - low]
    else:
        distinct = unique_ints(values)
        row = np.searchsorted(distinct, values)
    return _texts([b"%d%s" % (v, suffix) for v in distinct.tolist()]), row


@dataclass(frozen=True, eq=False, slots=True)
class _CellTexts:
    """The cells' texts: ``,{"id":"k2","cases":[]}`` for each cell without cases (``empty``);
    else the cell's ``,{"id":"k1","cases":[{"id":"`` (``opening``, by cell; its last row,
    ``,{"id":"``, opens each case after the first), then each case's id and
    ``","priority":120}`` (``priority``, at each case's ``priority_row``), and ``]}`` after
    the cell's last case (``closing``' row 1)."""

    cases: IntArray  # by cell
    empty: TextArray
    opening: TextArray
    priority: TextArray
    priority_row: IntArray
    closing: TextArray

    @classmethod
    def of(cls, c: Columns) -> "_CellTexts":
        cases = np.bincount(c.case_cell, minlength=c.n_cells)
        empty = _affixed(b',{"id":"', c.cell_ids[cases == 0], b'","cases":[]}')
        opening = np.concatenate(
            (_affixed(b',{"id":"', c.cell_ids, b'","cases":[{"id":"'), _texts([b',{"id":"']))
        )
        priority, priority_row = _numbers(c.priority, b"}")
        priority = _affixed(b'","priority":', priority, b"")
        return cls(cases, empty, opening, priority, priority_row, _texts([b"", b"]}"]))


def _cell_columns(c: Columns) -> Iterator[tuple[Column, ...]]:
    """The columns (:func:`_items`) of each cell with its cases, cases grouped by cell,
    ``_BLOCK`` cases at a time; the cells without cases first."""
    texts = _CellTexts.of(c)
    yield ((texts.empty, None),)
    grouped = c.case_cell[1:] >= c.case_cell[:-1]
    order = None if grouped.all() else np.argsort(c.case_cell, kind="stable")
    cell = c.case_cell if order is None else c.case_cell[order]
    first = np.ones(len(cell), dtype=bool)
    first[1:] = cell[1:] != cell[:-1]
    last = np.ones(len(cell), dtype=bool)
    last[:-1] = first[1:]
    for start in range(0, len(cell), _BLOCK):
        part = slice(start, start + _BLOCK)
        case = np.arange(start, min(start + _BLOCK, len(cell))) if order is None else order[part]
        yield (
            (texts.opening, np.where(first[part], cell[part], c.n_cells)),
            (c.case_ids, case),
            (texts.priority, texts.priority_row[case]),
            (texts.closing, last[part].astype(np.int64)),
        )


def _cells_length(c: Columns) -> int:
    """The length of :func:`_cell_columns`' items, from how many cases each cell holds: the
    cases' order does not change it, so they are not grouped by cell (a sort at 1M cases)."""
    texts = _CellTexts.of(c)
    full = np.flatnonzero(texts.cases)
    after_first = np.full(len(c.case_cell) - len(full), c.n_cells)  # opened by ``,{"id":"``
    return _items_length(
        (texts.empty, None),
        (texts.opening, np.concatenate((full, after_first))),
        (c.case_ids, None),
        (texts.priority, texts.priority_row),
        (texts.closing, np.ones(len(full), dtype=np.int64)),
    )


def _arc_items(c: Columns, keep: IntArray | None) -> Iterator[NDArray[np.uint8]]:
    """The direct arcs (those at ``keep`` only, if given), ``_BLOCK`` at a time."""
    return _ArcTables.of(c).items(c.arc_attorney, c.arc_cell, c.affinity, keep)


@dataclass(frozen=True, eq=False, slots=True)
class _ArcTables:
    """An arc's texts: its attorney's ``,{"attorney":"a1","cell":"``, its cell's ``k1",
    "affinity":``, then its affinity's ``300}``."""

    attorney: TextArray
    cell: TextArray

    @classmethod
    def of(cls, c: Columns) -> "_ArcTables":
        attorney = _affixed(b',{"attorney":"', c.attorney_ids, b'","cell":"')
        return cls(attorney, _affixed(b"", c.cell_ids, b'","affinity":'))

    def length(self, attorney: IntArray, cell: IntArray, affinity: IntArray) -> int:
        """The length of the arcs' text (:meth:`items`), without making it."""
        texts, row = _numbers(affinity, b"}")
        return _items_length((self.attorney, attorney), (self.cell, cell), (texts, row))

    def items(
        self, attorney: IntArray, cell: IntArray, affinity: IntArray, keep: IntArray | None = None
    ) -> Iterator[NDArray[np.uint8]]:
        """The arcs (those at ``keep`` only, if given), ``_BLOCK`` at a time."""
        texts, row = _numbers(affinity, b"}")
        n = len(attorney) if keep is None else len(keep)
        for start in range(0, n, _BLOCK):
            arc = slice(start, start + _BLOCK) if keep is None else keep[start : start + _BLOCK]
            yield _items((self.attorney, attorney[arc]), (self.cell, cell[arc]), (texts, row[arc]))


def _hub_cells(hubs: Hubs, c: Columns, names: TextArray) -> Iterator[bytes]:
    """Each hub with its cells, each cell once."""
    starts = hubs.cell_start.tolist()
    quoted = _affixed(b'"', c.cell_ids, b'"')
    for h, name in enumerate(names.tolist()):
        cells = unique_ints(hubs.cell[starts[h] : starts[h + 1]])
        yield b',{"id":"' + name + b'","cells":[' + b",".join(quoted[cells].tolist()) + b"]}"


def _hub_arc_items(hubs: Hubs, c: Columns, names: TextArray) -> Iterator[NDArray[np.uint8]]:
    """The hub arcs, the best one of each (attorney, hub) pair."""
    entries = _best_entries(hubs)
    attorney = _affixed(b',{"attorney":"', c.attorney_ids, b'","hub":"')
    hub = _affixed(b"", names, b'","affinity":')
    affinity, affinity_row = _numbers(hubs.affinity, b"}")
    for start in range(0, len(entries), _BLOCK):
        part = entries[start : start + _BLOCK]
        yield _items(
            (attorney, hubs.arc_attorney[part]),
            (hub, hubs.arc_hub[part]),
            (affinity, affinity_row[part]),
        )


def _hub_items(hubs: Hubs, c: Columns, duplicates: "_Duplicates") -> Iterator[bytes]:
    """Each hub arc's paths, hub arcs grouped by (hub, affinity): the cells' texts (``"k",
    "affinity":w}``) are made once per group and joined with each attorney's prefix."""
    prefixes = _affixed(b',{"attorney":"', c.attorney_ids, b'","cell":').tolist()
    quoted = _affixed(b'"', c.cell_ids, b'"')
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
            cells = quoted[hubs.cell[starts[h] : starts[h + 1]]]
            paths = _affixed(b"", cells, b',"affinity":%d}' % w).tolist()
        prefix = prefixes[a]
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


def _duplicates(instance: Columns, hubs: Hubs) -> _Duplicates:
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
    instance: Columns, hubs: Hubs, entries: IntArray, hubs_over: IntArray
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
