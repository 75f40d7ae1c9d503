"""The JSON/dict format of an instance and of a solution.

The JSON/dict format read by :func:`load_instance`::

    {"attorneys": [{"id": "a1", "capacity": 2}],
     "cells": [{"id": "k1", "cases": [{"id": "c1", "priority": 120}]}],
     "arcs": [{"attorney": "a1", "cell": "k1", "affinity": 300}],
     "excluded": [{"attorney": "a1", "case": "c7"}]}

Hubs, optional: two more sections, between ``"arcs"`` and ``"excluded"``, e.g.::

     "hubs": [{"id": "h1", "cells": ["k1", "k2"]}],
     "hub_arcs": [{"attorney": "a2", "hub": "h1", "affinity": 250}],

A file without them means exactly what it meant before they existed (so does ``"excluded"``,
also optional). They carry :class:`matching.solver.hubs.Hubs`, the run's remote-work hubs, as
the run holds them: hub ``h1`` reaches the cells it lists, and a hub arc lets its attorney into
every one of them at its affinity. A file with hubs means the plain instance in which each such
path is an arc (a2 -> k1 and a2 -> k2 at 250 above), keeping the better affinity where a pair
also has a direct arc or comes through two hubs; exclusions bind through hubs as through arcs.
Hub ids are non-empty strings, unique among hubs; a hub lists each cell at most once (it may list
none); one arc per (attorney, hub); every pair a hub path can make must score above 0, as every
arc's. ``"hub_arcs"`` may be left out (no hub is entered); ``"hubs"`` only when there are no hub
arcs.

:func:`load_instance` and :func:`read_instance` return that plain instance (hubs made arcs);
:func:`load_instance_with_hubs` and :func:`read_instance_with_hubs` return the instance and its
:class:`Hubs` apart, for :func:`matching.solver.solve_component` (``solve_instance`` does this):
tens of millions of paths at backlog scale are then never listed.

:func:`matching.solver.writer.write_instance` writes it a piece at a time, sections in the order
:func:`read_instance` reads in one pass: attorneys, cells, arcs, hubs, hub_arcs, excluded. And
:func:`solution_to_json` writes
``{"objective": 420, "assigned": 1, "assignments": [{"attorney": "a1", "case": "c1",
"score": 420}]}``.
"""

import codecs
import json
import re
from array import array
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import IO, Any

import numpy as np

from matching.solver.compact import IdTable, arc_columns, cell_columns
from matching.solver.hubs import Hubs, hub_ids, materialise
from matching.solver.instance import Instance, InstanceError, IntArray
from matching.solver.solution import Solution

_SECTIONS = ("attorneys", "cells", "arcs", "hubs", "hub_arcs", "excluded")
# The sections each one refers to, which read_instance must have read before it.
_NEEDS = {
    "arcs": ("attorneys", "cells"),
    "hubs": ("cells",),
    "hub_arcs": ("attorneys", "hubs"),
    "excluded": ("attorneys", "cells"),
}


def load_instance(
    source: str | bytes | Mapping[str, Any], *, ignore_unknown_exclusions: bool = False
) -> Instance:
    """Parse and validate the JSON/dict format (see the module docstring).

    Unknown keys are rejected rather than ignored: a misspelt ``"excluded"`` would otherwise
    silently drop conflicts of interest. ``"excluded"`` itself may be omitted.

    An exclusion naming an unknown attorney or case is an error too, since a typo there hides a
    conflict. A caller whose exclusion list legitimately covers more than this run (closed
    cases, inactive attorneys) passes ``ignore_unknown_exclusions=True``: such an exclusion
    cannot bind anyway.
    """
    return _plain(
        *load_instance_with_hubs(source, ignore_unknown_exclusions=ignore_unknown_exclusions)
    )


def load_instance_with_hubs(
    source: str | bytes | Mapping[str, Any], *, ignore_unknown_exclusions: bool = False
) -> tuple[Instance, Hubs]:
    """:func:`load_instance` without making hub paths arcs: the instance and its hubs
    (``Hubs.none()`` for a file without hubs, whose instance is then :func:`load_instance`'s)."""
    data = _parse(source)
    optional = ("hubs", "hub_arcs", "excluded")
    _object(data, "instance", ("attorneys", "cells", "arcs"), optional=optional)
    sections = ((key, _list(data[key], key)) for key in _SECTIONS if key in data)
    return _instance_of(
        sections, ignore_unknown_exclusions=ignore_unknown_exclusions, in_order=True
    )


