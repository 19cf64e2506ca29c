"""Helpers shared by the forms of every feature.

Every form of kpplan derives from ``KpplanForm``: a text holding a NUL character is
refused with a message next to its field, before any validator or service sees it
(PostgreSQL cannot store it and would fail; SQLite would keep it). Whole numbers use this
module's ``IntegerField``: ASCII digits within what a database column holds.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import wtforms
from flask import current_app, flash
from flask_wtf import FlaskForm
from wtforms import Field, FieldList, FormField
from wtforms.validators import InputRequired, NumberRange
from wtforms.widgets import HiddenInput

from kpplan.core import spreadsheets
from kpplan.core.errors import DomainError, StaleEdit
from kpplan.core.parsing import MAX_INT, NUL_MESSAGE, has_nul, whole_number


def _leaf_fields(form) -> Iterator[Field]:
    for field in form:
        if isinstance(field, FormField):
            yield from _leaf_fields(field.form)
        elif isinstance(field, FieldList):
            for entry in field.entries:
                if isinstance(entry, FormField):
                    yield from _leaf_fields(entry.form)
                else:
                    yield entry
        else:
            yield field


class KpplanForm(FlaskForm):
    """The base of every form: refuses NUL characters with a message on their field."""

    def validate(self, extra_validators=None) -> bool:
        with_nul = [f for f in _leaf_fields(self) if any(has_nul(v) for v in f.raw_data or ())]
        if not with_nul:
            return super().validate(extra_validators)
        # The other validators do not run: some of them ask the database about the value.
        for field in with_nul:
            field.errors = [NUL_MESSAGE]
        self._errors = None
        return False


class IntegerField(wtforms.IntegerField):
    """A whole number in ASCII digits from ``minimum`` to ``maximum`` (by default what
    PostgreSQL's ``integer`` holds), so that no value typed overflows a column.

    With a ``NumberRange`` validator, a value that is not such a number is left to that
    validator, whose message names the range the field expects.
    """

    def __init__(
        self, label=None, validators=None, minimum: int = -MAX_INT, maximum: int = MAX_INT, **kw
    ):
        super().__init__(label, validators, **kw)
        self.minimum, self.maximum = minimum, maximum
        self.has_range = any(isinstance(v, NumberRange) for v in self.validators)

    def process_formdata(self, valuelist):
        if not valuelist:
            return
        self.data = whole_number(valuelist[0], self.minimum, self.maximum)
        if self.data is None and not self.has_range:
            raise ValueError(f"Give a whole number, in digits, up to {self.maximum:,}.")


class VersionedForm(KpplanForm):
    """A form that edits a versioned record and carries the version it was drawn from."""

    version = IntegerField(widget=HiddenInput(), validators=[InputRequired()], minimum=0)


def attach_error(form: FlaskForm, error: DomainError) -> None:
    """Show a service's error next to its field, or at the top of the page."""
    field = getattr(form, error.field, None) if error.field else None
    if field is not None:
        field.errors = [*field.errors, error.message]
    else:
        flash(error.message, "error")
    if isinstance(error, StaleEdit):
        # Keep what the person typed; a second, deliberate submit saves it over the change.
        form.stale_changes = error.changes
        if error.current_version is not None and hasattr(form, "version"):
            form.version.data = error.current_version
            form.version.raw_data = [str(error.current_version)]


def first_error(form) -> str:
    """The first of a form's errors as one line ("Title: This field is required."), for a
    form posted from a page that does not show it again (a flash message)."""
    for field in _leaf_fields(form):
        if field.errors:
            return f"{field.label.text}: {field.errors[0]}"
    return "The form could not be read; reload the page and try again."


def read_spreadsheet_upload(form: Any) -> tuple[bytes, str] | None:
    """The CSV or XLSX file sent in ``form.file`` and its kind, for an import's preview; or
    None, with the message next to the file field, for another kind of file or one larger
    than ``MAX_DOCUMENT_SIZE``."""
    try:
        kind = spreadsheets.upload_kind(form.file.data.filename or "")
    except DomainError as error:
        attach_error(form, error)
        return None
    limit = current_app.config["MAX_DOCUMENT_SIZE"]
    data = form.file.data.stream.read(limit + 1)
    if len(data) > limit:
        form.file.errors.append("The file is too large to import.")
        return None
    return data, kind
