"""An installation's first start, replayed on the demo: `kpplan seed --demo` into a fresh
database, the reminder job's first tick at the demo's today, then the next days' ticks,
with a real SMTP server counting the mails each person receives."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

from kpplan.core.db import utcnow
from tests.reminders.helpers import run


def _per_person(messages) -> Counter:
    return Counter(m["To"].addresses[0].addr_spec for m in messages)


def test_the_demos_first_start_writes_a_handful_of_mails(app, runner, smtp):
    result = runner.invoke(args=["kpplan", "seed", "--demo"])
    assert result.exit_code == 0, result.output
    first = utcnow()

    report = run(app, first)
    # The demo's history leaves dozens of reminders owed at once (88 when this was written)...
    assert report.planned_count > 60
    # ...which reach each person as one mail, besides the invitation to the demo's
    # upcoming training that each focal point of an invited state gets once.
    invitations = [m for m in smtp.messages if m["Subject"].startswith("Invitation: ")]
    others = [m for m in smtp.messages if m not in invitations]
    assert max(_per_person(others).values()) == 1, _per_person(others)
    assert max(_per_person(invitations).values()) == 1
    per_person = _per_person(smtp.messages)
    assert len(smtp.messages) <= report.planned_count // 2, per_person
    assert per_person["secretariat@kpplan.example"] == 1

    # The secretariat's one mail, read as they read it: everything, each with its link.
    (mail,) = [m for m in smtp.messages if "secretariat@kpplan.example" in str(m["To"])]
    text = mail.get_body(("plain",)).get_content()
    assert mail["Subject"].startswith("kpplan: ") and "of them late" in mail["Subject"]
    assert text.startswith("Dear ")
    assert "kpplan has started sending reminders. Rather than one e-mail for each" in text
    assert "Overdue for " in text and "member states have no active national focal point" in text
    assert "Consider contacting" in text
    assert text.count("https://kpplan.example/app/") >= 20
    assert "kpplan sent these reminders together rather than one e-mail each" in text

    # The same morning's later ticks send nothing more.
    for minutes in (5, 10, 15):
        run(app, first + timedelta(minutes=minutes))
    assert len(smtp.messages) == sum(per_person.values())

    # The next days go on as usual: a few reminders as they fall due, none sent twice to
    # anyone.
    for days in (1, 2, 3):
        before = len(smtp.messages)
        run(app, first + timedelta(days=days))
        that_day = smtp.messages[before:]
        # Weekly reminders of what is overdue fall due for several states on the same day:
        # a mail or two for each focal point, as they come.
        assert not that_day or max(_per_person(that_day).values()) <= 2, [
            (m["To"], m["Subject"]) for m in that_day
        ]
    sent = [(str(m["X-Kpplan-Reminder"]), str(m["To"])) for m in smtp.messages]
    assert len(sent) == len(set(sent))
