"""The JSON/dict format of an instance and of a solution.

The JSON/dict format read by :func:`load_instance`::

    {"attorneys": [{"id": "a1", "capacity": 2}],
     "cells": [{"id": "k1", "cases": [{"id": "c1", "priority": 120}]}],
     "arcs": [{"attorney": "a1", "cell": "k1", "affinity": 300}],
     "excluded": [{"attorney": "a1", "case": "c7"}]}

:func:`matching.solver.writer.write_instance` writes it a piece at a time, and
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

from matching.solver.instance import Instance, InstanceError, IntArray
from matching.solver.solution import Solution

_SECTIONS = ("attorneys", "cells", "arcs", "excluded")


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
    data = _parse(source)
    _object(data, "instance", ("attorneys", "cells", "arcs"), optional=("excluded",))
    sections = ((key, _list(data[key], key)) for key in _SECTIONS if key in data)
    return _instance_of(sections, ignore_unknown_exclusions=ignore_unknown_exclusions)


def read_instance(handle: IO[bytes], *, ignore_unknown_exclusions: bool = False) -> Instance:
    """:func:`load_instance` for a file, read a piece at a time: only one attorney, cell, arc
    or exclusion is ever a Python object, never the whole document (a backlog-scale export is
    gigabytes of text). Sections must come in the order :func:`write_instance` writes them
    (attorneys, cells, arcs, excluded); a file in another order, or not an object at all, is read
    whole instead, from the start (``handle`` must then be seekable), for the same result and
    the same errors as :func:`load_instance`."""
    try:
        return _instance_of(
            _JsonStream(handle).sections(), ignore_unknown_exclusions=ignore_unknown_exclusions
        )
    except _NotInOnePass:
        handle.seek(0)
        return load_instance(handle.read(), ignore_unknown_exclusions=ignore_unknown_exclusions)


class _NotInOnePass(Exception):
    """Not an object, or a section that refers to another came before it."""


def _instance_of(
    sections: Iterable[tuple[str, Any]], *, ignore_unknown_exclusions: bool
) -> Instance:
    """Build the instance from (key, items) sections: attorneys, cells, arcs, excluded."""
    loaded: dict[str, Any] = {}
    for key, items in sections:
        if key not in _SECTIONS:
            raise InstanceError(f"instance: unexpected key {key!r}")
        if key in loaded:
            raise InstanceError(f"instance: duplicate key {key!r}")
        if key in ("arcs", "excluded") and not {"attorneys", "cells"} <= set(loaded):
            raise _NotInOnePass
        items = items if isinstance(items, Iterator) else _list(items, key)
        loaded[key] = _load_section(key, items, loaded, ignore_unknown_exclusions)
    for key in ("attorneys", "cells", "arcs"):
        if key not in loaded:
            raise InstanceError(f"instance: missing key {key!r}")
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


def _int64(values: array[int]) -> IntArray:
    return np.frombuffer(values, dtype=np.int64).copy() if len(values) else np.zeros(0, np.int64)


def _load_section(key: str, items: Iterable[Any], loaded: dict[str, Any], ignore: bool) -> Any:
    if key == "attorneys":
        return _load_attorneys(items)
    if key == "cells":
        return _load_cells(items)
    attorney_index = {attorney: i for i, attorney in enumerate(loaded["attorneys"][0])}
    if key == "arcs":
        cell_index = {cell: i for i, cell in enumerate(loaded["cells"][0])}
        return _load_arcs(items, attorney_index, cell_index)
    case_index = {case: i for i, case in enumerate(loaded["cells"][1])}
    return _load_exclusions(items, attorney_index, case_index, ignore_unknown=ignore)


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
    for k, item in enumerate(items):
        where = f"cells[{k}]"
        _object(item, where, ("id", "cases"))
        cell_ids.append(_new_id(item["id"], where, "cell", seen_cells))
        for j, case in enumerate(_list(item["cases"], f"{where}.cases")):
            case_where = f"{where}.cases[{j}]"
            _object(case, case_where, ("id", "priority"))
            case_ids.append(_new_id(case["id"], case_where, "case", seen_cases))
            priority.append(_integer(case["priority"], f"{case_where}.priority"))
            case_cell.append(k)
    return cell_ids, case_ids, case_cell, priority


def _load_arcs(
    items: Iterable[Any], attorney_index: Mapping[str, int], cell_index: Mapping[str, int]
) -> tuple[array[int], array[int], array[int]]:
    # Compact arrays: at backlog scale there are tens of millions of arcs.
    attorney, cell, affinity = array("q"), array("q"), array("q")
    i = 0
    for item in items:
        if type(item) is _Run:
            if _append_run(item, (attorney, cell, affinity), attorney_index, cell_index):
                i += len(item.rows)
                continue
            arcs = [{"attorney": a, "cell": k, "affinity": int(w)} for a, k, w in item.rows]
        else:
            arcs = [item]
        for arc in arcs:  # one at a time, for the error that names the arc
            where = f"arcs[{i}]"
            _object(arc, where, ("attorney", "cell", "affinity"))
            attorney.append(_reference(arc["attorney"], where, "attorney", attorney_index))
            cell.append(_reference(arc["cell"], where, "cell", cell_index))
            affinity.append(_integer(arc["affinity"], f"{where}.affinity"))
            i += 1
    return attorney, cell, affinity


def _append_run(
    run: "_Run",
    columns: tuple[array[int], array[int], array[int]],
    attorney_index: Mapping[str, int],
    cell_index: Mapping[str, int],
) -> bool:
    """Append a run of compact arcs without a Python loop, or return False (nothing appended)
    if one of them is wrong: an unknown id, an affinity outside 64 bits."""
    attorneys, cells, affinities = zip(*run.rows, strict=True)
    try:
        values = (
            array("q", map(attorney_index.__getitem__, attorneys)),
            array("q", map(cell_index.__getitem__, cells)),
            array("q", map(int, affinities)),
        )
    except (KeyError, OverflowError):
        return False
    for column, more in zip(columns, values, strict=True):
        column.extend(more)
    return True


def _load_exclusions(
    items: Iterable[Any],
    attorney_index: Mapping[str, int],
    case_index: Mapping[str, int],
    *,
    ignore_unknown: bool,
) -> tuple[array[int], array[int]]:
    attorney, case = array("q"), array("q")
    for i, item in enumerate(items):
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
    """Consecutive list elements in compact form, each a tuple of its values' texts."""

    rows: list[tuple[str, ...]]


