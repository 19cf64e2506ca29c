"""Fixtures: an app per test on SQLite (and on PostgreSQL when KPPLAN_TEST_POSTGRES_URL is
set), a client, a CLI runner, factories, sign-in as any role, a query counter, and a game
of random changes through the recommendations' services.

Only fixtures live here: the factories are in ``tests/factories`` (one module per feature),
the query counter in ``tests/querycount.py``. The names tests import from here are
re-exported below.
"""

from __future__ import annotations

import contextlib
import os
import random
import uuid
from collections.abc import Callable, Iterator

import pytest
import sqlalchemy as sa

from kpplan import create_app
from kpplan.config import normalise_database_url
from kpplan.core.db import utcnow
from kpplan.core.errors import DomainError
from kpplan.core.extensions import db
from kpplan.directory.models import Role, User
from kpplan.directory.reference import load_reference_data
from kpplan.meetings.models import Activity
from kpplan.recommendations import services
from tests.factories import CHAIR_STATE, PASSWORD, STATE_A, STATE_B, Factory, state_named
from tests.factories.recommendations import random_change
from tests.querycount import QueryCounter, counting

__all__ = [
    "CHAIR_STATE",
    "PASSWORD",
    "STATE_A",
    "STATE_B",
    "Factory",
    "QueryCounter",
    "state_named",
]

POSTGRES_URL = os.environ.get("KPPLAN_TEST_POSTGRES_URL")
IN_CI = os.environ.get("CI") == "true"


def _backends() -> list:
    backends = [pytest.param("sqlite", id="sqlite")]
    if POSTGRES_URL or IN_CI:
        backends.append(pytest.param("postgres", id="postgres", marks=pytest.mark.postgres))
    return backends


@pytest.fixture(scope="session")
def postgres_server_url() -> Iterator[str]:
    """A database of its own for this test run, on the server KPPLAN_TEST_POSTGRES_URL names."""
    if not POSTGRES_URL:
        pytest.fail("CI=true but KPPLAN_TEST_POSTGRES_URL is not set: .ci/run must set it.")
    server = sa.make_url(normalise_database_url(POSTGRES_URL))
    name = f"kpplan_test_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
    try:
        yield server.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(scope="session")
def postgres_schema(postgres_server_url) -> str:
    """The test database with every table created once; each test empties it afterwards."""
    app = create_app(_test_config(postgres_server_url))
    with app.app_context():
        db.create_all()
        db.engine.dispose()
    return postgres_server_url


def _test_config(url: str, **extra) -> dict:
    return {
        "TESTING": True,
        "SECRET_KEY": "test-secret-key",
        "SQLALCHEMY_DATABASE_URI": url,
        "WTF_CSRF_ENABLED": False,
        "PASSWORD_HASH_PROFILE": "test",
        **extra,
    }


@pytest.fixture(params=_backends())
def backend(request) -> str:
    return request.param


@pytest.fixture
def database_url(backend, tmp_path, request) -> str:
    if backend == "sqlite":
        return f"sqlite:///{tmp_path / 'kpplan-test.db'}"
    return request.getfixturevalue("postgres_schema")


@pytest.fixture
def app_config() -> dict:
    """Override in a test module to change the configuration of its app."""
    return {}


