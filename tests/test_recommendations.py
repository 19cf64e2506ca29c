"""Recommendations and their follow-up, through the pages people use."""

from __future__ import annotations

import csv
import io
import re
import threading
from datetime import date, timedelta

import pytest
import sqlalchemy as sa
from openpyxl import load_workbook

from kpplan.audit.models import AuditEntry
from kpplan.core.clock import today
from kpplan.core.extensions import db
from kpplan.directory.models import State
from kpplan.recommendations.models import (
    FollowUp,
    FollowUpStatus,
    Recommendation,
    RecommendationTheme,
    StatusUpdate,
    Validation,
)
from tests.conftest import STATE_A, STATE_B, signed_in_session

PDF = b"%PDF-1.4\n%evidence\n"


def _today(app) -> date:
    with app.test_request_context():
        return today()


def _version(client, follow_up_id: int) -> int:
    page = client.get(f"/follow-ups/{follow_up_id}")
    assert page.status_code == 200
    return int(re.search(r'name="version" type="hidden" value="(\d+)"', page.text).group(1))


def _post_update(client, follow_up_id, version, status="in_progress", **extra):
    data = {
        "version": version,
        "status": status,
        "narrative": "The ministry has set up a working group.",
        **extra,
    }
    return client.post(f"/follow-ups/{follow_up_id}", data=data)


def _count(app, model, *where) -> int:
    with app.app_context():
        return db.session.scalar(sa.select(sa.func.count()).select_from(model).where(*where))


