"""The administrator's settings of the reminder rules: each rule on or off, and its days.

The table belongs to the reminders, which write it from their settings page; it sits in
the kernel, as the Process's timezone does (``clock``), because features below the
reminders read it too: the pages that list follow-ups "due soon" and "not updated" use
the days the administrator gave those two reminders (see
``kpplan.recommendations.deadlines``). Core knows no rule: callers name the rules.
"""

from __future__ import annotations

from sqlalchemy import Boolean, Integer, String, select
from sqlalchemy.orm import Mapped, mapped_column

from kpplan.core.db import Base
from kpplan.core.extensions import db


class ReminderRuleSetting(Base):
    """An administrator's choice for one rule: on or off, and its number of days."""

    __tablename__ = "reminder_rule_settings"
    __audit_label__ = "Reminder settings"

    id: Mapped[int] = mapped_column(primary_key=True)
    rule: Mapped[str] = mapped_column(String(40), unique=True)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    days: Mapped[int | None] = mapped_column(Integer)

    @property
    def audit_phrase(self) -> str:
        """How the history names it: the reminder "follow up due"."""
        return f"the reminder “{self.rule.replace('_', ' ')}”"


def saved_days(*rules: str) -> dict[str, int]:
    """The days the administrator saved for the given rules, by rule (in one query); a
    rule never saved, or saved without days, is left out."""
    rows = db.session.execute(
        select(ReminderRuleSetting.rule, ReminderRuleSetting.days).where(
            ReminderRuleSetting.rule.in_(rules), ReminderRuleSetting.days.is_not(None)
        )
    ).all()
    return {rule: days for rule, days in rows}
