"""The bell and the notifications, and the pages of the runs and the outbox."""

from __future__ import annotations

from datetime import date, timedelta

import sqlalchemy as sa

from kpplan.core.extensions import db
from kpplan.reminders.models import ReminderRun
from tests.reminders.helpers import add_milestone, at, rows, run, turn_off_other_rules

# Notifications, pages, settings -------------------------------------------------------------


def _bell(text: str) -> str:
    start = text.index('class="bell')
    return text[start : text.index("</a>", start)]


def test_the_bell_counts_unread_notifications_and_marking_read_clears_them(
    app, client, people, factory, smtp, login_as
):
    turn_off_other_rules(app, "milestone_due")
    activity = factory.activity(start=date(2026, 12, 20), title="Workshop on border management")
    add_milestone(app, activity.id, date(2026, 12, 3), people["secretariat"], name="Agenda")
    add_milestone(app, activity.id, date(2026, 12, 4), people["secretariat"], name="Venue")
    add_milestone(app, activity.id, date(2026, 12, 4), people["admin"], name="Budget")
    run(app, at("2026-12-01T09:00"))

    login_as(people["secretariat"])
    home = client.get("/")
    assert "Notifications: 2 unread" in _bell(home.text)
    page = client.get("/reminders/")
    assert "Due on 3 December 2026: Agenda" in page.text and "Budget" not in page.text
    assert f'href="/activities/{activity.id}"' in page.text

    mine = [r.id for r in rows(app, user_id=people["secretariat"].id)]
    theirs = rows(app, user_id=people["admin"].id)[0].id
    assert client.post(f"/reminders/{theirs}/read").status_code == 404
    assert client.post("/reminders/999999/read").status_code == 404
    assert client.post(f"/reminders/{mine[0]}/read").status_code == 302
    assert "Notifications: 1 unread" in _bell(client.get("/").text)
    client.post("/reminders/read")
    assert "Notifications: 0 unread" in _bell(client.get("/").text)
    assert rows(app, id=theirs)[0].read_at is None  # someone else's stays unread


def test_the_bell_adds_no_query_to_a_page(app, client, people, factory, login_as, count_queries):
    login_as(people["secretariat"])
    client.get("/states/")
    with count_queries() as counter:
        client.get("/states/")
    assert counter.count <= 4  # as test_directory pins for this page, bell included


def test_list_pages_query_counts_do_not_grow(
    app, client, people, factory, smtp, login_as, count_queries
):
    turn_off_other_rules(app, "milestone_due")
    activity = factory.activity(start=date(2026, 12, 20))
    add_milestone(app, activity.id, date(2026, 12, 3), people["secretariat"])
    run(app, at("2026-12-01T09:00"))
    pages = ("/reminders/", "/reminders/outbox", "/reminders/outbox?status=sent&rule=milestone_due")
    login_as(people["admin"])
    with count_queries(header_kept=True) as few:
        for page in pages:
            assert client.get(page).status_code == 200
    for n in range(30):
        add_milestone(app, activity.id, date(2026, 12, 4), people["secretariat"], name=f"Step {n}")
        add_milestone(app, activity.id, date(2026, 12, 4), people["admin"], name=f"Step {n}")
    run(app, at("2026-12-02T09:00"))
    run(app, at("2026-12-02T10:00"))
    login_as(people["secretariat"])
    with count_queries() as many:
        for page in pages:
            assert client.get(page).status_code == 200
    assert len(rows(app)) == 61
    assert many.count == few.count


def test_admin_page_shows_runs_and_outbox(app, client, people, factory, smtp, login_as):
    login_as(people["secretariat"])
    assert "The reminder job has never run" in client.get("/reminders/outbox").text
    turn_off_other_rules(app, "milestone_due")
    activity = factory.activity(start=date(2026, 12, 20))
    add_milestone(app, activity.id, date(2026, 12, 3), people["secretariat"])
    run(app, at("2026-12-01T09:00"), runner="scheduler 1@test", next_run_at=at("2026-12-01T09:05"))
    page = client.get("/reminders/outbox").text
    assert "scheduler 1@test" in page
    assert "1 Dec 2026, 09:05 CET" in page  # the next run, in the Process's timezone
    assert "Due on 3 December 2026: Agenda" in page and "Sent" in page
    assert "Reminder settings" not in page  # for administrators
    assert "Due on" not in client.get("/reminders/outbox?status=failed").text
    assert "seems to have stopped" not in page
    (run_id,) = {r.run_id for r in rows(app)}
    assert f'href="/reminders/outbox?run={run_id}"' in page
    assert "Due on 3 December" in client.get(f"/reminders/outbox?run={run_id}").text
    assert "Due on 3 December" not in client.get(f"/reminders/outbox?run={run_id + 1}").text

    # Runs that did nothing are forgotten after 30 days; those that planned stay.
    run(app, at("2026-12-02T09:00"))
    run(app, at("2027-01-05T09:00"))
    with app.app_context():
        kept = db.session.scalars(sa.select(ReminderRun.now).order_by(ReminderRun.id)).all()
    assert kept == [at("2026-12-01T09:00"), at("2027-01-05T09:00")]

    # A scheduler that stopped shows: its next run is long past.
    from kpplan.core.db import utcnow

    run(
        app,
        utcnow() - timedelta(hours=2),
        runner="scheduler 2@test",
        next_run_at=utcnow() - timedelta(hours=1),
    )
    assert "seems to have stopped" in client.get("/reminders/outbox").text
    assert client.get("/reminders/outbox?status=nonsense&rule=x&page=-3").status_code == 200
