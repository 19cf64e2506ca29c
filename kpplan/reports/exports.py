"""Activities and statistics as CSV and XLSX files."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterable
from datetime import date
from typing import Any

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font

from kpplan.core.spreadsheets import FORMULA_START
from kpplan.meetings.models import Activity, StateRole
from kpplan.reports.queries import Statistics

# Spreadsheet programs run a cell that starts with one of these as a formula.


def _states(activity: Activity, role: StateRole) -> str:
    return "; ".join(r.state.name for r in activity.state_roles if r.role is role)


# (heading, value of an activity)
ACTIVITY_COLUMNS: list[tuple[str, Callable[[Activity], Any]]] = [
    ("id", lambda a: a.id),
    ("kind", lambda a: a.kind.label),
    ("title", lambda a: a.title),
    ("theme", lambda a: a.theme),
    ("start date", lambda a: a.start_date),
    ("end date", lambda a: a.end_date),
    ("format", lambda a: a.format.label),
    ("city", lambda a: a.city),
    ("country", lambda a: a.country.name if a.country else None),
    ("status", lambda a: a.status.label),
    ("host", lambda a: _states(a, StateRole.HOST)),
    ("co-hosts", lambda a: _states(a, StateRole.CO_HOST)),
    ("chair", lambda a: _states(a, StateRole.CHAIR)),
    ("co-chairs", lambda a: _states(a, StateRole.CO_CHAIR)),
    ("organisations", lambda a: "; ".join(o.organisation.display_name for o in a.organisations)),
    ("participants", lambda a: a.participants),
    ("countries represented", lambda a: a.countries_represented),
    ("organisations represented", lambda a: a.organisations_represented),
    ("series", lambda a: a.series_title),
    ("module", lambda a: a.series_position),
]

STATISTICS_HEADINGS = [
    "kind",
    "activities",
    "participants",
    "country delegations",
    "organisation delegations",
    "activities with a participant figure",
]


def activity_rows(activities: Iterable[Activity]) -> tuple[list[str], list[list[Any]]]:
    headings = [name for name, _ in ACTIVITY_COLUMNS]
    return headings, [[value(a) for _, value in ACTIVITY_COLUMNS] for a in activities]


def statistics_rows(stats: Statistics) -> tuple[list[str], list[list[Any]]]:
    rows: list[list[Any]] = [
        [
            r.kind.label,
            r.activities,
            r.participants,
            r.countries,
            r.organisations,
            r.with_participants,
        ]
        for r in stats.rows
    ]
    rows.append(
        [
            "Total",
            stats.activities,
            stats.participants,
            stats.countries,
            stats.organisations,
            stats.with_participants,
        ]
    )
    rows.append(["Recommendations recorded", stats.recommendations.total, None, None, None, None])
    scoped = stats.recommendations.state_id is not None
    whose = "Your state's follow-ups" if scoped else "Addressees following up"
    for status, count in stats.recommendations.by_status.items():
        rows.append([f"{whose}: {status}", count, None, None, None, None])
    return STATISTICS_HEADINGS, rows


def _text_cell(value: Any) -> Any:
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def to_csv(headings: list[str], rows: list[list[Any]]) -> bytes:
    """UTF-8 with a byte-order mark, so that Excel reads the accents right; a text that
    would start a formula gets a leading apostrophe."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(headings)
    for row in rows:
        writer.writerow([v.isoformat() if isinstance(v, date) else _text_cell(v) for v in row])
    return out.getvalue().encode("utf-8-sig")


def to_xlsx(title: str, headings: list[str], rows: list[list[Any]]) -> bytes:
    """One sheet, headings in bold, dates as dates; texts always stored as text (never run
    as formulas)."""
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title[:31])
    sheet.freeze_panes = "A2"
    bold = Font(bold=True)
    header = []
    for heading in headings:
        cell = WriteOnlyCell(sheet, value=heading)
        cell.font = bold
        header.append(cell)
    sheet.append(header)
    for row in rows:
        cells = []
        for value in row:
            cell = WriteOnlyCell(sheet, value=value)
            if isinstance(value, str):
                cell.data_type = "s"
            elif isinstance(value, date):
                cell.number_format = "yyyy-mm-dd"
            cells.append(cell)
        sheet.append(cells)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()
