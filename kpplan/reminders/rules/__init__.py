"""The reminder rules, one small function each, gathered in a registry (see ``registry``
for what a rule is and how to add one).

Each feature's rules have their module: ``meetings`` (milestones due and overdue, outcomes
not recorded), ``directory`` (member states without a focal point), ``follow_ups`` (due
soon, overdue, escalated, not updated, awaiting validation), ``chair`` (the work plan) and
``invitations`` (invitations to an activity, and chasing the states that have not answered);
``recipients`` says who they go to. Importing this package registers every rule, in the
order below: the order of the settings and preferences pages and of each tick.
"""

from kpplan.reminders.rules.recipients import focal_point_ids, secretariat_ids
from kpplan.reminders.rules.registry import RULES, PlannedReminder, Rule, RuleSettings, rule

# isort: off
from kpplan.reminders.rules import meetings  # noqa: F401 - registers its rules
from kpplan.reminders.rules import directory  # noqa: F401
from kpplan.reminders.rules import follow_ups  # noqa: F401
from kpplan.reminders.rules import chair  # noqa: F401
from kpplan.reminders.rules import invitations  # noqa: F401
# isort: on

__all__ = [
    "RULES",
    "PlannedReminder",
    "Rule",
    "RuleSettings",
    "focal_point_ids",
    "rule",
    "secretariat_ids",
]
