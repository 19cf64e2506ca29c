"""A request that reads (a GET) reads from PostgreSQL without a transaction, until it writes.

Under READ COMMITTED each statement sees what was committed when it started, in a
transaction or not; without one, a page costs no BEGIN and no ROLLBACK, and psycopg keeps
the statements it prepared. A write, or a locking read, begins a transaction first, which
the session commits or rolls back as any other. SQLite is left as it was (no round trips
to save; its driver begins a transaction before a write).
"""

from __future__ import annotations

import time

import pytest
import sqlalchemy as sa

from kpplan.core.cache import change_stamps
from kpplan.core.db import read_outside_transaction
from kpplan.core.extensions import db
from kpplan.directory.models import Organisation, OrganisationKind, State


def _in_a_transaction() -> bool:
    """Whether the session's statements run in one transaction on PostgreSQL: then
    ``now()`` (the transaction's start) stays the same from one statement to the next."""
    first = db.session.scalar(sa.text("SELECT now()"))
    time.sleep(0.002)
    return db.session.scalar(sa.text("SELECT now()")) == first


@pytest.fixture
def reading(app):
    """Inside a GET request's context, the session set as ``create_app`` sets it."""
    with app.test_request_context("/", method="GET"):
        read_outside_transaction(db.session())
        yield
        db.session.remove()


@pytest.fixture
def postgres(backend):
    if backend != "postgres":
        pytest.skip("what a transaction costs and holds on a database server")


def test_a_page_reads_outside_a_transaction(postgres, app, reading):
    assert not _in_a_transaction()


def test_a_get_request_reads_outside_a_transaction_through_the_app(postgres, app, client):
    """The hook of ``create_app`` sets the session so for each GET (and only a GET)."""
    seen = {}

    @app.get("/test-transaction")
    def probe():
        seen["get"] = _in_a_transaction()
        return "ok"

    @app.post("/test-transaction")
    def probe_post():
        seen["post"] = _in_a_transaction()
        return "ok"

    assert client.get("/test-transaction").status_code == 200
    assert client.post("/test-transaction").status_code == 200
    assert seen == {"get": False, "post": True}


def test_a_write_of_a_reading_session_is_one_transaction_rolled_back_whole(app, reading):
    db.session.add(Organisation(name="Written on a GET", kind=OrganisationKind.NGO))
    db.session.flush()
    db.session.add(Organisation(name="Written on a GET too", kind=OrganisationKind.NGO))
    db.session.flush()
    db.session.rollback()
    with app.app_context():
        names = db.session.scalars(sa.select(Organisation.name)).all()
    assert "Written on a GET" not in names
    assert "Written on a GET too" not in names


def test_a_write_of_a_reading_session_commits_with_its_change_counted(app, reading):
    before = change_stamps().get("organisations", 0)
    db.session.add(Organisation(name="Committed on a GET", kind=OrganisationKind.NGO))
    db.session.commit()
    with app.app_context():
        assert db.session.scalar(
            sa.select(Organisation.id).where(Organisation.name == "Committed on a GET")
        )
        counted = db.session.scalar(
            sa.text("SELECT n FROM change_counters WHERE name = 'organisations'")
        )
    assert counted == before + 1


def test_a_locking_read_of_a_reading_session_holds_its_lock_in_a_transaction(
    postgres, app, reading
):
    state_id = db.session.scalar(sa.select(State.id).limit(1))
    db.session.scalar(sa.select(State.id).where(State.id == state_id).with_for_update())
    assert _in_a_transaction()