class TestRecording:
    def test_several_recommendations_in_one_form(self, app, client, people, login_as, factory):
        activity = factory.activity(start=date(2022, 7, 12))
        login_as(people["secretariat"])
        with app.app_context():
            kenya = db.session.scalar(sa.select(State.id).where(State.name == STATE_A))
        response = client.post(
            f"/activities/{activity.id}/recommendations/new",
            data={
                "entries-0-text": "Share data on smuggling routes.",
                "entries-0-priority": "high",
                "entries-0-themes": ["RD1", "4P-PARTNERSHIP"],
                "entries-0-to_all_members": "y",
                "entries-0-lineage": "",
                "entries-1-text": "",  # an empty block is left out
                "entries-1-priority": "medium",
                "entries-1-lineage": "",
                "entries-2-text": "Train border guards on victim identification.",
                "entries-2-priority": "medium",
                "entries-2-states": [kenya],
                "entries-2-for_secretariat": "y",
                "entries-2-target_date": "2023-06-30",
                "entries-2-lineage": "",
            },
        )
        assert response.status_code == 302, response.text
        with app.app_context():
            recommendations = db.session.scalars(
                sa.select(Recommendation).order_by(Recommendation.number)
            ).all()
            assert [r.code for r in recommendations] == ["TM-2022-07/R1", "TM-2022-07/R2"]
            first, second = recommendations
            assert first.to_all_members and len(first.follow_ups) == 40
            assert sorted(first.theme_codes) == ["4P-PARTNERSHIP", "RD1"]
            assert sorted(f.addressee for f in second.follow_ups) == [STATE_A, "Secretariat"]
            assert all(f.next_review_date == date(2023, 6, 30) for f in second.follow_ups)
            assert (
                db.session.scalar(
                    sa.select(sa.func.count()).where(AuditEntry.object_type == "recommendations")
                )
                == 2
            )

    def test_a_recommendation_without_addressee_is_refused_next_to_the_field(
        self, app, client, people, login_as, factory
    ):
        activity = factory.activity()
        login_as(people["secretariat"])
        response = client.post(
            f"/activities/{activity.id}/recommendations/new",
            data={
                "entries-0-text": "Do something.",
                "entries-0-priority": "low",
                "entries-0-lineage": "",
            },
        )
        assert response.status_code == 200
        assert "Say whom the recommendation is addressed to" in response.text
        assert 'id="entries-0-states-error"' in response.text
        assert "Do something." in response.text  # what was typed is kept
        assert _count(app, Recommendation) == 0

    def test_lineage_is_shown_from_both_sides(self, app, client, people, login_as, factory):
        activity = factory.activity()
        earlier = factory.recommendation(activity.id)
        later_activity = factory.activity(start=date(2026, 9, 1))
        login_as(people["secretariat"])
        response = client.post(
            f"/activities/{later_activity.id}/recommendations/new",
            data={
                "entries-0-text": "Re-endorsed.",
                "entries-0-priority": "medium",
                "entries-0-to_all_members": "y",
                "entries-0-predecessor": earlier.code,
                "entries-0-lineage": "re_endorses",
            },
        )
        assert response.status_code == 302
        with app.app_context():
            later = db.session.scalar(
                sa.select(Recommendation).where(Recommendation.activity_id == later_activity.id)
            )
        assert "Re-endorses" in client.get(f"/recommendations/{later.id}").text
        page = client.get(f"/recommendations/{earlier.id}").text
        assert "Re-endorsed by" in page and later.code in page

    def test_wording_is_versioned_once_someone_reported(
        self, app, client, people, login_as, factory
    ):
        activity = factory.activity()
        recommendation = factory.recommendation(activity.id, states=(STATE_A,))
        login_as(people["secretariat"])
        form = {
            "version": 1,
            "fields-text": "Corrected wording.",
            "fields-priority": "medium",
            "fields-themes": ["RD3"],
            "fields-states": [recommendation.follow_ups[0].state_id],
            "fields-lineage": "",
        }
        # Before any report: a plain correction, no revision kept.
        assert (
            client.post(f"/recommendations/{recommendation.id}/edit", data=form).status_code == 302
        )
        factory.update(factory.follow_up_of(recommendation, STATE_A).id)
        form.update({"version": 2, "fields-text": "New wording after reports."})
        refused = client.post(f"/recommendations/{recommendation.id}/edit", data=form)
        assert refused.status_code == 200
        assert 'id="revision_reason-error"' in refused.text
        form["revision_reason"] = "The Steering Committee clarified the scope."
        assert (
            client.post(f"/recommendations/{recommendation.id}/edit", data=form).status_code == 302
        )
        with app.app_context():
            saved = db.session.get(Recommendation, recommendation.id)
            assert saved.text == "New wording after reports."
            assert [(r.text, r.reason) for r in saved.revisions] == [
                ("Corrected wording.", "The Steering Committee clarified the scope.")
            ]
        page = client.get(f"/recommendations/{recommendation.id}").text
        assert "Earlier wordings (1)" in page

    def test_an_addressee_who_reported_cannot_be_removed(
        self, app, client, people, login_as, factory
    ):
        activity = factory.activity()
        recommendation = factory.recommendation(activity.id, states=(STATE_A, STATE_B))
        factory.update(factory.follow_up_of(recommendation, STATE_A).id)
        italy = factory.follow_up_of(recommendation, STATE_B).state_id
        login_as(people["secretariat"])
        response = client.post(
            f"/recommendations/{recommendation.id}/edit",
            data={
                "version": 1,
                "fields-text": recommendation.text,
                "fields-priority": "medium",
                "fields-states": [italy],
                "fields-lineage": "",
            },
        )
        assert response.status_code == 200
        assert "Kenya has already reported" in response.text
        assert _count(app, FollowUp) == 2

    def test_withdrawn_recommendations_leave_open_counts(
        self, app, client, people, login_as, factory
    ):
        activity = factory.activity()
        recommendation = factory.recommendation(activity.id, states=(STATE_A,))
        login_as(people["secretariat"])
        refused = client.post(
            f"/recommendations/{recommendation.id}/withdraw", data={"version": 1, "reason": ""}
        )
        assert refused.status_code == 302
        assert _count(app, Recommendation, Recommendation.withdrawn_at.is_not(None)) == 0
        client.post(
            f"/recommendations/{recommendation.id}/withdraw",
            data={"version": 1, "reason": "Superseded by the 2023 work plan."},
        )
        link = f">{recommendation.code}</a>"
        assert link not in client.get("/recommendations/").text
        assert link in client.get("/recommendations/?show=withdrawn").text
        assert (
            "Superseded by the 2023 work plan"
            in client.get(f"/recommendations/{recommendation.id}").text
        )
        login_as(people["fp_a"])
        assert recommendation.code not in client.get("/follow-ups/").text


