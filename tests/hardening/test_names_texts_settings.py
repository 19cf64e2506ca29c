"""File names without bidirectional controls; texts longer than their column or holding a
NUL refused alike on both databases; settings checked against their allowed values."""

from __future__ import annotations

import io

import pytest
import sqlalchemy as sa

from kpplan.core.clock import ProcessClock, timezone_name
from kpplan.core.errors import DomainError
from kpplan.core.extensions import db
from kpplan.core.rule_settings import ReminderRuleSetting
from kpplan.directory.models import Organisation, OrganisationKind
from kpplan.meetings.models import Document
from kpplan.reminders.rules import RULES
from kpplan.reminders.settings import rule_settings

SPOOFED = "report\u202efdp.exe"  # shows as "reportexe.pdf"
BIDI = "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c"


def test_an_uploaded_name_loses_its_bidirectional_controls(app, client, people, login_as, factory):
    activity = factory.activity()
    login_as(people["secretariat"])
    response = client.post(
        f"/activities/{activity.id}/documents",
        data={"file": (io.BytesIO(b"%PDF-1.4\n%x\n"), f"{SPOOFED}.pdf"), "kind": "agenda"},
    )
    assert response.status_code == 302
    with app.app_context():
        document = db.session.scalars(sa.select(Document)).one()
    assert not set(document.original_name + document.title) & set(BIDI)


def test_a_name_kept_before_is_cleaned_when_shown_and_served(
    app, client, people, login_as, factory
):
    activity = factory.activity()
    kept = factory.document(activity.id)
    with app.app_context():
        document = db.session.get(Document, kept.id)
        document.original_name = f"{SPOOFED}\u2067.pdf"
        document.title = f"Agenda {SPOOFED}"
        db.session.commit()
    login_as(people["observer"])
    page = client.get(f"/activities/{activity.id}").text
    assert "reportfdp.exe.pdf" in page and not set(page) & set(BIDI)
    download = client.get(f"/activities/{activity.id}/documents/{kept.id}")
    disposition = download.headers["Content-Disposition"]
    download.close()
    assert "reportfdp.exe.pdf" in disposition
    assert not set(disposition) & set(BIDI) and "%E2%80%AE" not in disposition.upper()


@pytest.mark.parametrize(
    "attribute, value, says",
    [
        ("acronym", "A" * 41, "Acronym: at most 40 characters"),
        ("website", "https://" + "w" * 400, "Website: at most 300 characters"),
        ("name", "Kenya\x00", "Name: This text holds an invisible NUL character"),
    ],
)
def test_texts_past_their_column_or_with_nul_are_refused_alike(app, attribute, value, says):
    """Checked before the flush, so SQLite (which would keep them) answers as PostgreSQL
    (which would fail) with a message on the attribute's field."""
    with app.app_context():
        organisation = Organisation(name="Test", kind=OrganisationKind.NGO)
        setattr(organisation, attribute, value)
        db.session.add(organisation)
        with pytest.raises(DomainError) as refused:
            db.session.flush()
        db.session.rollback()
    assert refused.value.field == attribute
    assert says in refused.value.message


def test_a_saved_timezone_or_days_outside_the_allowed_values_are_ignored(app, client, people):
    with app.app_context():
        db.session.add(ProcessClock(id=1, timezone="Mars/Olympus_Mons"))
        key = next(k for k, rule in RULES.items() if rule.days_label)
        db.session.add(ReminderRuleSetting(rule=key, enabled=True, days=100_000))
        db.session.commit()
        assert timezone_name(fresh=True) == app.config["TIMEZONE"]
        assert rule_settings()[key].days == RULES[key].default_days


@pytest.mark.parametrize(
    "field, value, says",
    [
        ("timezone_field", "Mars/Olympus_Mons", "Give a timezone by its name"),
        ("timezone_field", "Europe/Brussels\x00", "NUL character"),
        ("timezone_field", "E" * 500, "Give a timezone by its name"),
        ("{days}", "99999999999999999999", "Give a number from 1 to 365."),
        ("{days}", "0", "Give a number from 1 to 365."),
        ("sender_address", "secretariat@kpplan.example", "Give the name mails come from"),
        ("sender_name", "Khartoum Process secretariat", "Give an e-mail address such as"),
        ("sender_name", "S" * 121, "Field cannot be longer than 120 characters."),
        ("sender_name", "Secretariat\x00", "NUL character"),
    ],
)
def test_the_settings_page_checks_each_value_before_use(
    app, client, people, login_as, field, value, says
):
    login_as(people["admin"])
    form = {"timezone_field": "Africa/Nairobi"}
    for key, rule in RULES.items():
        form[f"{key}_enabled"] = "y"
        if rule.days_label:
            form[f"{key}_days"] = str(rule.default_days)
    days_field = next(f"{k}_days" for k, rule in RULES.items() if rule.days_label)
    form[field.format(days=days_field)] = value
    response = client.post("/reminders/settings", data=form)
    assert response.status_code == 200
    assert says in response.text
    with app.app_context():
        assert db.session.get(ProcessClock, 1) is None  # nothing was saved


def test_a_change_past_its_column_is_refused_too(app):
    with app.app_context():
        organisation = Organisation(name="Kept", kind=OrganisationKind.NGO)
        db.session.add(organisation)
        db.session.commit()
        organisation.acronym = "B" * 41
        with pytest.raises(DomainError) as refused:
            db.session.commit()
        db.session.rollback()
    assert refused.value.field == "acronym"
