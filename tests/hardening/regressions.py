"""One request of each family of server errors that the generated requests found, with
the answer kpplan now gives. ``test_families`` checks each answer; the generated suite
sends each one first, as an explicit example (``@example``) of its route group.

Paths name records of ``world.build_world`` as ``{activity_id}`` and so on.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field

from kpplan.recommendations.exports import FOLLOW_UP_COLUMNS, RECOMMENDATION_COLUMNS

BIG = "99999999999999999999"  # past 64 bits
INT8 = str(2**63 - 1)  # fits SQLite, not PostgreSQL's integer
LONG_ADDRESS = "x" * 10_000 + "@kpplan.example"


def spreadsheet(columns: tuple[str, ...], *rows: dict[str, str]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(columns)
    for row in rows:
        writer.writerow([row.get(column, "") for column in columns])
    return buffer.getvalue().encode("utf-8")


@dataclass(frozen=True)
class Regression:
    family: str
    group: str  # the route group of the generated suite
    method: str
    path: str
    role: str = "admin"
    query: dict[str, list[str]] = field(default_factory=dict)
    form: dict[str, list[str]] = field(default_factory=dict)
    files: dict[str, tuple[bytes, str]] = field(default_factory=dict)
    status: int = 200
    says: tuple[str, ...] = ()  # what the page must say


REGRESSIONS = [
    # Numbers past 32 (PostgreSQL) or 64 (SQLite) bits, and digits of other scripts.
    Regression("numbers", "recommendations", "GET", f"/follow-ups/{BIG}", status=404),
    Regression("numbers", "chair", "POST", f"/chair/items/{INT8}/edit", status=404),
    Regression("numbers", "meetings", "GET", "/activities/١٢", status=404),
    Regression(
        "numbers",
        "meetings",
        "GET",
        "/activities/archive",
        query={"year": [BIG], "state": [INT8], "page": [BIG]},
    ),
    Regression("numbers", "meetings", "GET", "/calendar.ics", query={"state": [BIG]}),
    Regression(
        "numbers",
        "recommendations",
        "GET",
        "/recommendations/",
        query={"activity": [BIG], "year": ["²"], "state": ["١٢"]},
    ),
    Regression("numbers", "home", "GET", "/history/", query={"id": [BIG], "page": [INT8]}),
    Regression(
        "numbers",
        "meetings",
        "POST",
        "/activities/{activity_id}/edit",
        form={"participants": [BIG], "series_position": [INT8], "version": ["1"]},
        says=("A number from 0 up.", "Give a whole number, in digits, up to 2,147,483,647."),
    ),
    Regression(
        "numbers",
        "recommendations",
        "POST",
        "/recommendations/import",
        files={
            "file": (
                spreadsheet(
                    RECOMMENDATION_COLUMNS,
                    {"Activity ID": "²", "Wording": "Share data."},
                    {"Activity ID": BIG, "Wording": "Train border guards."},
                ),
                "numbers.csv",
            )
        },
        says=("No activity has the ID ²", f"No activity has the ID {BIG}"),
    ),
    Regression(
        "numbers",
        "recommendations",
        "POST",
        "/follow-ups/import",
        files={
            "file": (
                spreadsheet(
                    FOLLOW_UP_COLUMNS,
                    {"Follow-up ID": "١", "Status": "done", "Progress": "²", "Version": BIG},
                ),
                "follow-ups.csv",
            )
        },
        # Every error of the row, not only the first.
        says=(
            "There is no follow-up ١ of yours",
            "Status “done” is not one of",
            "Progress “²” is not a whole percentage",
            "The Version column must keep the number of the export.",
        ),
    ),
    # Text PostgreSQL refuses: NUL characters, and values longer than their column.
    Regression(
        "text",
        "recommendations",
        "GET",
        "/recommendations/",
        query={"q": ["\x00"]},
        status=400,
        says=("NUL character",),
    ),
    Regression(
        "text",
        "directory",
        "POST",
        "/states/new",
        form={"name": ["Ken\x00ya"], "region": ["africa"]},
        says=("NUL character",),
    ),
    Regression(
        "text",
        "home",
        "POST",
        "/login",
        role="anonymous",
        form={"email": ["kamau\x00@kpplan.example"], "password": ["x" * 12]},
        says=("NUL character",),
    ),
    Regression(
        "text",
        "home",
        "POST",
        "/login",
        role="anonymous",
        form={"email": [LONG_ADDRESS], "password": ["x" * 12]},
        says=("do not match an active account",),
    ),
    # Imports: a cell past the csv module's field limit, and NUL in a file.
    Regression(
        "imports",
        "recommendations",
        "POST",
        "/recommendations/import",
        files={
            "file": (
                spreadsheet(RECOMMENDATION_COLUMNS, {"Wording": "x" * 140_000}),
                "long.csv",
            )
        },
        says=("Wording: at most 32,767 characters in a cell.",),
    ),
    Regression(
        "imports",
        "recommendations",
        "POST",
        "/recommendations/import",
        files={"file": (b"Code,Activity ID\x00\n1,2\n", "nul.csv")},
        says=("The file holds NUL characters",),
    ),
]
