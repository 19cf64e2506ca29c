"""Fixtures for the accessibility checks: Debian's Chromium driven by Playwright, the demo
installation served over HTTP (with CSRF on, under the real CSP), and one signed-in browser
context per role.

Self-contained on purpose (it only reads the root conftest's constants): the walk needs one
app for the whole session, loaded with the demo, rather than the empty app of each test.
"""

from __future__ import annotations

import os
import shutil
import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, sync_playwright
from werkzeug.serving import WSGIRequestHandler, make_server

from tests.accessibility.walk import DESKTOP, ROLE_ACCOUNTS

CHROMIUM = shutil.which("chromium") or (
    "/usr/bin/chromium" if os.path.exists("/usr/bin/chromium") else None
)

# The machine's network is closed: Chromium must not try to phone home.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]


def _require_chromium() -> str:
    if CHROMIUM is None:
        if os.environ.get("CI") == "true":
            pytest.fail(
                "Accessibility checks need Debian's chromium package (/usr/bin/chromium); "
                "`make test` installs it when run as root."
            )
        pytest.skip("Chromium is not installed: accessibility checks skipped")
    return CHROMIUM


# Module scope, not session: Playwright's sync API allows one instance at a time, and the
# other browser tests (tests/test_browser.py) start their own.
@pytest.fixture(scope="module")
def a11y_browser() -> Iterator[Browser]:
    executable = _require_chromium()
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


class QuietHandler(WSGIRequestHandler):
    """Hundreds of page loads: keep their log lines out of a failure's report."""

    def log_request(self, *args, **kwargs) -> None:
        pass


def serve(app) -> tuple[str, Callable[[], None]]:
    server = make_server("127.0.0.1", 0, app, threaded=True, request_handler=QuietHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()

    def stop() -> None:
        server.shutdown()
        thread.join(timeout=5)
        server.server_close()

    return f"http://127.0.0.1:{server.server_port}", stop


@pytest.fixture(scope="session")
def demo_app(tmp_path_factory):
    """An installation with the demo loaded and a reminder run done, so that every page
    has something to show: 40 states, activities, recommendations, chairmanships, a review
    snapshot, notifications and the outbox."""
    from kpplan import create_app
    from kpplan.reminders.planner import tick
    from kpplan.seed import seed

    folder = tmp_path_factory.mktemp("a11y")
    app = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "test-secret-key",
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{folder / 'kpplan-a11y.db'}",
            "PASSWORD_HASH_PROFILE": "test",
            "WTF_CSRF_ENABLED": True,
        },
        instance_path=str(folder),
    )
    db = app.extensions["sqlalchemy"]
    with app.app_context():
        db.create_all()
        seed(demo=True)
        tick(datetime.now(UTC), runner="accessibility checks")
    yield app
    with app.app_context():
        db.engine.dispose()


@pytest.fixture(scope="session")
def demo_url(demo_app) -> Iterator[str]:
    url, stop = serve(demo_app)
    yield url
    stop()


def sign_in(page: Page, base_url: str, email: str, password: str) -> None:
    page.goto(f"{base_url}/login")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base_url}/")


@pytest.fixture(scope="module")
def role_contexts(a11y_browser, demo_url) -> Iterator[Callable[..., BrowserContext]]:
    """``role_context(role, viewport)``: a browser context signed in as the demo account of
    ``role`` (or signed out), made once per role and viewport and reused."""
    from kpplan.seed import DEMO_PASSWORD

    made: dict[tuple[str, str], BrowserContext] = {}

    def get(role: str, viewport: dict = DESKTOP) -> BrowserContext:
        key = (role, f"{viewport['width']}x{viewport['height']}")
        if key not in made:
            context = a11y_browser.new_context(viewport=viewport)
            context.set_default_timeout(15_000)
            email = ROLE_ACCOUNTS[role]
            if email:
                page = context.new_page()
                sign_in(page, demo_url, email, DEMO_PASSWORD)
                page.close()
            made[key] = context
        return made[key]

    yield get
    for context in made.values():
        context.close()


# For the tests that build their own records with the root conftest's ``factory``: one app
# per test, on SQLite, with CSRF on, served over HTTP.


@pytest.fixture
def backend():
    return "sqlite"


@pytest.fixture
def app_config():
    return {"WTF_CSRF_ENABLED": True}


@pytest.fixture
def live_url(app) -> Iterator[str]:
    url, stop = serve(app)
    yield url
    stop()


@pytest.fixture
def page(a11y_browser) -> Iterator[Page]:
    """A fresh browser tab (its own cookies) of a desktop's size; a test may resize it."""
    context = a11y_browser.new_context(viewport=DESKTOP)
    tab = context.new_page()
    tab.set_default_timeout(10_000)
    yield tab
    context.close()


@pytest.fixture
def console_errors(page) -> list[str]:
    """Errors the page reports: a CSP violation or a failing script shows up here."""
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    return errors
