"""Configuration in three layers: defaults, then ``instance/config.py``, then ``KPPLAN_*``.

Environment variables win, so that a deployment can set ``KPPLAN_DATABASE_URL`` or
``KPPLAN_SECRET_KEY`` without touching a file. Values are read as JSON where they parse
as such (``KPPLAN_LOGIN_MAX_FAILURES=10``), otherwise as strings.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from flask import Flask


class Defaults:
    # Empty means: SQLite file instance/kpplan.db.
    DATABASE_URL = ""
    # No ``pool_pre_ping``: a server's connections idle for more than a second are pinged
    # before use (``core.db.PingAfterIdle``), not every connection on every checkout.
    SQLALCHEMY_ENGINE_OPTIONS: dict = {}
    SQLALCHEMY_RECORD_QUERIES = False

    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    # When true, cookies are always marked Secure; they are anyway on HTTPS requests.
    SESSION_COOKIE_SECURE = False
    PERMANENT_SESSION_LIFETIME = 60 * 60 * 12
    # Set when gunicorn runs behind a reverse proxy that sets X-Forwarded-* headers.
    PROXY_FIX = False

    WTF_CSRF_TIME_LIMIT = None  # the token lives as long as the session

    # Sign-in throttling: after this many failures for one account or one address,
    # each further attempt waits, the wait doubling up to LOGIN_MAX_DELAY seconds.
    LOGIN_MAX_FAILURES = 5
    LOGIN_BASE_DELAY = 30
    LOGIN_MAX_DELAY = 15 * 60
    LOGIN_FAILURE_WINDOW = 60 * 60

    # Argon2id parameters: "default" is argon2-cffi's RFC 9106 low-memory profile.
    PASSWORD_HASH_PROFILE = "default"  # noqa: S105 - a profile name, not a password
    PASSWORD_MIN_LENGTH = 10

    PAGE_SIZE = 50

    # Documents of activities: the largest file accepted, and where files are kept
    # (empty: instance/uploads). Flask refuses any request larger than MAX_CONTENT_LENGTH.
    MAX_DOCUMENT_SIZE = 20 * 1024 * 1024
    MAX_CONTENT_LENGTH = 21 * 1024 * 1024
    UPLOAD_FOLDER = ""

    # The Process's own timezone: "today" for what is upcoming, held or late. Reminders
    # start from it; an administrator may set another on the reminder settings page.
    TIMEZONE = "Europe/Brussels"

    # List pages are kept as rendered for each reader until a table they read changes
    # (kpplan/core/kept_pages.py); False renders every page every time.
    KEEP_PAGES = True

    # Reminder mail. Without MAIL_SERVER (as under `make run`), mails are written as .eml
    # files into MAIL_FOLDER (empty: instance/mail) instead of being sent.
    MAIL_SERVER = ""
    MAIL_PORT = 25
    MAIL_USE_TLS = False  # STARTTLS after connecting (usually port 587)
    MAIL_USE_SSL = False  # TLS from the start (usually port 465)
    MAIL_USERNAME = ""
    MAIL_PASSWORD = ""
    # Whom mails come from, unless the secretariat sets it on the reminder settings page.
    MAIL_FROM = "Khartoum Process secretariat <kpplan@localhost>"
    MAIL_TIMEOUT = 30  # seconds to wait for the SMTP server
    MAIL_FOLDER = ""
    # The address people open kpplan at: the links in mails start with it.
    BASE_URL = "http://127.0.0.1:5000"

    # The reminder scheduler (`flask --app wsgi kpplan scheduler`): minutes between ticks;
    # attempts before a mail is given up, and minutes before the first retry (then doubling);
    # minutes a sender keeps its claim on a mail before another may take it over; mails
    # claimed at a time; the local hour of the daily and weekly (Monday) summaries.
    REMINDER_TICK_MINUTES = 5
    REMINDER_MAX_ATTEMPTS = 6
    REMINDER_RETRY_MINUTES = 5
    REMINDER_CLAIM_MINUTES = 10
    REMINDER_SEND_BATCH = 100
    REMINDER_DIGEST_HOUR = 8
    # The first tick of an installation, or the first after reminders stopped for more than
    # this many hours, gives each person what is already late as one summary instead of
    # one mail each (0: never).
    REMINDER_CATCH_UP_HOURS = 48
    # Runs that planned nothing are forgotten after this many days.
    REMINDER_KEEP_RUNS_DAYS = 30
    # On SQLite, the file whose lock makes one scheduler the only one (empty:
    # instance/scheduler.lock); on PostgreSQL an advisory lock does it.
    SCHEDULER_LOCK_FILE = ""

    # Backups of a PostgreSQL database call pg_dump and pg_restore of the server's version or
    # later; empty: looked for in /usr/lib/postgresql/<version>/bin, then on the PATH.
    PG_BIN_DIR = ""
    # Delegates' personal details are erased this many months after their activity ended,
    # every day by the scheduler (or by `flask --app wsgi kpplan forget-participants`).
    PARTICIPANT_RETENTION_MONTHS = 24


def normalise_database_url(url: str) -> str:
    """Point plain PostgreSQL URLs at psycopg 3, the driver kpplan ships with."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def load_config(app: Flask, test_config: dict | None = None) -> None:
    app.config.from_object(Defaults)
    if test_config is None:
        app.config.from_pyfile("config.py", silent=True)
        app.config.from_prefixed_env("KPPLAN")
    else:
        app.config.update(test_config)

    url = app.config.get("DATABASE_URL") or app.config.get("SQLALCHEMY_DATABASE_URI")
    if not url:
        url = "sqlite:///" + os.path.join(app.instance_path, "kpplan.db")
    app.config["SQLALCHEMY_DATABASE_URI"] = normalise_database_url(url)
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        # A file on this machine: no server can have dropped a pooled connection, and a
        # ping before each request's first query would cost a statement for nothing.
        options = dict(app.config["SQLALCHEMY_ENGINE_OPTIONS"])
        options.pop("pool_pre_ping", None)
        app.config["SQLALCHEMY_ENGINE_OPTIONS"] = options
    elif app.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql"):
        # kpplan's statements are short, but PostgreSQL compiles (JIT) any statement its
        # planner costs over ``jit_above_cost``: some 100 ms on each read of a page whose
        # statement runs in a few. Off for kpplan's connections, unless the configuration
        # gives its own ``options`` (``SQLALCHEMY_ENGINE_OPTIONS["connect_args"]``).
        options = dict(app.config["SQLALCHEMY_ENGINE_OPTIONS"])
        connect_args = dict(options.get("connect_args") or {})
        connect_args.setdefault("options", "-c jit=off")
        options["connect_args"] = connect_args
        app.config["SQLALCHEMY_ENGINE_OPTIONS"] = options

    if not app.config.get("UPLOAD_FOLDER"):
        app.config["UPLOAD_FOLDER"] = os.path.join(app.instance_path, "uploads")

    if not app.config.get("MAIL_FOLDER"):
        app.config["MAIL_FOLDER"] = os.path.join(app.instance_path, "mail")
    if not app.config.get("SCHEDULER_LOCK_FILE"):
        app.config["SCHEDULER_LOCK_FILE"] = os.path.join(app.instance_path, "scheduler.lock")

    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = instance_secret_key(Path(app.instance_path))


def instance_secret_key(instance: Path) -> str:
    """Read the secret key kept under ``instance/``, writing a new random one on first run."""
    path = instance / "secret_key"
    if path.exists():
        return path.read_text().strip()
    instance.mkdir(parents=True, exist_ok=True)
    key = secrets.token_hex(32)
    # O_EXCL: two workers starting at once must not each write a different key.
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_text().strip()
    with os.fdopen(fd, "w") as handle:
        handle.write(key + "\n")
    return key
