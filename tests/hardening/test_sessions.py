"""Sessions end at sign-out on the server; private pages are not cached; calendar links
are kept as digests."""

from __future__ import annotations

import hashlib
import re

import sqlalchemy as sa

from kpplan.auth.models import SignedInSession
from kpplan.core.extensions import db
from kpplan.directory.models import Role, User
from tests.conftest import PASSWORD


def _signed_in_client(app, email: str):
    client = app.test_client()
    response = client.post("/login", data={"email": email, "password": PASSWORD})
    assert response.status_code == 302, response.text
    return client


def test_a_copied_cookie_no_longer_works_after_sign_out(app, factory):
    person = factory.user(Role.SECRETARIAT, email="ana@kpplan.example")
    browser = _signed_in_client(app, person.email)
    copied = browser.get_cookie("session").value

    assert browser.post("/logout").status_code == 302

    thief = app.test_client()
    thief.set_cookie("session", copied)
    replayed = thief.get("/users/")
    assert replayed.status_code == 302
    assert replayed.headers["Location"].startswith("/login")
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(SignedInSession.id))) == 0


def test_signing_out_on_one_device_keeps_the_others(app, factory):
    person = factory.user(Role.OBSERVER, email="ben@kpplan.example")
    laptop = _signed_in_client(app, person.email)
    phone = _signed_in_client(app, person.email)

    laptop.post("/logout")

    assert laptop.get("/").status_code == 302
    assert phone.get("/").status_code == 200


def test_the_server_keeps_only_a_digest_of_the_session_secret(app, factory):
    person = factory.user(Role.OBSERVER, email="cleo@kpplan.example")
    browser = _signed_in_client(app, person.email)
    with browser.session_transaction() as session:
        secret = session["kpplan_session"]
    with app.app_context():
        kept = db.session.scalars(sa.select(SignedInSession.key_hash)).all()
    assert kept == [hashlib.sha256(secret.encode()).hexdigest()]


def test_a_session_without_its_server_record_signs_nobody_in(app, client, people):
    with client.session_transaction() as session:
        session["_user_id"] = people["admin"].get_id()  # as cookies made before sessions
    response = client.get("/")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_private_pages_are_not_stored_by_caches(app, client, people, login_as, factory):
    activity = factory.activity()
    document = factory.document(activity.id)
    anonymous = app.test_client()
    assert "no-store" not in anonymous.get("/login").headers.get("Cache-Control", "")
    login_as(people["fp_a"])
    for url in [
        "/",
        "/account",
        f"/activities/{activity.id}",
        f"/activities/{activity.id}/documents/{document.id}",
        "/follow-ups/export.csv",
        "/reports/statistics.csv",
        "/no-such-page",
    ]:
        response = client.get(url)
        assert response.headers["Cache-Control"] == "no-store", url
        response.close()
    static = client.get("/static/kpplan.css")
    assert "no-store" not in static.headers.get("Cache-Control", "")
    static.close()


def test_calendar_links_are_kept_as_digests_and_shown_once(app, client, people, login_as):
    login_as(people["observer"])
    client.post("/account/calendar-link")
    first = client.get("/account").text
    token = re.search(r"/calendar\.ics\?token=([\w-]+)", first).group(1)
    assert "shown only this once" in first

    again = client.get("/account").text
    assert token not in again
    assert "You have a private calendar link" in again
    with app.app_context():
        kept = db.session.get(User, people["observer"].id).calendar_token_hash
    assert kept == hashlib.sha256(token.encode()).hexdigest()
    assert app.test_client().get(f"/calendar.ics?token={token}").status_code == 200
    assert app.test_client().get(f"/calendar.ics?token={kept}").status_code == 404