def read_instance(handle: IO[bytes], *, ignore_unknown_exclusions: bool = False) -> Instance:
    """:func:`load_instance` for a file, read a piece at a time: only one attorney, cell, arc
    or exclusion is ever a Python object, never the whole document (a backlog-scale export is
    gigabytes of text). Sections must come in the order :func:`write_instance` writes them
    (attorneys, cells, arcs, hubs, hub_arcs, excluded; a section may come earlier, just never
    before one it refers to); a file in another order, or not an object at all, is read whole
    instead, from the start (``handle`` must then be seekable), for the same result and the same
    errors as :func:`load_instance`."""
    return _plain(
        *read_instance_with_hubs(handle, ignore_unknown_exclusions=ignore_unknown_exclusions)
    )


def read_instance_with_hubs(
    handle: IO[bytes], *, ignore_unknown_exclusions: bool = False
) -> tuple[Instance, Hubs]:
    """:func:`read_instance` without making hub paths arcs (see
    :func:`load_instance_with_hubs`)."""
    try:
        return _instance_of(
            _JsonStream(handle).sections(), ignore_unknown_exclusions=ignore_unknown_exclusions
        )
    except _NotInOnePass:
        handle.seek(0)
        return load_instance_with_hubs(
            handle.read(), ignore_unknown_exclusions=ignore_unknown_exclusions
        )


def _plain(instance: Instance, hubs: Hubs) -> Instance:
    """The instance a file with hubs means: every hub path an arc."""
    return materialise(instance, hubs) if len(hubs.arc_attorney) else instance


class _NotInOnePass(Exception):
    """Not an object, or a section that refers to another came before it."""


def _instance_of(
    sections: Iterable[tuple[str, Any]], *, ignore_unknown_exclusions: bool, in_order: bool = False
) -> tuple[Instance, Hubs]:
    """Build the instance and its hubs from (key, items) sections (``in_order``: in the order
    of ``_SECTIONS``, each one there or never)."""
    loaded: dict[str, Any] = {}
    for key, items in sections:
        if key not in _SECTIONS:
            raise InstanceError(f"instance: unexpected key {key!r}")
        if key in loaded:
            raise InstanceError(f"instance: duplicate key {key!r}")
        if key == "hub_arcs" and in_order and "hubs" not in loaded:
            loaded["hubs"] = ([], array("q", [0]), array("q"))  # every hub is unknown
        if not set(_NEEDS.get(key, ())) <= set(loaded):
            raise _NotInOnePass
        items = items if isinstance(items, Iterator) else _list(items, key)
        loaded[key] = _load_section(key, items, loaded, ignore_unknown_exclusions)
    for key in ("attorneys", "cells", "arcs"):
        if key not in loaded:
            raise InstanceError(f"instance: missing key {key!r}")
    instance = _instance_from(loaded)
    return instance, _hubs_from(loaded, instance)


def _instance_from(loaded: dict[str, Any]) -> Instance:
    attorney_ids, capacity = loaded["attorneys"]
    cell_ids, case_ids, case_cell, priority = loaded["cells"]
    arc_attorney, arc_cell, affinity = loaded["arcs"]
    excluded_attorney, excluded_case = loaded.get("excluded", (array("q"), array("q")))
    return Instance.from_arrays(
        attorney_ids=attorney_ids,
        capacity=np.array(capacity, dtype=np.int64),
        cell_ids=cell_ids,
        case_ids=case_ids,
        case_cell=_int64(case_cell),
        priority=_int64(priority),
        arc_attorney=_int64(arc_attorney),
        arc_cell=_int64(arc_cell),
        affinity=_int64(affinity),
        excluded_attorney=_int64(excluded_attorney),
        excluded_case=_int64(excluded_case),
    )


def _hubs_from(loaded: dict[str, Any], instance: Instance) -> Hubs:
    """The hubs over ``instance``, whose attorneys and cells are in canonical order: the
    file's positions are mapped to it first."""
    if "hubs" not in loaded and "hub_arcs" not in loaded:
        return Hubs.none()
    ids, cell_start, cell = loaded["hubs"]
    arc_attorney, arc_hub, affinity = loaded.get("hub_arcs", (array("q"),) * 3)
    attorney_position = _positions(instance.attorney_ids, loaded["attorneys"][0])
    cell_position = _positions(instance.cell_ids, loaded["cells"][0])
    return Hubs.from_arrays(
        instance,
        hub_ids=ids,
        cell_start=_int64(cell_start),
        cell=cell_position[_int64(cell)],
        arc_attorney=attorney_position[_int64(arc_attorney)],
        arc_hub=_int64(arc_hub),
        affinity=_int64(affinity),
    )


