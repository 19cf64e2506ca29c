"""Spreadsheets in and out: one CSV/XLSX writer and one reader for every export and import.

Writing: UTF-8 CSV with a byte-order mark (Excel reads the accents right) and XLSX
workbooks with a bold, frozen header row and typed dates; a text that a spreadsheet would
run as a formula (starting with = + - @, a tab or a carriage return) is kept as text: in
CSV behind an apostrophe, in XLSX as a cell of type text. Reading: the rows of a CSV or
XLSX file as dicts keyed by the expected columns (dates as ISO text, whether typed or
written), with size limits, and the files kept between an import's preview and its
confirmation.
"""

from __future__ import annotations

import csv
import io
import secrets
import time
from collections.abc import Iterable
from datetime import date, datetime
from pathlib import Path
from typing import Any

from openpyxl import Workbook, load_workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font

from kpplan.core.errors import DomainError
from kpplan.core.parsing import NUL, NUL_MESSAGE, has_nul

#: What a cell may not start with unless it is kept as text.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
MAX_ROWS = 5000
#: The longest sheet title a workbook accepts.
MAX_TITLE = 31
#: The longest text a spreadsheet cell holds (Excel's own limit); longer is a row error.
MAX_CELL = 32_767
KINDS = {"csv", "xlsx"}


# --- Writing --------------------------------------------------------------------------


