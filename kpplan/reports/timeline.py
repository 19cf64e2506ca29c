"""The timeline drawn on the server: activities on a time axis, one lane per kind,
coloured by kind, with the Chairs' periods as bands behind them.

``layout`` turns dates into coordinates; the template only writes the SVG elements.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from kpplan.chair.models import Chairmanship
from kpplan.core.dates import day, day_range
from kpplan.directory.models import Region
from kpplan.meetings.kinds import REPORT_ORDER, ActivityKind
from kpplan.meetings.models import Status
from kpplan.reports.queries import TimelineActivity

BAND_COLOURS = {Region.AFRICA: "#F6EBD3", Region.EUROPE: "#E1E9F6", Region.OTHER: "#ECECEC"}

WIDTH = 1100
LEFT = 190  # room for the names of the lanes
RIGHT = 16
TOP = 30  # room for the names of the Chairs
LANE = 30
BAR = 16
AXIS = 26


@dataclass(frozen=True)
class Mark:
    id: int
    title: str
    when: str
    x: float
    y: float
    width: float
    colour: str
    cancelled: bool
    kind: str = ""


@dataclass(frozen=True)
class Band:
    id: int
    name: str
    x: float
    width: float
    colour: str
    period: str = ""


@dataclass(frozen=True)
class Lane:
    kind: ActivityKind
    label: str
    y: float
    colour: str


@dataclass(frozen=True)
class Tick:
    """A line at 1 January; the year's name sits in the middle of its stretch of the axis."""

    x: float
    label: str | None = None
    label_x: float | None = None


@dataclass(frozen=True)
class Timeline:
    start: date
    end: date
    width: int
    height: int
    plot_top: int
    plot_bottom: int
    left: int
    lanes: list[Lane]
    marks: list[Mark]
    bands: list[Band]
    ticks: list[Tick]

    @property
    def empty(self) -> bool:
        return not self.marks


def _when(a: TimelineActivity) -> str:
    return day_range(a.start_date, a.end_date, a.date_precision)


def _period(start: date, end: date | None) -> str:
    return day_range(start, end) if end else f"since {day(start)}"


def layout(
    activities: list[TimelineActivity],
    chairmanships: list[Chairmanship],
    start: date,
    end: date,
) -> Timeline:
    """Place ``activities`` and the chair periods between ``start`` and ``end`` (whole
    years are best: the axis marks each 1 January)."""
    days = max((end - start).days + 1, 1)
    plot = WIDTH - LEFT - RIGHT

    def x(day: date) -> float:
        day = min(max(day, start), end + timedelta(days=1))
        return round(LEFT + (day - start).days / days * plot, 1)

    kinds = [k for k in REPORT_ORDER if any(a.kind is k for a in activities)]
    lane_y = {k: TOP + i * LANE for i, k in enumerate(kinds)}
    bottom = TOP + max(len(kinds), 1) * LANE
    lanes = [Lane(k, k.label, lane_y[k], k.info.colour) for k in kinds]
    marks = [
        Mark(
            id=a.id,
            title=a.title,
            when=_when(a),
            x=x(a.start_date),
            y=lane_y[a.kind] + (LANE - BAR) / 2,
            width=max(round(x(a.end_date + timedelta(days=1)) - x(a.start_date), 1), 4),
            colour=a.kind.info.colour,
            cancelled=a.status is Status.CANCELLED,
            kind=a.kind.label,
        )
        for a in activities
    ]
    bands = []
    for i, chair in enumerate(chairmanships):
        following = chairmanships[i + 1].start_date if i + 1 < len(chairmanships) else None
        # An open term lasts until the next Chair takes over, or to the end of the axis.
        last = chair.end_date or (following - timedelta(days=1) if following else end)
        if chair.start_date > end or last < start:
            continue
        left = x(chair.start_date)
        bands.append(
            Band(
                id=chair.id,
                name=chair.state.name,
                x=left,
                width=max(round(x(last + timedelta(days=1)) - left, 1), 1),
                colour=BAND_COLOURS[chair.state.region],
                period=_period(chair.start_date, chair.end_date),
            )
        )
    ticks = [
        Tick(x(date(year, 1, 1)))
        for year in range(start.year, end.year + 2)
        if start <= date(year, 1, 1) <= end + timedelta(days=1)
    ]
    ticks += [
        Tick(
            x(max(start, date(year, 1, 1))),
            str(year),
            (
                x(max(start, date(year, 1, 1)))
                + x(min(end + timedelta(days=1), date(year + 1, 1, 1)))
            )
            / 2,
        )
        for year in range(start.year, end.year + 1)
    ]
    return Timeline(
        start=start,
        end=end,
        width=WIDTH,
        height=bottom + AXIS,
        plot_top=TOP,
        plot_bottom=bottom,
        left=LEFT,
        lanes=lanes,
        marks=marks,
        bands=bands,
        ticks=ticks,
    )