class TestFollowUp:
    def test_focal_point_posts_an_update_with_evidence(
        self, app, client, people, login_as, factory
    ):
        activity = factory.activity()
        recommendation = factory.recommendation(activity.id)
        follow_up = factory.follow_up_of(recommendation, STATE_A)
        login_as(people["fp_a"])
        review = _today(app) + timedelta(days=60)
        response = client.post(
            f"/follow-ups/{follow_up.id}",
            data={
                "version": 1,
                "status": "partially_implemented",
                "narrative": "The national action plan now covers smuggling.",
                "progress": "40",
                "next_review_date": review.isoformat(),
                "links": "Action plan | https://example.org/plan.pdf\nhttps://example.org/news",
                "files": [(io.BytesIO(PDF), "report.pdf")],
            },
            content_type="multipart/form-data",
        )
        assert response.status_code == 302, response.text
        with app.app_context():
            saved = db.session.get(FollowUp, follow_up.id)
            assert saved.status is FollowUpStatus.PARTIALLY_IMPLEMENTED
            assert saved.progress == 40 and saved.next_review_date == review
            assert saved.version == 2 and saved.last_update_at is not None
            (update,) = saved.updates
            assert update.author_id == people["fp_a"].id
            assert sorted(e.title for e in update.evidence) == [
                "Action plan",
                "https://example.org/news",
                "report.pdf",
            ]
            file_id = next(e.id for e in update.evidence if e.is_file)
            entry = db.session.scalar(
                sa.select(AuditEntry).where(AuditEntry.object_type == "follow_ups")
            )
            assert entry.before["status"] == "not_started"
            assert entry.after["status"] == "partially_implemented"
        page = client.get(f"/follow-ups/{follow_up.id}")
        assert "The national action plan now covers smuggling." in page.text
        download = client.get(f"/follow-ups/{follow_up.id}/evidence/{file_id}")
        assert download.status_code == 200 and download.data == PDF
        download.close()

    @pytest.mark.parametrize(
        "data,field,message",
        [
            ({"narrative": ""}, "narrative", "Say what has been done"),
            ({"status": "not_applicable"}, None, "Say why the recommendation does not apply"),
            ({"progress": "140"}, "progress", "from 0 to 100"),
            ({"links": "not a link"}, "links", "is not a web address"),
            ({"next_review_date": "2001-01-01"}, None, "in the past"),
        ],
    )
    def test_bad_updates_are_refused_with_a_message(
        self, app, client, people, login_as, factory, data, field, message
    ):
        activity = factory.activity()
        follow_up = factory.follow_up_of(factory.recommendation(activity.id), STATE_A)
        login_as(people["fp_a"])
        response = _post_update(client, follow_up.id, 1, **data)
        assert response.status_code == 200
        assert message in response.text
        if field:
            assert f'id="{field}-error"' in response.text
        assert _count(app, StatusUpdate) == 0

    def test_a_disguised_file_is_refused(self, app, client, people, login_as, factory):
        activity = factory.activity()
        follow_up = factory.follow_up_of(factory.recommendation(activity.id), STATE_A)
        login_as(people["fp_a"])
        response = client.post(
            f"/follow-ups/{follow_up.id}",
            data={
                "version": 1,
                "status": "in_progress",
                "narrative": "x",
                "files": [(io.BytesIO(b"#!/bin/sh\nrm -rf /\n"), "report.pdf")],
            },
            content_type="multipart/form-data",
        )
        assert response.status_code == 200
        assert "whatever its name says" in response.text
        assert _count(app, StatusUpdate) == 0

    def test_a_stale_page_is_refused_and_shows_what_changed(
        self, app, client, people, login_as, factory
    ):
        activity = factory.activity()
        follow_up = factory.follow_up_of(factory.recommendation(activity.id), STATE_A)
        login_as(people["fp_a"])
        assert _post_update(client, follow_up.id, 1).status_code == 302
        stale = _post_update(client, follow_up.id, 1, status="implemented")
        assert stale.status_code == 409
        assert "Someone else changed this record" in stale.text
        assert "not_started" in stale.text and "in_progress" in stale.text
        with app.app_context():
            saved = db.session.get(FollowUp, follow_up.id)
            assert saved.status is FollowUpStatus.IN_PROGRESS and saved.version == 2
            assert len(saved.updates) == 1

    def test_implemented_counts_only_once_validated(self, app, client, people, login_as, factory):
        activity = factory.activity()
        recommendation = factory.recommendation(activity.id)
        follow_up = factory.follow_up_of(recommendation, STATE_A)
        login_as(people["fp_a"])
        assert _post_update(client, follow_up.id, 1, status="implemented").status_code == 302
        with app.app_context():
            saved = db.session.get(FollowUp, follow_up.id)
            assert saved.status is FollowUpStatus.NOT_STARTED
            assert saved.pending_update_id is not None
            update_id = saved.pending_update_id
        assert "awaiting validation" in client.get(f"/follow-ups/{follow_up.id}").text
        # No new update while one waits.
        assert "waiting for the secretariat" in _post_update(client, follow_up.id, 2).text
        login_as(people["secretariat"])
        queue = client.get("/follow-ups/validation").text
        assert recommendation.code in queue
        no_comment = client.post(
            f"/follow-ups/updates/{update_id}/validate", data={"decision": "return"}
        )
        assert no_comment.status_code == 302
        returned = client.post(
            f"/follow-ups/updates/{update_id}/validate",
            data={"decision": "return", "comment": "Attach the published decree."},
        )
        assert returned.status_code == 302
        with app.app_context():
            saved = db.session.get(FollowUp, follow_up.id)
            assert saved.status is FollowUpStatus.NOT_STARTED and saved.pending_update_id is None
            assert db.session.get(StatusUpdate, update_id).validation is Validation.RETURNED
        login_as(people["fp_a"])
        assert "Attach the published decree." in client.get(f"/follow-ups/{follow_up.id}").text
        version = _version(client, follow_up.id)
        assert _post_update(client, follow_up.id, version, status="implemented").status_code == 302
        with app.app_context():
            second = db.session.get(FollowUp, follow_up.id).pending_update_id
        login_as(people["secretariat"])
        client.post(f"/follow-ups/updates/{second}/validate", data={"decision": "accept"})
        with app.app_context():
            saved = db.session.get(FollowUp, follow_up.id)
            assert saved.status is FollowUpStatus.IMPLEMENTED
            assert saved.effective_progress == 100
        page = client.get(f"/recommendations/{recommendation.id}").text
        assert "1 of 2" in page

    def test_the_state_list_puts_the_most_urgent_first(
        self, app, client, people, login_as, factory
    ):
        now = _today(app)
        activity = factory.activity()
        later = factory.recommendation(activity.id, states=(STATE_A,), target=now + timedelta(200))
        soon = factory.recommendation(activity.id, states=(STATE_A,), target=now + timedelta(10))
        late = factory.recommendation(activity.id, states=(STATE_A,), target=now - timedelta(3))
        login_as(people["fp_a"])
        page = client.get("/follow-ups/").text
        assert page.index(late.code) < page.index(soon.code) < page.index(later.code)
        assert "Overdue (1)" in page and "Due within 30 days (1)" in page
        only = client.get("/follow-ups/?only=overdue").text
        assert late.code in only and soon.code not in only


