"""One formula guard for every export: a text that a spreadsheet would run as a formula
(starting with = + - @, a tab or a carriage return) comes out of every CSV and XLSX route
as text, never as a formula."""

from __future__ import annotations

import csv
import io
from datetime import date, timedelta

import pytest
from openpyxl import load_workbook

from kpplan.core.extensions import db
from kpplan.core.spreadsheets import FORMULA_START
from kpplan.meetings.models import Status
from tests.conftest import STATE_A

PAYLOADS = [
    f'{start}HYPERLINK("http://evil.example") PAYLOAD{n}' for n, start in enumerate(FORMULA_START)
]

#: Every export route that writes a text someone typed.
CSV_ROUTES = [
    "/reports/activities.csv",
    "/recommendations/export.csv",
    "/follow-ups/export.csv",
    "/chair/{chair}/review/work-plan.csv",
    "/chair/{chair}/review/overdue.csv",
    "/chair/{chair}/review/activities.csv",
]
XLSX_ROUTES = [
    "/reports/activities.xlsx",
    "/recommendations/export.xlsx",
    "/follow-ups/export.xlsx",
    "/chair/{chair}/review.xlsx",
    "/chair/{chair}/handover.xlsx",
]


@pytest.fixture
def dangerous(app, factory) -> int:
    """Activities, recommendations and work-plan items whose texts start a formula, under
    a running chairmanship (so that they are in its review and handover); its id."""
    from kpplan.core.clock import today

    with app.app_context():
        now = today()
    chair = factory.chairmanship("South Sudan", start=now - timedelta(days=400))
    plan = factory.work_plan(chair.id)
    for n, text in enumerate(PAYLOADS):
        held = factory.activity(
            title=text, start=now - timedelta(days=30 + n), days=1, status=Status.HELD
        )
        factory.activity(title=text, start=now + timedelta(days=30 + n), days=1)
        factory.recommendation(
            held.id, states=(STATE_A,), text=text, target=now - timedelta(days=10)
        )
        factory.work_plan_item(plan.id, theme=text, target=date(now.year, 1, 1))
    return chair.id


def _payload_cells_csv(body: bytes) -> list[str]:
    rows = csv.reader(io.StringIO(body.decode("utf-8-sig"), newline=""))
    return [cell for row in rows for cell in row if "PAYLOAD" in cell]


@pytest.mark.parametrize("route", CSV_ROUTES)
def test_csv_exports_keep_formulas_as_text(client, people, login_as, dangerous, route):
    login_as(people["secretariat"])
    response = client.get(route.format(chair=dangerous))
    assert response.status_code == 200
    cells = _payload_cells_csv(response.data)
    assert len({c for c in cells}) >= len(FORMULA_START), cells  # every payload is there
    for cell in cells:
        assert not cell.startswith(FORMULA_START), repr(cell)
        assert cell.startswith("'"), repr(cell)


@pytest.mark.parametrize("route", XLSX_ROUTES)
def test_xlsx_exports_keep_formulas_as_text(client, people, login_as, dangerous, route):
    login_as(people["secretariat"])
    response = client.get(route.format(chair=dangerous))
    assert response.status_code == 200
    workbook = load_workbook(io.BytesIO(response.data))
    cells = [
        cell
        for sheet in workbook.worksheets
        for row in sheet.iter_rows()
        for cell in row
        if isinstance(cell.value, str) and "PAYLOAD" in cell.value
    ]
    assert len({c.value for c in cells}) >= len(FORMULA_START), [c.value for c in cells]
    for cell in cells:
        assert cell.data_type == "s", (cell.coordinate, cell.value, cell.data_type)
    workbook.close()


def test_the_import_reads_back_what_the_export_guarded(client, people, login_as, dangerous):
    """The guard's apostrophe is the export's, not the person's: the import drops it."""
    from kpplan.core.spreadsheets import read_table
    from kpplan.recommendations.exports import RECOMMENDATION_COLUMNS

    login_as(people["secretariat"])
    for fmt in ("csv", "xlsx"):
        body = client.get(f"/recommendations/export.{fmt}").data
        wordings = {row["Wording"] for row in read_table(body, fmt, RECOMMENDATION_COLUMNS)}
        # The reader strips cells; a workbook's XML keeps a carriage return as a line feed.
        stripped = {
            (text.replace("\r", "\n") if fmt == "xlsx" else text).strip() for text in PAYLOADS
        }
        assert stripped <= wordings, (fmt, wordings)
    with client.application.app_context():
        db.session.remove()