def _positions(canonical: Any, ids: list[str]) -> IntArray:
    """Where each of ``ids`` (all of them in ``canonical``) sits in ``canonical``."""
    index = {identifier: i for i, identifier in enumerate(canonical.tolist())}
    return np.fromiter(map(index.__getitem__, ids), dtype=np.int64, count=len(ids))


def _int64(values: array[int]) -> IntArray:
    return np.frombuffer(values, dtype=np.int64).copy() if len(values) else np.zeros(0, np.int64)


def _load_section(key: str, items: Iterable[Any], loaded: dict[str, Any], ignore: bool) -> Any:
    if key == "attorneys":
        return _load_attorneys(items)
    if key == "cells":
        return _load_cells(items)
    index = _Indexes(loaded)
    if key == "hubs":
        return _load_hubs(items, index("cell"))
    if key == "arcs":
        return _load_arcs(items, "arcs", "cell", index("attorney"), index("cell"))
    if key == "hub_arcs":
        return _load_arcs(items, "hub_arcs", "hub", index("attorney"), index("hub"))
    return _load_exclusions(items, index, ignore_unknown=ignore)


class _Indexes:
    """``{id: position}`` of the attorneys, cells, cases or hubs loaded, each made when first
    asked for (a million cases' only for exclusions, when there are some)."""

    _COLUMNS = {"attorney": ("attorneys", 0), "cell": ("cells", 0), "case": ("cells", 1)}

    def __init__(self, loaded: dict[str, Any]) -> None:
        self._loaded, self._made = loaded, dict[str, dict[str, int]]()

    def __call__(self, kind: str) -> dict[str, int]:
        if kind not in self._made:
            section, column = self._COLUMNS.get(kind, ("hubs", 0))
            ids = self._loaded[section][column]
            self._made[kind] = {identifier: i for i, identifier in enumerate(ids)}
        return self._made[kind]


def _parse(source: str | bytes | Mapping[str, Any]) -> Any:
    if isinstance(source, Mapping):
        return source
    try:
        return json.loads(source)
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise InstanceError(f"malformed JSON: {error}") from error


def _load_attorneys(items: Iterable[Any]) -> tuple[list[str], list[int]]:
    ids: list[str] = []
    capacity: list[int] = []
    seen: set[str] = set()
    for i, item in enumerate(items):
        where = f"attorneys[{i}]"
        _object(item, where, ("id", "capacity"))
        ids.append(_new_id(item["id"], where, "attorney", seen))
        capacity.append(_integer(item["capacity"], f"{where}.capacity"))
    return ids, capacity


def _load_cells(items: Iterable[Any]) -> tuple[list[str], list[str], array[int], array[int]]:
    cell_ids: list[str] = []
    case_ids: list[str] = []
    case_cell, priority = array("q"), array("q")
    seen_cells: set[str] = set()
    seen_cases: set[str] = set()
    k = 0
    for item in items:
        if type(item) is _Run:
            found = cell_columns(item.text)
            if found and _all_new(((found[0], seen_cells), (found[1], seen_cases))):
                cell_ids.extend(found[0])
                case_ids.extend(found[1])
                case_cell.frombytes((found[2] + k).tobytes())
                priority.frombytes(found[3].tobytes())
                k += len(found[0])
                continue
        for cell in item.values() if type(item) is _Run else [item]:
            where = f"cells[{k}]"
            _object(cell, where, ("id", "cases"))
            cell_ids.append(_new_id(cell["id"], where, "cell", seen_cells))
            for j, case in enumerate(_list(cell["cases"], f"{where}.cases")):
                case_where = f"{where}.cases[{j}]"
                _object(case, case_where, ("id", "priority"))
                case_ids.append(_new_id(case["id"], case_where, "case", seen_cases))
                priority.append(_integer(case["priority"], f"{case_where}.priority"))
                case_cell.append(k)
            k += 1
    return cell_ids, case_ids, case_cell, priority