@pytest.fixture
def app(backend, database_url, tmp_path, app_config):
    # No app context stays pushed while the test runs: requests would share it (and its
    # ``g``) instead of getting their own, as they do in production.
    app = create_app(_test_config(database_url, **app_config), instance_path=str(tmp_path))
    with app.app_context():
        if backend == "sqlite":
            db.create_all()
        load_reference_data()
        db.session.commit()
    yield app
    with app.app_context():
        if backend == "postgres":
            tables = ", ".join(f'"{t.name}"' for t in db.metadata.sorted_tables)
            with db.engine.begin() as connection:
                connection.execute(sa.text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
        db.engine.dispose()


@pytest.fixture
def empty_app(backend, tmp_path, request):
    """An app on an empty database, for tests that run the migrations: a new SQLite file, or
    a new PostgreSQL schema (the tables the other tests share stay untouched)."""
    config = {"TESTING": True, "SECRET_KEY": "t"}
    if backend == "sqlite":
        config["SQLALCHEMY_DATABASE_URI"] = f"sqlite:///{tmp_path / 'migrations.db'}"
    else:
        config["SQLALCHEMY_DATABASE_URI"] = request.getfixturevalue("postgres_server_url")
        config["SQLALCHEMY_ENGINE_OPTIONS"] = {
            "connect_args": {"options": "-csearch_path=migrations_test"}
        }
    app = create_app(config, instance_path=str(tmp_path))
    with app.app_context():
        if backend == "postgres":
            _reset_schema(create=True)
    yield app
    with app.app_context():
        if backend == "postgres":
            _reset_schema(create=False)
        db.engine.dispose()


def _reset_schema(create: bool) -> None:
    with db.engine.begin() as connection:
        connection.execute(sa.text("DROP SCHEMA IF EXISTS migrations_test CASCADE"))
        if create:
            connection.execute(sa.text("CREATE SCHEMA migrations_test"))


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def factory(app) -> Factory:
    return Factory(app)


@pytest.fixture
def people(factory) -> dict[str, User]:
    """One account per role, as the permission table names them."""
    return {
        "admin": factory.user(Role.ADMIN, email="admin@kpplan.example"),
        "secretariat": factory.user(Role.SECRETARIAT, email="secretariat@kpplan.example"),
        "chair": factory.user(Role.CHAIR, state=CHAIR_STATE, email="chair@kpplan.example"),
        "fp_a": factory.user(Role.FOCAL_POINT, state=STATE_A, email="fp.a@kpplan.example"),
        "fp_b": factory.user(Role.FOCAL_POINT, state=STATE_B, email="fp.b@kpplan.example"),
        "observer": factory.user(Role.OBSERVER, email="observer@kpplan.example"),
    }


def signed_in_session(app, user: User) -> dict:
    """What the session cookie holds once ``user`` has signed in: their id and session
    token, and the secret of a session recorded on the server as a real sign-in does."""
    from kpplan.auth.services import SESSION_KEY, open_session

    with app.app_context():
        secret = open_session(user, utcnow())
        db.session.commit()
    return {"_user_id": user.get_id(), "_fresh": True, SESSION_KEY: secret}


@pytest.fixture
def login_as(client):
    """Sign a user in on the test client, as Flask-Login would after a real sign-in."""

    def login(user: User | None):
        values = signed_in_session(client.application, user) if user is not None else {}
        with client.session_transaction() as session:
            session.clear()
            session.update(values)
        return user

    return login


@pytest.fixture
def sign_in(client):
    """Sign in through the real form."""

    def submit(email: str, password: str = PASSWORD, **kwargs):
        return client.post("/login", data={"email": email, "password": password}, **kwargs)

    return submit


@pytest.fixture
def count_queries(app, client):
    """``with count_queries() as counter:`` counts the SQL statements run inside the block.

    Pages are rendered inside it (kept pages are turned off there: a kept page runs no query
    of its own); ``count_queries(keep_pages=True)`` counts a visit as a reader gets it.

    ``count_queries(header_kept=True)`` counts a page's own queries, not the header's: the
    header's Chair is read by the first page a signed-in client opens (and again once the
    chairmanships or the states change), then kept. Before the first such block of a test,
    the client opens the home page, so that the Chair is kept before counting starts."""
    with app.app_context():
        engine = db.engine
    header = {"kept": False}

    @contextlib.contextmanager
    def count(keep_pages: bool = False, header_kept: bool = False) -> Iterator[QueryCounter]:
        if header_kept and not header["kept"]:
            client.get("/")
            header["kept"] = True
        kept = app.config["KEEP_PAGES"]
        app.config["KEEP_PAGES"] = keep_pages
        try:
            with counting(engine) as counter:
                yield counter
        finally:
            app.config["KEEP_PAGES"] = kept

    return count


@pytest.fixture
def random_changes(people):
    """``random_changes(rng, steps, moves, draft, activity)``, inside an app context: as
    the secretariat, ``steps`` changes through the services people use, each chosen by
    ``rng`` among ``moves`` ("record", "edit", "withdraw", "validate", "post"): a new
    recommendation written by ``draft(rng)`` at ``activity(rng)``, a rewording, a
    withdrawal, a decision on a move to "implemented", a status update. Refusals are part
    of the game (rolled back); every other change is committed."""

    def play(
        rng: random.Random,
        steps: int,
        moves: list[str],
        draft: Callable[[random.Random], services.Draft],
        activity: Callable[[random.Random], Activity],
    ) -> None:
        actor = db.session.get(User, people["secretariat"].id)
        for _ in range(steps):
            try:
                random_change(rng, actor, moves, draft, activity)
            except DomainError:
                db.session.rollback()
            else:
                db.session.commit()

    return play
