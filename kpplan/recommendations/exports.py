"""The recommendation and follow-up exports: the columns the import reads back, so that
an export can be edited and imported again (``recommendations.imports``)."""

from __future__ import annotations

from typing import Any

from kpplan.recommendations.follow_up_models import FollowUp
from kpplan.recommendations.models import Lineage, Recommendation

RECOMMENDATION_COLUMNS = (
    "Code",
    "Activity ID",
    "Activity",
    "Wording",
    "Priority",
    "Target date",
    "Themes",
    "Addressed to",
    "Supersedes",
    "Re-endorses",
    "Illustrative",
)
FOLLOW_UP_COLUMNS = (
    "Follow-up ID",
    "Code",
    "State",
    "Wording",
    "Status",
    "Progress",
    "Next review date",
    "Reason",
    "Last update",
    "Version",
    "New narrative",
)
ALL_MEMBERS = "All member states"
SECRETARIAT = "Secretariat"


def addressed_to(recommendation: Recommendation) -> str:
    parts = [ALL_MEMBERS] if recommendation.to_all_members else []
    for follow_up in recommendation.follow_ups:
        if follow_up.state is not None and not recommendation.to_all_members:
            parts.append(follow_up.state.name)
    for follow_up in recommendation.follow_ups:
        if follow_up.organisation is not None:
            parts.append(follow_up.organisation.acronym or follow_up.organisation.name)
    if any(f.for_secretariat for f in recommendation.follow_ups):
        parts.append(SECRETARIAT)
    return "; ".join(parts)


def recommendation_row(recommendation: Recommendation) -> list[Any]:
    predecessor = recommendation.predecessor.code if recommendation.predecessor else ""
    return [
        recommendation.code,
        recommendation.activity_id,
        recommendation.activity.title,
        recommendation.text,
        recommendation.priority.label,
        recommendation.target_date,
        "; ".join(recommendation.theme_codes),
        addressed_to(recommendation),
        predecessor if recommendation.lineage is Lineage.SUPERSEDES else "",
        predecessor if recommendation.lineage is Lineage.RE_ENDORSES else "",
        "yes" if recommendation.illustrative else "",
    ]


def follow_up_row(follow_up: FollowUp) -> list[Any]:
    return [
        follow_up.id,
        follow_up.recommendation.code,
        follow_up.state.name if follow_up.state else follow_up.addressee,
        follow_up.recommendation.text,
        follow_up.status.label,
        follow_up.progress,
        follow_up.next_review_date,
        follow_up.status_reason,
        follow_up.last_update_at.date() if follow_up.last_update_at else None,
        follow_up.version,
        "",
    ]