@dataclass(frozen=True, slots=True)
class _Runs:
    """A list's elements in compact form (one element, then ``,``): ``element`` captures the
    values' texts, ``run`` matches as many elements in a row as there are."""

    element: re.Pattern[str]
    run: re.Pattern[str]


def _compact_arc(group: str) -> str:
    """An arc as write_instance writes it, then ``,``: keys in order, no whitespace, ids
    without escapes or control characters, an integer affinity. The texts captured (with
    ``group="("``) decode to what ``json`` decodes them to; any other arc is read by ``json``."""
    string = group + r'[^"\\\x00-\x1f]*)'
    number = group + r"-?(?:0|[1-9][0-9]*))"
    return rf'\{{"attorney":"{string}","cell":"{string}","affinity":{number}\}},'


# Arcs are read a run at a time: tens of millions of them in a backlog-scale export.
_RUNS = {
    "arcs": _Runs(
        element=re.compile(_compact_arc("(")),
        run=re.compile(f"(?:{_compact_arc('(?:')})*+"),
    )
}


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

    def _elements(self, runs: "_Runs | None" = None) -> Iterator[Any]:
        """The elements of a list, one by one; with ``runs``, each run of elements in its
        compact form comes as one :class:`_Run`."""
        if self._peek() == "]":
            self._at += 1
            return
        while True:
            if runs is not None and (run := self._run(runs)) is not None:
                yield run
                continue  # a run ends with its separator, and never with the last element
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

    def _run(self, runs: "_Runs") -> "_Run | None":
        """The elements in compact form from here on in what is already read: two scans by
        the regular expression engine, no Python per element."""
        at = self._at
        end = runs.run.match(self._text, at).end()  # type: ignore[union-attr]  # matches ""
        if end == at:
            return None
        self._at = end
        return _Run(runs.element.findall(self._text, at, end))

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


def instance_to_json(instance: Instance) -> dict[str, Any]:
    """The inverse of :func:`load_instance`, e.g. to ship a component to a Celery worker."""
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
