"""Runs of list elements in the compact form write_instance writes, read by numpy (io.py).

io.py's regular expressions vouch for a run's form first: every element is the same template
(``{"attorney":"A","cell":"K","affinity":N},``, or a cell ``{"id":"K","cases":[{"id":"C",
"priority":N},...]},``), its strings free of quotes, backslashes and control characters, its
numbers JSON integers. So the quotes alone locate every value: the
run's text becomes one byte array, the ids are looked up in an :class:`IdTable` and the numbers
made from their digits, without a Python object per element. Anything numpy does not vouch for
(an id that is not in the table, a number of more than 18 digits, text that is not ASCII) gives
None, and the caller reads the run one element at a time, for the error that names it.
"""

import re
from collections.abc import Mapping

import numpy as np
from numpy.typing import NDArray

from matching.solver.instance import IntArray

_QUOTE, _BRACE, _MINUS, _ZERO = ord('"'), ord("}"), ord("-"), ord("0")
# The longest integer made from its digits here: 18 digits always fit in 64 bits.
_DIGITS = 18
# Ids that a compact string can hold (io._compact_arc's string class, ASCII).
_COMPACT_ID = re.compile(r'[^"\\\x00-\x1f]+')
_WORD = 8
# Odd multipliers of the ids' 8-byte words for their hash (any fixed odd values would do:
# every match is checked byte for byte).
_MULTIPLIERS = (np.arange(1, 513, dtype=np.uint64) * np.uint64(0x9E3779B97F4A7C15)) | np.uint64(1)

WordArray = NDArray[np.uint64]

# Row n: the weight of each of the last 18 bytes in a number of n digits ending there.
_PLACES = np.where(
    np.arange(_DIGITS) >= _DIGITS - np.arange(_DIGITS + 1)[:, None],
    10 ** np.arange(_DIGITS - 1, -1, -1, dtype=np.int64),
    0,
)


