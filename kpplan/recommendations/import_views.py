"""Imports of recommendations and of follow-up updates: upload → a preview of every row
with its errors → import all rows or none."""

from __future__ import annotations

from pathlib import Path

from flask import current_app, flash, redirect, render_template, url_for
from flask_login import current_user

from kpplan import permissions
from kpplan.core import spreadsheets
from kpplan.core.clock import today
from kpplan.core.errors import DomainError
from kpplan.core.extensions import db
from kpplan.core.forms import attach_error, read_spreadsheet_upload
from kpplan.core.requests import acting_user
from kpplan.meetings.models import Activity
from kpplan.recommendations import imports
from kpplan.recommendations.blueprint import bp, current_scope
from kpplan.recommendations.exports import FOLLOW_UP_COLUMNS, RECOMMENDATION_COLUMNS
from kpplan.recommendations.forms import ConfirmImportForm, ImportForm


def _imports_folder() -> Path:
    return Path(current_app.instance_path) / "imports"


def _plan(data: bytes, kind: str, what: str, activity: Activity | None):
    if what == "recommendations":
        rows = spreadsheets.read_table(data, kind, RECOMMENDATION_COLUMNS)
        return imports.plan_recommendations(rows, activity)
    rows = spreadsheets.read_table(data, kind, FOLLOW_UP_COLUMNS)
    return imports.plan_follow_ups(rows, current_scope(), today())


def _import(what: str, activity: Activity | None = None):
    """Upload → a preview of every row with its errors → import all rows or none."""
    form = ImportForm()
    plan, token, status = None, None, 200
    if form.validate_on_submit():
        upload = read_spreadsheet_upload(form)
        if upload is not None:
            data, kind = upload
            try:
                plan = _plan(data, kind, what, activity)
            except DomainError as error:
                attach_error(form, error)
            else:
                if plan.valid:
                    token = spreadsheets.keep_upload(_imports_folder(), current_user.id, kind, data)
            finally:
                db.session.rollback()
    return render_template(
        "recommendations/import.html",
        form=form,
        plan=plan,
        what=what,
        activity=activity,
        confirm=ConfirmImportForm(data={"token": token}) if token else None,
        columns=RECOMMENDATION_COLUMNS if what == "recommendations" else FOLLOW_UP_COLUMNS,
    ), status


def _confirm(what: str, activity: Activity | None, back: str):
    form = ConfirmImportForm()
    kept = (
        spreadsheets.kept_upload(_imports_folder(), current_user.id, form.token.data or "")
        if form.validate()
        else None
    )
    if kept is None:
        flash("The file to import has expired; upload it again.", "error")
        return redirect(back)
    data, kind = kept
    try:
        plan = _plan(data, kind, what, activity)
        if not plan.valid:
            raise DomainError(
                f"{plan.error_count} rows are refused now (the data changed since the preview); "
                "upload the file again to see why."
            )
        if what == "recommendations":
            done = imports.apply_recommendations(acting_user(), plan, "a file")
            message = f"Imported: {done['new']} recorded, {done['change']} changed."
        else:
            posted = imports.apply_follow_ups(acting_user(), plan, today())
            message = f"Imported: {posted} status update{'s' if posted != 1 else ''} posted."
    except DomainError as error:
        db.session.rollback()
        flash(f"Nothing was imported. {error.message}", "error")
        return redirect(back)
    db.session.commit()
    (_imports_folder() / form.token.data).unlink(missing_ok=True)
    flash(message, "success")
    return redirect(back)


@bp.route("/recommendations/import", methods=["GET", "POST"])
def import_recommendations():
    permissions.require(permissions.can_record_recommendations(current_user))
    return _import("recommendations")


@bp.route("/recommendations/import/confirm", methods=["POST"])
def confirm_recommendations():
    permissions.require(permissions.can_record_recommendations(current_user))
    return _confirm("recommendations", None, url_for(".index"))


@bp.route("/follow-ups/import", methods=["GET", "POST"])
def import_follow_ups():
    permissions.require(permissions.can_report_follow_ups(current_user))
    return _import("follow_ups")


@bp.route("/follow-ups/import/confirm", methods=["POST"])
def confirm_follow_ups():
    permissions.require(permissions.can_report_follow_ups(current_user))
    return _confirm("follow_ups", None, url_for(".follow_ups"))
