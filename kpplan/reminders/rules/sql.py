"""What the rules ask the database, so that each returns only reminders not planned yet.

A rule's query checks the outbox itself (``not_planned``): a reminder already there is
never read back, so a tick when nothing is new reads almost nothing, and the first tick of
a large installation hands its reminders over in batches instead of all at once. The
outbox's unique key still makes each reminder planned once: this only spares the reading.

SQLite and PostgreSQL write dates and day counts differently; the two constructs below
give both the keys the rules write in Python (``due:2026-12-08``, days since a date).
"""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import Integer, Select, String, and_, cast, exists, literal, or_
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.functions import FunctionElement

from kpplan.directory.models import User
from kpplan.reminders.models import Reminder


class iso_date(FunctionElement):  # noqa: N801 - used as a SQL function
    """A date column as ``YYYY-MM-DD``, as Python's ``date.isoformat()`` writes it."""

    type = String()
    inherit_cache = True


@compiles(iso_date)
def _iso_date(element, compiler, **kw):
    # SQLite keeps dates as ISO text already.
    return compiler.process(cast(list(element.clauses)[0], String), **kw)


@compiles(iso_date, "postgresql")
def _iso_date_postgresql(element, compiler, **kw):
    return f"to_char({compiler.process(list(element.clauses)[0], **kw)}, 'YYYY-MM-DD')"


class days_since(FunctionElement):  # noqa: N801 - used as a SQL function
    """Whole days from a date column to a given day: ``(today - column).days``."""

    type = Integer()
    inherit_cache = True


@compiles(days_since)
def _days_since(element, compiler, **kw):
    today, column = (compiler.process(c, **kw) for c in element.clauses)
    return f"CAST(julianday({today}) - julianday({column}) AS INTEGER)"


@compiles(days_since, "postgresql")
def _days_since_postgresql(element, compiler, **kw):
    today, column = (compiler.process(c, **kw) for c in element.clauses)
    return f"(CAST({today} AS DATE) - {column})"


class iso_day_of(FunctionElement):  # noqa: N801 - used as a SQL function
    """The (UTC) day of a moment column, moved by a whole number of days, as ``YYYY-MM-DD``."""

    type = String()
    inherit_cache = True

    def __init__(self, moment, shift: int) -> None:
        self.shift = shift
        super().__init__(moment)


@compiles(iso_day_of)
def _iso_day_of(element, compiler, **kw):
    moment = compiler.process(list(element.clauses)[0], **kw)
    return f"date({moment}, '{element.shift:+d} day')"


@compiles(iso_day_of, "postgresql")
def _iso_day_of_postgresql(element, compiler, **kw):
    moment = compiler.process(list(element.clauses)[0], **kw)
    return f"to_char({moment} + interval '{element.shift:d} day', 'YYYY-MM-DD')"


def day(value: date) -> ColumnElement:
    """A day as a bound value that both databases read as a date."""
    return literal(value.isoformat(), String)


def text_of(value) -> ColumnElement:
    """A number as text, to build a key such as ``follow_up:12``."""
    return cast(value, String)


def not_planned(rule: str, subject_key, period_key, user_id) -> ColumnElement[bool]:
    """No reminder of ``rule`` for this subject, period and person is in the outbox yet
    (the outbox's unique key, so an index lookup per row)."""
    return ~exists().where(
        and_(
            Reminder.subject_key == subject_key,
            Reminder.rule == rule,
            Reminder.period_key == period_key,
            Reminder.user_id == user_id,
        )
    )


def late_period(today: date, due_date, every: int) -> ColumnElement:
    """The key of an overdue reminder's period, ``late:<due date>:<n>``: period 0 starts the
    day after ``due_date`` (a date column), then one every ``every`` days (as ``late_key``)."""
    late_by = days_since(day(today), due_date)
    return literal("late:") + iso_date(due_date) + literal(":") + text_of((late_by - 1) // every)


def late_crossed(today: date, since: date | None, due_date, every: int) -> list:
    """Of the overdue ``due_date`` (a date column), those whose ``late_period`` is another
    today than on ``since`` (overdue since, or a new period begun): all when ``since`` is
    None or ``every`` days or more ago."""
    if since is None or (today - since).days >= every:
        return []
    return [
        or_(
            due_date >= since,
            (days_since(day(today), due_date) - 1) // every
            != (days_since(day(since), due_date) - 1) // every,
        )
    ]


#: Beyond this many days (a rule every two days over a decade of archive), ``crossing_days``
#: leaves it to ``late_crossed``.
MAX_CROSSING_DAYS = 2000


def crossing_days(
    today: date, since: date | None, every: int, first: date | None
) -> list[date] | None:
    """What ``late_crossed`` finds, as the due dates it falls on, from ``first`` (the
    earliest due date there is) to yesterday: those ``(today - 1 - due) % every`` days into
    their period, for fewer days than have passed since ``since`` (the due dates from
    ``since`` on, overdue since, among them). An index of the due dates finds them one day
    after the other, where ``late_crossed`` works out the periods of every overdue row
    (most of which crossed nothing). None when ``late_crossed`` finds all, or they are too
    many days; every day listed is overdue."""
    if since is None or (today - since).days >= every:
        return None
    if first is None:
        return []
    passed = (today - since).days
    last = today - timedelta(days=1)
    if (last - first).days // every * passed > MAX_CROSSING_DAYS:
        return None
    return [
        last - timedelta(days=back)
        for back in range((last - first).days + 1)
        if back % every < passed
    ]


def late_key(today: date, due: date, every: int) -> str:
    """``late_period`` of one due date, in Python."""
    return f"late:{due.isoformat()}:{((today - due).days - 1) // every}"


def to_recipients(found: Select, owners, staff: list[int], unowned, *where) -> list[Select]:
    """``found`` (a select of subjects) with a ``user_id`` column, once for each recipient:
    the active users ``owners`` names (a condition on ``User``; None: nobody), and the
    secretariat (``staff``) where ``unowned`` holds (None: always); each branch also
    filtered by ``where``. The branches are to be put together with ``union_all``."""
    found = found.add_columns(User.id.label("user_id"))
    branches = []
    if owners is not None:
        branches.append(found.join(User, and_(owners, User.active.is_(True))).where(*where))
    if staff:
        staff_branch = found.join(User, User.id.in_(staff))
        if unowned is not None:
            staff_branch = staff_branch.where(unowned)
        branches.append(staff_branch.where(*where))
    return branches
