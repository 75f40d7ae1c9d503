"""The export's columns (matching/pipeline/export.py, solver/writer.py's Columns): ids made by
numpy as the run makes them, and columns in any order written as the instance they hold. No
database needed (the export against the run: tests/matching/test_commands.py)."""

import io
import os
import random
import tempfile
from itertools import pairwise
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from matching.pipeline.export import ATTORNEY_DIGITS, CASE_DIGITS
from matching.pipeline.load import attorney_id, case_id
from matching.solver import (
    Hubs,
    Instance,
    instance_to_json,
    load_instance,
    load_instance_with_hubs,
    writer,
)
from matching.solver.writer import (
    Columns,
    id_texts,
    numbered_texts,
    write_in_parts,
    write_instance,
)
from tests.matching.test_solver import PROPERTY, build, instances_with_hubs


@pytest.mark.parametrize("numbers", [[0, 7, 123_456_789, 999_999_999], [1, 10**9 + 5], []])
def test_numbered_texts_are_the_runs_ids(numbers):
    pks = np.array(numbers, dtype=np.int64)

    attorneys = numbered_texts("a", pks, ATTORNEY_DIGITS).tolist()
    cases = numbered_texts("c", pks, CASE_DIGITS).tolist()

    assert attorneys == [attorney_id(pk).encode() for pk in numbers]
    assert cases == [case_id(pk).encode() for pk in numbers]


def test_ids_are_escaped_as_json_escapes_them():
    data = build(
        {'a"1': 1, "å\\2": 2},
        {"k\n1": {"c\x00é": 5, "c2": 7}},
        {('a"1', "k\n1"): 3, ("å\\2", "k\n1"): 4},
        excluded=(('a"1', "c\x00é"),),
    )
    instance = load_instance(data)
    out = io.BytesIO()

    write_instance(instance, out)

    assert out.getvalue().isascii()
    assert instance_to_json(load_instance(out.getvalue())) == instance_to_json(instance)
    assert id_texts(["é", "plain"]).tolist() == [b"\\u00e9", b"plain"]


@PROPERTY
@given(instances_with_hubs(), st.randoms(use_true_random=False))
def test_columns_in_any_order_are_written_as_their_instance(case, rnd: random.Random):
    """Cases out of their cells' order, arcs in any order: the same file, once read."""
    instance, hubs = case
    columns = _shuffled(instance, rnd)
    shuffled, ordered = io.BytesIO(), io.BytesIO()

    write_instance(columns, shuffled, hubs=hubs)
    write_instance(instance, ordered, hubs=hubs)

    expected = instance_to_json(*load_instance_with_hubs(ordered.getvalue()))
    assert instance_to_json(*load_instance_with_hubs(shuffled.getvalue())) == expected


def _shuffled(instance: Instance, rnd: random.Random) -> Columns:
    """The instance's columns, cases and arcs in a random order."""
    cases = np.array(rnd.sample(range(instance.n_cases), instance.n_cases), dtype=np.int64)
    arcs = np.array(rnd.sample(range(instance.n_arcs), instance.n_arcs), dtype=np.int64)
    position = np.empty_like(cases)
    position[cases] = np.arange(len(cases))
    plain = Columns.of(instance)
    return Columns(
        attorney_ids=plain.attorney_ids,
        capacity=plain.capacity,
        cell_ids=plain.cell_ids,
        case_ids=plain.case_ids[cases],
        case_cell=plain.case_cell[cases],
        priority=plain.priority[cases],
        arc_attorney=plain.arc_attorney[arcs],
        arc_cell=plain.arc_cell[arcs],
        affinity=plain.affinity[arcs],
        excluded_attorney=plain.excluded_attorney,
        excluded_case=position[plain.excluded_case],
    )


def _small() -> tuple[Instance, Hubs]:
    instance = load_instance(
        build({"a1": 1, "a2": 2}, {"k1": {"c1": 5, "c2": 1}}, {("a1", "k1"): 3})
    )
    one_hub = Hubs(
        cell_start=np.array([0, 1]),
        cell=np.array([0]),
        arc_attorney=np.array([1]),
        arc_hub=np.array([0]),
        affinity=np.array([10]),
    )
    return instance, one_hub


def _parts(instance, cuts: list[int]) -> list[tuple[np.ndarray, np.ndarray, np.ndarray]]:
    columns = Columns.of(instance)
    bounds = [0, *sorted(cuts), instance.n_arcs]
    return [
        (columns.arc_attorney[a:b], columns.arc_cell[a:b], columns.affinity[a:b])
        for a, b in pairwise(bounds)
    ]


