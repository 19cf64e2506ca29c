"""Every model of every feature, imported in one place so that the metadata is complete
for migrations and ``db check`` whichever blueprints are loaded."""

# The full-text search's tables and indexes, created with the recommendations.
import kpplan.recommendations.search  # noqa: F401
from kpplan.audit.models import AuditEntry
from kpplan.auth.models import SignedInSession, SignInThrottle
from kpplan.chair.models import Chairmanship, WorkPlan, WorkPlanItem
from kpplan.core.cache import ChangeCounter
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
from kpplan.recommendations.day_figures import FollowUpDayBasis, FollowUpDayFigure
from kpplan.recommendations.follow_up_models import Evidence, FollowUp, StatusUpdate
from kpplan.recommendations.models import Recommendation, RecommendationTheme, WordingRevision
from kpplan.recommendations.tallies import ActivityTally, FollowUpTally, RecommendationTally
from kpplan.reminders.models import Reminder, ReminderPreference, ReminderRun
from kpplan.review.models import ReviewSnapshot, SnapshotChange, SnapshotDifference, SnapshotEntry

__all__ = [
    "Activity",
    "ActivityTally",
    "ActivityLink",
    "ActivityOrganisation",
    "ActivityStateRole",
    "AuditEntry",
    "ChangeCounter",
    "Chairmanship",
    "Document",
    "Evidence",
    "FollowUp",
    "FollowUpDayBasis",
    "FollowUpDayFigure",
    "FollowUpTally",
    "Invitation",
    "InvitationList",
    "Milestone",
    "Organisation",
    "Participant",
    "ProcessClock",
    "Recommendation",
    "RecommendationTally",
    "RecommendationTheme",
    "Reminder",
    "ReminderPreference",
    "ReminderRuleSetting",
    "ReminderRun",
    "ReviewSnapshot",
    "SignInThrottle",
    "SignedInSession",
    "SnapshotChange",
    "SnapshotDifference",
    "SnapshotEntry",
    "State",
    "StatusUpdate",
    "User",
    "WordingRevision",
    "WorkPlan",
    "WorkPlanItem",
]
