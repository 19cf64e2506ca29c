from wtforms import EmailField, HiddenField, PasswordField, SelectChoice, SelectField
from wtforms.validators import DataRequired, EqualTo, Length

from kpplan.core.forms import KpplanForm


class SignInForm(KpplanForm):
    email = EmailField(
        "E-mail address",
        validators=[DataRequired("Enter your e-mail address.")],
        render_kw={"autocomplete": "username"},
    )
    password = PasswordField(
        "Password",
        validators=[DataRequired("Enter your password.")],
        render_kw={"autocomplete": "current-password"},
    )
    next = HiddenField()


class ChangePasswordForm(KpplanForm):
    current_password = PasswordField(
        "Current password",
        validators=[DataRequired("Enter your current password.")],
        render_kw={"autocomplete": "current-password"},
    )
    new_password = PasswordField(
        "New password",
        validators=[DataRequired("Choose a new password."), Length(max=200)],
        description="At least 10 characters. A few unrelated words make a strong password.",
        render_kw={"autocomplete": "new-password"},
    )
    confirm = PasswordField(
        "New password, again",
        validators=[
            DataRequired("Type the new password a second time."),
            EqualTo("new_password", "The two new passwords differ."),
        ],
        render_kw={"autocomplete": "new-password"},
    )


class CalendarLinkForm(KpplanForm):
    """Make a private calendar link, for every activity or one member state's."""

    state = SelectField(
        "Activities of",
        coerce=int,
        default=0,
        description="One member state's activities only (those it hosts, co-hosts or chairs), "
        "or all of the Process's.",
    )

    def set_choices(self, states) -> None:
        self.state.choices = [SelectChoice(0, "Every state")] + [
            SelectChoice(s.id, s.name) for s in states
        ]
