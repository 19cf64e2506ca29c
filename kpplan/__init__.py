"""kpplan: planning and follow-up for the Khartoum Process secretariat."""

from __future__ import annotations

import gc
import os
from pathlib import Path

from flask import Flask, redirect, request, url_for
from flask_login import current_user

from kpplan.config import load_config

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def create_app(test_config: dict | None = None, instance_path: str | None = None) -> Flask:
    """Build the web application. Never migrates the database and never starts the scheduler."""
    app = Flask(
        __name__,
        instance_path=instance_path or str(PROJECT_ROOT / "instance"),
        instance_relative_config=True,
        template_folder=str(PROJECT_ROOT / "templates"),
    )
    os.makedirs(app.instance_path, exist_ok=True)
    load_config(app, test_config)

    if app.config["PROXY_FIX"]:
        from werkzeug.middleware.proxy_fix import ProxyFix

        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=1, x_proto=1, x_host=1)

    register_converters(app)
    register_extensions(app)
    register_blueprints(app)
    register_commands(app)
    register_templating(app)
    return app


def settled(app: Flask) -> Flask:
    """``app``, with everything built so far (the app, its routes, models, templates,
    compiled queries: some 165,000 objects) set aside from Python's garbage collection for
    the life of the process. A full collection otherwise walks them all again, about once
    every thirty pages, and makes that page wait (a fifth of a second or more); set
    aside, it walks only what requests made since. For a process that serves the app
    (``wsgi.py``: each gunicorn worker imports it), not for tests, which build many apps."""
    gc.collect()  # what is garbage already is freed, not kept for good
    gc.freeze()
    return app


def register_converters(app: Flask) -> None:
    """Before any rule: every ``<int:…>`` is bounded (past 64 bits is "not found")."""
    from kpplan.core.converters import BoundedIntegerConverter

    app.url_map.converters["int"] = BoundedIntegerConverter


def register_extensions(app: Flask) -> None:
    import kpplan.models  # noqa: F401 - the full metadata, for migrations
    from kpplan import errorpages, headers, reminders
    from kpplan.auth.loader import add_user_column, load_user
    from kpplan.core import clock
    from kpplan.core.cache import count_changes
    from kpplan.core.db import configure_engine, guard_texts, read_outside_transaction
    from kpplan.core.extensions import csrf, db, login_manager, migrate
    from kpplan.core.requests import refuse_nul_in_address
    from kpplan.recommendations.tallies import keep_tallies

    db.init_app(app)
    with app.app_context():
        for engine in db.engines.values():
            configure_engine(engine)
        server = db.engine.dialect.name != "sqlite"
    guard_texts()
    keep_tallies()
    count_changes()

    def reads_without_transaction():
        """A page's reads need no transaction on a database server (until it writes)."""
        if request.method in ("GET", "HEAD") and request.endpoint != "static":
            read_outside_transaction(db.session())

    if server:
        app.before_request(reads_without_transaction)
    app.before_request(refuse_nul_in_address)
    migrate.init_app(app, db, directory=str(PROJECT_ROOT / "migrations"))
    csrf.init_app(app)
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = "Please sign in to see this page."
    login_manager.login_message_category = "info"
    login_manager.session_protection = "basic"
    login_manager.user_loader(load_user)
    headers.init_app(app)
    errorpages.init_app(app)
    reminders.init_app(app)
    add_user_column("process_timezone", clock.saved_timezone_of)

    @app.before_request
    def password_change_first():
        """A one-time password leads straight to choosing one's own."""
        if (
            current_user.is_authenticated
            and current_user.must_change_password
            and request.endpoint not in ("auth.account", "auth.logout", "static", "home.healthz")
        ):
            return redirect(url_for("auth.account"))
        return None


def register_blueprints(app: Flask) -> None:
    from kpplan.audit.views import bp as audit_bp
    from kpplan.auth.views import bp as auth_bp
    from kpplan.chair.views import bp as chair_bp
    from kpplan.directory.views import bp as directory_bp
    from kpplan.home.views import bp as home_bp
    from kpplan.meetings.ical_views import feed_bp
    from kpplan.meetings.views import bp as meetings_bp
    from kpplan.participants.views import bp as participants_bp
    from kpplan.recommendations.views import bp as recommendations_bp
    from kpplan.reminders.views import bp as reminders_bp
    from kpplan.reports.views import bp as reports_bp
    from kpplan.review.views import bp as review_bp

    blueprints = (home_bp, auth_bp, directory_bp, meetings_bp, feed_bp, recommendations_bp)
    for blueprint in (
        *blueprints,
        participants_bp,
        chair_bp,
        reminders_bp,
        review_bp,
        reports_bp,
        audit_bp,
    ):
        app.register_blueprint(blueprint)


def register_commands(app: Flask) -> None:
    from kpplan.cli import kpplan_group

    app.cli.add_command(kpplan_group)


def register_templating(app: Flask) -> None:
    from kpplan.core import clock, dates, names
    from kpplan.core.files import clean_name, readable_size
    from kpplan.permissions import can

    app.jinja_env.globals["can"] = can
    # File names (and the titles drawn from them) shown without bidirectional controls.
    app.jinja_env.filters["filename"] = clean_name
    # File sizes: "512 bytes", "1.2 kB", "3.4 MB".
    app.jinja_env.filters["filesize"] = readable_size

    # One way to write a day, a range of days and a moment everywhere (kpplan.core.dates):
    # {{ d|day }}, {{ a.start_date|day_range(a.end_date, a.date_precision) }}, {{ t|localtime }}.
    app.jinja_env.filters["day"] = dates.day
    app.jinja_env.filters["day_range"] = dates.day_range
    # A name in a sentence (kpplan.core.names): {{ state.name|possessive }} reads "the
    # Netherlands'", {{ state.name|possessive(start=True) }} "The Netherlands'" in a heading,
    # {{ state.name|in_sentence }} "the Czech Republic".
    app.jinja_env.filters["possessive"] = names.possessive
    app.jinja_env.filters["in_sentence"] = names.in_sentence

    @app.template_filter("localtime")
    def localtime(moment):
        """A stored UTC moment in the Process's timezone, with the timezone named."""
        return dates.moment(moment, clock.timezone())

    app.jinja_env.trim_blocks = True
    app.jinja_env.lstrip_blocks = True
