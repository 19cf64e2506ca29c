"""The chairmanships the Process's own texts name (shared DOMAIN.md), as demo data, and an
illustrative work plan for the South Sudanese Chairmanship.

The texts name the Chairs, their handovers and the "Work Plan 2022/23", but not the items
of any work plan: the items below are illustrative, drawn from the activities held under
that Chairmanship, and say so.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import select

from kpplan.chair import services
from kpplan.chair.models import Chairmanship, TargetPrecision, WorkPlan
from kpplan.core.extensions import db
from kpplan.directory.models import State
from kpplan.meetings.kinds import ActivityKind as K
from kpplan.meetings.models import Activity

ILLUSTRATIVE = "Illustrative: the texts do not give the items of this work plan."


@dataclass
class Term:
    state: str
    start: date | None
    end: date | None
    handover: str | None = None  # the title of the SOM at which the Chair took over
    note: str | None = None


TERMS: list[Term] = [
    Term(
        "Italy",
        date(2018, 1, 1),
        date(2019, 3, 7),
        note="The texts give only the year 2018 for the start; 1 January stands for it.",
    ),
    Term(
        "Eritrea",
        date(2019, 3, 7),
        date(2020, 3, 6),
        "Senior Officials' Meeting: start of the Eritrean Chairmanship",
    ),
    Term(
        "The Netherlands",
        date(2020, 3, 6),
        date(2022, 3, 22),
        "7th Senior Officials' Meeting: handover from Eritrea to The Netherlands",
        note="The texts give 22/23 March 2022 for the handover; 22 March, the first day of "
        "the 8th Senior Officials' Meeting, is kept.",
    ),
    Term(
        "South Sudan",
        date(2022, 3, 22),
        None,
        "8th Senior Officials' Meeting: handover from The Netherlands to South Sudan",
        note="The texts say the Chairmanship began at the 8th Senior Officials' Meeting of "
        "22–23 March 2022, and name no end.",
    ),
    Term("Germany", None, None, note="Named in the texts as the upcoming Chair, without a date."),
]

# (kind, theme, target, quarter?, lead, host, title of the delivering activity or None)
ITEMS = [
    (
        K.TRAINING,
        "Regional training on cross-border crime for border management officials",
        date(2022, 4, 1),
        True,
        "South Sudan",
        "South Sudan",
        "Regional training for border management officials on cross-border crime",
    ),
    (
        K.THEMATIC_MEETING,
        "Legal pathways: talent and skills mobility partnerships",
        date(2022, 7, 1),
        True,
        "Kenya",
        "Kenya",
        "Thematic Meeting on Legal Pathways: Talent and Skills Mobility Partnerships",
    ),
    (
        K.THEMATIC_WORKSHOP,
        "Innovative law enforcement tools against irregular migration",
        date(2022, 10, 1),
        True,
        "Egypt",
        "Egypt",
        "Thematic Workshop on Innovative Law Enforcement Tools to Tackle Irregular Migration",
    ),
    (
        K.THEMATIC_WORKSHOP,
        "Data on human mobility in the context of climate change",
        date(2023, 4, 1),
        True,
        "Uganda",
        "Uganda",
        "Thematic Workshop on Data on Human Mobility in the context of Climate Change",
    ),
    (
        K.WEBINAR,
        "Online recruitment in trafficking in human beings",
        date(2023, 10, 1),
        True,
        "South Sudan",
        None,
        None,
    ),
]


def load_demo_chairmanships() -> int:
    """Add the chairmanships that are missing (by state and start) and the illustrative
    work plan of South Sudan if it has none; returns how many chairmanships were added."""
    states = {s.name: s for s in db.session.scalars(select(State))}
    meetings = {a.title: a for a in db.session.scalars(select(Activity))}
    known = {
        tuple(row)
        for row in db.session.execute(select(Chairmanship.state_id, Chairmanship.start_date))
    }
    added = 0
    for term in TERMS:
        state = states[term.state]
        if (state.id, term.start) in known:
            continue
        services.create_chairmanship(
            None,
            state=state,
            start_date=term.start,
            end_date=term.end,
            handover_activity=meetings.get(term.handover) if term.handover else None,
            note=term.note,
        )
        added += 1
    _demo_work_plan(states, meetings)
    return added


def _demo_work_plan(states: dict[str, State], meetings: dict[str, Activity]) -> None:
    chairmanship = db.session.scalar(
        select(Chairmanship).where(
            Chairmanship.state_id == states["South Sudan"].id,
            Chairmanship.start_date == date(2022, 3, 22),
        )
    )
    if chairmanship is None:
        return
    has_plan = db.session.scalar(
        select(WorkPlan.id).where(WorkPlan.chairmanship_id == chairmanship.id)
    )
    if has_plan:
        return
    plan = services.create_work_plan(
        None,
        chairmanship,
        "Work Plan 2022/23",
        "Presented at the 8th Senior Officials' Meeting in Kampala, 22–23 March 2022. "
        + ILLUSTRATIVE
        + " They are drawn from the activities held under the South Sudanese Chairmanship.",
    )
    for kind, theme, target, quarter, lead, host, delivered_by in ITEMS:
        item = services.add_item(
            None,
            plan,
            kind=kind,
            theme=theme,
            target_date=target,
            target_precision=TargetPrecision.QUARTER if quarter else TargetPrecision.DAY,
            lead_state=states[lead] if lead else None,
            host_state=states[host] if host else None,
            note="Illustrative item.",
        )
        if delivered_by and delivered_by in meetings:
            services.link_activity(None, item, meetings[delivered_by])
