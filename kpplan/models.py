"""Every model of every feature, imported in one place so that the metadata is complete
for migrations and ``db check`` whichever blueprints are loaded."""

# The full-text search's tables and indexes, created with the recommendations.
import kpplan.recommendations.search  # noqa: F401
from kpplan.audit.models import AuditEntry
from kpplan.auth.models import SignedInSession, SignInThrottle
from kpplan.chair.models import Chairmanship, WorkPlan, WorkPlanItem
from kpplan.core.clock import ProcessClock
from kpplan.core.rule_settings import ReminderRuleSetting
from kpplan.directory.models import Organisation, State, User
from kpplan.meetings.models import (
    Activity,
    ActivityLink,
    ActivityOrganisation,
    ActivityStateRole,
    Document,
    Milestone,
)
from kpplan.participants.models import Invitation, InvitationList, Participant
from kpplan.recommendations.models import (
    Evidence,
    FollowUp,
    Recommendation,
    RecommendationTheme,
    StatusUpdate,
    WordingRevision,
)
from kpplan.reminders.models import Reminder, ReminderPreference, ReminderRun
from kpplan.review.models import ReviewSnapshot, SnapshotEntry

__all__ = [
    "Activity",
    "ActivityLink",
    "ActivityOrganisation",
    "ActivityStateRole",
    "AuditEntry",
    "Chairmanship",
    "Document",
    "Evidence",
    "FollowUp",
    "Invitation",
    "InvitationList",
    "Milestone",
    "Organisation",
    "Participant",
    "ProcessClock",
    "Recommendation",
    "RecommendationTheme",
    "Reminder",
    "ReminderPreference",
    "ReminderRuleSetting",
    "ReminderRun",
    "ReviewSnapshot",
    "SignInThrottle",
    "SignedInSession",
    "SnapshotEntry",
    "State",
    "StatusUpdate",
    "User",
    "WordingRevision",
    "WorkPlan",
    "WorkPlanItem",
]