class IdTable:
    """The positions of known ids (an ``{id: position}`` index), found for ids given as spans of
    a byte array: each id is zero-padded to whole 8-byte words, hashed, found by binary search
    among the known ids' hashes, then compared word for word."""

    def __init__(self, index: Mapping[str, int]) -> None:
        known = [(i, p) for i, p in index.items() if i.isascii() and _COMPACT_ID.fullmatch(i)]
        texts = np.array([i for i, _ in known] or [""], dtype=np.bytes_)
        self._width = -(-texts.dtype.itemsize // _WORD) * _WORD
        padded = np.zeros((len(texts), self._width), dtype=np.uint8)
        padded[:, : texts.dtype.itemsize] = texts.view(np.uint8).reshape(len(texts), -1)
        words = padded.view(np.uint64)
        hashes = _hash(words)
        order = np.argsort(hashes, kind="stable")
        self._hash, self._words = hashes[order], words[order]
        # Row n: the words that keep an id's first n bytes (and zero the rest).
        keep = np.arange(self._width) < np.arange(self._width + 1)[:, None]
        self._masks = (keep * np.uint8(255)).astype(np.uint8).view(np.uint64)
        self._position = np.array([p for _, p in known] or [-1], dtype=np.int64)[order]
        # Two known ids with one hash: this table cannot tell them apart, so it finds nothing.
        distinct = bool((self._hash[1:] != self._hash[:-1]).all())
        self._usable = bool(known) and distinct and words.shape[1] <= len(_MULTIPLIERS)

    def find(self, data: NDArray[np.uint8], start: IntArray, stop: IntArray) -> IntArray | None:
        """The position of each id ``data[start:stop]``, or None if one is not known."""
        length = stop - start
        if not len(length):
            return np.zeros(0, dtype=np.int64)
        if not self._usable or int(length.max()) > self._width:
            return None
        words = _windows(data, start, self._width).view(np.uint64) & self._masks[length]
        hashes = _hash(words)
        slot = np.minimum(np.searchsorted(self._hash, hashes), len(self._hash) - 1)
        if not (self._words[slot] == words).all():
            return None
        found: IntArray = self._position[slot]
        return found


def _hash(words: WordArray) -> WordArray:
    hashes: WordArray = (words * _MULTIPLIERS[: words.shape[1]]).sum(axis=1, dtype=np.uint64)
    return hashes


def arc_columns(
    text: str, attorneys: IdTable, targets: IdTable
) -> tuple[IntArray, IntArray, IntArray] | None:
    """(attorney, target, affinity) of each arc of a run of compact arcs (to a cell or a hub:
    ``{"attorney":"A","cell":"K","affinity":N},`` ...), or None (see the module docstring)."""
    if not text.isascii():
        return None
    data = np.frombuffer(text.encode("ascii"), dtype=np.uint8)
    # Ten quotes an arc: around "attorney", A, the target's key, K, "affinity".
    quote = np.flatnonzero(data == _QUOTE).reshape(-1, 10)
    # Each arc ends with "}," and the next one starts right after.
    brace = np.append(quote[1:, 0] - 3, len(data) - 2)
    attorney = attorneys.find(data, quote[:, 2] + 1, quote[:, 3])
    target = targets.find(data, quote[:, 6] + 1, quote[:, 7])
    affinity = integers(data, quote[:, 9] + 2, brace)
    if attorney is None or target is None or affinity is None:
        return None
    return attorney, target, affinity


def cell_columns(text: str) -> tuple[list[str], list[str], IntArray, IntArray] | None:
    """(cell ids, case ids, each case's cell counted from the run's first, priorities) of a
    run of compact cells, or None (see the module docstring; an empty id too)."""
    if not text.isascii():
        return None
    data = np.frombuffer(text.encode("ascii"), dtype=np.uint8)
    # Six quotes a cell's opening ({"id":"K","cases":[) and a case ({"id":"C","priority":N}):
    # around "id", the id, and a key whose length tells which.
    quote = np.flatnonzero(data == _QUOTE).reshape(-1, 6)
    opening = quote[:, 5] - quote[:, 4] == len('"cases')
    case = ~opening
    start = quote[case, 5] + 2
    brace = np.flatnonzero(data == _BRACE)
    priority = integers(data, start, brace[np.searchsorted(brace, start)])
    ids = strings(data, quote[:, 2] + 1, quote[:, 3])
    if priority is None or ids is None:
        return None
    case_cell = (np.cumsum(opening) - 1)[case]
    return ids[opening].tolist(), ids[case].tolist(), case_cell, priority


def strings(data: NDArray[np.uint8], start: IntArray, stop: IntArray) -> NDArray[np.str_] | None:
    """The ASCII strings ``data[start:stop]``, or None if one is empty."""
    length = stop - start
    if not len(length):
        return np.zeros(0, dtype="U1")
    if int(length.min()) == 0:
        return None
    width = int(length.max())
    chars = _windows(data, start, width)
    chars[np.arange(width) >= length[:, None]] = 0
    texts: NDArray[np.str_] = chars.view(f"S{width}").reshape(len(length)).astype(np.str_)
    return texts


def integers(data: NDArray[np.uint8], start: IntArray, stop: IntArray) -> IntArray | None:
    """The JSON integers ``data[start:stop]``, or None if one has more than 18 digits."""
    negative = data[start] == _MINUS if len(start) else np.zeros(0, dtype=bool)
    first = start + negative
    if len(first) and int((stop - first).max()) > _DIGITS:
        return None
    # The 18 bytes up to each number's end, digits right-aligned, weighed by their place
    # (the bytes before a number weigh 0).
    digits = _windows(data, stop - _DIGITS, _DIGITS).astype(np.int64) - _ZERO
    value = np.einsum("ij,ij->i", digits, _PLACES[stop - first])
    signed: IntArray = np.where(negative, -value, value)
    return signed


def _windows(data: NDArray[np.uint8], start: IntArray, width: int) -> NDArray[np.uint8]:
    """The ``width`` bytes of ``data`` from each of ``start`` (which may run off either end:
    zeros there), one row each, copied row by row rather than byte by byte."""
    padded = np.concatenate((np.zeros(width, np.uint8), data, np.zeros(width, np.uint8)))
    windows = np.lib.stride_tricks.sliding_window_view(padded, width)
    rows: NDArray[np.uint8] = windows[start + width]
    return rows
