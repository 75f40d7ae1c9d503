"""The instance format's optional hubs sections (matching/solver/io.py): a file with hubs means
its expanded form, read a piece at a time, solved without listing the paths; bad hubs are named.
No database needed."""

import io
import json
import re
from typing import Any

import numpy as np
import pytest
from hypothesis import given

from matching.solver import (
    Hubs,
    InstanceError,
    instance_to_json,
    load_instance,
    load_instance_with_hubs,
    materialise,
    read_instance,
    read_instance_with_hubs,
    solve,
    solve_component,
    write_instance,
)
from tests.matching.test_solver import (
    PROPERTY,
    Trickle,
    assert_feasible,
    compact,
    exact_objective,
    instances,
    instances_with_hubs,
)

WITH_HUBS: dict[str, Any] = {
    "attorneys": [{"id": "a1", "capacity": 2}, {"id": "a2", "capacity": 2}],
    "cells": [
        {"id": "k1", "cases": [{"id": "c1", "priority": 120}]},
        {"id": "k2", "cases": [{"id": "c2", "priority": 80}, {"id": "c3", "priority": 5}]},
    ],
    "arcs": [{"attorney": "a1", "cell": "k1", "affinity": 300}],
    "hubs": [{"id": "h1", "cells": ["k1", "k2"]}, {"id": "h2", "cells": []}],
    "hub_arcs": [
        {"attorney": "a2", "hub": "h1", "affinity": 250},
        {"attorney": "a1", "hub": "h1", "affinity": 10},
    ],
    "excluded": [{"attorney": "a2", "case": "c2"}],
}

# WITH_HUBS with every hub path an arc, the better affinity where a pair has two.
EXPANDED: dict[str, Any] = {
    "attorneys": WITH_HUBS["attorneys"],
    "cells": WITH_HUBS["cells"],
    "arcs": [
        {"attorney": "a1", "cell": "k1", "affinity": 300},
        {"attorney": "a1", "cell": "k2", "affinity": 10},
        {"attorney": "a2", "cell": "k1", "affinity": 250},
        {"attorney": "a2", "cell": "k2", "affinity": 250},
    ],
    "excluded": WITH_HUBS["excluded"],
}


def test_a_file_with_hubs_means_its_expanded_form():
    plain = instance_to_json(load_instance(EXPANDED))

    assert instance_to_json(load_instance(WITH_HUBS)) == plain
    assert instance_to_json(read_instance(Trickle(compact(WITH_HUBS).encode()))) == plain


def test_a_file_with_hubs_solves_to_its_expanded_forms_optimum():
    instance, hubs = load_instance_with_hubs(WITH_HUBS)

    solution = solve_component(instance, hubs)

    # a1 takes c1 (420) and c2 through the hub (90); a2, excluded from c2, takes c3 (255).
    assert solution.objective == solve(load_instance(EXPANDED)).objective == 765
    assert solution.objective == exact_objective(EXPANDED)
    assert_feasible(EXPANDED, solution)


@PROPERTY
@given(instances())
def test_a_file_without_hubs_reads_as_before(data):
    instance, hubs = load_instance_with_hubs(data)

    assert hubs.n_hubs == 0 and len(hubs.arc_attorney) == 0
    assert instance_to_json(instance) == instance_to_json(load_instance(data))


@PROPERTY
@given(instances_with_hubs())
def test_hubs_written_read_and_solved_equal_the_expanded_file(case):
    """write_instance with hubs, then read_instance_with_hubs (whole and a few bytes at a time):
    the same instance and hubs, and the same optimum as the expanded file's."""
    instance, hubs = case
    with_hubs, expanded = io.BytesIO(), io.BytesIO()
    write_instance(instance, with_hubs, hubs=hubs)
    write_instance(instance, expanded, hubs=hubs, expand_hubs=True)
    assert "hubs" not in json.loads(expanded.getvalue())

    canonical = instance_to_json(*load_instance_with_hubs(instance_to_json(instance, hubs)))
    for read in (
        lambda: load_instance_with_hubs(with_hubs.getvalue()),
        lambda: read_instance_with_hubs(Trickle(with_hubs.getvalue())),
    ):
        again, again_hubs = read()
        assert instance_to_json(again, again_hubs) == canonical
        plain = load_instance(expanded.getvalue())
        assert instance_to_json(materialise(again, again_hubs)) == instance_to_json(plain)
        assert solve_component(again, again_hubs).objective == solve(plain).objective


def test_the_run_holds_a_hub_arc_twice_and_a_cell_twice_the_file_holds_the_best_once():
    instance = load_instance({**EXPANDED, "arcs": [], "excluded": []})
    hubs = Hubs(
        cell_start=_ints([0, 3]),
        cell=_ints([0, 1, 1]),
        arc_attorney=_ints([1, 1]),
        arc_hub=_ints([0, 0]),
        affinity=_ints([7, 9]),
    )
    out = io.BytesIO()

    write_instance(instance, out, hubs=hubs)

    data = json.loads(out.getvalue())
    assert data["hubs"] == [{"id": "h0", "cells": ["k1", "k2"]}]
    assert data["hub_arcs"] == [{"attorney": "a2", "hub": "h0", "affinity": 9}]


