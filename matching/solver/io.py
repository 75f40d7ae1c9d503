"""The JSON/dict format of an instance and of a solution.

The JSON/dict format read by :func:`load_instance`::

    {"attorneys": [{"id": "a1", "capacity": 2}],
     "cells": [{"id": "k1", "cases": [{"id": "c1", "priority": 120}]}],
     "arcs": [{"attorney": "a1", "cell": "k1", "affinity": 300}],
     "excluded": [{"attorney": "a1", "case": "c7"}]}

and :func:`solution_to_json` writes
``{"objective": 420, "assigned": 1, "assignments": [{"attorney": "a1", "case": "c1",
"score": 420}]}``.
"""

import json
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from matching.solver.instance import Instance, InstanceError
from matching.solver.solution import Solution


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
    attorney_ids, capacity = _load_attorneys(data["attorneys"])
    cell_ids, case_ids, case_cell, priority = _load_cells(data["cells"])
    attorney_index = {attorney: i for i, attorney in enumerate(attorney_ids)}
    arc_attorney, arc_cell, affinity = _load_arcs(
        data["arcs"], attorney_index, {cell: i for i, cell in enumerate(cell_ids)}
    )
    excluded_attorney, excluded_case = _load_exclusions(
        data.get("excluded", []),
        attorney_index,
        {case: i for i, case in enumerate(case_ids)},
        ignore_unknown=ignore_unknown_exclusions,
    )
    return Instance.from_arrays(
        attorney_ids=attorney_ids,
        capacity=np.array(capacity, dtype=np.int64),
        cell_ids=cell_ids,
        case_ids=case_ids,
        case_cell=np.array(case_cell, dtype=np.int64),
        priority=np.array(priority, dtype=np.int64),
        arc_attorney=np.array(arc_attorney, dtype=np.int64),
        arc_cell=np.array(arc_cell, dtype=np.int64),
        affinity=np.array(affinity, dtype=np.int64),
        excluded_attorney=np.array(excluded_attorney, dtype=np.int64),
        excluded_case=np.array(excluded_case, dtype=np.int64),
    )


def _parse(source: str | bytes | Mapping[str, Any]) -> Any:
    if isinstance(source, Mapping):
        return source
    try:
        return json.loads(source)
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise InstanceError(f"malformed JSON: {error}") from error


def _load_attorneys(items: Any) -> tuple[list[str], list[int]]:
    ids: list[str] = []
    capacity: list[int] = []
    seen: set[str] = set()
    for i, item in enumerate(_list(items, "attorneys")):
        where = f"attorneys[{i}]"
        _object(item, where, ("id", "capacity"))
        ids.append(_new_id(item["id"], where, "attorney", seen))
        capacity.append(_integer(item["capacity"], f"{where}.capacity"))
    return ids, capacity


def _load_cells(items: Any) -> tuple[list[str], list[str], list[int], list[int]]:
    cell_ids: list[str] = []
    case_ids: list[str] = []
    case_cell: list[int] = []
    priority: list[int] = []
    seen_cells: set[str] = set()
    seen_cases: set[str] = set()
    for k, item in enumerate(_list(items, "cells")):
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
    items: Any, attorney_index: Mapping[str, int], cell_index: Mapping[str, int]
) -> tuple[list[int], list[int], list[int]]:
    attorney: list[int] = []
    cell: list[int] = []
    affinity: list[int] = []
    for i, item in enumerate(_list(items, "arcs")):
        where = f"arcs[{i}]"
        _object(item, where, ("attorney", "cell", "affinity"))
        attorney.append(_reference(item["attorney"], where, "attorney", attorney_index))
        cell.append(_reference(item["cell"], where, "cell", cell_index))
        affinity.append(_integer(item["affinity"], f"{where}.affinity"))
    return attorney, cell, affinity


def _load_exclusions(
    items: Any,
    attorney_index: Mapping[str, int],
    case_index: Mapping[str, int],
    *,
    ignore_unknown: bool,
) -> tuple[list[int], list[int]]:
    attorney: list[int] = []
    case: list[int] = []
    for i, item in enumerate(_list(items, "excluded")):
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
