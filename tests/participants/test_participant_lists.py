"""The lists: XLSX and CSV for the venue and the badges, the printable list by delegation,
and delegates imported from a spreadsheet — previewed with every error of each row, then
all named or none."""

from __future__ import annotations

import csv
import io
from datetime import date, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from openpyxl import Workbook, load_workbook

from kpplan.core.extensions import db
from kpplan.participants.models import Gender, Participant, ParticipantStatus
from tests.participants.helpers import draw_up, flashes, name, text

HEADER = (
    "Delegation,Name,Function,Institution,E-mail,Gender,Visa letter,Interpretation,"
    "Other needs,Status"
)


def _today(app) -> date:
    from kpplan.core.clock import today

    with app.test_request_context():
        return today()


@pytest.fixture
def meeting(app, factory):
    activity = factory.activity(title="Regional Training", start=_today(app) + timedelta(days=40))
    ids = draw_up(app, activity.id, states=("Kenya", "Italy"), organisations=("IOM",), seats=2)
    return activity, ids


def test_exports_for_the_venue_and_badges(app, client, people, login_as, meeting):
    activity, ids = meeting
    name(app, ids["Kenya"], "Wanjiku Kamau", ParticipantStatus.CONFIRMED, Gender.FEMALE)
    name(app, ids["IOM"], "=Omar Said", ParticipantStatus.CONFIRMED, Gender.MALE)
    gone = name(app, ids["Italy"], "Giulia Rossi")
    with app.app_context():
        db.session.get(Participant, gone).status = ParticipantStatus.WITHDRAWN
        db.session.commit()
    login_as(people["secretariat"])

    response = client.get(f"/activities/{activity.id}/participants.csv")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert response.headers["Cache-Control"] == "no-store"
    assert "attachment" in response.headers["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(response.data.decode("utf-8-sig"))))
    # States first, then organisations; the withdrawn left out; no formula let through.
    assert [(r["Delegation"], r["Name"], r["Gender"]) for r in rows] == [
        ("Kenya", "Wanjiku Kamau", "Woman"),
        ("IOM", "'=Omar Said", "Man"),
    ]
    assert rows[0]["Status"] == "Confirmed" and rows[0]["Institution"] == "Ministry"

    response = client.get(f"/activities/{activity.id}/participants.xlsx")
    assert response.headers["Cache-Control"] == "no-store"
    sheet = load_workbook(io.BytesIO(response.data)).active
    values = [[c.value for c in row] for row in sheet.iter_rows()]
    assert values[0][:3] == ["Delegation", "Name", "Function"] and values[0][-1] == "Present"
    assert values[1][:2] == ["Kenya", "Wanjiku Kamau"]

    printable = client.get(f"/activities/{activity.id}/participants/print")
    assert printable.status_code == 200
    page = text(printable)
    assert page.index("<h2>Kenya</h2>") < page.index("<h2>IOM</h2>")
    assert "Giulia Rossi" not in page and "personal data" in page


def _csv(*rows: str) -> bytes:
    return ("\n".join([HEADER, *rows]) + "\n").encode()


def _upload(client, activity_id: int, data: bytes, filename: str = "delegates.csv"):
    return client.post(
        f"/activities/{activity_id}/participants/import",
        data={"file": (io.BytesIO(data), filename)},
        content_type="multipart/form-data",
    )


def test_an_import_shows_every_error_of_each_row_and_names_nobody(
    app, client, people, login_as, meeting
):
    activity, ids = meeting
    name(app, ids["Kenya"], "Wanjiku Kamau")
    login_as(people["secretariat"])
    page = _upload(
        client,
        activity.id,
        _csv(
            "Kenya,Baraka Mwangi,Officer,Police,baraka@example.org,man,yes,,,confirmed",
            "Kenya,Wanjiku Kamau,,,,,,,,",
            "Egypt,,,,not-an-address,robot,maybe,,,withdrawn",
            "IOM,Omar Said,,,,,,,,",
            "IOM,omar said,,,,,,,,",
        ),
    )
    assert page.status_code == 200
    body = text(page)
    assert "3 rows cannot be imported" in body
    assert "Wanjiku Kamau is on Kenya's list already." in body
    # Every error of the third row, not only the first.
    for message in (
        "Egypt is not invited to this activity.",
        "Give the delegate's name.",
        "“not-an-address” is not an e-mail address.",
        "Gender “robot” is not one of",
        "Visa letter “maybe” is neither yes nor no.",
        "Status “withdrawn” is not one of",
    ):
        assert message in body
    assert "omar said appears twice for IOM." in body
    assert "Import all rows" not in body
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(Participant.id))) == 1
    # Nothing with personal data is kept from a file that cannot be imported.
    assert not list((Path(app.instance_path) / "participant-imports").glob("*"))