@PROPERTY
@given(instances_with_hubs(), st.lists(st.integers(0, 10**6), max_size=4))
def test_arcs_written_in_parts_make_the_same_file_in_process_and_by_a_child(case, cuts):
    instance, hubs = case
    whole = io.BytesIO()
    write_instance(instance, whole, hubs=hubs)
    parts = _parts(instance, [cut % (instance.n_arcs + 1) for cut in cuts])
    in_process = io.BytesIO()

    write_in_parts(lambda: Columns.of(instance), iter(parts), lambda: hubs, in_process)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "instance.json"
        with path.open("wb") as handle:
            write_in_parts(
                lambda: Columns.of(instance), iter(parts), lambda: hubs, handle, child=True
            )
            assert handle.tell() == len(whole.getvalue())  # left at the end of the file
        by_child = path.read_bytes()

    assert in_process.getvalue() == whole.getvalue()
    assert by_child == whole.getvalue()


@PROPERTY
@given(instances_with_hubs(), st.lists(st.integers(0, 10**6), max_size=4), st.integers(0, 2))
def test_parts_whose_text_the_parent_writes_at_their_place_make_the_same_file(
    case, cuts, send_ahead
):
    """With the child behind (``send_ahead`` parts waiting, 0: always), the parent writes a
    part's text itself at its offset and the child leaves room for it."""
    instance, hubs = case
    whole = io.BytesIO()
    write_instance(instance, whole, hubs=hubs)
    parts = _parts(instance, [cut % (instance.n_arcs + 1) for cut in cuts])
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "instance.json"
        with path.open("wb") as handle:
            handle.write(b"  ")  # not at the start of the file
            previous, writer._SEND_AHEAD = writer._SEND_AHEAD, send_ahead
            try:
                write_in_parts(
                    lambda: Columns.of(instance), iter(parts), lambda: hubs, handle, child=True
                )
            finally:
                writer._SEND_AHEAD = previous
            assert handle.tell() == 2 + len(whole.getvalue())
        assert path.read_bytes() == b"  " + whole.getvalue()


def test_a_child_writing_over_a_longer_file_leaves_it_at_the_end_of_what_it_wrote(tmp_path):
    instance, hubs = _small()
    whole = io.BytesIO()
    write_instance(instance, whole, hubs=hubs)
    path = tmp_path / "x.json"
    path.write_bytes(b"x" * (2 * len(whole.getvalue())))

    with path.open("r+b") as handle:
        parts = iter(_parts(instance, [1]))
        write_in_parts(lambda: Columns.of(instance), parts, lambda: hubs, handle, child=True)
        assert handle.tell() == len(whole.getvalue())
    assert path.read_bytes().startswith(whole.getvalue())


@PROPERTY
@given(instances_with_hubs(), st.randoms(use_true_random=False))
def test_the_heads_length_is_known_without_its_text(case, rnd: random.Random):
    """Cases grouped by cell or not: the length is counted without grouping them."""
    instance, _ = case
    for columns in (Columns.of(instance), _shuffled(instance, rnd)):
        head = io.BytesIO()
        writer._head(columns, head).next(b"")

        assert writer._head_length(columns) == len(head.getvalue())


def test_an_error_while_making_the_parts_stops_the_writing_child(tmp_path):
    instance, hubs = _small()

    def parts():
        yield from _parts(instance, [1])[:1]
        raise ValueError("scoring failed")

    with (tmp_path / "x.json").open("wb") as handle, pytest.raises(ValueError, match="scoring"):
        write_in_parts(lambda: Columns.of(instance), parts(), lambda: hubs, handle, child=True)
    with pytest.raises(ChildProcessError):
        os.waitpid(-1, os.WNOHANG)  # the child was reaped


def test_a_child_that_cannot_write_is_an_os_error(tmp_path):
    instance, hubs = _small()

    parent = os.getpid()

    def columns():
        if os.getpid() != parent:  # the parent calls it too, for the texts' lengths
            raise MemoryError
        return Columns.of(instance)

    with (
        (tmp_path / "x.json").open("wb") as handle,
        pytest.raises(OSError, match="writing process"),
    ):
        write_in_parts(columns, iter(_parts(instance, [])), lambda: hubs, handle, child=True)
