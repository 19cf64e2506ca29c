"""CSRF on every state-changing route, security headers, secure cookies, health check."""

from __future__ import annotations

import pytest
from flask import url_for

from kpplan import create_app
from kpplan.directory.models import Role
from tests.conftest import PASSWORD, signed_in_session


@pytest.fixture
def app_config():
    return {"WTF_CSRF_ENABLED": True}


def _state_changing_routes(app):
    for rule in app.url_map.iter_rules():
        for method in rule.methods - {"GET", "HEAD", "OPTIONS"}:
            yield method, rule


def test_every_state_changing_route_refuses_a_request_without_csrf_token(
    app, client, people, login_as
):
    login_as(people["admin"])
    routes = list(_state_changing_routes(app))
    assert len(routes) >= 10  # the walk finds the routes, not an empty list
    samples = {
        "state_id": 1,
        "organisation_id": 1,
        "user_id": people["observer"].id,
        "activity_id": 1,
        "milestone_id": 1,
        "link_id": 1,
        "document_id": 1,
        "recommendation_id": 1,
        "follow_up_id": 1,
        "update_id": 1,
        "evidence_id": 1,
        "fmt": "csv",
        "chairmanship_id": 1,
        "work_plan_id": 1,
        "item_id": 1,
        "reminder_id": 1,
        "snapshot_id": 1,
        "section": "states",
        "invitation_id": 1,
        "participant_id": 1,
    }
    for method, rule in routes:
        with app.test_request_context():
            url = url_for(rule.endpoint, **{a: samples[a] for a in rule.arguments})
        response = client.open(url, method=method, data={"name": "x"})
        assert response.status_code == 400, (method, url)
        assert "did not come from kpplan" in response.text


def test_sign_in_refuses_a_post_without_csrf_token(client, factory):
    factory.user(Role.OBSERVER, email="o@kpplan.example")
    response = client.post("/login", data={"email": "o@kpplan.example", "password": "x" * 20})
    assert response.status_code == 400


def test_form_with_its_token_is_accepted(client, factory):
    import re

    factory.user(Role.OBSERVER, email="o@kpplan.example")
    page = client.get("/login")
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page.text).group(1)
    response = client.post(
        "/login",
        data={"email": "o@kpplan.example", "password": PASSWORD, "csrf_token": token},
    )
    assert response.status_code == 302


def test_security_headers_on_every_response(client):
    for path in ("/login", "/healthz", "/no-such-page", "/static/kpplan.css"):
        response = client.get(path)
        csp = response.headers["Content-Security-Policy"]
        assert "frame-ancestors 'none'" in csp
        assert "script-src 'self'" in csp
        assert "unsafe-inline" not in csp
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["Referrer-Policy"] == "same-origin"
        response.close()


def test_pages_carry_no_inline_script_or_style(client, people, login_as):
    login_as(people["admin"])
    for path in (
        "/",
        "/states/",
        "/users/",
        "/organisations/",
        "/account",
        "/history/",
        "/activities/",
        "/activities/archive",
        "/activities/new",
        "/chair/",
        "/chair/new",
        "/reports/statistics",
        "/reports/timeline",
        "/reminders/",
        "/reminders/preferences",
        "/reminders/outbox",
        "/reminders/settings",
    ):
        text = client.get(path).text
        assert "<script>" not in text and "<style" not in text and "style=" not in text
        assert " on" + "click=" not in text


def test_cookies_are_secure_over_https(client, factory):
    client.get("/login", base_url="https://kpplan.example")
    cookie = client.get_cookie("session", domain="kpplan.example")
    assert cookie is not None and cookie.secure and cookie.http_only
    assert cookie.same_site == "Lax"


def test_cookies_over_plain_http_stay_usable_locally(client):
    client.get("/login")
    cookie = client.get_cookie("session")
    assert cookie is not None and not cookie.secure and cookie.http_only


def test_healthz_reports_the_database(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json == {"status": "ok", "database": "ok"}


def test_healthz_says_503_when_the_database_is_unreachable(tmp_path):
    app = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "x",
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/missing/dir/kpplan.db",
        },
        instance_path=str(tmp_path),
    )
    response = app.test_client().get("/healthz")
    assert response.status_code == 503
    assert response.json["status"] == "error"


def test_healthz_503_on_postgresql_that_does_not_answer(tmp_path):
    app = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "x",
            # A port nothing listens on: the connection is refused at once.
            "SQLALCHEMY_DATABASE_URI": "postgresql://nobody@127.0.0.1:9/none?connect_timeout=2",
        },
        instance_path=str(tmp_path),
    )
    response = app.test_client().get("/healthz")
    assert response.status_code == 503


def test_unknown_page_is_404_in_the_layout(client):
    response = client.get("/no-such-page")
    assert response.status_code == 404
    assert "There is no such page" in response.text


def test_server_error_page_in_the_layout(app, client, monkeypatch):
    from kpplan.directory import queries

    def explode(*args, **kwargs):
        raise RuntimeError("boom")

    app.config["PROPAGATE_EXCEPTIONS"] = False
    monkeypatch.setattr(queries, "directory_counts", explode)
    from tests.conftest import Factory

    user = Factory(app).user(Role.OBSERVER)
    with client.session_transaction() as session:
        session.update(signed_in_session(app, user))
    response = client.get("/")
    assert response.status_code == 500
    assert "Something went wrong" in response.text
