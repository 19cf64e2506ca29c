from __future__ import annotations

from flask_wtf.file import FileField, FileRequired
from sqlalchemy import select
from wtforms import (
    BooleanField,
    DateField,
    SelectChoice,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from kpplan.core.dates import DatePrecision, day_range
from kpplan.core.extensions import db
from kpplan.core.forms import IntegerField, KpplanForm, VersionedForm
from kpplan.directory.models import Organisation, State
from kpplan.meetings.kinds import ActivityKind
from kpplan.meetings.models import (
    Activity,
    DocumentKind,
    Format,
    OrganisationRole,
    Relation,
    StateRole,
    Status,
)

STATE_ROLE_FIELDS = {
    StateRole.HOST: "host",
    StateRole.CO_HOST: "co_hosts",
    StateRole.CHAIR: "chair",
    StateRole.CO_CHAIR: "co_chairs",
}
ORGANISATION_ROLE_FIELDS = {
    OrganisationRole.ORGANISER: "organisers",
    OrganisationRole.PARTNER: "partners",
    OrganisationRole.SPEAKER: "speakers",
    OrganisationRole.IMPLEMENTING: "implementing",
}
DATE_FORMAT = "Give the date as year-month-day, for example 2026-07-12."
COUNT = [Optional(), NumberRange(min=0, max=100_000, message="A number from 0 up.")]


def _optional_text(value: str | None) -> str | None:
    value = (value or "").strip()
    return value or None


#: A long multiple choice (forty states, many organisations) that kpplan.js turns into a
#: searchable one: type a few letters, pick with the keyboard. Without the script it stays a
#: plain multiple select.
SEARCHABLE = {"data-searchable": True}


class ActivityForm(VersionedForm):
    kind = SelectField("Kind", choices=[SelectChoice(k.value, k.label) for k in ActivityKind])
    title = StringField(
        "Title", validators=[DataRequired("Give the activity a title."), Length(max=300)]
    )
    theme = StringField("Theme", validators=[Optional(), Length(max=300)])
    objectives = TextAreaField("Objectives", validators=[Optional()])
    start_date = DateField(
        "Start date",
        validators=[InputRequired("Give the start date.")],
        invalid_value_message=DATE_FORMAT,
    )
    end_date = DateField(
        "End date",
        validators=[Optional()],
        description="Leave empty for a one-day activity.",
        invalid_value_message=DATE_FORMAT,
    )
    date_precision = SelectField(
        "The dates are known to",
        choices=[SelectChoice(p.value, p.label) for p in DatePrecision],
        default=DatePrecision.DAY.value,
        description="For an activity the sources date only by month or year: give the first "
        'day of that month or year above; pages show "June 2016" or "2016".',
    )
    format = SelectField("Format", choices=[SelectChoice(f.value, f.label) for f in Format])
    city = StringField("City", validators=[Optional(), Length(max=120)])
    country = SelectField("Country", coerce=int)
    venue = StringField("Venue", validators=[Optional(), Length(max=200)])
    languages = StringField(
        "Working languages",
        validators=[Optional(), Length(max=200)],
        description="For example: English, French, Arabic.",
    )
    host = SelectField("Host", coerce=int)
    co_hosts = SelectMultipleField("Co-hosts", coerce=int, render_kw=SEARCHABLE)
    chair = SelectField("Chair", coerce=int)
    co_chairs = SelectMultipleField("Co-chairs", coerce=int, render_kw=SEARCHABLE)
    organisers = SelectMultipleField("Organisers", coerce=int, render_kw=SEARCHABLE)
    partners = SelectMultipleField("Partners", coerce=int, render_kw=SEARCHABLE)
    speakers = SelectMultipleField("Speakers", coerce=int, render_kw=SEARCHABLE)
    implementing = SelectMultipleField(
        "Implementing organisations", coerce=int, render_kw=SEARCHABLE
    )
    participants = IntegerField("Participants", validators=COUNT)
    countries_represented = IntegerField("Countries represented", validators=COUNT)
    organisations_represented = IntegerField("Organisations represented", validators=COUNT)
    outcome_summary = TextAreaField("Outcome summary", validators=[Optional()])
    conclusions = TextAreaField("Conclusions", validators=[Optional()])
    action_points = TextAreaField("Key action points", validators=[Optional()])
    series_title = StringField(
        "Series",
        validators=[Optional(), Length(max=300)],
        description='For example "Trafficking in Human Beings: The 4Ps Revisited".',
    )
    series_position = IntegerField("Module", validators=[Optional()])
    series_size = IntegerField("Modules in the series", validators=[Optional()])
    record_note = TextAreaField(
        "Note on the record",
        validators=[Optional()],
        description="Where sources disagree: the value kept here and the other one.",
    )
    other_process = StringField(
        "Meeting of another process",
        validators=[Optional(), Length(max=120)],
        description="Only for a meeting that is not the Khartoum Process's own, for example "
        '"Joint Valletta Action Plan (JVAP)": the statistics count it apart.',
    )

    def set_choices(self) -> None:
        states = db.session.scalars(select(State).order_by(State.name)).all()
        members = [s for s in states if s.is_member]
        none = [SelectChoice(0, "—")]
        self.country.choices = none + [SelectChoice(s.id, s.name) for s in states]
        for field_name in STATE_ROLE_FIELDS.values():
            choices = [SelectChoice(s.id, s.name) for s in members]
            field = getattr(self, field_name)
            field.choices = choices if isinstance(field, SelectMultipleField) else none + choices
        organisations = db.session.scalars(select(Organisation).order_by(Organisation.name))
        org_choices = [SelectChoice(o.id, o.display_name) for o in organisations]
        for field_name in ORGANISATION_ROLE_FIELDS.values():
            getattr(self, field_name).choices = org_choices

    @classmethod
    def for_record(cls, activity: Activity) -> ActivityForm:
        data = {name: getattr(activity, name) for name in _PLAIN_FIELDS}
        data.update(
            kind=activity.kind.value,
            format=activity.format.value,
            date_precision=activity.date_precision.value,
            country=activity.country_id or 0,
            version=activity.version,
        )
        for role, field_name in STATE_ROLE_FIELDS.items():
            ids = [r.state_id for r in activity.state_roles if r.role is role]
            # The plural fields take several states; host and chair take one.
            data[field_name] = ids if field_name.endswith("s") else (ids[0] if ids else 0)
        for role, field_name in ORGANISATION_ROLE_FIELDS.items():
            data[field_name] = [o.organisation_id for o in activity.organisations if o.role is role]
        return cls(data=data)

    def values(self) -> dict:
        """The submitted activity, as the services take it (roles as objects)."""
        state_ids = {self.host.data, self.chair.data, *self.co_hosts.data, *self.co_chairs.data}
        states = {s.id: s for s in db.session.scalars(select(State).where(State.id.in_(state_ids)))}
        state_roles = []
        for role, field_name in STATE_ROLE_FIELDS.items():
            picked = getattr(self, field_name).data
            for state_id in picked if isinstance(picked, list) else [picked]:
                if state_id:
                    state_roles.append((states[state_id], role))
        org_ids = {i for f in ORGANISATION_ROLE_FIELDS.values() for i in getattr(self, f).data}
        orgs = {
            o.id: o
            for o in db.session.scalars(select(Organisation).where(Organisation.id.in_(org_ids)))
        }
        organisations = [
            (orgs[org_id], role)
            for role, field_name in ORGANISATION_ROLE_FIELDS.items()
            for org_id in getattr(self, field_name).data
        ]
        values = {
            "kind": ActivityKind(self.kind.data),
            "format": Format(self.format.data),
            "date_precision": DatePrecision(self.date_precision.data),
            "country_id": self.country.data or None,
            "start_date": self.start_date.data,
            "end_date": self.end_date.data or self.start_date.data,
            "participants": self.participants.data,
            "countries_represented": self.countries_represented.data,
            "organisations_represented": self.organisations_represented.data,
            "series_position": self.series_position.data,
            "series_size": self.series_size.data,
            "state_roles": state_roles,
            "organisations": organisations,
        }
        for name in _TEXT_FIELDS:
            values[name] = _optional_text(getattr(self, name).data)
        return values


_TEXT_FIELDS = (
    "title",
    "theme",
    "objectives",
    "city",
    "venue",
    "languages",
    "outcome_summary",
    "conclusions",
    "action_points",
    "series_title",
    "record_note",
    "other_process",
)
_PLAIN_FIELDS = (
    *_TEXT_FIELDS,
    "series_position",
    "series_size",
    "start_date",
    "end_date",
    "participants",
    "countries_represented",
    "organisations_represented",
)


class NewActivityForm(ActivityForm):
    version = None


class MoveForm(KpplanForm):
    """A change of status, with what some moves need."""

    to = SelectField("New status", choices=[SelectChoice(s.value, s.label) for s in Status])
    reason = TextAreaField("Reason", validators=[Optional(), Length(max=2000)])
    new_start = DateField(
        "New start date", validators=[Optional()], invalid_value_message=DATE_FORMAT
    )
    new_end = DateField("New end date", validators=[Optional()], invalid_value_message=DATE_FORMAT)


class MilestoneForm(KpplanForm):
    name = StringField("Milestone", validators=[Optional(), Length(max=200)])
    due_date = DateField(
        "Due", validators=[InputRequired("Give the due date.")], invalid_value_message=DATE_FORMAT
    )
    owner = SelectField("Owner", coerce=int)
    done = BooleanField("Done")

    def set_owner_choices(self, people) -> None:
        self.owner.choices = [SelectChoice(0, "—")] + [SelectChoice(p.id, p.name) for p in people]


def _dated(start, precision, title: str) -> str:
    return f"{day_range(start, start, precision)} — {title}"


class LinkForm(KpplanForm):
    relation = SelectField(
        "This activity", choices=[SelectChoice(r.value, r.label.lower()) for r in Relation]
    )
    target = SelectField("Activity", coerce=int)

    def set_targets(self, activities) -> None:
        self.target.choices = [
            SelectChoice(a.id, _dated(a.start_date, a.date_precision, a.title)) for a in activities
        ]


class DocumentForm(KpplanForm):
    file = FileField("File", validators=[FileRequired("Choose a file to upload.")])
    kind = SelectField(
        "Kind of document", choices=[SelectChoice(k.value, k.label) for k in DocumentKind]
    )
    title = StringField(
        "Title",
        validators=[Optional(), Length(max=200)],
        description="Leave empty to use the file's name.",
    )
