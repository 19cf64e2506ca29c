from __future__ import annotations

import re
from datetime import date

from sqlalchemy import select
from wtforms import DateField, SelectChoice, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, Optional, ValidationError

from kpplan.chair.models import Chairmanship, TargetPrecision, WorkPlan, WorkPlanItem
from kpplan.core.dates import day_range
from kpplan.core.extensions import db
from kpplan.core.forms import KpplanForm, VersionedForm
from kpplan.directory.models import State
from kpplan.meetings.kinds import ActivityKind
from kpplan.meetings.models import Activity

DATE_FORMAT = "Give the date as year-month-day, for example 2022-03-22."
NONE = SelectChoice(0, "—")


def _member_choices() -> list[SelectChoice]:
    members = db.session.scalars(
        select(State).where(State.is_member.is_(True)).order_by(State.name)
    )
    return [SelectChoice(s.id, s.name) for s in members]


class ChairmanshipForm(VersionedForm):
    state = SelectField("State", coerce=int)
    start_date = DateField(
        "Start",
        validators=[Optional()],
        invalid_value_message=DATE_FORMAT,
        description="The day the Chair took over. Leave empty for a Chair designated but "
        "not yet dated.",
    )
    end_date = DateField(
        "End",
        validators=[Optional()],
        invalid_value_message=DATE_FORMAT,
        description="The day of the handover to the next Chair; empty while it chairs.",
    )
    handover_activity = SelectField(
        "Took over at",
        coerce=int,
        description="The Senior Officials' Meeting at which this Chair took over.",
    )
    note = TextAreaField(
        "Note",
        validators=[Optional(), Length(max=2000)],
        description="For example where the texts give only a year.",
    )

    def set_choices(self, meetings) -> None:
        self.state.choices = [NONE, *_member_choices()]
        self.handover_activity.choices = [NONE] + [
            SelectChoice(a.id, f"{a.first_day} — {a.title}") for a in meetings
        ]

    @classmethod
    def for_record(cls, chairmanship: Chairmanship) -> ChairmanshipForm:
        return cls(
            data={
                "state": chairmanship.state_id,
                "start_date": chairmanship.start_date,
                "end_date": chairmanship.end_date,
                "handover_activity": chairmanship.handover_activity_id or 0,
                "note": chairmanship.note,
                "version": chairmanship.version,
            }
        )

    def values(self) -> dict:
        """The submitted chairmanship, as the services take it (records, not ids)."""
        return {
            "state": db.session.get(State, self.state.data) if self.state.data else None,
            "start_date": self.start_date.data,
            "end_date": self.end_date.data,
            "handover_activity": (
                db.session.get(Activity, self.handover_activity.data)
                if self.handover_activity.data
                else None
            ),
            "note": self.note.data,
        }


class NewChairmanshipForm(ChairmanshipForm):
    version = None


class WorkPlanForm(VersionedForm):
    title = StringField(
        "Title",
        validators=[
            DataRequired('Give the work plan a title, such as "Work Plan 2022/23".'),
            Length(max=200),
        ],
    )
    summary = TextAreaField("Summary", validators=[Optional(), Length(max=5000)])

    @classmethod
    def for_record(cls, plan: WorkPlan) -> WorkPlanForm:
        return cls(data={"title": plan.title, "summary": plan.summary, "version": plan.version})


class NewWorkPlanForm(WorkPlanForm):
    version = None


QUARTER = re.compile(r"^(?:(\d{4})\s*-?\s*Q([1-4])|Q([1-4])\s*[-/ ]?\s*(\d{4}))$", re.IGNORECASE)


def parse_target(text: str) -> tuple[date, TargetPrecision]:
    """``2022-07-12`` is a day; ``2022-Q3`` or ``Q3 2022`` a quarter (kept as its first day).

    Raises ``ValueError`` for anything else.
    """
    text = (text or "").strip()
    match = QUARTER.match(text)
    if match:
        year = int(match.group(1) or match.group(4))
        quarter = int(match.group(2) or match.group(3))
        if not 1990 <= year <= 2100:
            raise ValueError(text)
        return date(year, 3 * quarter - 2, 1), TargetPrecision.QUARTER
    day = date.fromisoformat(text)
    if not 1990 <= day.year <= 2100:
        raise ValueError(text)
    return day, TargetPrecision.DAY


def target_text(item: WorkPlanItem) -> str:
    if item.target_precision is TargetPrecision.QUARTER:
        return f"{item.target_date.year}-Q{(item.target_date.month - 1) // 3 + 1}"
    return item.target_date.isoformat()


class WorkPlanItemForm(VersionedForm):
    kind = SelectField(
        "Kind of activity", choices=[SelectChoice(k.value, k.label) for k in ActivityKind]
    )
    theme = StringField(
        "Theme", validators=[DataRequired("Say what the item is about."), Length(max=300)]
    )
    target = StringField(
        "Target",
        validators=[InputRequired("Give a target: a date or a quarter.")],
        description="A date (2022-07-12) or a quarter (2022-Q3).",
    )
    lead_state = SelectField("Lead state", coerce=int)
    host_state = SelectField("Host state", coerce=int)
    note = TextAreaField("Note", validators=[Optional(), Length(max=2000)])

    def set_choices(self) -> None:
        members = _member_choices()
        self.lead_state.choices = [NONE, *members]
        self.host_state.choices = [NONE, *members]

    def validate_target(self, field) -> None:
        try:
            parse_target(field.data)
        except ValueError:
            raise ValidationError("Give a date as 2022-07-12 or a quarter as 2022-Q3.") from None

    @classmethod
    def for_record(cls, item: WorkPlanItem) -> WorkPlanItemForm:
        return cls(
            data={
                "kind": item.kind.value,
                "theme": item.theme,
                "target": target_text(item),
                "lead_state": item.lead_state_id or 0,
                "host_state": item.host_state_id or 0,
                "note": item.note,
                "version": item.version,
            }
        )

    def values(self) -> dict:
        target_date, precision = parse_target(self.target.data)
        return {
            "kind": ActivityKind(self.kind.data),
            "theme": self.theme.data,
            "target_date": target_date,
            "target_precision": precision,
            "lead_state": db.session.get(State, self.lead_state.data)
            if self.lead_state.data
            else None,
            "host_state": db.session.get(State, self.host_state.data)
            if self.host_state.data
            else None,
            "note": self.note.data,
        }


class NewWorkPlanItemForm(WorkPlanItemForm):
    version = None


class DropForm(VersionedForm):
    reason = TextAreaField(
        "Why is it dropped?",
        validators=[DataRequired("Say why the item is dropped."), Length(max=2000)],
    )


class ReinstateForm(VersionedForm):
    """Take a dropped item up again; carries only the version."""


def _first_day(activity) -> str:
    return day_range(activity.start_date, activity.start_date, activity.date_precision)


class LinkActivityForm(KpplanForm):
    activity = SelectField("Delivered by", coerce=int)

    def set_activities(self, activities) -> None:
        """``activities``: (id, label) of each (``chair.queries.link_candidates``)."""
        self.activity.choices = [SelectChoice(ident, label) for ident, label in activities]


class UnlinkForm(KpplanForm):
    """Only the CSRF token: which activity is in the address."""
