"""The kinds of activity, defined in one place: each kind is one entry of ``ActivityKind``.

An entry holds everything kpplan knows of a kind: the value stored in the database, its
label and plural, the code recommendations are numbered with (``TM-2022-07/R3``), its colour
on the timeline, its place in the secretariat's summary, whether it is confirmed only once
a state hosts it, whether it is expected to end in recommendations (the outcomes reminder
asks for them), and the preparation timeline a new activity of the kind starts with. Forms,
filters, reports, the timeline and the reminders read it from here. A new kind also needs a
migration that widens the CHECK constraints named ``activity_kind`` (README, "Add a kind").
"""

from __future__ import annotations

from dataclasses import dataclass

from kpplan.core.db import LabelledEnum


@dataclass(frozen=True)
class MilestoneTemplate:
    """A preparation step due ``days`` before the start (negative) or after the end (positive).

    ``done_by`` names the action in kpplan that completes the step, which ticks it as done
    (see ``meetings.services.complete_steps``): uploading a document of a kind
    (``document:agenda``), sending the invitations, recording the recommendations.
    """

    name: str
    days: int
    done_by: str | None = None


#: The actions that complete preparation steps.
SENDING_INVITATIONS = "invitations_sent"
RECORDING_RECOMMENDATIONS = "recommendations_recorded"


def uploading(document_kind: str) -> str:
    """The action of uploading a document of this kind (its stored value)."""
    return f"document:{document_kind}"


# The preparation timeline most meetings follow; each activity gets its own copy to edit.
MEETING_TIMELINE = (
    MilestoneTemplate("Concept note", -90, uploading("concept_note")),
    MilestoneTemplate("Invitations sent", -60, SENDING_INVITATIONS),
    MilestoneTemplate("Agenda", -30, uploading("agenda")),
    MilestoneTemplate("Recommendations recorded", 14, RECORDING_RECOMMENDATIONS),
    MilestoneTemplate("Report", 30, uploading("report")),
)
ONLINE_TIMELINE = (
    MilestoneTemplate("Concept note", -45, uploading("concept_note")),
    MilestoneTemplate("Invitations sent", -30, SENDING_INVITATIONS),
    MilestoneTemplate("Agenda", -14, uploading("agenda")),
    MilestoneTemplate("Report", 30, uploading("report")),
)


@dataclass(frozen=True)
class KindInfo:
    """What a kind of activity is, besides its value and label."""

    plural: str
    # Begins the code of the recommendations of its activities: TM-2022-07/R3.
    code: str
    # On the timeline; told apart by most readers, colour-blind ones too (Okabe–Ito and more).
    colour: str
    # Its place in the secretariat's summary sentence and on the timeline (1 comes first).
    report_order: int
    political: bool
    # A thematic meeting, workshop or training is confirmed only once a state hosts it.
    needs_host_to_confirm: bool
    # Meetings end in recommendations; trainings, groups, webinars and roundtables need none.
    expects_recommendations: bool
    milestones: tuple[MilestoneTemplate, ...] = MEETING_TIMELINE
    # How the summary sentence names it, one and several, when not by label and plural.
    summary_names: tuple[str, str] | None = None


class ActivityKind(LabelledEnum):
    STEERING_COMMITTEE = (
        "steering_committee",
        "Steering Committee Meeting",
        KindInfo(
            plural="Steering Committee Meetings",
            code="SC",
            colour="#0072B2",
            report_order=2,
            political=True,
            needs_host_to_confirm=False,
            expects_recommendations=True,
        ),
    )
    SENIOR_OFFICIALS = (
        "senior_officials",
        "Senior Officials' Meeting",
        KindInfo(
            plural="Senior Officials' Meetings",
            code="SOM",
            colour="#D55E00",
            report_order=3,
            political=True,
            needs_host_to_confirm=False,
            expects_recommendations=True,
        ),
    )
    MINISTERIAL = (
        "ministerial",
        "Ministerial Conference",
        KindInfo(
            plural="Ministerial Conferences",
            code="MC",
            colour="#CC79A7",
            report_order=4,
            political=True,
            needs_host_to_confirm=False,
            expects_recommendations=True,
        ),
    )
    THEMATIC_MEETING = (
        "thematic_meeting",
        "Thematic Meeting",
        KindInfo(
            plural="Thematic Meetings",
            code="TM",
            colour="#009E73",
            report_order=5,
            political=False,
            needs_host_to_confirm=True,
            expects_recommendations=True,
        ),
    )
    THEMATIC_WORKSHOP = (
        "thematic_workshop",
        "Thematic Workshop",
        KindInfo(
            plural="Thematic Workshops",
            code="TW",
            colour="#56B4E9",
            report_order=6,
            political=False,
            needs_host_to_confirm=True,
            expects_recommendations=True,
        ),
    )
    TRAINING = (
        "training",
        "Training",
        KindInfo(
            plural="Trainings",
            code="TR",
            colour="#E69F00",
            report_order=7,
            political=False,
            needs_host_to_confirm=True,
            expects_recommendations=False,
            # The Process's trainings are regional ones, and its own summary calls them so.
            summary_names=("Regional Training", "Regional Trainings"),
        ),
    )
    WEBINAR = (
        "webinar",
        "Webinar",
        KindInfo(
            plural="Webinars",
            code="WEB",
            colour="#6A51A3",
            report_order=8,
            political=False,
            needs_host_to_confirm=False,
            expects_recommendations=False,
            milestones=ONLINE_TIMELINE,
        ),
    )
    VIRTUAL_ROUNDTABLE = (
        "virtual_roundtable",
        "Virtual Roundtable",
        KindInfo(
            plural="Virtual Roundtables",
            code="VR",
            colour="#7A7A1F",
            report_order=9,
            political=False,
            needs_host_to_confirm=False,
            expects_recommendations=False,
            milestones=ONLINE_TIMELINE,
        ),
    )
    WORKING_GROUP = (
        "working_group",
        "Informal Working Group",
        KindInfo(
            plural="Informal Working Groups",
            code="WG",
            colour="#882255",
            report_order=1,
            political=False,
            needs_host_to_confirm=False,
            expects_recommendations=False,
        ),
    )

    def __init__(self, value: str, label: str, info: KindInfo) -> None:
        self.info = info

    def summary_name(self, count: int) -> str:
        """How the secretariat's summary names ``count`` activities of the kind."""
        one, several = self.info.summary_names or (self.label, self.info.plural)
        return one if count == 1 else several


# The order of the secretariat's own summary: working groups and political meetings first.
REPORT_ORDER: tuple[ActivityKind, ...] = tuple(
    sorted(ActivityKind, key=lambda kind: kind.info.report_order)
)
