"""``core.forms.first_error``: the one line a flash message gives for a form posted from a
page that does not show it again (the activity page's documents and status moves, a
work-plan item's reinstatement)."""

from __future__ import annotations

from wtforms import FieldList, FormField, StringField
from wtforms.validators import InputRequired

from kpplan.core.forms import KpplanForm, first_error


class _Contact(KpplanForm):
    class Meta:
        csrf = False

    email = StringField("Email", validators=[InputRequired("Give an address.")])


class _Invite(KpplanForm):
    class Meta:
        csrf = False

    title = StringField("Title")
    contacts = FieldList(FormField(_Contact), min_entries=1)


def test_the_first_field_in_error_is_named_with_its_message(app):
    with app.test_request_context(method="POST", data={"title": "", "contacts-0-email": ""}):
        form = _Invite()
        assert not form.validate()
        # A field inside a list of sub-forms holds its own errors (the list holds a dict).
        assert first_error(form) == "Email: Give an address."


def test_a_form_without_a_field_in_error_asks_for_a_reload(app):
    with app.test_request_context(method="POST", data={"title": "x", "contacts-0-email": "a@b.c"}):
        form = _Invite()
        form.validate()
        form.form_errors.append("The form has expired.")
        assert first_error(form) == "The form could not be read; reload the page and try again."
