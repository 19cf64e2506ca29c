"""Forms of the reminders pages, made from the rule registry so a new rule appears in them."""

from __future__ import annotations

from wtforms import BooleanField, SelectChoice, SelectField, StringField
from wtforms.validators import InputRequired, Length, NumberRange, Optional

from kpplan.core.forms import IntegerField, KpplanForm
from kpplan.reminders.models import Delivery
from kpplan.reminders.rules import RULES, RuleSettings


def settings_form(
    current: dict[str, RuleSettings],
    timezone: str,
    sender: tuple[str, str] = ("", ""),
    configured_sender: str = "",
) -> KpplanForm:
    """The administrator's form: each rule on or off with its days, the timezone, and whom
    mails come from."""

    class RuleSettingsForm(KpplanForm):
        timezone_field = StringField(
            "Timezone of the Process",
            validators=[InputRequired()],
            description="Days are counted and summaries sent in this timezone, such as "
            "Europe/Brussels or Africa/Nairobi.",
        )
        sender_name = StringField(
            "Mails come from (name)",
            validators=[Optional(), Length(max=120)],
            description="Such as Khartoum Process secretariat. Leave both empty for the "
            f"configured sender: {configured_sender}.",
        )
        sender_address = StringField(
            "Mails come from (address)",
            validators=[Optional(), Length(max=254)],
            description="The address replies go to, such as secretariat@khartoumprocess.net.",
        )

    for key, rule in RULES.items():
        setattr(RuleSettingsForm, f"{key}_enabled", BooleanField(f"Send “{rule.label}”"))
        if rule.days_label:
            setattr(
                RuleSettingsForm,
                f"{key}_days",
                IntegerField(
                    rule.days_label,
                    validators=[Optional(), NumberRange(1, 365, "Give a number from 1 to 365.")],
                ),
            )
    form = RuleSettingsForm()
    if not form.is_submitted():
        form.timezone_field.data = timezone
        form.sender_name.data, form.sender_address.data = sender
        for key in RULES:
            getattr(form, f"{key}_enabled").data = current[key].enabled
            if hasattr(form, f"{key}_days"):
                getattr(form, f"{key}_days").data = current[key].days
    return form


def preferences_form(current: dict[str, Delivery]) -> KpplanForm:
    """A person's form: for each rule, at once, in a summary, or not at all."""

    class PreferencesForm(KpplanForm):
        pass

    for key, rule in RULES.items():
        choices = [
            SelectChoice(d.value, d.label)
            for d in Delivery
            if rule.can_turn_off or d is not Delivery.OFF
        ]
        description = rule.description
        if not rule.can_turn_off:
            description += " This one cannot be turned off."
        setattr(
            PreferencesForm,
            key,
            SelectField(rule.label, choices=choices, description=description),
        )
    form = PreferencesForm()
    if not form.is_submitted():
        for key in RULES:
            getattr(form, key).data = current[key].value
    return form
