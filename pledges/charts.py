"""The wall's progress picture: SVG geometry computed here, drawn by templates/pledges/
_progress_chart.html (no script, no inline style: strict CSP). Pure: totals in, shapes out.

For each kind of organization, one bar per unit it pledged in (hours, cases, attorneys): the
track is the pledge, the filled part what was placed, capped at the track. A unit placed in but
not pledged gets its line of text and no bar (there is nothing to measure it against).
"""

from dataclasses import dataclass, field

WIDTH = 360  # viewBox units; the SVG scales to its box (a phone is about this wide)
BAR = 10
TITLE_STEP = 24  # a kind's title line
LABEL_STEP = 16  # from the top of a row to its label's baseline
ROW_STEP = 36  # label, bar and the gap below it
# (unit label, pledged attribute, placed attribute, what "placed" means for the unit)
UNITS = (
    ("Hours", "hours", "placed_hours", "logged"),
    ("Cases", "cases", "placed_cases", "accepted"),
    ("Attorneys", "attorneys", "placed_attorneys", "placed"),
)


@dataclass(frozen=True)
class Bar:
    y: int
    fill: int
    text: str
    text_y: int
    track: bool = True


@dataclass
class Chart:
    width: int = WIDTH
    height: int = 0
    titles: list[tuple[int, str]] = field(default_factory=list)
    bars: list[Bar] = field(default_factory=list)
    bar_height: int = BAR

    @property
    def summary(self) -> str:
        """The picture in words, for screen readers (role=img)."""
        return "; ".join(bar.text for bar in self.bars)


def _bar_text(label: str, pledged: int, placed: int, verb: str) -> str:
    if not pledged:
        return f"{label}: {placed:,} {verb}, none pledged"
    return f"{label}: {placed:,} {verb} of {pledged:,} pledged ({round(100 * placed / pledged)}%)"


def wall_progress_chart(by_kind) -> Chart:
    """One block per kind of organization (each a KindTotals), skipping empty units."""
    chart, y = Chart(), 0
    for totals in by_kind:
        y += TITLE_STEP
        chart.titles.append((y - 6, totals.label))
        for label, pledged_attr, placed_attr, verb in UNITS:
            pledged, placed = getattr(totals, pledged_attr), getattr(totals, placed_attr)
            if not pledged and not placed:
                continue
            share = min(placed / pledged, 1.0) if pledged else 0.0
            text = _bar_text(label, pledged, placed, verb)
            chart.bars.append(
                Bar(y=y + LABEL_STEP + 5, fill=round(WIDTH * share), text=text,
                    text_y=y + LABEL_STEP, track=bool(pledged))
            )  # fmt: skip
            y += ROW_STEP
        y += 6  # a gap before the next kind
    chart.height = y if chart.bars else 0
    return chart
