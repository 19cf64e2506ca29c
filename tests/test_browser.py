"""In a real browser: Debian's Chromium driven by Playwright against the app over HTTP.

The app is served with CSRF protection on, as in production, so these tests also prove
that the real forms carry their tokens and that nothing breaks under the strict CSP.
"""

from __future__ import annotations

import os
import shutil
import threading

import pytest
from playwright.sync_api import sync_playwright
from werkzeug.serving import make_server

from kpplan.directory.models import Role
from tests.conftest import PASSWORD

CHROMIUM = shutil.which("chromium") or (
    "/usr/bin/chromium" if os.path.exists("/usr/bin/chromium") else None
)

if CHROMIUM is None:
    if os.environ.get("CI") == "true":
        raise RuntimeError(
            "Browser tests need Debian's chromium package (/usr/bin/chromium); "
            "`make test` installs it when run as root."
        )
    pytest.skip("Chromium is not installed: browser tests skipped", allow_module_level=True)

pytestmark = pytest.mark.browser

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


@pytest.fixture(scope="module")
def browser():
    # Playwright's own API rather than pytest-playwright, whose base_url plugin trips
    # pytest 9's deprecation warnings (and warnings are errors here).
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser):
    context = browser.new_context()
    page = context.new_page()
    page.set_default_timeout(10_000)
    yield page
    context.close()


@pytest.fixture
def backend():
    """The browser tests exercise the pages, not the database: SQLite is enough."""
    return "sqlite"


@pytest.fixture
def app_config():
    return {"WTF_CSRF_ENABLED": True}


@pytest.fixture
def live_url(app):
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=5)
    server.server_close()


@pytest.fixture
def console_errors(page):
    """Errors the page reports: a CSP violation or a failing script shows up here."""
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    return errors


def _sign_in(page, live_url, email):
    page.goto(f"{live_url}/")
    assert page.url.startswith(f"{live_url}/login")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")


def test_focal_point_signs_in_and_out(page, live_url, factory, console_errors):
    factory.user(Role.FOCAL_POINT, state="Kenya", email="kamau@kpplan.example", name="Kamau")
    _sign_in(page, live_url, "kamau@kpplan.example")
    assert page.url == f"{live_url}/"
    assert page.locator(".account-menu").inner_text().startswith("Kamau")
    assert page.locator("nav.main-nav >> text=Users").count() == 0  # not for focal points

    page.click("text=Sign out")
    assert page.url == f"{live_url}/login"
    assert "You have signed out." in page.content()
    assert console_errors == []


def test_wrong_password_stays_on_the_sign_in_page(page, live_url, factory, console_errors):
    factory.user(Role.OBSERVER, email="olu@kpplan.example")
    page.goto(f"{live_url}/login")
    page.fill("input[name=email]", "olu@kpplan.example")
    page.fill("input[name=password]", "not the password")
    page.click("button[type=submit]")
    assert page.url.startswith(f"{live_url}/login")
    alert = page.locator(".flash-error")
    assert alert.inner_text() == "That e-mail address and password do not match an active account."
    assert console_errors == []


def test_secretariat_gives_kenya_a_focal_point(page, live_url, factory, console_errors):
    factory.user(Role.SECRETARIAT, email="sara@kpplan.example", name="Sara")
    _sign_in(page, live_url, "sara@kpplan.example")
    page.click("nav.main-nav >> text=Users")
    page.click("text=Create an account")
    page.fill("input[name=name]", "Achieng Otieno")
    page.fill("input[name=email]", "achieng@example.org")
    page.select_option("select[name=role]", "focal_point")
    page.select_option("select[name=state]", label="Kenya")
    page.fill("input[name=password]", "a first password")
    page.click("text=Create the account")
    assert "The account of Achieng Otieno has been created." in page.content()

    page.click("nav.main-nav >> text=States")
    kenya_row = page.locator("tr", has=page.locator("a", has_text="Kenya"))
    assert "Achieng Otieno" in kenya_row.inner_text()
    assert "No active focal point" not in kenya_row.inner_text()
    assert console_errors == []


