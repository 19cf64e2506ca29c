"""The rule of the directory: member states that have no active national focal point."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from kpplan.core.names import in_sentence, possessive
from kpplan.directory.models import Role, State, User
from kpplan.reminders.models import Reminder
from kpplan.reminders.rules.recipients import secretariat_ids
from kpplan.reminders.rules.registry import PlannedReminder, RuleSettings, rule


@rule(
    "state_without_focal_point",
    "Member states have no active focal point",
    "To the secretariat, once a month, one reminder listing the member states that have "
    "no active national focal point.",
)
def states_without_focal_point(
    session: Session, now: datetime, settings: RuleSettings
) -> Iterator[PlannedReminder]:
    # Those of the secretariat not reminded this month yet.
    month = f"month:{now:%Y-%m}"
    reminded = set(
        session.scalars(
            select(Reminder.user_id).where(
                Reminder.subject_key == "member-states",
                Reminder.rule == "state_without_focal_point",
                Reminder.period_key == month,
            )
        )
    )
    recipients = [u for u in secretariat_ids(session) if u not in reminded]
    if not recipients:
        return
    has_focal_point = exists().where(
        User.state_id == State.id, User.role == Role.FOCAL_POINT, User.active.is_(True)
    )
    states = session.scalars(
        select(State).where(State.is_member.is_(True), ~has_focal_point).order_by(State.name)
    ).all()
    if not states:
        return
    # Monthly, and one reminder for all of them: often enough to be acted on, rare and
    # short enough not to be ignored (a new installation has dozens of such states).
    names = ", ".join(s.name for s in states)
    if len(states) == 1:
        state = in_sentence(states[0].name, start=True)
        title = f"{state} has no active national focal point"
        message = (
            f"{state} is a member state of the Process but has no active national "
            "focal point, so nobody there receives its reminders. Ask the state to name one "
            "and add their account."
        )
        link = (
            "directory.state",
            {"state_id": states[0].id},
            f"Open {possessive(states[0].name)} page",
        )
    else:
        title = f"{len(states)} member states have no active national focal point"
        message = (
            f"These member states of the Process have no active national focal point, so "
            f"nobody there receives their reminders: {names}. Ask them to name one and add "
            "their accounts."
        )
        link = ("directory.states", {}, "Open the list of states")
    for user_id in recipients:
        yield PlannedReminder(
            rule="state_without_focal_point",
            subject_key="member-states",
            period_key=month,
            user_id=user_id,
            title=title,
            message=message,
            link_endpoint=link[0],
            link_values=link[1],
            link_label=link[2],
        )
