"""The chairmanships the Process's own texts name (shared DOMAIN.md), as demo data, with an
illustrative work plan for the South Sudanese Chairmanship and an illustrative current
German Chairmanship with its work plan.

The texts name the Chairs up to South Sudan (from 22–23 March 2022) and Germany as the
upcoming Chair, without a date, and no item of any work plan. So that the demo has a
current Chair whatever day it is loaded on, Germany's term starts on the last 1 March
before that day (not before 2024: the texts show South Sudan in the chair until then), and
the items of both work plans are illustrative and say so.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import select

from kpplan.chair import services
from kpplan.chair.models import Chairmanship, TargetPrecision, WorkPlan
from kpplan.core.extensions import db
from kpplan.directory.models import State
from kpplan.meetings.demo import MOMBASA, UPCOMING
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


def german_term_start(today: date) -> date:
    """The illustrative start of the German Chairmanship: the last 1 March on or before
    ``today``, not before 1 March 2024."""
    year = today.year if (today.month, today.day) >= (3, 1) else today.year - 1
    return date(max(year, 2024), 3, 1)


def terms(today: date) -> list[Term]:
    """The chairmanships of the demo, as of ``today``."""
    german = german_term_start(today)
    return [
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
            "the 8th Senior Officials' Meeting, is kept. The texts show The Netherlands as Chair "
            "through 2020 and 2021: the first virtual meeting and the 4Ps webinar series were "
            "held under its guidance.",
        ),
        Term(
            "South Sudan",
            date(2022, 3, 22),
            german,
            "8th Senior Officials' Meeting: handover from The Netherlands to South Sudan",
            note="The texts say the Chairmanship began at the 8th Senior Officials' Meeting of "
            "22–23 March 2022, and name no end. Illustrative end: the day the demo starts the "
            "German Chairmanship.",
        ),
        Term(
            "Germany",
            german,
            None,
            note="Illustrative start: the texts name Germany as the upcoming Chair, without a "
            "date; the demo starts its term on 1 March, the usual start of a term.",
        ),
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
        MOMBASA,
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


def load_demo_chairmanships(today: date) -> int:
    """Add the chairmanships that are missing (one per state: each chaired once in the demo)
    and the illustrative work plans of South Sudan and Germany if they have none; returns
    how many chairmanships were added."""
    states = {s.name: s for s in db.session.scalars(select(State))}
    meetings = {a.title: a for a in db.session.scalars(select(Activity))}
    known = set(db.session.scalars(select(Chairmanship.state_id)))
    added = 0
    for term in terms(today):
        state = states[term.state]
        if state.id in known:
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
    _south_sudan_work_plan(states, meetings)
    _german_work_plan(states, meetings, today)
    return added


def _plan_to_fill(state: State, title: str, summary: str) -> WorkPlan | None:
    """The new work plan of ``state``'s chairmanship, or None if it has one (or none)."""
    chairmanship = db.session.scalar(
        select(Chairmanship).where(Chairmanship.state_id == state.id).limit(1)
    )
    if chairmanship is None:
        return None
    has_plan = db.session.scalar(
        select(WorkPlan.id).where(WorkPlan.chairmanship_id == chairmanship.id)
    )
    if has_plan:
        return None
    return services.create_work_plan(None, chairmanship, title, summary)


def _add_items(plan: WorkPlan, items, states, meetings) -> None:
    for kind, theme, target, quarter, lead, host, delivered_by in items:
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


def _south_sudan_work_plan(states: dict[str, State], meetings: dict[str, Activity]) -> None:
    plan = _plan_to_fill(
        states["South Sudan"],
        "Work Plan 2022/23",
        "Presented at the 8th Senior Officials' Meeting in Kampala, 22–23 March 2022. "
        + ILLUSTRATIVE
        + " They are drawn from the activities held under the South Sudanese Chairmanship.",
    )
    if plan is not None:
        _add_items(plan, ITEMS, states, meetings)


def _quarter_start(day: date) -> date:
    return date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)


def _german_work_plan(states: dict[str, State], meetings: dict[str, Activity], today: date) -> None:
    start = german_term_start(today)
    plan = _plan_to_fill(
        states["Germany"],
        f"Work Plan {start.year}/{(start.year + 1) % 100:02d}",
        ILLUSTRATIVE + " The German Chairmanship and its dates are illustrative too; the items are "
        "delivered by the demo's illustrative upcoming activities.",
    )
    if plan is None:
        return
    items = []
    for upcoming in UPCOMING:
        activity = meetings.get(upcoming.title)
        if activity is None:
            continue
        lead = next((name for name, _ in upcoming.roles), "Germany")
        items.append(
            (
                upcoming.kind,
                upcoming.theme,
                _quarter_start(activity.start_date),
                True,
                "Germany",
                lead if upcoming.country else None,
                upcoming.title,
            )
        )
    # One item not yet scheduled: a Senior Officials' Meeting at the end of the term.
    end_of_term = date(start.year + 1, 3, 1)
    items.append(
        (
            K.SENIOR_OFFICIALS,
            "Senior Officials' Meeting: review of the German Chairmanship and handover",
            _quarter_start(end_of_term),
            True,
            "Germany",
            None,
            None,
        )
    )
    _add_items(plan, items, states, meetings)
