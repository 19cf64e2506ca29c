"""Races on unique keys, with real parallel requests over HTTP on PostgreSQL.

Twenty people record a recommendation for the same activity at once: each gets a number
of its own (the number is unique per activity, and so is the code), none a server error.
Twenty press "Take the review snapshot" at once: one snapshot is taken, the other nineteen
are told it was already taken.
"""

from __future__ import annotations

import http.client
import re
import threading
import urllib.parse
from datetime import date

import pytest
import sqlalchemy as sa
from werkzeug.serving import make_server

from kpplan.audit.models import AuditEntry
from kpplan.core.extensions import db
from kpplan.directory.models import Role, State
from kpplan.meetings.kinds import ActivityKind
from kpplan.meetings.models import Status
from kpplan.recommendations.models import Recommendation
from kpplan.review.models import ReviewSnapshot
from tests.conftest import STATE_A, signed_in_session

PEOPLE = 20

pytestmark = pytest.mark.postgres


@pytest.fixture
def live_url(app, backend):
    if backend != "postgres":
        pytest.skip("races need a database that runs requests side by side: PostgreSQL")
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=5)
    server.server_close()


def _cookie(app, user) -> str:
    """The session cookie of ``user`` signed in (a session of their own, on the server)."""
    client = app.test_client()
    values = signed_in_session(app, user)
    with client.session_transaction() as session:
        session.update(values)
    return f"session={client.get_cookie('session').value}"


def _request(url: str, cookie: str, form: dict | None = None) -> tuple[int, str, str]:
    """One request over HTTP (a POST when ``form`` is given), redirects not followed:
    its status, its page or the place it redirects to, and the cookie to send next."""
    parts = urllib.parse.urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=60)
    headers = {"Cookie": cookie}
    body = None
    if form is not None:
        body = urllib.parse.urlencode(form, doseq=True)
        headers["Content-Type"] = "application/x-www-form-urlencoded"
    try:
        connection.request("POST" if form is not None else "GET", parts.path, body, headers)
        response = connection.getresponse()
        page = response.read().decode()
        where = response.getheader("Location") or page
        next_cookie = (response.getheader("Set-Cookie") or cookie).split(";")[0]
        return response.status, where, next_cookie
    finally:
        connection.close()


def _post_together(url: str, cookies: list[str], forms: list[dict]) -> list[tuple[int, str, str]]:
    """POST ``forms[i]`` with ``cookies[i]`` from as many threads, all released at once."""
    barrier = threading.Barrier(len(forms))
    answers: list[tuple[int, str, str]] = []
    lock = threading.Lock()

    def send(cookie: str, form: dict) -> None:
        barrier.wait()
        answer = _request(url, cookie, form)
        with lock:
            answers.append(answer)

    threads = [
        threading.Thread(target=send, args=(cookie, form))
        for cookie, form in zip(cookies, forms, strict=True)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return answers


def test_twenty_people_recording_at_once_get_distinct_codes(app, live_url, factory):
    activity = factory.activity(start=date(2022, 7, 12), status=Status.HELD)
    staff = [factory.user(Role.SECRETARIAT) for _ in range(PEOPLE)]
    with app.app_context():
        kenya = db.session.scalar(sa.select(State.id).where(State.name == STATE_A))
    forms = [
        {
            "entries-0-text": f"Recommendation typed by person {n}.",
            "entries-0-priority": "medium",
            "entries-0-states": [kenya],
            "entries-0-lineage": "",
        }
        for n in range(PEOPLE)
    ]
    answers = _post_together(
        f"{live_url}/activities/{activity.id}/recommendations/new",
        [_cookie(app, person) for person in staff],
        forms,
    )

    statuses = sorted(status for status, _, _ in answers)
    assert 500 not in statuses, answers
    assert statuses == [302] * PEOPLE, [a for a in answers if a[0] != 302]
    with app.app_context():
        recorded = db.session.scalars(
            sa.select(Recommendation).where(Recommendation.activity_id == activity.id)
        ).all()
        assert sorted(r.number for r in recorded) == list(range(1, PEOPLE + 1))
        assert len({r.code for r in recorded}) == PEOPLE
        assert {r.text for r in recorded} == {form["entries-0-text"] for form in forms}
        audited = db.session.scalar(
            sa.select(sa.func.count()).where(AuditEntry.object_type == "recommendations")
        )
        assert audited == PEOPLE


def test_twenty_snapshots_at_once_give_one_and_nineteen_refusals(app, live_url, factory):
    som = factory.activity(kind=ActivityKind.SENIOR_OFFICIALS, start=date(2024, 11, 14))
    factory.recommendation(factory.activity().id)
    staff = [factory.user(Role.SECRETARIAT) for _ in range(PEOPLE)]
    cookies = [_cookie(app, person) for person in staff]
    answers = _post_together(f"{live_url}/activities/{som.id}/snapshot", cookies, [{}] * PEOPLE)

    assert all(status == 302 for status, _, _ in answers), answers
    taken = [where for _, where, _ in answers if re.search(r"/chair/snapshots/\d+$", where)]
    refused = [cookie for _, where, cookie in answers if where.endswith("#review-snapshot")]
    assert len(taken) == 1 and len(refused) == PEOPLE - 1, answers
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(ReviewSnapshot.id))) == 1

    # Each refused person reads why on the page they are sent back to.
    for cookie in refused[:3]:
        status, page, _ = _request(f"{live_url}/activities/{som.id}", cookie)
        assert status == 200 and "A snapshot was already taken at" in page