class TestScoping:
    """A focal point of state A cannot read or change state B's follow-ups anywhere."""

    def test_other_states_follow_ups_are_not_found(self, app, client, people, login_as, factory):
        activity = factory.activity()
        recommendation = factory.recommendation(activity.id)
        kenya = factory.follow_up_of(recommendation, STATE_A)
        update = factory.update(kenya.id, with_file=PDF)
        login_as(people["fp_b"])  # Italy
        assert client.get(f"/follow-ups/{kenya.id}").status_code == 404
        assert _post_update(client, kenya.id, 2).status_code == 404
        evidence = update.evidence[0].id
        assert client.get(f"/follow-ups/{kenya.id}/evidence/{evidence}").status_code == 404
        italy = factory.follow_up_of(recommendation, STATE_B)
        # Not through Italy's own follow-up either.
        assert client.get(f"/follow-ups/{italy.id}/evidence/{evidence}").status_code == 404
        for url in (
            f"/recommendations/{recommendation.id}",
            f"/activities/{activity.id}/recommendations",
            "/follow-ups/",
            f"/follow-ups/?state={kenya.state_id}",
            "/recommendations/shares",
        ):
            page = client.get(url)
            assert page.status_code == 200
            assert f"/follow-ups/{kenya.id}" not in page.text, url
            assert ">Kenya<" not in page.text, url
        exported = client.get(f"/follow-ups/export.csv?state={kenya.state_id}").data.decode()
        assert "Kenya" not in exported and "Italy" in exported
        with app.app_context():
            assert db.session.get(FollowUp, kenya.id).version == 2

    def test_import_of_another_states_row_changes_nothing(
        self, app, client, people, login_as, factory
    ):
        activity = factory.activity()
        recommendation = factory.recommendation(activity.id)
        kenya = factory.follow_up_of(recommendation, STATE_A)
        login_as(people["fp_b"])
        body = _csv(
            [
                "Follow-up ID",
                "Code",
                "State",
                "Wording",
                "Status",
                "Progress",
                "Next review date",
                "Reason",
                "Last update",
                "Version",
                "New narrative",
            ],
            [
                [
                    kenya.id,
                    recommendation.code,
                    "Kenya",
                    "",
                    "Implemented",
                    "",
                    "",
                    "",
                    "",
                    1,
                    "Done",
                ]
            ],
        )
        response = client.post(
            "/follow-ups/import",
            data={"file": (io.BytesIO(body), "mine.csv")},
            content_type="multipart/form-data",
        )
        assert "no follow-up" in response.text and "Import all rows" not in response.text
        assert _count(app, StatusUpdate) == 0

    def test_chair_and_observer_read_everything_but_change_nothing(
        self, app, client, people, login_as, factory
    ):
        activity = factory.activity()
        kenya = factory.follow_up_of(factory.recommendation(activity.id), STATE_A)
        for role in ("chair", "observer"):
            login_as(people[role])
            page = client.get(f"/follow-ups/{kenya.id}")
            assert page.status_code == 200 and "Post an update" not in page.text
            assert _post_update(client, kenya.id, 1).status_code == 403
        assert _count(app, StatusUpdate) == 0