def test_sections_in_another_order_are_read_whole_for_the_same_result():
    text = json.dumps({"hub_arcs": WITH_HUBS["hub_arcs"], **WITH_HUBS}, indent=1).encode()

    instance, hubs = read_instance_with_hubs(Trickle(text))

    assert instance_to_json(instance, hubs) == instance_to_json(*load_instance_with_hubs(WITH_HUBS))


def test_hubs_sort_by_id_whatever_order_they_come_in():
    shuffled = {
        **WITH_HUBS,
        "hubs": WITH_HUBS["hubs"][::-1],
        "hub_arcs": WITH_HUBS["hub_arcs"][::-1],
    }

    assert instance_to_json(*load_instance_with_hubs(shuffled)) == instance_to_json(
        *load_instance_with_hubs(WITH_HUBS)
    )


def _with(**sections: Any) -> dict[str, Any]:
    return {**WITH_HUBS, **sections}


def _hub_arc(attorney: str, hub: Any, affinity: Any) -> dict[str, Any]:
    return {"attorney": attorney, "hub": hub, "affinity": affinity}


BAD_HUBS = [
    (_with(hubs={"id": "h1"}), "hubs: expected a list, got dict"),
    (_with(hubs=[{"id": "h1", "cells": ["k1"], "size": 1}]), "hubs[0]: unexpected key 'size'"),
    (_with(hubs=[{"cells": ["k1"]}]), "hubs[0]: missing key 'id'"),
    (_with(hubs=[{"id": "", "cells": []}]), "hubs[0].id: id must be a non-empty string"),
    (
        _with(hubs=[{"id": "h1", "cells": []}, {"id": "h1", "cells": []}]),
        "hubs[1]: duplicate hub id 'h1'",
    ),
    (_with(hubs=[{"id": "h1", "cells": "k1"}]), "hubs[0].cells: expected a list, got str"),
    (_with(hubs=[{"id": "h1", "cells": ["k1", "k9"]}]), "hubs[0].cells[1]: unknown cell 'k9'"),
    (_with(hubs=[{"id": "h1", "cells": ["k1", 3]}]), "hubs[0].cells[1]: id must be a non-empty"),
    (
        _with(hubs=[{"id": "h2", "cells": []}, {"id": "h1", "cells": ["k2", "k1", "k2"]}]),
        "hubs[1]: hub 'h1' lists cell 'k2' twice",
    ),
    (_with(hub_arcs=[_hub_arc("a1", "h9", 5)]), "hub_arcs[0]: unknown hub 'h9'"),
    (_with(hub_arcs=[_hub_arc("a9", "h1", 5)]), "hub_arcs[0]: unknown attorney 'a9'"),
    (_with(hub_arcs=[_hub_arc("a1", "h1", "5")]), "hub_arcs[0].affinity: expected an integer"),
    (
        _with(hub_arcs=[_hub_arc("a1", "h1", 2**40)]),
        "hub_arcs[0]: affinity 1099511627776 is out of range",
    ),
    (
        _with(hub_arcs=[{"attorney": "a1", "cell": "k1", "affinity": 5}]),
        "hub_arcs[0]: missing key 'hub'",
    ),
    (
        _with(hub_arcs=[_hub_arc("a1", "h2", 5), _hub_arc("a2", "h1", 5), _hub_arc("a1", "h2", 6)]),
        "hub_arcs[2]: duplicate arc from attorney 'a1' to hub 'h2'",
    ),
    (
        _with(hub_arcs=[_hub_arc("a1", "h2", -500), _hub_arc("a2", "h1", -5)]),
        "hub_arcs[1]: attorney 'a2' and case 'c3' (hub 'h1', cell 'k2') score 0 (affinity -5 + "
        "priority 5); every allowed pair must score above 0",
    ),
    (
        {key: value for key, value in WITH_HUBS.items() if key != "hubs"},
        "hub_arcs[0]: unknown hub 'h1'",
    ),
    (_with(hubs_arcs=[]), "instance: unexpected key 'hubs_arcs'"),
]


@pytest.mark.parametrize(("source", "message"), BAD_HUBS, ids=[m for _, m in BAD_HUBS])
def test_it_rejects_bad_hubs_naming_the_item(source, message):
    text = json.dumps(source).encode()

    for read in (
        lambda: load_instance(source),
        lambda: load_instance_with_hubs(text),
        lambda: read_instance_with_hubs(Trickle(text)),
        lambda: read_instance(io.BytesIO(compact(source).encode())),
    ):
        with pytest.raises(InstanceError, match="^" + re.escape(message)):
            read()


def test_read_instance_names_the_hub_arc_at_fault_in_a_run_of_compact_arcs():
    arcs = [_hub_arc("a1", "h2", 5), _hub_arc("a2", "h2", 5), _hub_arc("a2", "h9", 5)]
    text = compact(_with(hub_arcs=arcs)).encode()

    with pytest.raises(InstanceError, match=re.escape("hub_arcs[2]: unknown hub 'h9'")):
        read_instance_with_hubs(io.BytesIO(text))


def _ints(values: list[int]) -> Any:
    return np.array(values, dtype=np.int64)
