"""The kinds of activity, defined in one place: adding a kind is one entry here."""

from __future__ import annotations

import enum
from dataclasses import dataclass


@dataclass(frozen=True)
class MilestoneTemplate:
    """A preparation step due ``days`` before the start (negative) or after the end (positive)."""

    name: str
    days: int


# The preparation timeline most meetings follow; each activity gets its own copy to edit.
MEETING_TIMELINE = (
    MilestoneTemplate("Concept note", -90),
    MilestoneTemplate("Invitations sent", -60),
    MilestoneTemplate("Agenda", -30),
    MilestoneTemplate("Recommendations recorded", 14),
    MilestoneTemplate("Report", 30),
)
ONLINE_TIMELINE = (
    MilestoneTemplate("Concept note", -45),
    MilestoneTemplate("Invitations sent", -30),
    MilestoneTemplate("Agenda", -14),
    MilestoneTemplate("Report", 30),
)


@dataclass(frozen=True)
class KindInfo:
    label: str
    short: str
    political: bool
    # A thematic meeting, workshop or training is confirmed only once a state hosts it.
    needs_host_to_confirm: bool
    milestones: tuple[MilestoneTemplate, ...] = MEETING_TIMELINE


class ActivityKind(enum.Enum):
    STEERING_COMMITTEE = "steering_committee"
    SENIOR_OFFICIALS = "senior_officials"
    MINISTERIAL = "ministerial"
    THEMATIC_MEETING = "thematic_meeting"
    THEMATIC_WORKSHOP = "thematic_workshop"
    TRAINING = "training"
    WEBINAR = "webinar"
    VIRTUAL_ROUNDTABLE = "virtual_roundtable"
    WORKING_GROUP = "working_group"

    @property
    def info(self) -> KindInfo:
        return KINDS[self]

    @property
    def label(self) -> str:
        return KINDS[self].label


KINDS: dict[ActivityKind, KindInfo] = {
    ActivityKind.STEERING_COMMITTEE: KindInfo("Steering Committee Meeting", "SC", True, False),
    ActivityKind.SENIOR_OFFICIALS: KindInfo("Senior Officials' Meeting", "SOM", True, False),
    ActivityKind.MINISTERIAL: KindInfo("Ministerial Conference", "MC", True, False),
    ActivityKind.THEMATIC_MEETING: KindInfo("Thematic Meeting", "TM", False, True),
    ActivityKind.THEMATIC_WORKSHOP: KindInfo("Thematic Workshop", "TW", False, True),
    ActivityKind.TRAINING: KindInfo("Training", "TR", False, True),
    ActivityKind.WEBINAR: KindInfo("Webinar", "WEB", False, False, ONLINE_TIMELINE),
    ActivityKind.VIRTUAL_ROUNDTABLE: KindInfo(
        "Virtual Roundtable", "VR", False, False, ONLINE_TIMELINE
    ),
    ActivityKind.WORKING_GROUP: KindInfo("Informal Working Group", "WG", False, False),
}
