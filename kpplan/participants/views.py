"""An activity's invitation list: its overview, drawing it up and sending it, exporting
and printing it, and importing delegates from a spreadsheet."""

from __future__ import annotations

from pathlib import Path

from flask import (
    Response,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user

import kpplan.participants.attendance_views  # noqa: F401
import kpplan.participants.delegation_views  # noqa: F401
from kpplan import permissions
from kpplan.audit import queries as audit_queries
from kpplan.core import spreadsheets
from kpplan.core.clock import today
from kpplan.core.errors import DomainError
from kpplan.core.extensions import db
from kpplan.core.forms import attach_error, read_spreadsheet_upload
from kpplan.core.kept_pages import kept_page
from kpplan.core.requests import acting_user, commit_or_flash, save_form
from kpplan.meetings.models import Activity
from kpplan.participants import exports, imports, invitation_lists, queries
from kpplan.participants.blueprint import (
    bp,
    managed_list_or_redirect,
    manages_participants,
    overview_url,
)
from kpplan.participants.forms import (
    ConfirmImportForm,
    ImportForm,
    InvitationsForm,
    SendForm,
)
from kpplan.participants.models import (
    DECISIONS,
    InvitationList,
)

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _warn_unreachable(invitation_list: InvitationList) -> None:
    """Name the invited states that nobody would receive the invitation for."""
    states = [i.state for i in invitation_list.invitations if i.is_state]
    counts = queries.focal_point_counts(s.id for s in states)
    missing = sorted(s.name for s in states if not counts.get(s.id))
    if missing:
        flash(
            f"No active focal point receives the invitation of: {', '.join(missing)}. Add "
            "their focal points' accounts, and they receive it at the next round of reminders.",
            "warning",
        )


# --- The list of an activity -------------------------------------------------------------


@bp.route("/participants")
@kept_page
def overview(activity_id: int):
    """The activity's invitations: everyone reads the answers in figures; the staff see and
    decide on every delegate; a focal point finds their own delegation."""
    permissions.require(permissions.can_view_invitations(current_user))
    activity = db.get_or_404(Activity, activity_id)
    invitation_list = queries.list_of(activity_id, with_delegates=True)
    staff = manages_participants()
    invitations = queries.in_order(invitation_list.invitations) if invitation_list else []
    focal_points = {}
    if staff and invitation_list is not None:
        focal_points = queries.focal_point_counts(i.state_id for i in invitations if i.is_state)
    return render_template(
        "participants/overview.html",
        activity=activity,
        invitation_list=invitation_list,
        invitations=invitations,
        staff=staff,
        focal_points=focal_points,
        send_form=SendForm(data={"version": invitation_list.version}) if invitation_list else None,
        decisions=DECISIONS,
        history=audit_queries.history_of(invitation_list, limit=15)
        if staff and invitation_list
        else [],
        today=today(),
    )


@bp.route("/invitations", methods=["GET", "POST"])
def edit_invitations(activity_id: int):
    """Draw up or change the invitation list; a new one is prefilled from the kind."""
    permissions.require(permissions.can_manage_participants(current_user))
    activity = db.get_or_404(Activity, activity_id)
    invitation_list = queries.list_of(activity_id, with_delegates=True)
    proposed = invitation_lists.prefill(activity, today()) if invitation_list is None else None
    if request.method == "POST":
        form = InvitationsForm()
    elif invitation_list is not None:
        form = InvitationsForm.for_list(invitation_list)
    else:
        form = InvitationsForm.for_prefill(proposed)
    form.set_choices()
    status = 200
    if form.validate_on_submit():
        saved, status = save_form(
            form,
            lambda: invitation_lists.save_list(
                acting_user(), activity, form.version.data, today=today(), **form.values()
            ),
        )
        if saved is not None:
            flash(f"The invitation list of {activity.title} has been saved.", "success")
            if saved.is_sent:
                _warn_unreachable(saved)
            return redirect(overview_url(activity_id))
    return render_template(
        "participants/invitations.html",
        form=form,
        activity=activity,
        invitation_list=invitation_list,
        proposed=proposed,
    ), status


@bp.route("/invitations/send", methods=["POST"])
def send_invitations(activity_id: int):
    invitation_list, back = managed_list_or_redirect(activity_id)
    if back is not None:
        return back
    form = SendForm()
    if not form.validate():
        flash("The page was out of date; reload it and send again.", "error")
        return redirect(overview_url(activity_id))
    if not commit_or_flash(
        lambda: invitation_lists.send_invitations(
            acting_user(), invitation_list, form.version.data, today()
        )
    ):
        return redirect(overview_url(activity_id))
    states = sum(1 for i in invitation_list.invitations if i.is_state)
    flash(
        f"The invitations are sent: the focal points of {states} state"
        f"{'s' if states != 1 else ''} receive theirs with the next round of reminders.",
        "success",
    )
    _warn_unreachable(invitation_list)
    return redirect(overview_url(activity_id))


@bp.route("/participants.<any(csv, xlsx):fmt>")
def export(activity_id: int, fmt: str):
    """Every delegate but the withdrawn, by delegation: for the venue and the badges."""
    invitation_list, back = managed_list_or_redirect(activity_id)
    if back is not None:
        return back
    rows = exports.participant_rows(invitation_list)
    name = f"kpplan-participants-{activity_id}-{today():%Y-%m-%d}.{fmt}"
    if fmt == "csv":
        response = Response(
            spreadsheets.write_csv(exports.EXPORT_COLUMNS, rows), mimetype="text/csv"
        )
    else:
        body = spreadsheets.write_xlsx("Participants", exports.EXPORT_COLUMNS, rows)
        response = Response(body, mimetype=XLSX)
    response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    # Personal data: no copy in a cache along the way.
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/participants/print")
def printable(activity_id: int):
    """The list by delegation, to print."""
    invitation_list, back = managed_list_or_redirect(activity_id)
    if back is not None:
        return back
    return render_template(
        "participants/printable.html",
        activity=invitation_list.activity,
        invitation_list=invitation_list,
        listed=exports.listed(invitation_list),
    )


# --- Import ------------------------------------------------------------------------------


def _imports_folder() -> Path:
    return Path(current_app.instance_path) / "participant-imports"


def _plan(data: bytes, kind: str, invitation_list: InvitationList) -> imports.ImportPlan:
    rows = spreadsheets.read_table(data, kind, exports.IMPORT_COLUMNS)
    return imports.plan_import(rows, invitation_list)


@bp.route("/participants/import", methods=["GET", "POST"])
def import_participants(activity_id: int):
    """Upload → a preview of every row with all its errors → all delegates named, or none."""
    invitation_list, back = managed_list_or_redirect(activity_id)
    if back is not None:
        return back
    form = ImportForm()
    plan, token = None, None
    if form.validate_on_submit():
        upload = read_spreadsheet_upload(form)
        if upload is not None:
            data, kind = upload
            try:
                plan = _plan(data, kind, invitation_list)
            except DomainError as error:
                attach_error(form, error)
            else:
                if plan.valid:
                    token = spreadsheets.keep_upload(_imports_folder(), current_user.id, kind, data)
            finally:
                db.session.rollback()
    return render_template(
        "participants/import.html",
        form=form,
        plan=plan,
        activity=invitation_list.activity,
        invitation_list=invitation_list,
        confirm=ConfirmImportForm(data={"token": token}) if token else None,
        columns=exports.IMPORT_COLUMNS,
    )


@bp.route("/participants/import/confirm", methods=["POST"])
def confirm_import(activity_id: int):
    invitation_list, back = managed_list_or_redirect(activity_id)
    if back is not None:
        return back
    here = url_for("participants.import_participants", activity_id=activity_id)
    form = ConfirmImportForm()
    token = form.token.data or ""
    kept = None
    if form.validate():
        kept = spreadsheets.kept_upload(_imports_folder(), current_user.id, token)
    if kept is None:
        flash("The file to import has expired; upload it again.", "error")
        return redirect(here)
    # Delegates' details do not stay on disk, whatever happens next.
    (_imports_folder() / token).unlink(missing_ok=True)
    data, kind = kept
    try:
        plan = _plan(data, kind, invitation_list)
        if not plan.valid:
            raise DomainError(
                f"{plan.error_count} rows are refused now (the list changed since the "
                "preview); upload the file again to see why."
            )
        named = imports.apply_import(acting_user(), plan, today())
    except DomainError as error:
        db.session.rollback()
        flash(f"Nothing was imported. {error.message}", "error")
        return redirect(here)
    db.session.commit()
    flash(f"Imported: {named} delegate{'s' if named != 1 else ''} named.", "success")
    return redirect(overview_url(activity_id))