def _all_new(ids_seen: Sequence[tuple[list[str], set[str]]]) -> bool:
    """Add each list of ids to its set of those seen if none of them is seen or repeated (then
    True); else add nothing (the caller reads one by one, for the error)."""
    fresh = [(set(ids), len(ids), seen) for ids, seen in ids_seen]
    if any(len(new) < n or not seen.isdisjoint(new) for new, n, seen in fresh):
        return False
    for new, _, seen in fresh:
        seen |= new
    return True


def _load_hubs(
    items: Iterable[Any], cell_index: Mapping[str, int]
) -> tuple[list[str], array[int], array[int]]:
    ids: list[str] = []
    cell_start, cell = array("q", [0]), array("q")
    seen: set[str] = set()
    for h, item in enumerate(items):
        where = f"hubs[{h}]"
        _object(item, where, ("id", "cells"))
        ids.append(_new_id(item["id"], where, "hub", seen))
        for j, value in enumerate(_list(item["cells"], f"{where}.cells")):
            identifier = _id(value, f"{where}.cells[{j}]")
            if identifier not in cell_index:
                raise InstanceError(f"{where}.cells[{j}]: unknown cell {identifier!r}")
            cell.append(cell_index[identifier])
        cell_start.append(len(cell))
    return ids, cell_start, cell


def _load_arcs(
    items: Iterable[Any],
    key: str,
    target: str,
    attorney_index: Mapping[str, int],
    target_index: Mapping[str, int],
) -> tuple[array[int], array[int], array[int]]:
    """Arcs from an attorney to a ``target`` (cell, or hub for ``hub_arcs``)."""
    # Compact arrays: at backlog scale there are tens of millions of arcs.
    columns = attorney, head, affinity = array("q"), array("q"), array("q")
    tables: tuple[IdTable, IdTable] | None = None
    i = 0
    for item in items:
        if type(item) is _Run:
            tables = tables or (IdTable(attorney_index), IdTable(target_index))
            if found := arc_columns(item.text, *tables):
                for column, more in zip(columns, found, strict=True):
                    column.frombytes(more.astype(np.int64).tobytes())
                i += len(found[0])
                continue
        # One at a time, for the error that names the arc.
        for arc in item.values() if type(item) is _Run else [item]:
            where = f"{key}[{i}]"
            _object(arc, where, ("attorney", target, "affinity"))
            attorney.append(_reference(arc["attorney"], where, "attorney", attorney_index))
            head.append(_reference(arc[target], where, target, target_index))
            affinity.append(_integer(arc["affinity"], f"{where}.affinity"))
            i += 1
    return attorney, head, affinity


def _load_exclusions(
    items: Iterable[Any], index: _Indexes, *, ignore_unknown: bool
) -> tuple[array[int], array[int]]:
    attorney, case = array("q"), array("q")
    for i, item in enumerate(items):
        attorney_index, case_index = index("attorney"), index("case")
        where = f"excluded[{i}]"
        _object(item, where, ("attorney", "case"))
        known = (
            _id(item["attorney"], f"{where}.attorney") in attorney_index
            and _id(item["case"], f"{where}.case") in case_index
        )
        if ignore_unknown and not known:
            continue
        attorney.append(_reference(item["attorney"], where, "attorney", attorney_index))
        case.append(_reference(item["case"], where, "case", case_index))
    return attorney, case


def _list(value: Any, where: str) -> list[Any]:
    if not isinstance(value, list):
        raise InstanceError(f"{where}: expected a list, got {type(value).__name__}")
    return value


def _object(value: Any, where: str, required: Sequence[str], optional: Sequence[str] = ()) -> None:
    if type(value) is dict and value.keys() == set(required):
        return  # the common case, quickly: tens of millions of arcs at backlog scale
    if not isinstance(value, Mapping):
        raise InstanceError(f"{where}: expected an object, got {type(value).__name__}")
    for key in required:
        if key not in value:
            raise InstanceError(f"{where}: missing key {key!r}")
    for key in value:
        if key not in required and key not in optional:
            raise InstanceError(f"{where}: unexpected key {key!r}")


def _integer(value: Any, where: str) -> int:
    # bool is an int subclass, but "capacity": true is a mistake, not 1.
    if not isinstance(value, int) or isinstance(value, bool):
        raise InstanceError(f"{where}: expected an integer, got {type(value).__name__}")
    if not -(2**63) <= value < 2**63:
        raise InstanceError(f"{where}: {value} does not fit in 64 bits")
    return value


