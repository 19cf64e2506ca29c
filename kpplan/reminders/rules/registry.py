"""The registry of reminder rules: what a rule is, what it finds, and how it registers.

A rule reads the database as it stands at ``now`` and yields a ``PlannedReminder`` for
each (subject, period, recipient) that deserves one. It never writes, never sends and
never reads the clock: the tick inserts what it yields into the outbox, where the unique
key (subject, rule, period, recipient) makes a reminder planned once however many ticks
see it. The period key is what makes a rule repeat: "once per due date" uses the due date,
"weekly while overdue" uses the number of whole weeks since the due date.

To add a rule, add a function to the module of its feature in this package (``meetings``,
``directory``, ``follow_ups``, ``chair``, or a new one imported by ``__init__``; reminders
come after recommendations and the Chair's work plans, so these modules may import their
models) and a test in tests/reminders/; the settings page, the preferences page and the
tick pick it up from the registry::

    @rule(
        "follow_up_due",
        "A follow-up is due soon",
        "To the state's focal points, once per due date.",
        default_days=30,
        days_label="Days before the due date",
    )
    def follow_up_due(session, now, settings):
        today = now.date()
        due_soon = FollowUp.is_due_soon(today, settings.days)
        for follow_up in session.scalars(select(FollowUp).where(due_soon)):
            for user_id in focal_point_ids(session, follow_up.state_id):
                yield PlannedReminder(
                    rule="follow_up_due",
                    subject_key=f"follow_up:{follow_up.id}",
                    period_key=f"due:{follow_up.next_review_date.isoformat()}",
                    user_id=user_id,
                    title=..., message=..., link_endpoint=..., link_values={...},
                )

An escalation passes ``can_turn_off=False``: people cannot turn it off.
``now`` is the tick's moment in the Process's timezone: ``now.date()`` is today there.
What is overdue, due soon or not updated is asked of the hybrids on ``FollowUp``, as the
pages ask it, never worked out again in a rule.

A rule that names the models it ``reads`` (and, if what it finds falls due at a moment
rather than on a day, ``wakes``: the first moment something more falls due) is skipped by a
tick while nothing it reads has changed, its settings are the same and the Process's day
too (the planner's watermark). Name every table whose change can make it find something
new; the outbox itself need not be named (what the tick plans is never new to it again).
A rule that names none runs at every tick.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy.orm import Session

from kpplan.core.cache import watch


@dataclass(frozen=True)
class PlannedReminder:
    """What a rule found: who is reminded of what, for which period, and what the mail says.

    ``(subject_key, rule, period_key, user_id)`` is the reminder's identity in the outbox.
    ``link_endpoint`` and ``link_values`` name the page that needs action (built into an
    absolute link with ``BASE_URL`` when the mail is written). ``due_since`` is the day
    from which the reminder was owed, for a reminder of something late (an overdue step or
    follow-up, a validation waiting): on an installation's first tick, or the first after
    a long stop, what was owed before that day reaches each person as one summary instead
    of one mail each (``summaries.summarise_backlog``).
    """

    rule: str
    subject_key: str
    period_key: str
    user_id: int
    title: str
    message: str
    link_endpoint: str
    link_values: dict = field(default_factory=dict)
    link_label: str = "Open the page"
    due_since: date | None = None


@dataclass(frozen=True)
class RuleSettings:
    """An administrator's settings for a rule (or the rule's defaults)."""

    enabled: bool = True
    days: int | None = None
    # Set by the tick when the rule planned in full on this earlier day with the same
    # settings and nothing it reads has changed since: a day-triggered rule may then look
    # only at what crossed its trigger after that day (None: look at everything).
    since: date | None = None


RuleFunction = Callable[[Session, datetime, RuleSettings], Iterable[PlannedReminder]]
#: The first moment after ``now`` at which a rule may find something more (None: not before
#: something it reads changes), for a rule whose reminders fall due at a moment rather than
#: on a day: the tick skips it until then, whatever the day, while its inputs stay the same.
WakeFunction = Callable[[Session, datetime, RuleSettings], datetime | None]


@dataclass(frozen=True)
class Rule:
    key: str
    label: str
    description: str
    find: RuleFunction
    default_days: int | None = None
    days_label: str | None = None
    # Escalations reach their recipients whatever they chose.
    can_turn_off: bool = True
    # The tables whose change can make the rule find something new (none: it always runs).
    reads: tuple[str, ...] = ()
    wakes: WakeFunction | None = None

    @property
    def defaults(self) -> RuleSettings:
        return RuleSettings(enabled=True, days=self.default_days)


RULES: dict[str, Rule] = {}


def rule(
    key: str,
    label: str,
    description: str,
    default_days: int | None = None,
    days_label: str | None = None,
    can_turn_off: bool = True,
    reads: tuple = (),
    wakes: WakeFunction | None = None,
) -> Callable[[RuleFunction], RuleFunction]:
    """Register the decorated function as the rule ``key``; ``reads``: the models whose
    change can make it find something new, ``wakes``: see ``WakeFunction``."""
    # Counted from import on, in every process alike (``kpplan.core.cache``).
    tables = tuple(sorted({m.__tablename__ for m in watch(*reads)}))

    def register(find: RuleFunction) -> RuleFunction:
        if key in RULES:
            raise ValueError(f"two reminder rules are called {key!r}")
        RULES[key] = Rule(
            key, label, description, find, default_days, days_label, can_turn_off, tables, wakes
        )
        return find

    return register


def long_date(value: date) -> str:
    """A date as the mails write it: "8 December 2026"."""
    return f"{value.day} {value:%B %Y}"
