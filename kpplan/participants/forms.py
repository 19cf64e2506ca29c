"""Forms of the invitation lists, the delegations and the attendance."""

from __future__ import annotations

from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from sqlalchemy import select
from werkzeug.datastructures import MultiDict
from wtforms import (
    BooleanField,
    DateField,
    HiddenField,
    IntegerField,
    SelectChoice,
    SelectField,
    SelectMultipleField,
    StringField,
    widgets,
)
from wtforms.validators import (
    DataRequired,
    Email,
    InputRequired,
    Length,
    NumberRange,
    Optional,
)
from wtforms.widgets import HiddenInput

from kpplan.core.extensions import db
from kpplan.core.forms import VersionedForm
from kpplan.directory.models import Organisation, State
from kpplan.participants.invitation_lists import MAX_SEATS, Prefill
from kpplan.participants.models import (
    DECISIONS,
    Gender,
    InvitationList,
    Participant,
    ParticipantStatus,
)
from kpplan.participants.nominations import Details

DATE_FORMAT = "Give the date as year-month-day, for example 2027-02-15."


def _state_label(state: State) -> str:
    return f"{state.name} (Steering Committee)" if state.on_steering_committee else state.name


class CheckboxesField(SelectMultipleField):
    """Several choices as a list of checkboxes."""

    widget = widgets.ListWidget(prefix_label=False)
    option_widget = widgets.CheckboxInput()


class InvitationsForm(VersionedForm):
    """The invitation list: seats, deadline and who is invited (version 0 for a new list)."""

    seats_per_delegation = IntegerField(
        "Seats per delegation",
        validators=[
            Optional(),
            NumberRange(min=1, max=MAX_SEATS, message=f"A number from 1 to {MAX_SEATS}."),
        ],
        description="How many delegates each state or organisation may name. Leave empty for "
        "no limit; the secretariat may still add a delegate beyond it.",
    )
    nomination_deadline = DateField(
        "Nomination deadline",
        validators=[Optional()],
        description="Focal points name and change their delegates until the end of this day.",
        invalid_value_message=DATE_FORMAT,
    )
    states = CheckboxesField("Member states", coerce=int)
    organisations = CheckboxesField("Organisations", coerce=int)

    def set_choices(self) -> None:
        states = db.session.scalars(
            select(State).where(State.is_member.is_(True)).order_by(State.name)
        ).all()
        self.states.choices = [SelectChoice(s.id, _state_label(s)) for s in states]
        organisations = db.session.scalars(select(Organisation).order_by(Organisation.name))
        self.organisations.choices = [SelectChoice(o.id, o.display_name) for o in organisations]

    @classmethod
    def for_list(cls, invitation_list: InvitationList) -> InvitationsForm:
        return cls(
            data={
                "version": invitation_list.version,
                "seats_per_delegation": invitation_list.seats_per_delegation,
                "nomination_deadline": invitation_list.nomination_deadline,
                "states": [i.state_id for i in invitation_list.invitations if i.is_state],
                "organisations": [
                    i.organisation_id for i in invitation_list.invitations if not i.is_state
                ],
            }
        )

    @classmethod
    def for_prefill(cls, proposed: Prefill) -> InvitationsForm:
        return cls(
            data={
                "version": 0,
                "seats_per_delegation": proposed.seats_per_delegation,
                "nomination_deadline": proposed.nomination_deadline,
                "states": [s.id for s in proposed.states],
                "organisations": [o.id for o in proposed.organisations],
            }
        )

    def values(self) -> dict:
        state_ids = self.states.data or []
        organisation_ids = self.organisations.data or []
        return {
            "seats_per_delegation": self.seats_per_delegation.data,
            "nomination_deadline": self.nomination_deadline.data,
            "states": list(db.session.scalars(select(State).where(State.id.in_(state_ids)))),
            "organisations": list(
                db.session.scalars(
                    select(Organisation).where(Organisation.id.in_(organisation_ids))
                )
            ),
        }


