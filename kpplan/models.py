"""Every model of every feature, imported in one place so that the metadata is complete
for migrations and ``db check`` whichever blueprints are loaded."""

from kpplan.audit.models import AuditEntry
from kpplan.auth.models import SignInThrottle
from kpplan.directory.models import Organisation, State, User
from kpplan.meetings.models import (
    Activity,
    ActivityLink,
    ActivityOrganisation,
    ActivityStateRole,
    Document,
    Milestone,
)
from kpplan.reminders.models import (
    Reminder,
    ReminderClock,
    ReminderPreference,
    ReminderRuleSetting,
    ReminderRun,
)

__all__ = [
    "Activity",
    "ActivityLink",
    "ActivityOrganisation",
    "ActivityStateRole",
    "AuditEntry",
    "Document",
    "Milestone",
    "Organisation",
    "Reminder",
    "ReminderClock",
    "ReminderPreference",
    "ReminderRuleSetting",
    "ReminderRun",
    "SignInThrottle",
    "State",
    "User",
]