def _id(value: Any, where: str) -> str:
    if not isinstance(value, str) or not value:
        raise InstanceError(f"{where}: id must be a non-empty string, got {value!r}")
    return value


def _new_id(value: Any, where: str, kind: str, seen: set[str]) -> str:
    identifier = _id(value, f"{where}.id")
    if identifier in seen:
        raise InstanceError(f"{where}: duplicate {kind} id {identifier!r}")
    seen.add(identifier)
    return identifier


def _reference(value: Any, where: str, kind: str, index: Mapping[str, int]) -> int:
    identifier = _id(value, f"{where}.{kind}")
    if identifier not in index:
        raise InstanceError(f"{where}: unknown {kind} {identifier!r}")
    return index[identifier]


@dataclass(frozen=True, slots=True)
class _Run:
    """Consecutive list elements in compact form: their text (each element, then ``,``), read
    by numpy (solver/compact.py), or by ``json`` (:meth:`values`)."""

    text: str

    def values(self) -> list[Any]:
        decoded: list[Any] = json.loads(f"[{self.text[:-1]}]")
        return decoded


# A list's elements in compact form, as write_instance writes them (keys in order, no
# whitespace, ids without escapes or control characters, integers), each then ",".
_STRING = r'"[^"\\\x00-\x1f]*"'
_INTEGER = r"-?(?:0|[1-9][0-9]*)"
_CASE = rf'\{{"id":{_STRING},"priority":{_INTEGER}\}}'


def _arc(target: str) -> str:
    return rf'\{{"attorney":{_STRING},"{target}":{_STRING},"affinity":{_INTEGER}\}},'


# Runs of elements: tens of millions of arcs, a million cases, in a backlog-scale export.
_RUNS = {
    key: re.compile(f"(?:{element})*+")
    for key, element in (
        ("arcs", _arc("cell")),
        ("hub_arcs", _arc("hub")),
        ("cells", rf'\{{"id":{_STRING},"cases":\[(?:{_CASE}(?:,{_CASE})*+)?\]\}},'),
    )
}


# A run reads on when less than this is left: else json would decode the element cut short,
# fail, and try again once more is read (each failure counting the piece's lines).
_REFILL = 1 << 16


class _JsonStream:
    """A JSON object read a piece at a time: its keys, and each element of a list value one by
    one (``json``'s own decoder decodes every element, so the syntax is exactly JSON's)."""

    _WHITESPACE = " \t\n\r"

    def __init__(self, handle: IO[bytes], *, chunk: int = 1 << 20) -> None:
        self._handle, self._chunk = handle, chunk
        self._utf8 = codecs.getincrementaldecoder("utf-8")()
        self._decode = json.JSONDecoder().raw_decode
        self._text, self._at, self._eof = "", 0, False

    def sections(self) -> Iterator[tuple[str, Any]]:
        """(key, value) of the top-level object; a list value comes as an iterator of its
        elements, which the caller consumes before asking for the next key."""
        if self._peek() != "{":
            raise _NotInOnePass
        self._at += 1
        if self._peek() == "}":
            self._at += 1
        else:
            while True:
                key = self._value()
                if not isinstance(key, str):
                    raise InstanceError("malformed JSON: expected a key")
                self._expect(":")
                if self._peek() == "[":
                    self._at += 1
                    yield key, self._elements(_RUNS.get(key))
                else:
                    yield key, self._value()
                if self._peek() != ",":
                    self._expect("}")
                    break
                self._at += 1
        if self._peek():
            raise InstanceError("malformed JSON: extra data after the instance")

    def _elements(self, runs: re.Pattern[str] | None = None) -> Iterator[Any]:
        """The elements of a list, one by one; with ``runs``, each run of elements in its
        compact form comes as one :class:`_Run`."""
        if self._peek() == "]":
            self._at += 1
            return
        while True:
            if runs is not None:
                if (run := self._run(runs)) is not None:
                    yield run
                    continue  # a run ends with its separator, and never with the last element
                if len(self._text) - self._at < _REFILL and self._more():
                    continue  # the next element may be cut short by the end of the piece
            yield self._value()
            # Compact JSON puts the separator right after the value: no whitespace to skip.
            at = self._at
            separator = self._text[at] if at < len(self._text) else self._peek()
            if separator in self._WHITESPACE:
                separator = self._peek()
            self._at += 1
            if separator == "]":
                return
            if separator != ",":
                raise InstanceError("malformed JSON: expected ',' or ']'")

    def _run(self, runs: re.Pattern[str]) -> "_Run | None":
        """The elements in compact form from here on in what is already read: one scan by
        the regular expression engine, no Python per element."""
        at = self._at
        end = runs.match(self._text, at).end()  # type: ignore[union-attr]  # matches ""
        if end == at:
            return None
        self._at = end
        return _Run(self._text[at:end])

    def _value(self) -> Any:
        if self._at >= len(self._text) or self._text[self._at] in self._WHITESPACE:
            self._peek()
        while True:
            try:
                value, end = self._decode(self._text, self._at)
            except json.JSONDecodeError as error:
                if self._more():
                    continue  # the value goes on in the next piece
                raise InstanceError(f"malformed JSON: {error.msg}") from None
            if end == len(self._text) and self._more():
                continue  # a number may go on in the next piece
            self._at = end
            return value

    def _expect(self, char: str) -> None:
        if self._peek() != char:
            raise InstanceError(f"malformed JSON: expected {char!r}")
        self._at += 1

    def _peek(self) -> str:
        """The next character that is not whitespace ("" at the end), not consumed."""
        while True:
            while self._at < len(self._text) and self._text[self._at] in self._WHITESPACE:
                self._at += 1
            if self._at < len(self._text):
                return self._text[self._at]
            if not self._more():
                return ""

    def _more(self) -> bool:
        """Read the next piece after what is left unconsumed; False at the end of the file."""
        if self._eof:
            return False
        data = self._handle.read(self._chunk)
        try:
            text = self._utf8.decode(data, final=not data)
        except UnicodeDecodeError as error:
            raise InstanceError(f"malformed JSON: {error}") from None
        self._eof = not data
        self._text, self._at = self._text[self._at :] + text, 0
        return bool(data) or bool(text)


