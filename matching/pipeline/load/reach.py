"""Where attorneys with free capacity can reach, and how many cases each place can use.

Pure numpy, no ORM (STYLE.md 5): the small-run loader (``small.py``) turns these figures into
per-cell reads. A *place* is (language, kind, court, remote flag), a kind being a (case type,
detained) pair as in score.py; every case without other languages sits in exactly one place
through its main language, and through one more if it accepts a relay interpreter.

For each place the loader needs two sums over the attorneys who could be eligible for a case
there (scoring.eligibility: speaks the language, takes the kind, within the travel radius of
the court or remote on both sides):

- ``capacity``: their free capacity. No cell in the place can receive more cases than that.
- ``excluded``: their exclusions with open cases (declined pairs and the like). A case an
  attorney may not take can stand in front of the cases they may, so each cell must be read
  that much deeper (see small.py for the argument).

Both are upper bounds where an attorney is counted twice (near the court and remote, or
through the main language and the relay): the loader only needs "at least".
"""

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from matching.pipeline.score import Attorneys
from matching.scoring import MIN_PROFICIENCY
from matching.solver import ranges

IntArray = NDArray[np.int64]


@dataclass(frozen=True, eq=False, slots=True)
class Reach:
    """Sums by place: ``capacity[l, kind, court, remote]`` and ``excluded[...]`` alike.

    ``languages[l]`` is a language some attorney here speaks, ``kinds[k]`` a (case type,
    detained) pair some attorney takes, ``courts[c]`` a court's pk (the columns of the loader's
    distance matrix). ``remote`` is 0 for cases that need a court visit, 1 for remote-capable
    ones (near attorneys plus every remote-willing one).
    """

    languages: list[str]
    kinds: list[tuple[str, bool]]
    courts: list[int]
    capacity: IntArray
    excluded: IntArray

    def language_index(self, code: str) -> int | None:
        try:
            return self.languages.index(code)
        except ValueError:
            return None


def reach_of(
    attorneys: Attorneys, miles: NDArray[np.float64], courts: list[int], excluded: IntArray
) -> Reach:
    """The :class:`Reach` of ``attorneys``; ``miles`` is attorney x court (columns ``courts``),
    ``excluded[i]`` the number of exclusions attorney i has with open cases.

    1. The (attorney, language) pairs spoken, (attorney, kind) pairs taken and (attorney,
       court) pairs within the travel radius, as sorted index arrays.
    2. Join them on the attorney into (language, kind) and (language, kind, court) keys and
       sum the weights per key (bincount: no BLAS threads, no Python loop over attorneys).
    """
    n = len(attorneys)
    languages = sorted({code for _, code, level in attorneys.languages if level >= MIN_PROFICIENCY})
    types = sorted({code for _, code, _ in attorneys.practice_areas})
    kinds = [(code, detained) for code in types for detained in (False, True)]
    speaks = np.zeros((n, len(languages)), dtype=bool)
    position = {code: k for k, code in enumerate(languages)}
    spoken = [
        (i, position[code]) for i, code, level in attorneys.languages if level >= MIN_PROFICIENCY
    ]
    if spoken:
        at, lang = np.array(spoken, dtype=np.int64).T
        speaks[at, lang] = True
    pairs = _Pairs(
        speaks=_nonzero(speaks),
        takes=_nonzero(_takes(attorneys, types)),
        near=_nonzero(miles <= attorneys.radius[:, None]),
        shape=(len(languages), len(kinds), len(courts)),
    )
    capacity, excl = (
        pairs.sums(weight, attorneys.remote_ok) for weight in (attorneys.free, excluded)
    )
    return Reach(languages, kinds, list(courts), capacity, excl)


def _nonzero(matrix: NDArray[np.bool_]) -> tuple[IntArray, IntArray]:
    """(row, column) of the true entries, by row then column."""
    rows, columns = np.nonzero(matrix)
    return rows.astype(np.int64), columns.astype(np.int64)


def _takes(attorneys: Attorneys, types: list[str]) -> NDArray[np.bool_]:
    """Whether each attorney takes each kind (columns (type, not detained), (type, detained)
    by type): a practice area, not an excluded type, and not detained for those who take no
    detained cases (score._Skills.of's test)."""
    index = {code: t for t, code in enumerate(types)}
    takes = np.zeros((len(attorneys), len(types), 2), dtype=bool)
    areas = [(i, index[code]) for i, code, _ in attorneys.practice_areas]
    if areas:
        at, kind = np.array(areas, dtype=np.int64).T
        takes[at, kind, :] = True
    excluded = [(i, index[code]) for i, code in attorneys.excluded_types if code in index]
    if excluded:
        at, kind = np.array(excluded, dtype=np.int64).T
        takes[at, kind, :] = False
    if attorneys.detained_ok is not None:
        takes[~attorneys.detained_ok, :, 1] = False
    return takes.reshape(len(attorneys), 2 * len(types))


@dataclass(frozen=True, eq=False, slots=True)
class _Pairs:
    """(attorney, language), (attorney, kind) and (attorney, court) index pairs, each sorted by
    attorney (np.nonzero's order)."""

    speaks: tuple[IntArray, IntArray]
    takes: tuple[IntArray, IntArray]
    near: tuple[IntArray, IntArray]
    shape: tuple[int, int, int]

    def sums(self, weight: IntArray, remote_ok: NDArray[np.bool_]) -> IntArray:
        n_lang, n_kind, n_court = self.shape
        i, j = _join(self.speaks[0], self.takes[0])
        attorney = self.speaks[0][i]
        key = self.speaks[1][i] * n_kind + self.takes[1][j]  # language x kind
        w = weight[attorney].astype(np.float64)  # exact: sums stay far below 2**53
        remote = np.bincount(key, weights=w * remote_ok[attorney], minlength=n_lang * n_kind)
        i, j = _join(attorney, self.near[0])
        near = np.bincount(
            key[i] * n_court + self.near[1][j], weights=w[i], minlength=n_lang * n_kind * n_court
        ).reshape(n_lang, n_kind, n_court)
        out = np.empty((n_lang, n_kind, n_court, 2), dtype=np.int64)
        out[..., 0] = np.rint(near)
        out[..., 1] = np.rint(near + remote.reshape(n_lang, n_kind)[:, :, None])
        return out


def _join(left: IntArray, right: IntArray) -> tuple[IntArray, IntArray]:
    """Index pairs (i, j) with left[i] == right[j]; both sorted ascending."""
    n = int(max(left.max(initial=-1), right.max(initial=-1))) + 1
    count = np.bincount(right, minlength=n)
    start = np.concatenate(([0], np.cumsum(count)))[:-1]
    per_left = count[left]
    return np.repeat(np.arange(len(left)), per_left), ranges(start[left], per_left)
