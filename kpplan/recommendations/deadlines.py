"""The days behind "due soon" and "not updated for long", and the urgency levels they make.

What "overdue", "due soon" and "not updated" mean is defined once, as hybrids on
``FollowUp`` (``is_overdue``, ``is_due_soon``, ``is_stale`` and ``urgency``): each works
in Python on a loaded follow-up and in SQL inside a query, so the lists, the figures and
the reminder rules all ask the same question. This module holds the days they take:

- *due soon*: the next review date falls within ``due_soon_days`` of today;
- *not updated*: no update (or, never updated, no recording) for ``stale_days``.

They are the days of the reminders "A follow-up is due soon" and "A follow-up has not been
updated for a long time": the administrator changes both at once on the reminder settings
page. The reminder rules receive them in their settings; the pages read them here with
``current()``. Recommendations come before the reminders, so they read the saved days from
the kernel's settings table (``kpplan.core.rule_settings``) under the rule keys named here,
which the reminder rules register under; both start from the defaults below.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time

from flask import g, has_request_context

from kpplan.core import rule_settings
from kpplan.core.cache import memoised, watch

#: The reminder rules whose days the pages use, by their keys in the rule registry.
DUE_SOON_RULE = "follow_up_due"
STALE_RULE = "follow_up_stale"
#: Their days until the administrator changes them.
DUE_SOON_DAYS = 30
STALE_DAYS = 90

#: The urgency levels of an open follow-up, most urgent first: ``FollowUp.urgency`` gives
#: the index of one of them.
URGENCIES = ("overdue", "due_soon", "stale", "open")


@dataclass(frozen=True)
class Deadlines:
    """The days in force for "due soon" and "not updated" (hashable: a memo key)."""

    due_soon_days: int = DUE_SOON_DAYS
    stale_days: int = STALE_DAYS

    @property
    def labels(self) -> dict[str, str]:
        """The urgency levels as the lists name them, most urgent first."""
        return {
            "overdue": "Overdue",
            "due_soon": f"Due within {self.due_soon_days} days",
            "stale": f"Not updated for {self.stale_days} days",
            "open": "Open",
        }


def start_of(today: date) -> datetime:
    """The moment from which pages count "not updated": the start of ``today`` in UTC, as
    moments are stored, so that a day's lists and figures stay the same all day."""
    return datetime.combine(today, time.min, tzinfo=UTC)


#: What ``current`` reads: kept until the administrator saves a rule's settings, so that a
#: page rendered after a follow-up's update does not read them again.
_SETTINGS_READ = watch(rule_settings.ReminderRuleSetting)


def current() -> Deadlines:
    """The days in force: those the administrator saved for the two reminders, else the
    defaults. Looked up once per request (a list asks for each of its rows), and read from
    the database only when the settings changed since a page last read them (the jobs and
    commands read them each time)."""
    if "follow_up_deadlines" not in g:
        if has_request_context():
            found = memoised("follow_up_deadlines", None, _SETTINGS_READ, _saved)
        else:
            found = _saved()
        g.follow_up_deadlines = found
    return g.follow_up_deadlines


def _saved() -> Deadlines:
    saved = rule_settings.saved_days(DUE_SOON_RULE, STALE_RULE)
    return Deadlines(
        due_soon_days=saved.get(DUE_SOON_RULE, DUE_SOON_DAYS),
        stale_days=saved.get(STALE_RULE, STALE_DAYS),
    )
