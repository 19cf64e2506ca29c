"""The Process's clock: its timezone, today's date and the current moment there.

The one place that knows them. The timezone is the administrator's choice (saved on the
reminder settings page), with the configuration's ``TIMEZONE`` as the default: pages,
reminders, the demo and the exports all read it from here, so "today" and "overdue" are
the same everywhere. Moments are stored in UTC; dates such as "today" are the Process's.

A signed-in page gets the setting with the query that loads the signed-in user (see
``saved_timezone_of``); other requests read it at most once a minute per worker; the
reminder job reads it fresh on each tick.
"""

from __future__ import annotations

import time
from datetime import UTC, date, datetime
from functools import cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from flask import current_app, g
from sqlalchemy import String, select
from sqlalchemy.orm import Mapped, mapped_column

from kpplan.core.db import Base
from kpplan.core.extensions import db

#: How long a worker keeps the saved timezone before reading it again (seconds).
KEEP_SECONDS = 60.0


class ProcessClock(Base):
    """The one row that says in which timezone the Process counts its days."""

    __tablename__ = "reminder_clock"
    __audit_label__ = "Reminder timezone"

    id: Mapped[int] = mapped_column(primary_key=True)
    timezone: Mapped[str] = mapped_column(String(64))


@cache
def _known_timezones() -> frozenset[str]:
    """The IANA names this machine knows: ``available_timezones`` walks the timezone files
    on each call (tens of milliseconds), so it is read once per process."""
    return frozenset(available_timezones())


def is_timezone(name: str | None) -> bool:
    """True when ``name`` is an IANA timezone such as Europe/Brussels."""
    if not name or name != name.strip() or len(name) > 64:
        return False
    if name not in _known_timezones():
        return False
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True


def _configured() -> str:
    name = current_app.config["TIMEZONE"]
    return name if is_timezone(name) else "UTC"


def timezone_name(fresh: bool = False) -> str:
    """The Process's timezone by name: the administrator's choice, else ``TIMEZONE``.

    A saved value that is not (or no longer) a known timezone is ignored.
    """
    if not fresh and "process_timezone" in g:
        saved = g.process_timezone
        return saved if is_timezone(saved) else _configured()
    kept = current_app.extensions.get("kpplan_clock")
    if not fresh and kept is not None and time.monotonic() - kept[1] < KEEP_SECONDS:
        return kept[0]
    saved = db.session.scalar(select(ProcessClock.timezone).where(ProcessClock.id == 1))
    name = saved if is_timezone(saved) else _configured()
    current_app.extensions["kpplan_clock"] = (name, time.monotonic())
    return name


def saved_timezone_of(_user_id_column) -> object:
    """The saved timezone as a scalar subquery, to load with the signed-in user."""
    return select(ProcessClock.timezone).where(ProcessClock.id == 1).scalar_subquery()


def forget() -> None:
    """Read the setting again at the next use (called when the administrator changes it)."""
    current_app.extensions.pop("kpplan_clock", None)
    g.pop("process_timezone", None)


def timezone(fresh: bool = False) -> ZoneInfo:
    """The Process's timezone."""
    return ZoneInfo(timezone_name(fresh))


def now(fresh: bool = False) -> datetime:
    """The current moment in the Process's timezone (aware)."""
    return datetime.now(UTC).astimezone(timezone(fresh))


def today() -> date:
    """Today's date where the Process works, for what is due, held or late."""
    return now().date()


def local(moment: datetime) -> datetime:
    """A stored UTC moment in the Process's timezone."""
    return moment.astimezone(timezone())
