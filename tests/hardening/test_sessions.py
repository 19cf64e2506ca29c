"""Sessions end at sign-out on the server; private pages are not cached; calendar links
are kept as digests."""

from __future__ import annotations

import hashlib
import re
import time

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


# --- The session cookie on a page served again ---------------------------------------------


def _session_of(app, cookie: str) -> dict:
    return app.session_interface.get_signing_serializer(app).loads(cookie)


def _warm_browser(app, email: str):
    """Signed in through the form, and the home page seen twice (the first visit makes the
    session's form token, which changes the cookie once)."""
    browser = _signed_in_client(app, email)
    browser.get("/")
    assert browser.get("/").status_code == 200
    return browser


def test_a_page_served_again_does_not_sign_the_cookie_again(app, factory):
    person = factory.user(Role.SECRETARIAT, email="dan@kpplan.example")
    browser = _warm_browser(app, person.email)
    cookie = browser.get_cookie("session").value
    for url in ("/", "/organisations/", "/organisations/"):
        response = browser.get(url)
        assert response.status_code == 200
        assert "Set-Cookie" not in response.headers, url
    assert browser.get_cookie("session").value == cookie


def test_a_sign_in_lasts_its_lifetime_from_when_its_cookie_was_signed(app, factory, monkeypatch):
    person = factory.user(Role.OBSERVER, email="eve@kpplan.example")
    browser = _warm_browser(app, person.email)
    lifetime = app.permanent_session_lifetime.total_seconds()
    signed_at = time.time()

    monkeypatch.setattr(time, "time", lambda: signed_at + lifetime - 60)
    assert browser.get("/").status_code == 200

    monkeypatch.setattr(time, "time", lambda: signed_at + lifetime + 2)
    late = browser.get("/")
    assert late.status_code == 302 and late.headers["Location"].startswith("/login")


def _altered(cookie: str, position: int) -> str:
    return cookie[:position] + ("A" if cookie[position] != "A" else "Q") + cookie[position + 1 :]


def test_a_cookie_altered_by_one_character_signs_nobody_in(app, factory):
    # The last character of each part is left alone: its lowest bits may be base64's
    # padding, so "A" and "B" there can decode to the same bytes (it failed 1 run in 16).
    person = factory.user(Role.OBSERVER, email="fay@kpplan.example")
    browser = _warm_browser(app, person.email)
    cookie = browser.get_cookie("session").value
    payload_end = cookie.index(".", 1)
    signature_start = cookie.rindex(".") + 1

    other = app.test_client()
    for position in (2, payload_end // 2, signature_start, len(cookie) - 2):
        other.set_cookie("session", _altered(cookie, position))
        response = other.get("/")
        assert response.status_code == 302, position
        assert response.headers["Location"].startswith("/login")
    other.set_cookie("session", cookie)
    assert other.get("/").status_code == 200


def test_a_new_secret_key_refuses_the_cookies_signed_with_the_old_one(app, factory):
    person = factory.user(Role.OBSERVER, email="gil@kpplan.example")
    browser = _warm_browser(app, person.email)
    app.secret_key = "another-secret-key"
    response = browser.get("/")
    assert response.status_code == 302 and response.headers["Location"].startswith("/login")


def test_flashed_messages_of_one_request_never_reach_another(app):
    # A cookie holding messages is read afresh each time: a message added by one request
    # (here, "please sign in") must not pile up in what the next request with that cookie
    # reads.
    first = app.test_client()
    with first.session_transaction() as session:
        session["_flashes"] = [("info", "Saved.")]
    cookie = first.get_cookie("session").value
    for _ in range(2):
        browser = app.test_client()
        browser.set_cookie("session", cookie)
        assert browser.get("/users/").status_code == 302
        flashes = _session_of(app, browser.get_cookie("session").value)["_flashes"]
        assert [message for _, message in flashes] == [
            "Saved.",
            "Please sign in to see this page.",
        ]


def test_a_page_served_again_carries_each_security_header_once(app, factory):
    person = factory.user(Role.SECRETARIAT, email="hal@kpplan.example")
    browser = _warm_browser(app, person.email)
    for _ in range(2):
        response = browser.get("/organisations/")
        for name in ("Content-Security-Policy", "X-Content-Type-Options", "Cache-Control"):
            assert len(response.headers.getlist(name)) == 1, name
        assert response.headers["Cache-Control"] == "no-store"
