"""The small run's first read on three connections (matching/pipeline/load/small.py, beside.py):
on PostgreSQL, in a snapshot of its own, the probes without other languages are read in two
halves on two more connections sharing it; the problem is the one a single connection reads."""

from collections import Counter

import numpy as np
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from matching.pipeline.load import small as small_module
from matching.pipeline.load.small import load_small_problem
from matching.pipeline.run import solve_problem
from matching.solver import instance_to_json
from tests.matching.test_small_runs import EVERYTHING, _world

pytestmark = [
    pytest.mark.django_db(transaction=True),  # the other connections see only what is committed
    pytest.mark.skipif("connection.vendor != 'postgresql'"),  # elsewhere one connection reads
]


def _plain_reads(queries) -> int:
    """How many of ``queries`` read probes without other languages (small.py)."""
    return sum("COALESCE(x.other_languages_key, '') = ''" in query["sql"] for query in queries)


@pytest.mark.parametrize("seed", [41, 42])
def test_the_probes_read_beside_give_the_problem_one_connection_reads(seed, settings, monkeypatch):
    _world(seed, other_languages=True, settings=settings)
    today = timezone.localdate()
    with CaptureQueriesContext(connection) as alone:
        one = load_small_problem(today=today, max_cases=EVERYTHING)
    monkeypatch.setattr(small_module, "BESIDE_PROBES", 0)
    with CaptureQueriesContext(connection) as here:
        three = load_small_problem(today=today, max_cases=EVERYTHING)

    # the first read's probes without other languages went to the other connections
    assert _plain_reads(here.captured_queries) == _plain_reads(alone.captured_queries) - 1
    assert instance_to_json(one.instance) == instance_to_json(three.instance)
    assert one.cells == three.cells and np.array_equal(one.case_pk, three.case_pk)
    assert one.stats["small_run"] == three.stats["small_run"]
    assert solve_problem(one).objective == solve_problem(three).objective


def test_a_read_beside_stops_at_the_limit_like_one_connection(settings, monkeypatch):
    """More cases to read than the limit: None (the full load runs) either way."""
    _world(43, other_languages=False, settings=settings)
    today = timezone.localdate()
    read = load_small_problem(today=today, max_cases=EVERYTHING).instance.n_cases
    monkeypatch.setattr(small_module, "BESIDE_PROBES", 0)

    assert load_small_problem(today=today, max_cases=read - 1) is None
    assert load_small_problem(today=today, max_cases=read) is not None


def test_the_two_halves_read_beside_share_every_language(settings, monkeypatch):
    """The probes come in language order, and a read's work is mostly the backlog's languages:
    each other connection gets every other probe, so both read probes of every language with
    two or more (split in the middle, one read the first languages, the other the last)."""
    _world(41, other_languages=False, settings=settings)
    monkeypatch.setattr(small_module, "BESIDE_PROBES", 0)
    halves: list[list[str]] = []
    read_beside = small_module._read_beside

    def spy(probes, chosen, **kwargs):
        halves.append([probes.language[n] for n in chosen])
        return read_beside(probes, chosen, **kwargs)

    monkeypatch.setattr(small_module, "_read_beside", spy)
    load_small_problem(today=timezone.localdate(), max_cases=EVERYTHING)

    first, second = halves
    counts = Counter(first + second)
    assert len(counts) > 1 and abs(len(first) - len(second)) <= 1
    assert {code for code, n in counts.items() if n >= 2} <= set(first) & set(second)
