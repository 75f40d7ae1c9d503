"""Compact runs read by numpy (matching/solver/compact.py): ids found only when known, numbers
exactly as json reads them, anything else left to the one-by-one reader (None)."""

import json

import numpy as np
import pytest

from matching.solver.compact import IdTable, arc_columns, integers


def spans(text: str, values: list[str]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    data = np.frombuffer(text.encode(), dtype=np.uint8)
    start = np.array([text.index(v) for v in values], dtype=np.int64)
    return data, start, start + np.array([len(v) for v in values], dtype=np.int64)


def test_an_id_table_finds_known_ids_and_nothing_else():
    table = IdTable({"a1": 0, "a10": 1, "k.es..12.asylum.01+long-enough-for-words": 2})

    assert table.find(*spans("a10 a1", ["a10", "a1"])).tolist() == [1, 0]
    assert table.find(*spans("k.es..12.asylum.01+long-enough-for-words", ["k"])) is None
    for unknown in ("a", "a100", "a2", "k.es..12.asylum.01+long-enough-for-word"):
        assert table.find(*spans(unknown, [unknown])) is None


def test_an_id_table_of_ids_no_compact_text_holds_finds_nothing():
    table = IdTable({'a"1': 0, "\x00": 1, "é": 2})

    assert table.find(*spans("a1", ["a1"])) is None


@pytest.mark.parametrize("value", [0, 7, -7, 120, -(10**17), 10**18 - 1, -(10**18) + 1])
def test_integers_are_read_as_json_reads_them(value):
    text = json.dumps([value])

    assert integers(*spans(text, [str(value)])).tolist() == [json.loads(text)[0]]


def test_integers_of_19_digits_are_left_to_python():
    assert integers(*spans("1000000000000000000", ["1000000000000000000"])) is None


def test_arc_columns_reads_a_run_of_compact_arcs():
    text = '{"attorney":"a2","hub":"h1","affinity":-3},{"attorney":"a1","hub":"h}","affinity":0},'

    columns = arc_columns(text, IdTable({"a1": 0, "a2": 1}), IdTable({"h1": 0, "h}": 1}))

    assert [c.tolist() for c in columns] == [[1, 0], [0, 1], [-3, 0]]
    assert arc_columns(text.replace("a1", "é1"), IdTable({"a1": 0}), IdTable({"h1": 0})) is None