def _csv(header, rows) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue().encode()


def _read_csv(data: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))


def _import(client, url, body, name):
    return client.post(
        url, data={"file": (io.BytesIO(body), name)}, content_type="multipart/form-data"
    )


def _confirm(client, preview, url):
    token = re.search(r'name="token" type="hidden" value="([^"]+)"', preview.text).group(1)
    return client.post(url, data={"token": token})


class TestImportExport:
    def test_an_import_with_one_bad_row_changes_nothing(
        self, app, client, people, login_as, factory
    ):
        activity = factory.activity()
        login_as(people["secretariat"])
        header = client.get("/recommendations/export.csv").data
        columns = _read_csv(header)[0]
        rows = [
            ["", activity.id, "", "First.", "High", "2027-01-31", "RD1", "Kenya; IOM", "", ""],
            ["", activity.id, "", "Second.", "Low", "", "RD99", "All member states", "", ""],
            ["", activity.id, "", "Third.", "Medium", "", "", "Atlantis", "", ""],
        ]
        preview = _import(client, "/recommendations/import", _csv(columns, rows), "r.csv")
        assert preview.status_code == 200
        assert "2 rows cannot be imported" in preview.text
        assert "Unknown theme RD99" in preview.text and "Atlantis" in preview.text
        assert "Import all rows" not in preview.text
        assert _count(app, Recommendation) == 0

    @pytest.mark.parametrize("fmt", ["csv", "xlsx"])
    def test_export_then_import_gives_back_the_same_data(
        self, app, client, people, login_as, factory, fmt
    ):
        first = factory.activity(start=date(2022, 7, 12))
        second = factory.activity(start=date(2023, 3, 2))
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
        preview = _import(client, "/recommendations/import", exported, f"all.{fmt}")
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
        blank = _csv(rows[0], [["", *row[1:]] for row in rows[1:]])
        preview = _import(client, "/recommendations/import", blank, "again.csv")
        assert "4 to record" in preview.text, preview.text
        done = _confirm(client, preview, "/recommendations/import/confirm")
        assert done.status_code == 302
        again = _rows(client.get(f"/recommendations/export.{fmt}").data, fmt)
        assert again == rows

    def test_a_changed_row_is_applied_and_stale_rows_refused(
        self, app, client, people, login_as, factory
    ):
        activity = factory.activity()
        recommendation = factory.recommendation(activity.id, states=(STATE_A,))
        login_as(people["secretariat"])
        rows = _read_csv(client.get("/recommendations/export.csv").data)
        rows[1][3] = "Sharper wording."
        preview = _import(client, "/recommendations/import", _csv(rows[0], rows[1:]), "r.csv")
        assert "0 to record, 1 to change" in preview.text
        assert _confirm(client, preview, "/recommendations/import/confirm").status_code == 302
        with app.app_context():
            assert db.session.get(Recommendation, recommendation.id).text == "Sharper wording."

    def test_focal_point_updates_many_follow_ups_by_import(
        self, app, client, people, login_as, factory
    ):
        activity = factory.activity()
        recs = [factory.recommendation(activity.id) for _ in range(3)]
        login_as(people["fp_a"])
        rows = _read_csv(client.get("/follow-ups/export.csv").data)
        assert [r[2] for r in rows[1:]] == [STATE_A] * 3
        header = rows[0]
        status, narrative = header.index("Status"), header.index("New narrative")
        rows[1][status] = "In progress"
        rows[1][narrative] = "Working group set up."
        rows[2][status] = "Not applicable"
        rows[2][narrative] = "Covered elsewhere."
        rows[2][header.index("Reason")] = "Covered by the IGAD mechanism."
        body = _csv(header, rows[1:])
        preview = _import(client, "/follow-ups/import", body, "kenya.csv")
        assert "2 updates to post, 1 rows unchanged" in preview.text, preview.text
        # Meanwhile someone else updates the first one: the confirmation refuses everything.
        factory.update(factory.follow_up_of(recs[0], STATE_A).id)
        refused = _confirm(client, preview, "/follow-ups/import/confirm")
        assert refused.status_code == 302
        assert _count(app, StatusUpdate) == 1
        rows = _read_csv(client.get("/follow-ups/export.csv").data)
        rows[2][status] = "Not applicable"
        rows[2][narrative] = "Covered elsewhere."
        rows[2][header.index("Reason")] = "Covered by the IGAD mechanism."
        preview = _import(client, "/follow-ups/import", _csv(header, rows[1:]), "k.csv")
        assert _confirm(client, preview, "/follow-ups/import/confirm").status_code == 302
        with app.app_context():
            second = db.session.get(FollowUp, factory.follow_up_of(recs[1], STATE_A).id)
            assert second.status is FollowUpStatus.NOT_APPLICABLE
            assert second.status_reason == "Covered by the IGAD mechanism."
        assert _count(app, StatusUpdate) == 2

    def test_an_unreadable_file_gets_a_message(self, client, people, login_as):
        login_as(people["secretariat"])
        for body, name, message in [
            (b"\xff\xfe\x00garbage", "r.csv", "not UTF-8"),
            (b"not a workbook", "r.xlsx", "cannot be read as an Excel workbook"),
            (b"Code,Wording\n,x\n", "r.csv", "is missing"),
            (b"x", "r.txt", "Import a .csv or .xlsx file"),
        ]:
            response = _import(client, "/recommendations/import", body, name)
            assert response.status_code == 200
            assert message in response.text


