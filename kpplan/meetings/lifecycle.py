"""The life of an activity, in one place: which moves exist and what each requires.

draft → planned → confirmed → held → closed; postponed (with new dates) and cancelled
(with a reason) from any open state; a postponed activity is planned or confirmed again.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from kpplan.core.dates import day
from kpplan.core.errors import DomainError
from kpplan.meetings.models import Activity, StateRole, Status

OPEN = frozenset({Status.DRAFT, Status.PLANNED, Status.CONFIRMED, Status.POSTPONED})

TRANSITIONS: dict[Status, frozenset[Status]] = {
    Status.DRAFT: frozenset({Status.PLANNED, Status.POSTPONED, Status.CANCELLED}),
    Status.PLANNED: frozenset({Status.CONFIRMED, Status.POSTPONED, Status.CANCELLED}),
    Status.CONFIRMED: frozenset({Status.HELD, Status.POSTPONED, Status.CANCELLED}),
    Status.POSTPONED: frozenset({Status.PLANNED, Status.CONFIRMED, Status.CANCELLED}),
    Status.HELD: frozenset({Status.CLOSED}),
    Status.CLOSED: frozenset(),
    Status.CANCELLED: frozenset(),
}

# What the button says for each move.
ACTIONS: dict[Status, str] = {
    Status.PLANNED: "Mark as planned",
    Status.CONFIRMED: "Confirm",
    Status.HELD: "Record as held",
    Status.CLOSED: "Close",
    Status.POSTPONED: "Postpone",
    Status.CANCELLED: "Cancel the activity",
}


@dataclass(frozen=True)
class Move:
    to: Status
    reason: str | None = None
    new_start: date | None = None
    new_end: date | None = None


def allowed_moves(activity: Activity) -> list[Status]:
    """The statuses the activity may move to now, in the order the page offers them."""
    order = list(ACTIONS)
    return sorted(TRANSITIONS[activity.status], key=order.index)


def check(activity: Activity, move: Move, today: date) -> None:
    """Raise ``DomainError`` with what is missing if ``move`` is not allowed today."""
    if move.to not in TRANSITIONS[activity.status]:
        raise DomainError(
            f"An activity that is {activity.status.label.lower()} cannot become "
            f"{move.to.label.lower()}."
        )
    needs_host = move.to is Status.CONFIRMED and activity.kind.info.needs_host_to_confirm
    if needs_host and not activity.states_with(StateRole.HOST):
        raise DomainError(
            f"A {activity.kind.label.lower()} is confirmed only once a state hosts it: "
            "add the host first."
        )
    if move.to is Status.HELD and today < activity.end_date:
        raise DomainError(
            f"The activity ends on {day(activity.end_date)}: it can be recorded as held "
            "from that day on."
        )
    if move.to is Status.CLOSED and not (activity.outcome_summary or "").strip():
        raise DomainError("Record the outcome summary before closing the activity.")
    if move.to is Status.CANCELLED and not (move.reason or "").strip():
        raise DomainError("Say why the activity is cancelled.", "reason")
    if move.to is Status.POSTPONED:
        if move.new_start is None or move.new_end is None:
            raise DomainError("Give the new dates of the postponed activity.", "new_start")
        if move.new_end < move.new_start:
            raise DomainError("The new end date comes before the new start date.", "new_end")
        if (move.new_start, move.new_end) == (activity.start_date, activity.end_date):
            raise DomainError("The new dates are the same as the current ones.", "new_start")
