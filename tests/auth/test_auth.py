"""Sign-in, sign-out, throttling, sessions that end, the next parameter, passwords."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import inspect as sa_inspect
from sqlalchemy import select, update

from kpplan.auth.models import SignInThrottle
from kpplan.core.db import utcnow
from kpplan.core.extensions import db
from kpplan.directory.models import Role, User
from tests.conftest import PASSWORD, signed_in_session
from tests.querycount import counting

WRONG = "That e-mail address and password do not match an active account."


@pytest.fixture
def kamau(factory):
    return factory.user(Role.FOCAL_POINT, state="Kenya", email="kamau@kpplan.example", name="Kamau")


def test_sign_in_and_out(client, sign_in, kamau):
    response = sign_in("kamau@kpplan.example")
    assert response.status_code == 302
    assert response.headers["Location"] == "/"
    home = client.get("/")
    assert home.status_code == 200
    assert "Kamau" in home.text

    assert client.get("/logout").status_code == 405  # no sign-out by GET
    response = client.post("/logout", follow_redirects=True)
    assert "You have signed out." in response.text
    assert client.get("/").headers["Location"].startswith("/login")


def test_address_is_case_insensitive(client, sign_in, kamau):
    assert sign_in("  KAMAU@kpplan.EXAMPLE ").status_code == 302


def test_sign_in_records_the_moment(app, sign_in, kamau):
    sign_in("kamau@kpplan.example")
    with app.app_context():
        assert db.session.get(User, kamau.id).last_sign_in_at is not None


@pytest.mark.parametrize(
    "email,password", [("kamau@kpplan.example", "wrong"), ("nobody@x.org", PASSWORD)]
)
def test_wrong_credentials_get_one_message(client, sign_in, kamau, email, password):
    response = sign_in(email, password)
    assert response.status_code == 200
    assert WRONG in response.text
    assert client.get("/").status_code == 302


def test_empty_form_says_what_is_missing(client):
    response = client.post("/login", data={})
    assert "Enter your e-mail address." in response.text
    assert "Enter your password." in response.text


def test_deactivated_user_cannot_sign_in(client, sign_in, factory):
    factory.user(Role.OBSERVER, email="gone@kpplan.example", active=False)
    response = sign_in("gone@kpplan.example")
    assert WRONG in response.text
    assert client.get("/").status_code == 302


def test_deactivation_ends_open_sessions(app, client, sign_in, people, kamau, login_as):
    sign_in("kamau@kpplan.example")
    assert client.get("/").status_code == 200

    admin_client = app.test_client()
    with admin_client.session_transaction() as session:
        session.update(signed_in_session(app, people["admin"]))
    response = admin_client.post(f"/users/{kamau.id}/deactivate")
    assert response.status_code == 302

    response = client.get("/")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login")


def test_password_reset_ends_open_sessions(app, client, sign_in, people, kamau):
    sign_in("kamau@kpplan.example")
    admin_client = app.test_client()
    with admin_client.session_transaction() as session:
        session.update(signed_in_session(app, people["admin"]))
    response = admin_client.post(f"/users/{kamau.id}/reset-password")
    assert response.status_code == 200
    assert client.get("/").status_code == 302


class TestThrottling:
    def _fail(self, sign_in, email, times, address="10.0.0.1"):
        for _ in range(times):
            sign_in(email, "wrong", environ_base={"REMOTE_ADDR": address})

    def test_account_is_slowed_after_repeated_failures(self, app, client, sign_in, kamau):
        limit = app.config["LOGIN_MAX_FAILURES"]
        self._fail(sign_in, "kamau@kpplan.example", limit, address="10.0.0.1")
        # Even the right password, from another address, must wait now.
        response = sign_in("kamau@kpplan.example", environ_base={"REMOTE_ADDR": "10.0.0.2"})
        assert response.status_code == 429
        assert "Too many failed sign-ins" in response.text
        assert client.get("/").status_code == 302

        # Once the wait is over, the right password works and clears the count.
        with app.app_context():
            db.session.execute(
                update(SignInThrottle).values(blocked_until=utcnow() - timedelta(seconds=1))
            )
            db.session.commit()
        response = sign_in("kamau@kpplan.example", environ_base={"REMOTE_ADDR": "10.0.0.2"})
        assert response.status_code == 302
        with app.app_context():
            rows = db.session.scalars(
                select(SignInThrottle).where(SignInThrottle.scope == "account")
            ).all()
            assert rows == []

    def test_address_is_slowed_across_accounts(self, app, sign_in, kamau, factory):
        limit = app.config["LOGIN_MAX_FAILURES"]
        for n in range(limit):
            sign_in(f"guess{n}@kpplan.example", "wrong", environ_base={"REMOTE_ADDR": "10.9.9.9"})
        response = sign_in("kamau@kpplan.example", environ_base={"REMOTE_ADDR": "10.9.9.9"})
        assert response.status_code == 429
        # The same account from another address is not held back by that address.
        response = sign_in("kamau@kpplan.example", environ_base={"REMOTE_ADDR": "10.1.1.1"})
        assert response.status_code == 302

    def test_wait_doubles_with_each_further_failure(self, app, sign_in, kamau):
        config = app.config
        self._fail(sign_in, "kamau@kpplan.example", config["LOGIN_MAX_FAILURES"])
        waits = []
        for _ in range(3):
            with app.app_context():
                row = db.session.scalars(
                    select(SignInThrottle).where(SignInThrottle.scope == "account")
                ).one()
                waits.append((row.blocked_until - row.first_failure_at).total_seconds())
                # Let the blocks (of the account and of the address) pass, then fail again.
                db.session.execute(
                    update(SignInThrottle).values(blocked_until=utcnow() - timedelta(seconds=1))
                )
                db.session.commit()
            self._fail(sign_in, "kamau@kpplan.example", 1)
        assert waits == [
            config["LOGIN_BASE_DELAY"],
            config["LOGIN_BASE_DELAY"] * 2,
            config["LOGIN_BASE_DELAY"] * 4,
        ]

    def test_counters_live_in_the_database(self, app, sign_in, kamau):
        """Another worker (another app on the same database) sees the same block."""
        self._fail(sign_in, "kamau@kpplan.example", app.config["LOGIN_MAX_FAILURES"])
        from kpplan import create_app

        other_worker = create_app(
            {**app.config, "SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"]}
        )
        response = other_worker.test_client().post(
            "/login",
            data={"email": "kamau@kpplan.example", "password": PASSWORD},
            environ_base={"REMOTE_ADDR": "10.7.7.7"},
        )
        assert response.status_code == 429
        with other_worker.app_context():
            db.engine.dispose()


@pytest.mark.parametrize(
    "target",
    [
        "//evil.example",
        "/\\evil.example",
        "\\\\evil.example",
        "https:evil.example",
        "https://evil.example/",
        "http:/evil.example",
        "%2F%2Fevil.example",
        "/%2F/evil.example",
        "%2f%5cevil.example",
        "/%5Cevil.example",
        "%252F%252Fevil.example",
        "javascript:alert(1)",
        "/\tevil.example",
        " //evil.example",
    ],
)
def test_next_never_leaves_the_site(sign_in, kamau, target):
    response = sign_in("kamau@kpplan.example", query_string={"next": target})
    assert response.status_code == 302
    assert response.headers["Location"] == "/"


def test_next_leads_to_a_local_page(client, sign_in, kamau):
    response = client.get("/states/")
    assert response.headers["Location"] == "/login?next=%2Fstates%2F"
    form = client.get(response.headers["Location"])
    assert 'value="/states/"' in form.text  # carried in the form
    response = client.post(
        "/login", data={"email": "kamau@kpplan.example", "password": PASSWORD, "next": "/states/"}
    )
    assert response.headers["Location"] == "/states/"


class TestMyAccount:
    def test_change_password_needs_the_current_one(self, client, sign_in, kamau):
        sign_in("kamau@kpplan.example")
        response = client.post(
            "/account",
            data={
                "current_password": "not it",
                "new_password": "a brand new passphrase",
                "confirm": "a brand new passphrase",
            },
        )
        assert "That is not your current password." in response.text
        client.post("/logout")
        assert sign_in("kamau@kpplan.example").status_code == 302

    def test_change_password_checks_length_and_confirmation(self, client, sign_in, kamau):
        sign_in("kamau@kpplan.example")
        response = client.post(
            "/account",
            data={"current_password": PASSWORD, "new_password": "short", "confirm": "shorter"},
        )
        assert "The two new passwords differ." in response.text
        response = client.post(
            "/account",
            data={"current_password": PASSWORD, "new_password": "short", "confirm": "short"},
        )
        assert "at least 10 characters" in response.text

    def test_change_password_keeps_this_session_and_ends_others(self, app, client, sign_in, kamau):
        sign_in("kamau@kpplan.example")
        other_device = app.test_client()
        other_device.post("/login", data={"email": "kamau@kpplan.example", "password": PASSWORD})
        assert other_device.get("/").status_code == 200

        response = client.post(
            "/account",
            data={
                "current_password": PASSWORD,
                "new_password": "a brand new passphrase",
                "confirm": "a brand new passphrase",
            },
            follow_redirects=True,
        )
        assert "Your password has been changed." in response.text
        assert client.get("/").status_code == 200
        assert other_device.get("/").status_code == 302
        client.post("/logout")
        assert sign_in("kamau@kpplan.example").status_code == 200  # old one refused
        assert sign_in("kamau@kpplan.example", "a brand new passphrase").status_code == 302

    def test_one_time_password_must_be_changed_first(self, app, client, sign_in, kamau):
        with app.app_context():
            db.session.execute(
                update(User).where(User.id == kamau.id).values(must_change_password=True)
            )
            db.session.commit()
        response = sign_in("kamau@kpplan.example")
        assert response.headers["Location"] == "/account"
        assert client.get("/states/").headers["Location"] == "/account"
        client.post(
            "/account",
            data={
                "current_password": PASSWORD,
                "new_password": "my very own passphrase",
                "confirm": "my very own passphrase",
            },
        )
        assert client.get("/states/").status_code == 200


def test_passwords_are_hashed_with_argon2id(app, kamau):
    with app.app_context():
        stored = db.session.get(User, kamau.id).password_hash
    assert stored.startswith("$argon2id$")
    assert PASSWORD not in stored


def test_production_hash_parameters_are_strong(app):
    from kpplan.core.passwords import _PROFILES

    profile = _PROFILES["default"]
    assert profile.type.name == "ID"
    assert profile.memory_cost >= 64 * 1024
    assert profile.time_cost >= 2


class TestSignedInUser:
    """The user is made from the sign-in query's columns, as if the ORM had loaded it."""

    def _load(self, values: dict):
        from flask import session

        from kpplan.auth.loader import load_user

        session.update(values)
        return load_user(values["_user_id"])

    def test_one_query_gives_a_user_of_the_session_with_nothing_to_write(self, app, kamau):
        values = signed_in_session(app, kamau)
        with app.test_request_context("/"), counting(db.engine) as counter:
            me = self._load(values)
            assert len(counter.statements) == 1
            assert me in db.session and me.id == kamau.id and me.email == kamau.email
            assert not db.session.dirty and not sa_inspect(me).modified
            assert me.state.name == "Kenya"  # lazily, as for a user loaded by the ORM
            assert len(counter.statements) == 2

    def test_a_change_to_the_signed_in_user_is_saved(self, app, kamau):
        values = signed_in_session(app, kamau)
        with app.test_request_context("/"):
            me = self._load(values)
            me.name = "Kamau Otieno"
            db.session.commit()
        with app.app_context():
            saved = db.session.get(User, kamau.id)
            assert saved.name == "Kamau Otieno" and saved.version == kamau.version + 1

    def test_the_user_the_session_holds_already_is_the_one_given(self, app, kamau):
        values = signed_in_session(app, kamau)
        with app.test_request_context("/"):
            held = db.session.get(User, kamau.id)
            db.session.commit()  # expires what it holds, as after any commit
            with counting(db.engine) as counter:
                me = self._load(values)
                assert me is held
                assert me.email == "kamau@kpplan.example" and me.role == Role.FOCAL_POINT
            assert len(counter.statements) == 1  # the expired columns came with the query