def _rows(data: bytes, fmt: str) -> list[list[str]]:
    if fmt == "csv":
        return _read_csv(data)
    sheet = load_workbook(io.BytesIO(data), read_only=True).worksheets[0]
    return [["" if v is None else str(v) for v in row] for row in sheet.iter_rows(values_only=True)]


class TestListsAndShares:
    def test_filters(self, app, client, people, login_as, factory):
        old = factory.activity(start=date(2019, 5, 1))
        new = factory.activity(start=date(2025, 5, 1))
        a = factory.recommendation(old.id, states=(STATE_A,), themes=("JVAP2",), text="Mobility")
        b = factory.recommendation(
            new.id,
            states=(STATE_B,),
            themes=("RD5",),
            text="Prosecute",
            target=_today(app) - timedelta(days=5),
        )
        factory.update(factory.follow_up_of(a, STATE_A).id, FollowUpStatus.IMPLEMENTED)
        login_as(people["observer"])
        italy = factory.follow_up_of(b, STATE_B).state_id

        def codes(query):
            text = client.get(f"/recommendations/?{query}").text
            return {c for c in (a.code, b.code) if c in text}

        assert codes("") == {a.code, b.code}
        assert codes("theme=JVAP2") == {a.code}
        assert codes(f"state={italy}") == {b.code}
        assert codes("status=implemented") == {a.code}
        assert codes("overdue=1") == {b.code}
        assert codes("year=2019") == {a.code}
        assert codes(f"activity={new.id}") == {b.code}
        assert codes("q=prosecute") == {b.code}
        assert client.get("/recommendations/?status=bogus&year=x&page=-3").status_code == 200

    def test_shares_per_state_and_theme(self, app, client, people, login_as, factory):
        activity = factory.activity()
        r = factory.recommendation(activity.id, themes=("RD3", "4P-PREVENTION"))
        factory.update(factory.follow_up_of(r, STATE_A).id, FollowUpStatus.IMPLEMENTED)
        login_as(people["chair"])
        page = client.get("/recommendations/shares").text
        assert re.search(r"Kenya</a></td><td>1</td><td>1</td>.*?100 %", page, re.S)
        assert re.search(r"Italy</a></td><td>1</td><td>0</td>.*?0 %", page, re.S)
        assert re.search(
            r"RD3 Prevention of trafficking.*?</a></td><td>2</td><td>1</td>", page, re.S
        )

    def test_activity_matrix(self, app, client, people, login_as, factory):
        activity = factory.activity()
        r = factory.recommendation(activity.id)
        factory.update(factory.follow_up_of(r, STATE_B).id, FollowUpStatus.IN_PROGRESS)
        login_as(people["observer"])
        page = client.get(f"/activities/{activity.id}/recommendations").text
        assert "Kenya" in page and "Italy" in page
        assert 'class="fu fu-in_progress"' in page and 'class="fu fu-not_started"' in page


