"""The one spreadsheet writer and reader: what every export writes and every import reads."""

from __future__ import annotations

import csv
import io
from datetime import date

import pytest
from openpyxl import Workbook, load_workbook

from kpplan.core.spreadsheets import (
    FORMULA_START,
    FileError,
    read_table,
    write_csv,
    write_workbook,
    write_xlsx,
)

COLUMNS = ("Code", "Title", "Due", "Count", "Note")
ROWS = [
    ["R1", '=HYPERLINK("http://evil.example")', date(2024, 5, 1), 3, None],
    ["R2", "Plain text", None, 0, "-2 is a text here"],
]


def test_csv_dates_are_iso_and_formulas_stay_text():
    data = write_csv(COLUMNS, ROWS)
    assert data.startswith("\ufeff".encode())
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert rows[0] == list(COLUMNS)
    assert rows[1] == ["R1", '\'=HYPERLINK("http://evil.example")', "2024-05-01", "3", ""]
    assert rows[2] == ["R2", "Plain text", "", "0", "'-2 is a text here"]


@pytest.mark.parametrize("start", FORMULA_START)
def test_every_formula_start_is_guarded_in_csv(start):
    text = write_csv(["A"], [[f"{start}1+1"]]).decode("utf-8-sig")
    assert list(csv.reader(io.StringIO(text, newline=""))) == [["A"], [f"'{start}1+1"]]


def test_xlsx_has_a_bold_frozen_header_typed_dates_and_texts_as_texts():
    sheet = load_workbook(io.BytesIO(write_xlsx("A title longer than Excel allows", COLUMNS, ROWS)))
    (only,) = sheet.worksheets
    assert len(only.title) == 31 and "A title longer than Excel allows".startswith(only.title)
    assert only.freeze_panes == "A2"
    assert [c.value for c in only[1]] == list(COLUMNS) and all(c.font.b for c in only[1])
    title, due, count = only["B2"], only["C2"], only["D2"]
    assert title.value == '=HYPERLINK("http://evil.example")' and title.data_type == "s"
    assert due.value.date() == date(2024, 5, 1) and due.number_format == "yyyy-mm-dd"
    assert count.value == 3 and count.data_type == "n"
    assert only["E2"].value is None and only["E3"].value == "-2 is a text here"


def test_a_workbook_of_several_sheets():
    book = load_workbook(
        io.BytesIO(write_workbook([("One", ["A"], [[1]]), ("Two", ["B"], [["x"], ["y"]])]))
    )
    assert book.sheetnames == ["One", "Two"]
    assert [r for r in book["Two"].values] == [("B",), ("x",), ("y",)]


@pytest.mark.parametrize("kind", ["csv", "xlsx"])
def test_what_is_written_reads_back_the_same(kind):
    data = write_csv(COLUMNS, ROWS) if kind == "csv" else write_xlsx("Sheet", COLUMNS, ROWS)
    assert read_table(data, kind, COLUMNS) == [
        {
            "Code": "R1",
            "Title": '=HYPERLINK("http://evil.example")',
            "Due": "2024-05-01",
            "Count": "3",
            "Note": "",
        },
        {"Code": "R2", "Title": "Plain text", "Due": "", "Count": "0", "Note": "-2 is a text here"},
    ]


def test_a_workbook_edited_by_hand_reads_dates_typed_or_written():
    book = Workbook()
    sheet = book.active
    sheet.append(["Due", "Title"])
    sheet.append([date(2024, 5, 1), "'=1+1"])
    sheet.append(["2024-06-02", 7.0])
    buffer = io.BytesIO()
    book.save(buffer)
    assert read_table(buffer.getvalue(), "xlsx", ("Due", "Title")) == [
        {"Due": "2024-05-01", "Title": "=1+1"},
        {"Due": "2024-06-02", "Title": "7"},
    ]


def test_a_missing_column_is_named():
    with pytest.raises(FileError, match="The column “Due” is missing"):
        read_table(write_csv(["Code"], [["R1"]]), "csv", ("Code", "Due"))
