"""The loaded problem, and ids in the solver's format."""

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

from matching.pipeline.score import Attorneys
from matching.scoring import AttorneyFacts, CellFacts
from matching.solver import Hubs, Ids, Instance, NumberedIds, Solution
from matching.solver.instance import numbered_id

IntArray = NDArray[np.int64]

# Rows per round trip when a query streams (``iterator(chunk_size=...)``).
CHUNK = 20_000


# Ids in the solver's format: a letter, then the primary key zero-padded so that sorting the
# strings (the solver's canonical order) keeps primary-key order; a cell's id is its key, so it
# is the same in every run.


@dataclass(frozen=True, slots=True)
class PaddedIds:
    """One kind of id (the solver's :func:`numbered_id` of a primary key), both ways: the one
    place that writes many primary keys into ids at once and reads them back out."""

    prefix: str
    width: int

    @property
    def limit(self) -> int:
        """The widest primary keys whose ids keep pk order (wider ones print more digits)."""
        return 10**self.width

    def one(self, pk: int) -> str:
        return numbered_id(self.prefix, self.width, pk)

    def many(self, pks: IntArray) -> NDArray[np.object_]:
        """:meth:`one` of each pk, as an object array. Below :attr:`limit` (every pk a run
        loads), 3x faster than formatting each: the digits are written as bytes by numpy, then
        one decode and one ``split`` make the strings."""
        if len(pks) and int(pks.max()) >= self.limit:
            ids = np.empty(len(pks), dtype=object)
            ids[:] = [self.one(pk) for pk in pks.tolist()]
            return ids
        text = np.empty((len(pks), self.width + 2), dtype=np.uint8)
        text[:, 0], text[:, -1] = ord(self.prefix), ord(",")
        narrow = not len(pks) or int(pks.max()) < 2**32
        rest: NDArray[np.unsignedinteger] = pks.astype(np.uint32 if narrow else np.uint64)
        for column in range(self.width, 0, -1):
            quotient = rest // 10
            text[:, column] = rest - quotient * 10 + ord("0")
            rest = quotient
        ids = np.empty(len(pks), dtype=object)
        ids[:] = text.tobytes().decode("ascii").split(",")[:-1]
        return ids

    def numbered(self, pks: IntArray) -> NumberedIds:
        """The ids of ``pks`` as the solver reads them, each made only when read."""
        return NumberedIds(self.prefix, self.width, pks)

    def pks(self, ids: Ids) -> IntArray:
        """The primary key of each id, the inverse of :meth:`many` and :meth:`numbered`: the
        numbers themselves when :meth:`numbered` made them; read as bytes by numpy when every
        id is this prefix and ``width`` digits (as :meth:`many` makes them); ids of any other
        form (another width, another letter) by :func:`pk_of`, one at a time."""
        if isinstance(ids, NumberedIds) and (ids.prefix, ids.width) == (self.prefix, self.width):
            return ids.numbers
        text = "".join(ids.tolist()).encode("ascii", errors="replace")
        if len(text) != (self.width + 1) * len(ids):
            return _pks_one_at_a_time(ids)
        table = np.frombuffer(text, dtype=np.uint8).reshape(len(ids), self.width + 1)
        digits = table[:, 1:] - np.uint8(ord("0"))  # a byte below "0" wraps above 9
        # Every row the prefix, then digits only: the prefix then starts each id, so each row
        # is one id whatever the ids' own lengths.
        if (table[:, 0] != ord(self.prefix)).any() or (digits > 9).any():
            return _pks_one_at_a_time(ids)
        powers = 10 ** np.arange(self.width - 1, -1, -1, dtype=np.int64)
        pks: IntArray = digits.astype(np.int64) @ powers
        return pks


ATTORNEY_IDS, CASE_IDS = PaddedIds("a", 9), PaddedIds("c", 11)
ATTORNEY_PK_LIMIT, CASE_PK_LIMIT = ATTORNEY_IDS.limit, CASE_IDS.limit
attorney_id, attorney_ids = ATTORNEY_IDS.one, ATTORNEY_IDS.many
case_id, case_ids = CASE_IDS.one, CASE_IDS.many


def pk_of(solver_id: str) -> int:
    """The primary key of an attorney or case id of any width."""
    return int(solver_id[1:])


def _pks_one_at_a_time(ids: Ids) -> IntArray:
    return np.fromiter(map(pk_of, ids.tolist()), dtype=np.int64, count=len(ids))


def cell_id(cell: CellFacts) -> str:
    """``k.<language>[+<other>...].<relay>.<court>.<case type>.<detained><remote>``: a cell without
    other languages keeps the id it had before they counted."""
    flags = f"{int(cell.detained)}{int(cell.remote_ok)}"
    spoken = "+".join((cell.language, *cell.other_languages))
    return f"k.{spoken}.{cell.relay_language or ''}.{cell.court_id}.{cell.case_type}.{flags}"


def solution_pks(solution: Solution) -> tuple[IntArray, IntArray, IntArray]:
    """(attorney pk, case pk, score) of each of a solution's pairs, in no particular order,
    from its arrays (no Python per pair)."""
    pairs = solution.pairs
    attorney, case = pairs.attorney_ids[pairs.attorney], pairs.case_ids[pairs.case]
    return ATTORNEY_IDS.pks(attorney), CASE_IDS.pks(case), pairs.score


def pg_array(values: IntArray | Sequence[int]) -> str:
    """PostgreSQL's text form of an array of integers or booleans (cast it in the query,
    e.g. ``%s::bigint[]``): one string, far quicker to send than a list of parameters."""
    if isinstance(values, np.ndarray):
        values = values.tolist()
    return "{" + ",".join(map(str, values)) + "}"


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
