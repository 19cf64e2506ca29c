from __future__ import annotations

from wtforms import BooleanField, EmailField, SelectChoice, SelectField, StringField, URLField
from wtforms.validators import URL, DataRequired, Email, Length, Optional, Regexp

from kpplan.core.extensions import db
from kpplan.core.forms import VersionedForm
from kpplan.directory.models import OrganisationKind, Region, Role, State


def _enum_choices(enum_class):
    return [SelectChoice(member.value, member.label) for member in enum_class]


class StateForm(VersionedForm):
    name = StringField(
        "Name", validators=[DataRequired("Give the country's name."), Length(max=120)]
    )
    iso_code = StringField(
        "ISO code",
        validators=[
            Optional(),
            Regexp(r"^[A-Za-z]{2}$", message="Two letters, as in ISO 3166-1 (KE for Kenya)."),
        ],
        description="Two letters, as in ISO 3166-1.",
    )
    region = SelectField("Region", choices=_enum_choices(Region))
    is_member = BooleanField("Member state of the Khartoum Process")
    on_steering_committee = BooleanField("Sits on the Steering Committee")

    @classmethod
    def for_record(cls, state) -> StateForm:
        return cls(
            data={
                "name": state.name,
                "iso_code": state.iso_code,
                "region": state.region.value,
                "is_member": state.is_member,
                "on_steering_committee": state.on_steering_committee,
                "version": state.version,
            }
        )

    def values(self) -> dict:
        """The submitted fields, as the state services take them."""
        return {
            "name": self.name.data,
            "iso_code": self.iso_code.data,
            "region": Region(self.region.data),
            "is_member": self.is_member.data,
            "on_steering_committee": self.on_steering_committee.data,
        }


class NewStateForm(StateForm):
    version = None  # a new record has no version yet


class OrganisationForm(VersionedForm):
    name = StringField(
        "Name", validators=[DataRequired("Give the organisation's name."), Length(max=200)]
    )
    acronym = StringField("Acronym", validators=[Optional(), Length(max=40)])
    kind = SelectField("Kind", choices=_enum_choices(OrganisationKind))
    website = URLField(
        "Website",
        validators=[
            Optional(),
            URL(message="A full address, starting with https://."),
            Length(max=300),
        ],
    )

    @classmethod
    def for_record(cls, org) -> OrganisationForm:
        return cls(
            data={
                "name": org.name,
                "acronym": org.acronym,
                "kind": org.kind.value,
                "website": org.website,
                "version": org.version,
            }
        )

    def values(self) -> dict:
        """The submitted fields, as the organisation services take them."""
        return {
            "name": self.name.data,
            "acronym": self.acronym.data,
            "kind": OrganisationKind(self.kind.data),
            "website": self.website.data,
        }


class NewOrganisationForm(OrganisationForm):
    version = None


class UserForm(VersionedForm):
    name = StringField(
        "Name", validators=[DataRequired("Give the person's name."), Length(max=120)]
    )
    email = EmailField(
        "E-mail address",
        validators=[
            DataRequired("Give an e-mail address."),
            Email("That does not look like an e-mail address.", check_deliverability=False),
            Length(max=254),
        ],
    )
    role = SelectField("Role", choices=_enum_choices(Role))
    state = SelectField(
        "State",
        coerce=int,
        description="For focal points and the Chair's delegates only.",
    )
    is_alternate = BooleanField("Alternate focal point of this state")

    @classmethod
    def for_record(cls, user) -> UserForm:
        return cls(
            data={
                "name": user.name,
                "email": user.email,
                "role": user.role.value,
                "state": user.state_id or 0,
                "is_alternate": user.is_alternate,
                "version": user.version,
            }
        )

    def values(self) -> dict:
        """The submitted fields, as the account services take them."""
        return {
            "name": self.name.data,
            "email": self.email.data,
            "role": Role(self.role.data),
            "state": db.session.get(State, self.state.data) if self.state.data else None,
            "is_alternate": self.is_alternate.data,
        }

    def set_state_choices(self, states) -> None:
        self.state.choices = [SelectChoice(0, "—")] + [SelectChoice(s.id, s.name) for s in states]


class NewUserForm(UserForm):
    version = None
    password = StringField(
        "First password",
        validators=[
            DataRequired("Give a first password."),
            Length(min=10, max=200, message="At least 10 characters."),
        ],
        description="Pass it on safely; the person must change it at first sign-in.",
    )
