"""The loaded problem, and ids in the solver's format."""

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

from matching.pipeline.score import Attorneys
from matching.scoring import AttorneyFacts, CellFacts
from matching.solver import Hubs, Instance, Solution

IntArray = NDArray[np.int64]

# Rows per round trip when a query streams (``iterator(chunk_size=...)``).
CHUNK = 20_000


# Ids in the solver's format. Zero-padded so that sorting the strings (the solver's canonical
# order) keeps primary-key order; a cell's id is its key, so it is the same in every run.


def attorney_id(pk: int) -> str:
    return f"a{pk:09d}"


def case_id(pk: int) -> str:
    return f"c{pk:011d}"


def cell_id(cell: CellFacts) -> str:
    """``k.<language>[+<other>...].<relay>.<court>.<case type>.<detained><remote>``: a cell without
    other languages keeps the id it had before they counted."""
    flags = f"{int(cell.detained)}{int(cell.remote_ok)}"
    spoken = "+".join((cell.language, *cell.other_languages))
    return f"k.{spoken}.{cell.relay_language or ''}.{cell.court_id}.{cell.case_type}.{flags}"


def pk_of(solver_id: str) -> int:
    return int(solver_id[1:])


def pks_of(ids: NDArray[np.object_]) -> IntArray:
    """:func:`pk_of` of each id, read as bytes by numpy when all have the same width (as
    :func:`attorney_ids` and :func:`case_ids` make them), else one at a time."""
    width = len(ids[0]) if len(ids) else 0
    text = "".join(ids.tolist()).encode("ascii", errors="replace")
    if not 1 < width <= 19 or len(text) != width * len(ids):
        return np.fromiter(map(pk_of, ids.tolist()), dtype=np.int64, count=len(ids))
    table = np.frombuffer(text, dtype=np.uint8).reshape(len(ids), width)
    digits = table[:, 1:] - np.uint8(ord("0"))  # a byte below "0" wraps above 9
    # Every row a non-digit, then digits only: each row is then one id, whatever the widths.
    if (digits > 9).any() or (table[:, 0] - np.uint8(ord("0")) <= 9).any():
        return np.fromiter(map(pk_of, ids.tolist()), dtype=np.int64, count=len(ids))
    powers = 10 ** np.arange(width - 2, -1, -1, dtype=np.int64)
    pks: IntArray = digits.astype(np.int64) @ powers
    return pks


def solution_pks(solution: Solution) -> tuple[IntArray, IntArray, IntArray]:
    """(attorney pk, case pk, score) of each of a solution's pairs, in no particular order,
    from its arrays (no Python per pair)."""
    pairs = solution.pairs
    attorney, case = pairs.attorney_ids[pairs.attorney], pairs.case_ids[pairs.case]
    return pks_of(attorney), pks_of(case), pairs.score


def pg_array(values: IntArray | Sequence[int]) -> str:
    """PostgreSQL's text form of an array of integers or booleans (cast it in the query,
    e.g. ``%s::bigint[]``): one string, far quicker to send than a list of parameters."""
    if isinstance(values, np.ndarray):
        values = values.tolist()
    return "{" + ",".join(map(str, values)) + "}"


# The widest primary keys whose ids keep pk order (wider ones would print more digits).
ATTORNEY_PK_LIMIT, CASE_PK_LIMIT = 10**9, 10**11


def attorney_ids(pks: IntArray) -> NDArray[np.object_]:
    """:func:`attorney_id` of each pk (all below ATTORNEY_PK_LIMIT), as an object array."""
    return _padded_ids("a", 9, pks)


def case_ids(pks: IntArray) -> NDArray[np.object_]:
    """:func:`case_id` of each pk (all below CASE_PK_LIMIT), as an object array."""
    return _padded_ids("c", 11, pks)


def _padded_ids(prefix: str, width: int, pks: IntArray) -> NDArray[np.object_]:
    """Ids as ``f"{prefix}{pk:0{width}d}"``, 3x faster than formatting each: the digits are
    written as bytes by numpy, then one decode and one ``split`` make the strings."""
    text = np.empty((len(pks), width + 2), dtype=np.uint8)
    text[:, 0], text[:, -1] = ord(prefix), ord(",")
    narrow = not len(pks) or int(pks.max()) < 2**32
    rest: NDArray[np.unsignedinteger] = pks.astype(np.uint32 if narrow else np.uint64)
    for column in range(width, 0, -1):
        quotient = rest // 10
        text[:, column] = rest - quotient * 10 + ord("0")
        rest = quotient
    ids = np.empty(len(pks), dtype=object)
    ids[:] = text.tobytes().decode("ascii").split(",")[:-1]
    return ids


@dataclass(eq=False, slots=True)
class Problem:
    """What a run solves, plus what it needs to write and explain the proposals."""

    instance: Instance
    attorneys: Attorneys
    cells: list[CellFacts]  # by cell position
    cell_position: dict[str, int]  # solver cell id -> position in ``cells``
    case_pk: IntArray  # ascending
    case_cell: IntArray  # cell position of each case
    miles: NDArray[np.float64]  # attorney x court distance matrix
    court_position: dict[int, int]  # court pk -> column of ``miles``
    hubs: Hubs  # cells by position in ``instance``
    stats: dict[str, Any] = field(default_factory=dict)
    # The optimum the small run's last round found with the run's own solver (small.py): the
    # run writes it instead of solving the same problem again.
    solved: Solution | None = None
    _facts: dict[int, AttorneyFacts] = field(default_factory=dict)
    _by_attorney: dict[str, dict[int, dict[str, int]]] = field(default_factory=dict)

    def attorney_facts(self, position: int) -> AttorneyFacts:
        """The scorer's view of one attorney, built on first use: a run explains the pairs it
        writes, a fraction of the attorneys loaded."""
        facts = self._facts.get(position)
        if facts is None:
            facts = self._facts[position] = self._build_facts(position)
        return facts

    def _build_facts(self, i: int) -> AttorneyFacts:
        if not self._by_attorney:
            a = self.attorneys
            for key, rows in (
                ("languages", a.languages),
                ("areas", a.practice_areas),
                ("preferred", [(*row, 1) for row in a.preferred_types]),
                ("excluded", [(*row, 1) for row in a.excluded_types]),
            ):
                grouped: dict[int, dict[str, int]] = {}
                for position, code, value in rows:
                    grouped.setdefault(position, {})[code] = value
                self._by_attorney[key] = grouped
        a = self.attorneys
        by = self._by_attorney
        return AttorneyFacts(
            id=int(a.pk[i]),
            languages=self._by_attorney["languages"].get(i, {}),
            practice_areas=self._by_attorney["areas"].get(i, {}),
            years_experience=int(a.years[i]),
            latitude=float(a.latitude[i]),
            longitude=float(a.longitude[i]),
            travel_radius_miles=int(a.radius[i]),
            remote_ok=bool(a.remote_ok[i]),
            verified=True,
            available=True,
            free_capacity=int(a.free[i]),
            remote_preferred=bool(a.remote_preferred[i])
            if a.remote_preferred is not None
            else False,
            detained_ok=bool(a.detained_ok[i]) if a.detained_ok is not None else True,
            preferred_types=frozenset(by["preferred"].get(i, ())),
            excluded_types=frozenset(by["excluded"].get(i, ())),
        )

    def pair_miles(self, attorney: int, cell: CellFacts) -> float:
        return float(self.miles[attorney, self.court_position[cell.court_id]])