class TestQueryCounts:
    @pytest.mark.parametrize(
        "role,url",
        [
            ("observer", "/recommendations/"),
            ("fp_a", "/recommendations/"),
            ("fp_a", "/follow-ups/"),
            ("secretariat", "/follow-ups/validation"),
            ("observer", "/recommendations/shares"),
            ("observer", "/recommendations/{rec}"),
            ("observer", "/activities/{activity}/recommendations"),
            ("fp_a", "/follow-ups/{follow_up}"),
        ],
    )
    def test_lists_do_not_grow_with_the_data(
        self, app, client, people, login_as, factory, count_queries, role, url
    ):
        activity = factory.activity()

        def add(n):
            made = []
            for _ in range(n):
                rec = factory.recommendation(activity.id)
                fu = factory.follow_up_of(rec, STATE_A)
                factory.update(fu.id, with_file=PDF)
                factory.update(fu.id, FollowUpStatus.IMPLEMENTED, pending=True)
                made.append((rec, fu))
            return made

        login_as(people[role])
        counts = []
        for n in (2, 12):
            rec, fu = add(n)[-1]
            target = url.format(rec=rec.id, activity=activity.id, follow_up=fu.id)
            with count_queries() as counter:
                assert client.get(target).status_code == 200
            counts.append(counter.count)
        assert counts[0] == counts[1], counts


@pytest.mark.postgres
def test_twenty_concurrent_updates_lose_nothing(app, backend, people, factory):
    """Each update either applies or is refused; the history holds exactly the applied."""
    if backend != "postgres":
        pytest.skip("concurrency is what PostgreSQL is for")
    activity = factory.activity()
    follow_up = factory.follow_up_of(factory.recommendation(activity.id), STATE_A)
    barrier = threading.Barrier(20)
    outcomes: list[int] = []
    lock = threading.Lock()

    def worker(n: int):
        client = app.test_client()
        with client.session_transaction() as session:
            session.update(signed_in_session(app, people["fp_a"]))
        version = _version(client, follow_up.id)
        barrier.wait()
        response = _post_update(client, follow_up.id, version, narrative=f"Update {n}")
        with lock:
            outcomes.append(response.status_code)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    applied = outcomes.count(302)
    assert applied >= 1 and applied + outcomes.count(409) == 20, outcomes
    with app.app_context():
        saved = db.session.get(FollowUp, follow_up.id)
        assert len(saved.updates) == applied
        assert saved.version == 1 + applied
        assert (
            db.session.scalar(
                sa.select(sa.func.count()).where(
                    AuditEntry.object_type == "follow_ups", AuditEntry.object_id == follow_up.id
                )
            )
            == applied
        )


