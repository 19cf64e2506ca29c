"""Charts of the review drawn on the server, as the timeline is: these functions turn
figures into coordinates, the templates write the SVG elements (with a title, text labels
and a table beside each chart, so that nothing is told by colour alone)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from kpplan.recommendations.statuses import FollowUpStatus
from kpplan.review.progress import PROGRESS_LABELS, PROGRESS_ORDER

# Told apart by most readers, colour-blind ones too. Each segment is outlined in ink (the
# pale ones are under 3:1 on white); the counts written on them read at 4.5:1 or more.
PROGRESS_COLOURS = {
    "held_on_time": "#1D7A3A",
    "held_late": "#8CC084",
    "scheduled": "#0072B2",
    "not_scheduled": "#B8C0CC",
    "late": "#B34700",
    "dropped": "#EDEDED",
}
# A share implemented is drawn in the colour of "implemented".
SHARE_COLOUR = FollowUpStatus.IMPLEMENTED.info.colour
TRACK_COLOUR = "#EEF0F3"

WIDTH = 760


@dataclass(frozen=True)
class Segment:
    key: str
    label: str
    count: int
    x: float
    width: float
    colour: str

    @property
    def label_x(self) -> float:
        return round(self.x + self.width / 2, 1)


@dataclass(frozen=True)
class StackedBar:
    width: int
    height: int
    bar_y: int
    bar_height: int
    total: int
    segments: list[Segment]


def progress_bar(counts: dict[str, int]) -> StackedBar:
    """One horizontal bar for the work plan, a segment per status that has items."""
    total = sum(counts.values())
    segments = []
    x = 0.0
    for key in PROGRESS_ORDER:
        count = counts.get(key, 0)
        if not count:
            continue
        width = round(WIDTH * count / total, 1)
        segments.append(Segment(key, PROGRESS_LABELS[key], count, x, width, PROGRESS_COLOURS[key]))
        x = round(x + width, 1)
    return StackedBar(WIDTH, 44, 0, 36, total, segments)


@dataclass(frozen=True)
class Bar:
    label: str
    title: str
    key: Any
    y: float
    width: float
    text: str
    empty: bool


@dataclass(frozen=True)
class BarChart:
    width: int
    height: int
    left: int
    plot: int
    bar_height: int
    bars: list[Bar]
    colour: str = SHARE_COLOUR
    track: str = TRACK_COLOUR


ROW = 24
BAR = 16
LEFT = 200
RIGHT = 150  # room for "100 % (12 of 12)"


def share_bars(rows: list[Any], short_label=None) -> BarChart:
    """One bar per row (a ``ShareRow``): its share implemented, 0 to 100 %."""
    plot = WIDTH - LEFT - RIGHT
    bars = []
    for i, row in enumerate(rows):
        share = row.share
        applicable = row.total - row.not_applicable
        text = f"{share} % ({row.implemented} of {applicable})" if share is not None else "no share"
        bars.append(
            Bar(
                label=short_label(row) if short_label else row.label,
                title=f"{row.label}: {text}",
                key=row.key,
                y=i * ROW + (ROW - BAR) / 2,
                width=round(plot * (share or 0) / 100, 1),
                text=text,
                empty=share is None,
            )
        )
    return BarChart(WIDTH, max(len(rows), 1) * ROW, LEFT, plot, BAR, bars)