def test_secretariat_plans_a_thematic_meeting_and_finds_it_again(
    page, live_url, factory, console_errors
):
    factory.user(Role.SECRETARIAT, email="sara@kpplan.example", name="Sara")
    _sign_in(page, live_url, "sara@kpplan.example")
    page.click("nav.main-nav >> text=Activities")
    page.click("text=Plan an activity")
    page.select_option("select[name=kind]", "thematic_meeting")
    page.fill("input[name=title]", "Thematic Meeting on Legal Pathways")
    page.fill("input[name=start_date]", "2027-07-12")
    page.fill("input[name=end_date]", "2027-07-13")
    page.fill("input[name=city]", "Mombasa")
    page.select_option("select[name=country]", label="Kenya")
    page.select_option("select[name=host]", label="Kenya")
    page.select_option("select[name=co_hosts]", label="Germany")
    page.click("button:has-text('Save')")
    assert "has been added as a draft" in page.content()
    assert "Mombasa, Kenya" in page.content()

    page.click("button:has-text('Mark as planned')")
    page.click("button:has-text('Confirm')")
    assert "is now confirmed" in page.content()

    page.goto(f"{live_url}/activities/calendar?month=2027-07")
    assert page.locator("a.event", has_text="Legal Pathways").count() == 2

    page.goto(f"{live_url}/activities/archive")
    page.select_option("select[name=year]", "2027")
    page.click("button:has-text('Filter')")
    row = page.locator("tr", has=page.locator("a", has_text="Legal Pathways"))
    assert "Germany" in row.inner_text() and "Confirmed" in row.inner_text()
    assert console_errors == []


def test_focal_point_reports_implementation_and_the_secretariat_validates_it(
    page, live_url, factory, console_errors, tmp_path
):
    factory.user(Role.FOCAL_POINT, state="Kenya", email="kamau@kpplan.example", name="Kamau")
    factory.user(Role.SECRETARIAT, email="sara@kpplan.example", name="Sara")
    activity = factory.activity(title="Thematic Meeting on Law Enforcement")
    recommendation = factory.recommendation(activity.id, text="Name a national contact point.")
    evidence = tmp_path / "decree.pdf"
    evidence.write_bytes(b"%PDF-1.4\n%decree\n")

    _sign_in(page, live_url, "kamau@kpplan.example")
    page.click("nav.main-nav >> text=My state's follow-ups")
    row = page.locator("tr", has=page.locator("a", has_text=recommendation.code))
    row.locator("text=Update").click()
    page.select_option("select[name=status]", "implemented")
    page.fill("textarea[name=narrative]", "The decree naming the contact point was published.")
    page.fill("textarea[name=links]", "Official gazette | https://example.org/gazette/42")
    page.set_input_files("input[name=files]", str(evidence))
    page.click("button:has-text('Post the update')")
    assert "The secretariat will validate the implementation" in page.content()
    assert "Implemented — awaiting validation" in page.content()
    assert page.locator("a", has_text="decree.pdf").count() == 1
    page.click("text=Sign out")

    _sign_in(page, live_url, "sara@kpplan.example")
    page.click("nav.main-nav >> text=Follow-ups")
    page.click("text=Awaiting validation")
    row = page.locator("tr", has=page.locator("a", has_text=recommendation.code))
    assert "Kenya" in row.inner_text()
    row.locator("text=Review and validate").click()
    assert page.locator("input[name=decision]:checked").count() == 0
    assert page.locator("a", has_text="decree.pdf").count() == 1
    assert page.locator("a", has_text="Official gazette").count() == 1
    page.check("input[name=decision][value=accept]")
    page.click("button:has-text('Record the decision')")
    assert "the implementation has been validated." in page.content()
    assert "Nothing awaits validation." in page.content()

    page.goto(f"{live_url}/recommendations/{recommendation.id}")
    assert "1 of 2" in page.locator(".facts").inner_text()
    kenya = page.locator(".state-grid li", has_text="Kenya")
    assert "Implemented" in kenya.inner_text() and "awaiting" not in kenya.inner_text()
    assert console_errors == []


def test_the_chair_plans_its_term_and_the_secretariat_reads_the_record(
    page, live_url, factory, console_errors
):
    from datetime import date

    from kpplan.meetings.kinds import ActivityKind
    from kpplan.meetings.models import Status

    factory.chairmanship("The Netherlands", date(2020, 3, 6), date(2022, 3, 22))
    factory.activity(
        title="Regional training in Juba",
        kind=ActivityKind.TRAINING,
        start=date(2022, 5, 24),
        status=Status.HELD,
        host="South Sudan",
    )
    factory.user(Role.SECRETARIAT, email="sara@kpplan.example", name="Sara")
    factory.user(Role.CHAIR, state="South Sudan", email="chol@kpplan.example", name="Chol")

    # The secretariat records South Sudan's term, and then by mistake a European one.
    _sign_in(page, live_url, "sara@kpplan.example")
    page.click("nav.main-nav >> text=Chair")
    page.click("text=Add a chairmanship")
    page.select_option("select[name=state]", label="South Sudan")
    page.fill("input[name=start_date]", "2022-03-22")
    page.click("button:has-text('Save')")
    assert "The Chairmanship of South Sudan has been added." in page.content()
    assert "Chair: South Sudan" in page.locator(".chair-line").inner_text()
    page.click("text=Add the work plan")
    page.fill("input[name=title]", "Work Plan 2022/23")
    page.click("button:has-text('Save')")
    page.click("text=Sign out")

    # The Chair's delegate adds an item and links the training that delivered it.
    _sign_in(page, live_url, "chol@kpplan.example")
    page.click(".chair-line >> text=South Sudan")
    page.click("text=Add an item")
    page.select_option("select[name=kind]", "training")
    page.fill("input[name=theme]", "Cross-border crime")
    page.fill("input[name=target]", "2022-Q2")
    page.click("button:has-text('Save')")
    assert page.locator(".lead .badge").inner_text() == "Late"  # Q2 2022 is over
    page.select_option("select[name=activity]", label="24 May 2022 — Regional training in Juba")
    page.click("button:has-text('Link')")
    assert page.locator(".lead .badge").inner_text() == "Held"
    page.click("#delivery a >> text=Regional training in Juba")
    facts = page.locator("dl.facts").inner_text()
    assert "Under the Chairmanship of South Sudan" in facts and "Cross-border crime" in facts

    page.goto(f"{live_url}/reports/timeline")
    assert page.locator("svg .tl-band-name").all_text_contents() == [
        "The Netherlands",
        "South Sudan",
    ]
    assert console_errors == []


