"""Small-cell suppression for the outcome counts we publish (issue 16). Pure: no ORM.

Case outcomes are about people in removal proceedings: a public "1 removal ordered" next to a
small organization could single someone out. So every published count goes through here:

1. **Primary suppression.** A count from 1 to THRESHOLD - 1 (1-4) is not published: it is shown
   as null with ``suppressed: true``. Zero is published (an empty category discloses nobody).
2. **Complementary suppression.** Published totals make linear equations (a row's cells add up
   to its total; the per-organization counts of one kind add up to the kind's count; the relief
   types add up to "relief granted"). An equation with exactly ONE hidden member would give that
   member back by subtraction, so a second member of it is hidden too: the smallest non-zero
   count still shown (a zero if nothing else is left). Hiding one can break another equation,
   so the pass repeats until no equation has exactly one hidden member.

Counts that are not published at all (organizations that are not on the wall) enter the
equations as hidden from the start: the reader cannot subtract what they never saw.

What this does not claim: protection against every linear-programming attack on intervals
(the statistical agencies' full cell-suppression problem). It guarantees what the issue asks:
no single cell recovered by subtraction from a published total.
"""

from collections.abc import Hashable, Iterable, Sequence
from dataclasses import dataclass

THRESHOLD = 5


@dataclass(frozen=True)
class Cell:
    """One published count: the number, or None when suppressed."""

    count: int | None
    suppressed: bool = False

    def as_dict(self) -> dict[str, int | bool | None]:
        return {"count": self.count, "suppressed": self.suppressed}


def suppressed_cells[K: Hashable](
    counts: dict[K, int],
    equations: Iterable[Sequence[K]],
    *,
    hidden: Iterable[K] = (),
    threshold: int = THRESHOLD,
) -> set[K]:
    """The keys of ``counts`` to withhold.

    ``equations``: each a sequence of keys whose counts are linked (a total and its parts, in any
    order); ``hidden``: keys never published (they count as withheld from the start).
    """
    withheld = {key for key, n in counts.items() if 0 < n < threshold}
    withheld.update(hidden)
    linked = [list(eq) for eq in equations]
    changed = True
    while changed:
        changed = False
        for equation in linked:
            if sum(1 for key in equation if key in withheld) != 1:
                continue
            shown = [key for key in equation if key not in withheld]
            if not shown:
                continue
            withheld.add(min(shown, key=lambda k: (counts.get(k, 0) == 0, counts.get(k, 0))))
            changed = True
    return withheld


def cells[K: Hashable](counts: dict[K, int], withheld: set[K]) -> dict[K, Cell]:
    """Every count as a Cell, suppressed where ``withheld`` says."""
    return {
        key: Cell(None, True) if key in withheld else Cell(n, False) for key, n in counts.items()
    }