def instance_to_json(instance: Instance, hubs: Hubs | None = None) -> dict[str, Any]:
    """The inverse of :func:`load_instance`, e.g. to ship a component to a Celery worker; with
    ``hubs``, of :func:`load_instance_with_hubs` (hubs named as :func:`hub_ids` names them)."""
    data = _plain_json(instance)
    if hubs is None:
        return data
    names = hub_ids(hubs.n_hubs)
    starts, cells = hubs.cell_start.tolist(), instance.cell_ids[hubs.cell].tolist()
    hub_arcs = zip(
        hubs.arc_attorney.tolist(), hubs.arc_hub.tolist(), hubs.affinity.tolist(), strict=True
    )
    return {
        **{key: data[key] for key in ("attorneys", "cells", "arcs")},
        "hubs": [
            {"id": name, "cells": cells[starts[h] : starts[h + 1]]} for h, name in enumerate(names)
        ],
        "hub_arcs": [
            {"attorney": instance.attorney_ids[a], "hub": names[h], "affinity": w}
            for a, h, w in hub_arcs
        ],
        "excluded": data["excluded"],
    }


def _plain_json(instance: Instance) -> dict[str, Any]:
    starts = instance.cell_start.tolist()
    case_ids, priority = instance.case_ids.tolist(), instance.priority.tolist()
    return {
        "attorneys": [
            {"id": a, "capacity": c}
            for a, c in zip(instance.attorney_ids.tolist(), instance.capacity.tolist(), strict=True)
        ],
        "cells": [
            {
                "id": cell,
                "cases": [
                    {"id": case_ids[j], "priority": priority[j]}
                    for j in range(starts[k], starts[k + 1])
                ],
            }
            for k, cell in enumerate(instance.cell_ids.tolist())
        ],
        "arcs": [
            {"attorney": instance.attorney_ids[a], "cell": instance.cell_ids[k], "affinity": w}
            for a, k, w in zip(
                instance.arc_attorney.tolist(),
                instance.arc_cell.tolist(),
                instance.affinity.tolist(),
                strict=True,
            )
        ],
        "excluded": [
            {"attorney": instance.attorney_ids[a], "case": case_ids[c]}
            for a, c in zip(
                instance.excluded_attorney.tolist(), instance.excluded_case.tolist(), strict=True
            )
        ],
    }


def solution_to_json(solution: Solution) -> dict[str, Any]:
    return {
        "objective": solution.objective,
        "assigned": solution.assigned,
        "assignments": [
            {"attorney": a.attorney, "case": a.case, "score": a.score} for a in solution.assignments
        ],
    }