class SendForm(VersionedForm):
    """Send the invitations of a list (the version of the list shown)."""


class DelegateForm(FlaskForm):
    """A delegate's details; the secretariat may also set the decision at once."""

    name = StringField(
        "Name", validators=[DataRequired("Give the delegate's name."), Length(max=200)]
    )
    function = StringField(
        "Function", validators=[Optional(), Length(max=200)], description="For example: Director."
    )
    institution = StringField(
        "Institution",
        validators=[Optional(), Length(max=200)],
        description="For example: Ministry of Interior.",
    )
    email = StringField(
        "E-mail",
        validators=[
            Optional(),
            Length(max=254),
            Email("Give an e-mail address such as name@example.org."),
        ],
    )
    gender = SelectField(
        "Gender",
        choices=[SelectChoice(g.value, g.label) for g in Gender],
        default=Gender.NOT_GIVEN.value,
        description="Counted, never shown: the share of women among those who came.",
    )
    visa_letter = BooleanField("Needs a visa letter")
    interpretation = StringField(
        "Interpretation into",
        validators=[Optional(), Length(max=100)],
        description="The language, if the delegate needs interpretation.",
    )
    other_needs = StringField(
        "Other needs", validators=[Optional(), Length(max=500)], description="Access, diet…"
    )
    status = SelectField(
        "Decision",
        choices=[SelectChoice(s.value, s.label) for s in (ParticipantStatus.NOMINATED, *DECISIONS)],
        default=ParticipantStatus.NOMINATED.value,
    )

    def details(self) -> Details:
        return Details(
            name=self.name.data or "",
            function=self.function.data,
            institution=self.institution.data,
            email=self.email.data,
            gender=Gender(self.gender.data),
            visa_letter=bool(self.visa_letter.data),
            interpretation=self.interpretation.data,
            other_needs=self.other_needs.data,
        )


class EditDelegateForm(DelegateForm):
    version = IntegerField(widget=HiddenInput(), validators=[InputRequired()])

    @classmethod
    def for_participant(cls, participant: Participant) -> EditDelegateForm:
        return cls(
            data={
                "version": participant.version,
                "name": participant.name,
                "function": participant.function,
                "institution": participant.institution,
                "email": participant.email,
                "gender": participant.gender.value,
                "visa_letter": participant.visa_letter,
                "interpretation": participant.interpretation,
                "other_needs": participant.other_needs,
                "status": participant.status.value,
            }
        )


class DeclineForm(VersionedForm):
    reason = StringField("Reason (optional)", validators=[Optional(), Length(max=300)])


class DecisionForm(VersionedForm):
    status = SelectField(choices=[SelectChoice(s.value, s.label) for s in DECISIONS])


class WithdrawForm(VersionedForm):
    """Withdraw a delegate (the version of the delegate shown)."""


class AttendanceForm(FlaskForm):
    """Only the token: the ticks are read by ``marks``, one pair of fields per delegate."""

    def marks(self, formdata: MultiDict) -> dict[int, tuple[bool, bool, int]]:
        """(ticked when the page was drawn, ticked now, version shown) by delegate id, from
        ``shown`` (``id:version:0|1`` for each delegate on the page) and ``present`` (the
        ids ticked). Anything malformed is left out: only what the page sent counts."""
        present = {v for v in formdata.getlist("present") if v.isdigit()}
        marks = {}
        for value in formdata.getlist("shown"):
            parts = value.split(":")
            if len(parts) != 3 or not all(p.isdigit() for p in parts) or parts[2] not in "01":
                continue
            participant_id, version, was = parts
            marks[int(participant_id)] = (was == "1", participant_id in present, int(version))
        return marks


class ImportForm(FlaskForm):
    file = FileField("File", validators=[FileRequired("Choose a .csv or .xlsx file.")])


class ConfirmImportForm(FlaskForm):
    token = HiddenField(validators=[DataRequired()])
