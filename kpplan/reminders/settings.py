"""Reading the reminder settings: rules, timezone and each person's preferences."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from sqlalchemy import String, select, type_coerce

from kpplan.core import clock
from kpplan.core.extensions import db
from kpplan.core.rule_settings import ReminderRuleSetting
from kpplan.reminders.models import Delivery, ReminderPreference
from kpplan.reminders.rules import RULES, RuleSettings

#: The days a rule may be set to (``services.save_rule_setting`` refuses others).
MIN_DAYS, MAX_DAYS = 1, 365


def rule_settings() -> dict[str, RuleSettings]:
    """Every registered rule's settings: the administrator's where saved, else the defaults."""
    saved = {s.rule: s for s in db.session.scalars(select(ReminderRuleSetting))}
    result = {}
    for key, rule in RULES.items():
        row = saved.get(key)
        if row is None:
            result[key] = rule.defaults
        else:
            days = row.days if rule.days_label else None
            if days is not None and not MIN_DAYS <= days <= MAX_DAYS:
                # Saved outside the range the settings page allows (by hand, or by an
                # older version): ignored, as an unknown timezone is.
                days = rule.default_days
            result[key] = RuleSettings(enabled=row.enabled, days=days)
    return result


def timezone_name() -> str:
    """The Process's timezone, read fresh: reminders count days and send summaries in it."""
    return clock.timezone_name(fresh=True)


def process_timezone() -> ZoneInfo:
    return clock.timezone(fresh=True)


def preferences_of(user_id: int) -> dict[str, Delivery]:
    """One person's choices by rule; rules they never chose for are sent at once."""
    rows = db.session.execute(
        select(ReminderPreference.rule, ReminderPreference.delivery).where(
            ReminderPreference.user_id == user_id
        )
    ).all()
    chosen = dict(rows)
    return {key: chosen.get(key, Delivery.IMMEDIATELY) for key in RULES}


def rule_preferences(rule_key: str) -> dict[int, Delivery]:
    """Everybody's saved choice for one rule, by person, for a tick's planning (read as the
    values stored: a tick may read thousands)."""
    rows = db.session.execute(
        select(ReminderPreference.user_id, type_coerce(ReminderPreference.delivery, String)).where(
            ReminderPreference.rule == rule_key
        )
    ).all()
    return {user_id: _DELIVERY[value] for user_id, value in rows}


_DELIVERY = {member.value: member for member in Delivery}


def effective_delivery(rule_key: str, chosen: Delivery | None) -> Delivery:
    """What a person gets for a rule: their choice, except that escalations cannot be off."""
    delivery = chosen or Delivery.IMMEDIATELY
    rule = RULES.get(rule_key)
    if delivery is Delivery.OFF and rule is not None and not rule.can_turn_off:
        return Delivery.IMMEDIATELY
    return delivery