def test_a_valid_file_is_previewed_then_imported_whole(app, client, people, login_as, meeting):
    activity, ids = meeting
    login_as(people["secretariat"])
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(HEADER.split(","))
    sheet.append(
        ["Kenya", "Baraka Mwangi", "Officer", "Police", "", "Man", "yes", "French", "", ""]
    )
    sheet.append(["iom", "Omar Said", "", "", "omar@example.org", "", "", "", "", "Confirmed"])
    buffer = io.BytesIO()
    workbook.save(buffer)
    page = _upload(client, activity.id, buffer.getvalue(), "delegates.xlsx")
    assert "No error: 2 delegates to name." in text(page)
    token = page.text.split('name="token" type="hidden" value="')[1].split('"')[0]
    folder = Path(app.instance_path) / "participant-imports"
    assert (folder / token).exists()
    done = client.post(
        f"/activities/{activity.id}/participants/import/confirm",
        data={"token": token},
        follow_redirects=True,
    )
    assert "Imported: 2 delegates named." in text(done)
    # The file is gone once imported: the delegates' details live in one place.
    assert not (folder / token).exists()
    with app.app_context():
        found = {
            p.name: (p.status, p.gender, p.visa_letter, p.interpretation)
            for p in db.session.scalars(sa.select(Participant))
        }
    assert found == {
        "Baraka Mwangi": (ParticipantStatus.NOMINATED, Gender.MALE, True, "French"),
        "Omar Said": (ParticipantStatus.CONFIRMED, Gender.NOT_GIVEN, False, None),
    }
    # The same token again: expired, nothing doubled.
    again = client.post(
        f"/activities/{activity.id}/participants/import/confirm",
        data={"token": token},
        follow_redirects=True,
    )
    assert "has expired" in " ".join(flashes(again.text))


def test_a_file_that_changed_meaning_since_the_preview_imports_nothing(
    app, client, people, login_as, meeting
):
    activity, ids = meeting
    login_as(people["secretariat"])
    page = _upload(
        client,
        activity.id,
        _csv("Kenya,Baraka Mwangi,,,,,,,,", "Italy,Giulia Rossi,,,,,,,,"),
    )
    token = page.text.split('name="token" type="hidden" value="')[1].split('"')[0]
    # Meanwhile Italy's focal point names the same person.
    name(app, ids["Italy"], "Giulia Rossi")
    done = client.post(
        f"/activities/{activity.id}/participants/import/confirm",
        data={"token": token},
        follow_redirects=True,
    )
    assert "Nothing was imported." in " ".join(flashes(done.text))
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(Participant.id))) == 1


@pytest.mark.parametrize(
    "data,filename,message",
    [
        (b"", "empty.csv", "The file is empty"),
        (b"Name\nX\n", "x.csv", "The column “Delegation” is missing"),
        (b"\xff\xfe\x00", "x.csv", "not UTF-8"),
        (b"not a workbook", "x.xlsx", "cannot be read as an Excel workbook"),
        (b"a,b\n", "x.pdf", "Import a .csv or .xlsx file"),
    ],
)
def test_files_that_cannot_be_read_say_why(
    app, client, people, login_as, meeting, data, filename, message
):
    activity, _ids = meeting
    login_as(people["secretariat"])
    page = _upload(client, activity.id, data, filename)
    assert page.status_code == 200 and message in text(page)


def test_the_pages_carry_no_inline_script_or_style(app, client, people, login_as, meeting):
    activity, ids = meeting
    delegate = name(app, ids["Kenya"], "Wanjiku Kamau")
    login_as(people["secretariat"])
    for path in (
        f"/activities/{activity.id}",
        f"/activities/{activity.id}/participants",
        f"/activities/{activity.id}/invitations",
        f"/activities/{activity.id}/delegations/{ids['Kenya']}",
        f"/activities/{activity.id}/participants/{delegate}/edit",
        f"/activities/{activity.id}/attendance",
        f"/activities/{activity.id}/participants/print",
        f"/activities/{activity.id}/participants/import",
    ):
        page = client.get(path)
        assert page.status_code == 200, path
        assert "<script>" not in page.text and "<style" not in page.text
        assert "style=" not in page.text and " on" + "click=" not in page.text
