"""Exports of recommendations and follow-ups, and their imports: checked row by row,
then all rows or none."""

from __future__ import annotations

import io
import re
from datetime import date

import pytest
import sqlalchemy as sa
from openpyxl import load_workbook

from kpplan.core.extensions import db
from kpplan.meetings.models import Status
from kpplan.recommendations.follow_up_models import FollowUp, StatusUpdate
from kpplan.recommendations.models import Recommendation, RecommendationTheme
from kpplan.recommendations.statuses import FollowUpStatus
from tests.conftest import STATE_A, STATE_B
from tests.recommendations.helpers import (
    confirm_import,
    count_rows,
    csv_body,
    import_file,
    read_csv,
)

HELD = Status.HELD


class TestImportExport:
    def test_an_import_with_one_bad_row_changes_nothing(
        self, app, client, people, login_as, factory
    ):
        activity = factory.activity(status=HELD)
        login_as(people["secretariat"])
        header = client.get("/recommendations/export.csv").data
        columns = read_csv(header)[0]
        rows = [
            ["", activity.id, "", "First.", "High", "2027-01-31", "RD1", "Kenya; IOM", "", ""],
            ["", activity.id, "", "Second.", "Low", "", "RD99", "All member states", "", ""],
            ["", activity.id, "", "Third.", "Medium", "", "", "Atlantis", "", ""],
        ]
        preview = import_file(client, "/recommendations/import", csv_body(columns, rows), "r.csv")
        assert preview.status_code == 200
        assert "2 rows cannot be imported" in preview.text
        assert "Unknown theme RD99" in preview.text and "Atlantis" in preview.text
        assert "Import all rows" not in preview.text
        assert count_rows(app, Recommendation) == 0

    @pytest.mark.parametrize("fmt", ["csv", "xlsx"])
    def test_export_then_import_gives_back_the_same_data(
        self, app, client, people, login_as, factory, fmt
    ):
        first = factory.activity(start=date(2022, 7, 12), status=HELD)
        second = factory.activity(start=date(2023, 3, 2), status=HELD)
        org = factory.organisation("Horn of Africa Research Network")
        one = factory.recommendation(first.id, text='Say "no" to = formulas, ok?')
        factory.recommendation(first.id, states=(), organisations=(org.id,), secretariat=True)
        factory.recommendation(second.id, states=(STATE_B,), themes=("JVAP2", "RD1"), target=None)
        login_as(people["secretariat"])
        client.post(
            f"/activities/{second.id}/recommendations/new",
            data={
                "entries-0-text": "All of you.",
                "entries-0-priority": "high",
                "entries-0-to_all_members": "y",
                "entries-0-predecessor": one.code,
                "entries-0-lineage": "supersedes",
            },
        )
        exported = client.get(f"/recommendations/export.{fmt}").data
        # Unchanged: the preview says so and the import changes nothing.
        preview = import_file(client, "/recommendations/import", exported, f"all.{fmt}")
        assert "No error. 0 to record, 0 to change, 4 unchanged." in preview.text, re.sub(
            r"<[^>]+>", " ", preview.text
        )[-1500:]
        # Recorded afresh from the file (codes left empty): the same export comes back.
        with app.app_context():
            # SQLite here does not cascade: delete from the leaves up.
            db.session.execute(sa.delete(FollowUp))
            db.session.execute(sa.delete(RecommendationTheme))
            db.session.execute(
                sa.delete(Recommendation).where(Recommendation.predecessor_id.is_not(None))
            )
            db.session.execute(sa.delete(Recommendation))
            db.session.commit()
        rows = _rows(exported, fmt)
        # The superseding one needs its predecessor first: it is last in the export.
        blank = csv_body(rows[0], [["", *row[1:]] for row in rows[1:]])
        preview = import_file(client, "/recommendations/import", blank, "again.csv")
        assert "4 to record" in preview.text, preview.text
        done = confirm_import(client, preview, "/recommendations/import/confirm")
        assert done.status_code == 302
        again = _rows(client.get(f"/recommendations/export.{fmt}").data, fmt)
        assert again == rows

    def test_a_changed_row_is_applied_and_stale_rows_refused(
        self, app, client, people, login_as, factory
    ):
        activity = factory.activity(status=HELD)
        recommendation = factory.recommendation(activity.id, states=(STATE_A,))
        login_as(people["secretariat"])
        rows = read_csv(client.get("/recommendations/export.csv").data)
        rows[1][3] = "Sharper wording."
        preview = import_file(
            client, "/recommendations/import", csv_body(rows[0], rows[1:]), "r.csv"
        )
        assert "0 to record, 1 to change" in preview.text
        assert confirm_import(client, preview, "/recommendations/import/confirm").status_code == 302
        with app.app_context():
            assert db.session.get(Recommendation, recommendation.id).text == "Sharper wording."

    def test_focal_point_updates_many_follow_ups_by_import(
        self, app, client, people, login_as, factory
    ):
        activity = factory.activity(status=HELD)
        recs = [factory.recommendation(activity.id) for _ in range(3)]
        login_as(people["fp_a"])
        rows = read_csv(client.get("/follow-ups/export.csv").data)
        assert [r[2] for r in rows[1:]] == [STATE_A] * 3
        header = rows[0]
        status, narrative = header.index("Status"), header.index("New narrative")
        rows[1][status] = "In progress"
        rows[1][narrative] = "Working group set up."
        rows[2][status] = "Not applicable"
        rows[2][narrative] = "Covered elsewhere."
        rows[2][header.index("Reason")] = "Covered by the IGAD mechanism."
        body = csv_body(header, rows[1:])
        preview = import_file(client, "/follow-ups/import", body, "kenya.csv")
        assert "2 updates to post, 1 rows unchanged" in preview.text, preview.text
        # Meanwhile someone else updates the first one: the confirmation refuses everything.
        factory.update(factory.follow_up_of(recs[0], STATE_A).id)
        refused = confirm_import(client, preview, "/follow-ups/import/confirm")
        assert refused.status_code == 302
        assert count_rows(app, StatusUpdate) == 1
        rows = read_csv(client.get("/follow-ups/export.csv").data)
        rows[2][status] = "Not applicable"
        rows[2][narrative] = "Covered elsewhere."
        rows[2][header.index("Reason")] = "Covered by the IGAD mechanism."
        preview = import_file(client, "/follow-ups/import", csv_body(header, rows[1:]), "k.csv")
        assert confirm_import(client, preview, "/follow-ups/import/confirm").status_code == 302
        with app.app_context():
            second = db.session.get(FollowUp, factory.follow_up_of(recs[1], STATE_A).id)
            assert second.status is FollowUpStatus.NOT_APPLICABLE
            assert second.status_reason == "Covered by the IGAD mechanism."
        assert count_rows(app, StatusUpdate) == 2

    def test_a_follow_up_row_lists_every_rule_it_breaks(
        self, app, client, people, login_as, factory
    ):
        activity = factory.activity(status=HELD)
        factory.recommendation(activity.id, states=(STATE_A,))
        login_as(people["fp_a"])
        rows = read_csv(client.get("/follow-ups/export.csv").data)
        header = rows[0]
        for column, value in (
            ("Status", "Not applicable"),
            ("Progress", "140"),
            ("Next review date", "2001-01-01"),
        ):
            rows[1][header.index(column)] = value
        preview = import_file(client, "/follow-ups/import", csv_body(header, rows[1:]), "k.csv")
        assert "1 row cannot be imported" in preview.text
        # The rules of the update form, each named by its column.
        for message in (
            "New narrative: Say what has been done",
            "Progress: Progress is a percentage, from 0 to 100.",
            "Reason: Say why the recommendation does not apply.",
            "Next review date: The next review date is in the past.",
        ):
            assert message in preview.text, message
        assert "Import all rows" not in preview.text
        assert count_rows(app, StatusUpdate) == 0

    def test_follow_ups_come_back_from_the_xlsx_export(
        self, app, client, people, login_as, factory
    ):
        activity = factory.activity(status=HELD)
        recommendation = factory.recommendation(
            activity.id, states=(STATE_A,), target=date(2020, 1, 31)
        )
        login_as(people["fp_a"])
        book = load_workbook(io.BytesIO(client.get("/follow-ups/export.xlsx").data))
        sheet = book.worksheets[0]
        header = [cell.value for cell in sheet[1]]
        assert all(cell.font.b for cell in sheet[1]) and sheet.freeze_panes == "A2"
        review = sheet.cell(2, header.index("Next review date") + 1)
        assert review.value.date() == date(2020, 1, 31) and review.number_format == "yyyy-mm-dd"
        sheet.cell(2, header.index("Status") + 1).value = "In progress"
        sheet.cell(2, header.index("New narrative") + 1).value = "Working group set up."
        edited = io.BytesIO()
        book.save(edited)
        preview = import_file(client, "/follow-ups/import", edited.getvalue(), "kenya.xlsx")
        # The review date read back as a date is unchanged, though it has passed.
        assert "1 updates to post, 0 rows unchanged" in preview.text, preview.text
        assert confirm_import(client, preview, "/follow-ups/import/confirm").status_code == 302
        with app.app_context():
            saved = db.session.get(FollowUp, factory.follow_up_of(recommendation, STATE_A).id)
            assert saved.status is FollowUpStatus.IN_PROGRESS
            assert saved.next_review_date == date(2020, 1, 31)

    def test_an_unreadable_file_gets_a_message(self, client, people, login_as):
        login_as(people["secretariat"])
        for body, name, message in [
            (b"\xff\xfe\x00garbage", "r.csv", "not UTF-8"),
            (b"not a workbook", "r.xlsx", "cannot be read as an Excel workbook"),
            (b"Code,Wording\n,x\n", "r.csv", "is missing"),
            (b"x", "r.txt", "Import a .csv or .xlsx file"),
        ]:
            response = import_file(client, "/recommendations/import", body, name)
            assert response.status_code == 200
            assert message in response.text


def _rows(data: bytes, fmt: str) -> list[list[str]]:
    if fmt == "csv":
        return read_csv(data)
    sheet = load_workbook(io.BytesIO(data), read_only=True).worksheets[0]
    return [["" if v is None else str(v) for v in row] for row in sheet.iter_rows(values_only=True)]