def test_the_chair_reviews_the_term_and_downloads_the_handover_pack(
    page, live_url, factory, console_errors, tmp_path
):
    import io
    from datetime import date

    from openpyxl import load_workbook

    from kpplan.meetings.kinds import ActivityKind
    from kpplan.meetings.models import Status
    from kpplan.recommendations.statuses import FollowUpStatus

    chair = factory.chairmanship("South Sudan", date(2022, 3, 22))
    plan = factory.work_plan(chair.id)
    training = factory.activity(
        title="Regional training in Juba",
        kind=ActivityKind.TRAINING,
        start=date(2022, 5, 24),
        status=Status.HELD,
        host="South Sudan",
    )
    factory.work_plan_item(
        plan.id, "Cross-border crime", target=date(2022, 4, 1), activity_ids=(training.id,)
    )
    factory.work_plan_item(plan.id, "Climate and mobility", target=date(2035, 1, 1))
    recommendation = factory.recommendation(
        training.id, states=("Kenya", "Uganda"), target=date(2023, 6, 30)
    )
    factory.update(factory.follow_up_of(recommendation, "Kenya").id, FollowUpStatus.IMPLEMENTED)
    factory.user(Role.CHAIR, state="South Sudan", email="chol@kpplan.example", name="Chol")

    _sign_in(page, live_url, "chol@kpplan.example")
    page.click(".chair-line >> text=review of the term")
    assert page.locator("h1").inner_text() == "Review of the Chairmanship of South Sudan"
    progress = page.locator("#progress-title").text_content()
    assert progress.startswith("2 items of the work plan: 1 held by the target, 1 not scheduled")
    # The states are read once: their table draws each share as a bar and links each state,
    # with no chart of the same rows above it (issue 12).
    assert page.locator("#by-state svg").count() == 0
    assert page.locator("#by-state table a").count() == 2
    kenya = page.locator("#by-state tr", has=page.locator("th a", has_text="Kenya"))
    assert "100 %" in kenya.inner_text() and kenya.locator(".bar.w100").count() == 1
    assert "1 follow-up of recommendations in force is past its review date." in (
        page.locator("#overdue").inner_text()
    )
    assert page.locator("#activities a", has_text="Regional training in Juba").count() == 1
    # On paper: the charts and tables, without the header, buttons and download links.
    page.emulate_media(media="print")
    assert page.locator("#by-theme svg").is_visible()
    assert page.locator("#by-state table").is_visible()
    assert not page.locator(".site-header").is_visible()
    assert not page.locator(".page-head .actions").is_visible()
    assert not page.locator(".export-links").first.is_visible()
    page.emulate_media(media="screen")

    page.click("text=Handover pack")
    assert page.locator("h1").inner_text() == "Handover pack"
    assert "Climate and mobility" in page.locator("#not-delivered").inner_text()
    with page.expect_download() as download_info:
        page.click("text=Download the handover pack (.xlsx)")
    download = download_info.value
    assert download.suggested_filename.startswith("kpplan-handover-south-sudan-2022")
    saved = tmp_path / "handover.xlsx"
    download.save_as(saved)
    book = load_workbook(io.BytesIO(saved.read_bytes()), read_only=True)
    assert book.sheetnames == [
        "Open recommendations",
        "Overdue follow-ups",
        "Upcoming activities",
        "Items not delivered",
    ]
    assert [r[0] for r in list(book["Open recommendations"].values)[1:]] == [recommendation.code]
    assert [r[3] for r in list(book["Items not delivered"].values)[1:]] == ["Climate and mobility"]
    assert console_errors == []
