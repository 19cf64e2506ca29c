"""The factory and the order of configuration: defaults, instance/config.py, KPPLAN_*."""

from __future__ import annotations

import os
import stat

import pytest
import sqlalchemy as sa

from kpplan import create_app
from kpplan.config import normalise_database_url
from kpplan.core.extensions import db


@pytest.fixture
def clean_env(monkeypatch):
    for name in list(os.environ):
        if name.startswith("KPPLAN_"):
            monkeypatch.delenv(name)
    return monkeypatch


def test_defaults_use_sqlite_in_the_instance_folder(tmp_path, clean_env):
    app = create_app(instance_path=str(tmp_path))
    assert app.config["SQLALCHEMY_DATABASE_URI"] == f"sqlite:///{tmp_path}/kpplan.db"
    assert app.config["LOGIN_MAX_FAILURES"] == 5
    assert not app.testing


def test_instance_file_overrides_defaults_and_environment_overrides_both(tmp_path, clean_env):
    (tmp_path / "config.py").write_text(
        "LOGIN_MAX_FAILURES = 8\nPAGE_SIZE = 20\nDATABASE_URL = 'sqlite:////tmp/from-file.db'\n"
    )
    app = create_app(instance_path=str(tmp_path))
    assert app.config["LOGIN_MAX_FAILURES"] == 8
    assert app.config["PAGE_SIZE"] == 20
    assert app.config["SQLALCHEMY_DATABASE_URI"] == "sqlite:////tmp/from-file.db"

    clean_env.setenv("KPPLAN_LOGIN_MAX_FAILURES", "3")
    clean_env.setenv("KPPLAN_DATABASE_URL", "postgresql://kp@db.internal/kpplan")
    clean_env.setenv("KPPLAN_SECRET_KEY", "from-the-environment")
    app = create_app(instance_path=str(tmp_path))
    assert app.config["LOGIN_MAX_FAILURES"] == 3  # read as JSON: a number
    assert app.config["PAGE_SIZE"] == 20  # still from the file
    assert app.config["SQLALCHEMY_DATABASE_URI"] == "postgresql+psycopg://kp@db.internal/kpplan"
    assert app.config["SECRET_KEY"] == "from-the-environment"


def test_secret_key_is_written_once_under_instance(tmp_path, clean_env):
    first = create_app(instance_path=str(tmp_path)).config["SECRET_KEY"]
    key_file = tmp_path / "secret_key"
    assert key_file.read_text().strip() == first
    assert len(first) >= 64
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert create_app(instance_path=str(tmp_path)).config["SECRET_KEY"] == first
    assert create_app(instance_path=str(tmp_path / "other")).config["SECRET_KEY"] != first


def test_test_config_replaces_file_and_environment(tmp_path, clean_env):
    (tmp_path / "config.py").write_text("PAGE_SIZE = 20\n")
    clean_env.setenv("KPPLAN_PAGE_SIZE", "30")
    app = create_app({"TESTING": True, "SECRET_KEY": "t"}, instance_path=str(tmp_path))
    assert app.testing
    assert app.config["PAGE_SIZE"] == 50


@pytest.mark.parametrize(
    "given,expected",
    [
        ("postgres://u@h/d", "postgresql+psycopg://u@h/d"),
        ("postgresql://u@h/d", "postgresql+psycopg://u@h/d"),
        ("postgresql+psycopg://u@h/d", "postgresql+psycopg://u@h/d"),
        ("sqlite:///x.db", "sqlite:///x.db"),
    ],
)
def test_database_urls_use_psycopg_3(given, expected):
    assert normalise_database_url(given) == expected


def test_factory_does_not_touch_the_database(tmp_path, clean_env):
    """Migrations are a deploy step: building the app creates no database file."""
    create_app(instance_path=str(tmp_path))
    assert not (tmp_path / "kpplan.db").exists()


def test_wsgi_module_builds_the_app():
    import wsgi

    assert wsgi.app.name == "kpplan"
    assert "home.healthz" in wsgi.app.view_functions


def test_postgresql_connections_compile_no_statement(app, backend):
    """PostgreSQL's JIT compiled a statement costed over its threshold for ~100 ms on every
    read of the follow-ups page: kpplan's connections turn it off."""
    if backend != "postgres":
        assert "connect_args" not in app.config["SQLALCHEMY_ENGINE_OPTIONS"]
        return
    with app.app_context():
        assert db.session.scalar(sa.text("SHOW jit")) == "off"


def _backend_pid(app) -> int:
    with app.app_context():
        return db.session.scalar(sa.text("SELECT pg_backend_pid()"))


def test_a_connection_the_server_dropped_while_idle_is_replaced_before_use(
    app, backend, monkeypatch
):
    """A pooled connection idle for longer than ``PING_AFTER_IDLE_SECONDS`` is pinged
    before a request uses it: one the server ended meanwhile (a restart, a firewall) is
    replaced, and the request never sees it."""
    from kpplan.core import db as core_db

    if backend != "postgres":
        assert "pool_pre_ping" not in app.config["SQLALCHEMY_ENGINE_OPTIONS"]
        return
    monkeypatch.setattr(core_db, "PING_AFTER_IDLE_SECONDS", 0.0)
    client = app.test_client()
    assert client.get("/healthz").json["database"] == "ok"
    pooled = _backend_pid(app)
    admin = sa.create_engine(app.config["SQLALCHEMY_DATABASE_URI"])
    with admin.connect() as connection:
        assert connection.scalar(sa.select(sa.func.pg_terminate_backend(pooled)))
    admin.dispose()

    assert client.get("/healthz").json["database"] == "ok"
    assert _backend_pid(app) != pooled


def test_a_connection_given_back_a_moment_ago_is_used_without_a_ping(app, backend, monkeypatch):
    """Each request checks out a connection twice (the sign-in's statement, then the
    page's): a ping before each was a round trip to the server for nothing."""
    if backend != "postgres":
        return
    with app.app_context():
        dialect = db.engine.dialect
    pings = []
    original = type(dialect).do_ping
    monkeypatch.setattr(
        type(dialect), "do_ping", lambda self, c: pings.append(c) or original(self, c)
    )
    client = app.test_client()
    for _ in range(3):
        assert client.get("/healthz").status_code == 200
    assert pings == []


def test_a_serving_process_sets_what_its_app_is_built_of_aside_from_the_collector(app):
    """wsgi.py (what gunicorn's workers import) settles its app: a full garbage collection
    then walks only what requests made, not the app's 165,000 objects again."""
    import gc

    from kpplan import PROJECT_ROOT, settled

    assert "app = settled(create_app())" in (PROJECT_ROOT / "wsgi.py").read_text()
    try:
        assert settled(app) is app
        assert gc.get_freeze_count() > 0
    finally:
        gc.unfreeze()
