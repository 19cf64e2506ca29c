"""Helpers shared by the forms of every feature."""

from __future__ import annotations

from flask import flash
from flask_wtf import FlaskForm
from wtforms import IntegerField
from wtforms.validators import InputRequired
from wtforms.widgets import HiddenInput

from kpplan.core.errors import DomainError, StaleEdit


class VersionedForm(FlaskForm):
    """A form that edits a versioned record and carries the version it was drawn from."""

    version = IntegerField(widget=HiddenInput(), validators=[InputRequired()])


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