def _guarded(value: Any) -> Any:
    """A text that a spreadsheet would run as a formula, kept as text by a leading apostrophe."""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def write_csv(columns: Iterable[str], rows: Iterable[Iterable[Any]]) -> bytes:
    """UTF-8 with a byte-order mark, so that Excel reads accents correctly; dates in ISO
    form, nothing as an empty cell, and a text that would start a formula behind an
    apostrophe."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(columns)
    for row in rows:
        writer.writerow(
            [
                "" if v is None else v.isoformat() if isinstance(v, date) else _guarded(v)
                for v in row
            ]
        )
    return buffer.getvalue().encode("utf-8-sig")


def write_xlsx(title: str, columns: Iterable[str], rows: Iterable[Iterable[Any]]) -> bytes:
    """A workbook of one sheet (see ``write_workbook``)."""
    return write_workbook([(title, columns, rows)])


def write_workbook(
    sheets: Iterable[tuple[str, Iterable[str], Iterable[Iterable[Any]]]],
) -> bytes:
    """A workbook of several sheets, each given as (title, columns, rows): the header row
    in bold and frozen, dates as dates (shown yyyy-mm-dd), numbers as numbers, and texts
    always stored as texts, so that a cell starting with = + - @ is never run as a
    formula."""
    workbook = Workbook(write_only=True)
    bold = Font(bold=True)
    for title, columns, rows in sheets:
        sheet = workbook.create_sheet(title[:MAX_TITLE])
        sheet.freeze_panes = "A2"
        header = []
        for column in columns:
            cell = WriteOnlyCell(sheet, value=column)
            cell.font = bold
            header.append(cell)
        sheet.append(header)
        for row in rows:
            sheet.append([_xlsx_cell(sheet, value) for value in row])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _xlsx_cell(sheet: Any, value: Any) -> WriteOnlyCell:
    cell = WriteOnlyCell(sheet, value=value)
    if isinstance(value, str):
        cell.data_type = "s"
    elif isinstance(value, date):
        cell.number_format = "yyyy-mm-dd"
    return cell


class FileError(DomainError):
    """The file as a whole cannot be read."""


def read_table(data: bytes, kind: str, columns: tuple[str, ...]) -> list[dict[str, str]]:
    """The rows of a CSV or XLSX file as dicts keyed by the expected column names.

    Raises ``FileError`` for an unreadable file, a missing column or too many rows.
    """
    raw = _read_xlsx(data) if kind == "xlsx" else _read_csv(data)
    if not raw:
        raise FileError("The file is empty: it needs a header row and at least one row.", "file")
    header = [str(h or "").strip().lower() for h in raw[0]]
    positions = {}
    for column in columns:
        if column.lower() not in header:
            raise FileError(
                f"The column “{column}” is missing. The file needs the columns of the export: "
                + ", ".join(columns)
                + ".",
                "file",
            )
        positions[column] = header.index(column.lower())
    rows = []
    for values in raw[1:]:
        if not any(str(v or "").strip() for v in values):
            continue
        rows.append(
            {column: _text(values[i]) if i < len(values) else "" for column, i in positions.items()}
        )
    if len(rows) > MAX_ROWS:
        raise FileError(f"The file has {len(rows)} rows; import at most {MAX_ROWS} at once.")
    if not rows:
        raise FileError("The file has a header row but no rows to import.", "file")
    return rows


def cell_problems(values: dict[str, str]) -> list[str]:
    """What a row read by ``read_table`` holds that kpplan cannot keep, column by column:
    a NUL character, or more than ``MAX_CELL`` characters."""
    problems = []
    for column, value in values.items():
        if has_nul(value):
            problems.append(f"{column}: {NUL_MESSAGE}")
        elif len(value) > MAX_CELL:
            problems.append(f"{column}: at most {MAX_CELL:,} characters in a cell.")
    return problems


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


#: What follows the apostrophe of a guarded cell read back.
_GUARDED = (*FORMULA_START, "\n")


def _unguarded(value: Any) -> Any:
    """A cell as the person wrote it: without the apostrophe ``_guarded`` put before a text
    that starts a formula. (A workbook keeps a carriage return as a line feed.)"""
    if isinstance(value, str) and value[:1] == "'" and value[1:].startswith(_GUARDED):
        return value[1:]
    return value


def _read_csv(data: bytes) -> list[list[str]]:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise FileError(
            "The file is not UTF-8 text; save it as “CSV UTF-8” or as an Excel workbook.",
            "file",
        ) from error
    # Excel writes ";" where the comma is the decimal sign: judge by the header row.
    header = text.split("\n", 1)[0]
    delimiter = ";" if header.count(";") > header.count(",") else ","
    # No cell is longer than the file: an overlong one is then a row error (see
    # ``cell_problems``), not the csv module's "field larger than field limit".
    if csv.field_size_limit() < len(text):
        csv.field_size_limit(len(text))
    if NUL in text:
        raise FileError(
            "The file holds NUL characters, so it is not UTF-8 text (perhaps Excel's “Unicode "
            "text”); save it as “CSV UTF-8” or as an Excel workbook.",
            "file",
        )
    try:
        rows = list(csv.reader(io.StringIO(text), delimiter=delimiter))
    except csv.Error as error:
        raise FileError(f"The file cannot be read as CSV: {error}.", "file") from error
    return [[_unguarded(v) for v in row] for row in rows]


def _read_xlsx(data: bytes) -> list[list[Any]]:
    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as error:  # openpyxl raises many kinds for a file that is not a workbook
        raise FileError("The file cannot be read as an Excel workbook (.xlsx).", "file") from error
    try:
        sheet = workbook.worksheets[0]
        rows = []
        for values in sheet.iter_rows(values_only=True):
            rows.append([_unguarded(v) for v in values])
            if len(rows) > MAX_ROWS + 1:
                break
        return rows
    finally:
        workbook.close()


# --- Uploads kept between the preview and the confirmation ---------------------------


def keep_upload(folder: Path, user_id: int, kind: str, data: bytes) -> str:
    """Keep an uploaded file until it is imported; returns the token that names it."""
    folder.mkdir(parents=True, exist_ok=True)
    day_ago = time.time() - 86400
    for old in folder.glob("*"):
        if old.stat().st_mtime < day_ago:
            old.unlink(missing_ok=True)
    token = f"{user_id}-{secrets.token_hex(12)}.{kind}"
    (folder / token).write_bytes(data)
    return token


def kept_upload(folder: Path, user_id: int, token: str) -> tuple[bytes, str] | None:
    """The kept file for this person and token, and its kind; None if unknown or expired."""
    name, _, kind = token.rpartition(".")
    if kind not in KINDS or not name.startswith(f"{user_id}-") or "/" in token or ".." in token:
        return None
    path = folder / token
    if not path.is_file():
        return None
    return path.read_bytes(), kind


def upload_kind(filename: str) -> str:
    ext = filename.rsplit(".", 1)[-1].lower() if "." in filename else ""
    if ext not in KINDS:
        raise FileError("Import a .csv or .xlsx file, such as the export of this list.", "file")
    return ext