def test_demo_recommendations_are_illustrative_and_load_once(app, runner):
    result = runner.invoke(args=["kpplan", "seed", "--demo"])
    assert result.exit_code == 0, result.output
    assert "Demo recommendations (illustrative): 8 added" in result.output
    again = runner.invoke(args=["kpplan", "seed", "--demo"])
    assert "Demo recommendations (illustrative): 0 added" in again.output
    with app.app_context():
        assert (
            db.session.scalar(
                sa.select(sa.func.count()).where(Recommendation.illustrative.is_(False))
            )
            == 0
        )
        statuses = set(db.session.scalars(sa.select(FollowUp.status)))
        assert len(statuses) == len(FollowUpStatus)
        assert db.session.scalar(
            sa.select(sa.func.count()).where(StatusUpdate.validation == Validation.PENDING)
        )
    client = app.test_client()
    client.post("/login", data={"email": "focal.kenya@kpplan.example", "password": "khartoum-demo"})
    page = client.get("/follow-ups/")
    assert page.status_code == 200
    assert "My state's follow-ups: Kenya" in page.text and "Illustrative" in page.text


def test_home_shows_what_needs_attention(app, client, people, login_as, factory):
    now = _today(app)
    activity = factory.activity()
    factory.recommendation(activity.id, states=(STATE_A,), target=now - timedelta(days=1))
    factory.recommendation(activity.id, states=(STATE_B,), target=now + timedelta(days=5))
    login_as(people["fp_a"])
    page = client.get("/").text
    assert "Kenya's follow-up of recommendations" in page
    assert re.search(r'<p class="figure">1</p>\s*<p>follow-ups overdue', page)
    assert re.search(r'<p class="figure">0</p>\s*<p>due within 30 days', page)
    login_as(people["secretariat"])
    page = client.get("/").text
    assert re.search(r'<p class="figure">1</p>\s*<p>due within 30 days', page)


def test_two_meetings_of_a_kind_in_one_month_get_distinct_codes(
    app, client, people, login_as, factory
):
    first = factory.activity(start=date(2022, 7, 5))
    second = factory.activity(start=date(2022, 7, 20))
    login_as(people["secretariat"])
    for activity in (first, second, first):
        response = client.post(
            f"/activities/{activity.id}/recommendations/new",
            data={
                "entries-0-text": "Act.",
                "entries-0-priority": "medium",
                "entries-0-to_all_members": "y",
            },
        )
        assert response.status_code == 302
    with app.app_context():
        codes = db.session.scalars(sa.select(Recommendation.code).order_by(Recommendation.id))
        assert list(codes) == ["TM-2022-07/R1", "TM-2022-07b/R1", "TM-2022-07/R2"]


def test_heavy_figures_are_kept_until_something_changes(
    app, client, people, login_as, factory, count_queries
):
    activity = factory.activity()
    recommendation = factory.recommendation(activity.id)
    kenya = factory.follow_up_of(recommendation, STATE_A)
    login_as(people["fp_a"])
    with count_queries() as first:
        assert "0 %" in client.get("/recommendations/shares").text
    with count_queries() as again:
        client.get("/recommendations/shares")
    assert again.count < first.count  # served from the memo: only the stamp is read
    version = _version(client, kenya.id)
    assert (
        _post_update(
            client, kenya.id, version, status="not_applicable", reason="Covered elsewhere."
        ).status_code
        == 302
    )
    page = client.get("/recommendations/shares").text
    assert re.search(r"Kenya</a></td><td>1</td><td>0</td><td>1</td>", page)


def test_every_block_of_the_record_form_says_what_is_wrong_at_once(
    app, client, people, login_as, factory
):
    activity = factory.activity()
    login_as(people["secretariat"])
    response = client.post(
        f"/activities/{activity.id}/recommendations/new",
        data={
            "entries-0-text": "Fine, but alone it is not recorded.",
            "entries-0-priority": "medium",
            "entries-0-to_all_members": "y",
            "entries-1-text": "Nobody to address.",
            "entries-1-priority": "medium",
            "entries-2-text": "Successor of nothing.",
            "entries-2-priority": "medium",
            "entries-2-to_all_members": "y",
            "entries-2-predecessor": "XX-1999-01/R9",
            "entries-2-lineage": "supersedes",
        },
    )
    assert response.status_code == 200
    assert 'id="entries-1-states-error"' in response.text
    assert 'id="entries-2-predecessor-error"' in response.text
    assert "No recommendation has the code XX-1999-01/R9." in response.text
    assert "Fine, but alone it is not recorded." in response.text
    assert _count(app, Recommendation) == 0
