"""A summary mail lists its first items and counts the others, with a link to the page that
lists them all for its recipient; everything it holds is sent with it, once."""

from __future__ import annotations

from datetime import date, timedelta
from urllib.parse import urlsplit

import sqlalchemy as sa

from kpplan.core.extensions import db
from kpplan.meetings.models import Status
from kpplan.recommendations.follow_up_models import FollowUp
from kpplan.reminders.models import Delivery, Reminder, ReminderKind, ReminderStatus
from kpplan.reminders.sender import DIGEST_LISTED
from tests.reminders.helpers import at, run, set_preference, turn_off_other_rules

LATE = DIGEST_LISTED + 7


def _late_follow_ups(app, factory, count: int, state="Kenya") -> list[int]:
    """``count`` recommendations to ``state``, overdue since October, recorded in August."""
    activity = factory.activity(start=date(2026, 6, 1), status=Status.HELD)
    for _ in range(count):
        factory.recommendation(activity.id, states=(state,), target=date(2026, 10, 1))
    with app.app_context():
        db.session.execute(sa.update(FollowUp).values(created_at=at("2026-08-01T09:00")))
        db.session.commit()
        return db.session.scalars(sa.select(FollowUp.id).order_by(FollowUp.id)).all()


def _text(message) -> str:
    return message.get_body(("plain",)).get_content()


def _more_link(text: str) -> str:
    line = next(line for line in text.splitlines() if line.startswith("... and "))
    return line.split("See them all: ", 1)[1].strip()


def test_a_first_start_summary_lists_fifty_and_counts_the_rest(
    app, people, factory, smtp, client, login_as
):
    turn_off_other_rules(app, "follow_up_overdue")
    follow_ups = _late_follow_ups(app, factory, LATE)

    run(app, at("2026-12-01T09:00"))
    (summary,) = smtp.to(people["fp_a"].email)
    assert summary["Subject"] == f"kpplan: {LATE} reminders, {LATE} of them late"
    text = _text(summary)
    assert f"what needs your attention on 1 December 2026: {LATE} reminders" in text
    assert text.count("* Overdue: Kenya's follow-up of") == DIGEST_LISTED
    assert "... and 7 more. See them all: https://kpplan.example/app/reminders/?summary=" in text
    html = summary.get_body(("html",)).get_content()
    assert "… and 7 more." in html and html.count("<li>") == DIGEST_LISTED

    # Every item, listed or counted, went with the summary: none is sent again on its own.
    with app.app_context():
        statuses = db.session.scalars(
            sa.select(Reminder.status).where(
                Reminder.kind == ReminderKind.REMINDER,
                Reminder.subject_key.in_([f"follow_up:{i}" for i in follow_ups]),
            )
        ).all()
    assert statuses == [ReminderStatus.IN_DIGEST] * LATE
    run(app, at("2026-12-01T09:05"))
    assert len(smtp.to(people["fp_a"].email)) == 1

    # The link shows the recipient all of them, the first fifty as the mail listed them.
    more = urlsplit(_more_link(text))
    path, query = more.path.removeprefix("/app"), more.query
    assert path == "/reminders/"
    login_as(people["fp_a"])
    first = client.get(f"{path}?{query}")
    assert first.status_code == 200
    page = first.get_data(as_text=True)
    assert f"{LATE} in all" in page
    assert page.count("Overdue: Kenya&#39;s follow-up of") == DIGEST_LISTED
    second = client.get(f"{path}?{query}&page=2").get_data(as_text=True)
    assert second.count("Overdue: Kenya&#39;s follow-up of") == LATE - DIGEST_LISTED
    # Someone else cannot open it.
    login_as(people["fp_b"])
    assert client.get(f"{path}?{query}").status_code == 404


def test_a_daily_summary_says_how_many_it_holds_and_lists_fifty(app, people, factory, smtp):
    turn_off_other_rules(app, "follow_up_overdue")
    set_preference(app, people["fp_a"], "follow_up_overdue", Delivery.DAILY)
    run(app, at("2026-11-30T07:00"))  # the installation ran, with nothing to say
    _late_follow_ups(app, factory, LATE)
    run(app, at("2026-11-30T09:00"))  # planned, waiting for the daily summary
    assert smtp.to(people["fp_a"].email) == []
    run(app, at("2026-12-01T08:00"))
    (summary,) = smtp.to(people["fp_a"].email)
    assert summary["Subject"] == f"kpplan: {LATE} reminders for 1 December 2026"
    text = _text(summary)
    assert f"({LATE} reminders):" in text
    assert text.count("* Overdue: Kenya's follow-up of") == DIGEST_LISTED
    assert "... and 7 more. See them all:" in text
    run(app, at("2026-12-01T08:00") + timedelta(minutes=5))
    assert len(smtp.to(people["fp_a"].email)) == 1


def test_the_summary_page_reads_a_fixed_number_of_queries(
    app, people, factory, client, login_as, count_queries
):
    turn_off_other_rules(app, "follow_up_overdue")
    _late_follow_ups(app, factory, LATE)
    run(app, at("2026-12-01T09:00"), transport=_Quiet())
    with app.app_context():
        summary_id = db.session.scalar(
            sa.select(Reminder.id).where(
                Reminder.kind == ReminderKind.DIGEST, Reminder.user_id == people["fp_a"].id
            )
        )
    login_as(people["fp_a"])
    client.get("/reminders/")  # the header's Chair is read once, then kept
    with count_queries() as counter:
        response = client.get(f"/reminders/?summary={summary_id}")
    assert response.status_code == 200
    assert counter.count <= 6, counter.statements


class _Quiet:
    def send(self, message, reminder) -> None:
        pass

    def close(self) -> None:
        pass
