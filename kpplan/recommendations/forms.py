from __future__ import annotations

from flask_wtf.file import FileField, FileRequired, MultipleFileField
from sqlalchemy import select
from wtforms import (
    BooleanField,
    DateField,
    FieldList,
    Form,
    FormField,
    HiddenField,
    RadioField,
    SelectChoice,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, InputRequired, Length, Optional, ValidationError

from kpplan.core.extensions import db
from kpplan.core.forms import IntegerField, KpplanForm, VersionedForm
from kpplan.directory.models import Organisation, State
from kpplan.recommendations.follow_up_services import EvidenceLink, not_chosen_problem
from kpplan.recommendations.models import Lineage, Priority, Recommendation
from kpplan.recommendations.services import Draft
from kpplan.recommendations.statuses import REPORTED_STATUSES, FollowUpStatus
from kpplan.recommendations.themes import THEMES

DATE_FORMAT = "Give the date as year-month-day, for example 2026-07-12."


class _Choices:
    """The lists the recommendation fields choose from, read once per request."""

    def __init__(self) -> None:
        self.states = db.session.scalars(
            select(State).where(State.is_member.is_(True)).order_by(State.name)
        ).all()
        self.organisations = db.session.scalars(
            select(Organisation).order_by(Organisation.name)
        ).all()
        self.by_state = {s.id: s for s in self.states}
        self.by_organisation = {o.id: o for o in self.organisations}


class RecommendationFields(Form):
    """The fields of one recommendation, alone in the edit form or repeated in the record form."""

    text = TextAreaField("Wording", validators=[Optional(), Length(max=4000)])
    priority = SelectField(
        "Priority",
        choices=[SelectChoice(p.value, p.label) for p in Priority],
        default=Priority.MEDIUM.value,
    )
    target_date = DateField(
        "Target date", validators=[Optional()], invalid_value_message=DATE_FORMAT
    )
    themes = SelectMultipleField(
        "Themes", choices=[SelectChoice(t.code, t.label) for t in THEMES], validate_choice=True
    )
    to_all_members = BooleanField("All member states")
    states = SelectMultipleField("Chosen states", coerce=int)
    organisations = SelectMultipleField("Organisations", coerce=int)
    for_secretariat = BooleanField("The secretariat")
    predecessor = StringField(
        "Earlier recommendation",
        validators=[Optional(), Length(max=40)],
        description="Its code, for example TM-2018-07/R2.",
    )
    lineage = SelectField(
        "This one",
        choices=[SelectChoice("", "—")] + [SelectChoice(x.value, x.label.lower()) for x in Lineage],
        default="",
    )
    keep_predecessor_open = BooleanField(
        "Keep the earlier recommendation's follow-ups open",
        description="Otherwise, when this one supersedes it, its open follow-ups close as "
        "“superseded”.",
    )

    def set_choices(self, choices: _Choices) -> None:
        self.states.choices = [SelectChoice(s.id, s.name) for s in choices.states]
        self.organisations.choices = [
            SelectChoice(o.id, o.display_name) for o in choices.organisations
        ]

    @property
    def is_blank(self) -> bool:
        return not (self.text.data or "").strip()

    def draft(self, choices: _Choices, predecessor: Recommendation | None) -> Draft:
        return Draft(
            text=self.text.data or "",
            priority=Priority(self.priority.data),
            target_date=self.target_date.data,
            themes=list(self.themes.data or []),
            to_all_members=bool(self.to_all_members.data),
            states=[choices.by_state[i] for i in self.states.data or [] if i in choices.by_state],
            organisations=[
                choices.by_organisation[i]
                for i in self.organisations.data or []
                if i in choices.by_organisation
            ],
            for_secretariat=bool(self.for_secretariat.data),
            predecessor=predecessor,
            lineage=Lineage(self.lineage.data) if self.lineage.data else None,
            keep_predecessor_open=bool(self.keep_predecessor_open.data),
        )

    def fill_from(self, recommendation: Recommendation) -> None:
        self.text.data = recommendation.text
        self.priority.data = recommendation.priority.value
        self.target_date.data = recommendation.target_date
        self.themes.data = recommendation.theme_codes
        self.to_all_members.data = recommendation.to_all_members
        if not recommendation.to_all_members:
            self.states.data = [f.state_id for f in recommendation.follow_ups if f.state_id]
        self.organisations.data = [
            f.organisation_id for f in recommendation.follow_ups if f.organisation_id
        ]
        self.for_secretariat.data = any(f.for_secretariat for f in recommendation.follow_ups)
        self.predecessor.data = (
            recommendation.predecessor.code if recommendation.predecessor else ""
        )
        self.lineage.data = recommendation.lineage.value if recommendation.lineage else ""


class RecordForm(KpplanForm):
    """Several recommendations of one meeting in one go; empty rows are left out."""

    entries = FieldList(FormField(RecommendationFields), min_entries=1, max_entries=30)

    def set_choices(self) -> _Choices:
        choices = _Choices()
        for entry in self.entries:
            entry.form.set_choices(choices)
        return choices


class RecommendationForm(VersionedForm):
    fields = FormField(RecommendationFields, label="")
    revision_reason = StringField(
        "Why the wording changes",
        validators=[Optional(), Length(max=500)],
        description="Needed once addressees have reported: the earlier wording is kept.",
    )

    def set_choices(self) -> _Choices:
        choices = _Choices()
        self.fields.form.set_choices(choices)
        return choices


class WithdrawForm(VersionedForm):
    reason = TextAreaField(
        "Why it is withdrawn",
        validators=[DataRequired("Say why the recommendation is withdrawn."), Length(max=2000)],
    )


class ReportedStatusField(SelectField):
    """The status an update chooses: those kpplan sets itself are refused with a message
    saying so, not as an unknown choice."""

    def pre_validate(self, form) -> None:
        if self.data in {s.value for s in FollowUpStatus if s.is_set_by_kpplan}:
            raise ValidationError(not_chosen_problem(FollowUpStatus(self.data)).message)
        super().pre_validate(form)


class UpdateForm(VersionedForm):
    """A status update. The rules of an update (a narrative, a progress from 0 to 100, a
    reason for "not applicable", a review date ahead) are those of
    ``follow_up_services.check_update``, which the import of updates applies too; the form
    only reads the fields."""

    status = ReportedStatusField(
        "New status", choices=[SelectChoice(s.value, s.label) for s in REPORTED_STATUSES]
    )
    # The browser's hints only; the server checks with ``follow_up_services.check_update``.
    progress = IntegerField(
        "Progress (%)",
        validators=[Optional()],
        description="Leave empty for what the status implies.",
        render_kw={"min": 0, "max": 100},
    )
    narrative = TextAreaField(
        "What has been done", validators=[Length(max=8000)], render_kw={"required": True}
    )
    reason = StringField(
        "Why it does not apply",
        validators=[Optional(), Length(max=1000)],
        description="Only for “not applicable”.",
    )
    next_review_date = DateField(
        "Next review", validators=[Optional()], invalid_value_message=DATE_FORMAT
    )
    links = TextAreaField(
        "Evidence links",
        validators=[Optional(), Length(max=4000)],
        description="One per line; a title may come first: Title | https://…",
    )
    files = MultipleFileField("Evidence files")

    def evidence_links(self) -> list[EvidenceLink]:
        """The links, one per line; raises ValueError naming a line that is no web address."""
        found = []
        for line in (self.links.data or "").splitlines():
            line = line.strip()
            if not line:
                continue
            title, _, url = line.rpartition("|")
            url = url.strip()
            if not url.lower().startswith(("https://", "http://")) or " " in url:
                raise ValueError(f"“{line[:80]}” is not a web address starting with https://.")
            found.append(EvidenceLink(title.strip()[:200] or url[:200], url[:500]))
        return found


class ValidationForm(KpplanForm):
    """The secretariat's decision on a move to "implemented": nothing is chosen beforehand.
    The rules (a comment to return, a confirmation to accept without evidence) are those
    of ``follow_up_services.validate``."""

    decision = RadioField(
        "Decision",
        choices=[
            SelectChoice("accept", "Accept: it counts as implemented"),
            SelectChoice("return", "Return it to the focal point, with a comment"),
        ],
        validators=[InputRequired("Choose to accept or to return the update.")],
    )
    comment = TextAreaField(
        "Comment",
        validators=[Optional(), Length(max=2000)],
        description="Needed to return it: say what the focal point should add.",
    )
    accept_without_evidence = BooleanField("I accept this implementation without any evidence")


class ImportForm(KpplanForm):
    file = FileField("File", validators=[FileRequired("Choose a .csv or .xlsx file.")])


class ConfirmImportForm(KpplanForm):
    token = HiddenField(validators=[DataRequired()])
