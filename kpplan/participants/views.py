from __future__ import annotations

from pathlib import Path

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user, login_required

from kpplan import permissions
from kpplan.audit import queries as audit_queries
from kpplan.core import spreadsheets
from kpplan.core.clock import today
from kpplan.core.errors import DomainError, StaleEdit
from kpplan.core.extensions import db
from kpplan.core.forms import attach_error, read_spreadsheet_upload
from kpplan.core.requests import acting_user, save_form
from kpplan.directory.models import Role
from kpplan.meetings.models import Activity
from kpplan.participants import exports, imports, invitation_lists, nominations, queries
from kpplan.participants.attendance import record_attendance
from kpplan.participants.forms import (
    AttendanceForm,
    ConfirmImportForm,
    DecisionForm,
    DeclineForm,
    DelegateForm,
    EditDelegateForm,
    ImportForm,
    InvitationsForm,
    SendForm,
    WithdrawForm,
)
from kpplan.participants.models import (
    DECISIONS,
    Invitation,
    InvitationList,
    Participant,
    ParticipantStatus,
)

bp = Blueprint("participants", __name__, url_prefix="/activities/<int:activity_id>")

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


# The largest id an INTEGER column holds: a larger one in the address is not found (on
# PostgreSQL, comparing it with an id would be an error).
MAX_ID = 2**31 - 1


@bp.before_request
@login_required
def signed_in_only():
    """Every page of the invitations is for signed-in users."""
    if any(isinstance(v, int) and v > MAX_ID for v in (request.view_args or {}).values()):
        abort(404)


@bp.app_template_global()
def participation_of(activity: Activity):
    """For an activity's page: its invitations in figures, or None without a list (read
    once per request, however often the page asks)."""
    found = g.setdefault("participation_of", {})
    if activity.id not in found:
        found[activity.id] = queries.summary_of(activity.id)
    return found[activity.id]


def _staff() -> bool:
    return permissions.can_manage_participants(current_user)


def _overview(activity_id: int, anchor: str = "") -> str:
    return url_for("participants.overview", activity_id=activity_id) + anchor


def _list_or_redirect(activity_id: int, with_delegates: bool = True):
    """The activity's list; a redirect to its overview (which offers to draw one up) when
    it has none, and 404 when there is no such activity."""
    invitation_list = queries.list_of(activity_id, with_delegates=with_delegates)
    if invitation_list is None:
        db.get_or_404(Activity, activity_id)
        flash("This activity has no invitation list yet.", "info")
        return None, redirect(_overview(activity_id))
    return invitation_list, None


def _check_delegation(invitation: Invitation) -> None:
    if not permissions.can_see_delegation(current_user, invitation):
        # Another state's delegation is not found for a focal point, like its follow-ups.
        abort(404 if current_user.role is Role.FOCAL_POINT else 403)


def _delegation_or_404(activity_id: int, invitation_id: int) -> Invitation:
    found = queries.delegation_page(invitation_id)
    if found is None or found.invitation_list.activity_id != activity_id:
        abort(404)
    _check_delegation(found)
    return found


def _participant_or_404(activity_id: int, participant_id: int) -> Participant:
    found = queries.participant_page(participant_id)
    if found is None or found.invitation.invitation_list.activity_id != activity_id:
        abort(404)
    _check_delegation(found.invitation)
    return found


def _delegation_url(invitation: Invitation) -> str:
    return url_for(
        "participants.delegation",
        activity_id=invitation.invitation_list.activity_id,
        invitation_id=invitation.id,
    )


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
def overview(activity_id: int):
    """The activity's invitations: everyone reads the answers in figures; the staff see and
    decide on every delegate; a focal point finds their own delegation."""
    permissions.require(permissions.can_view_invitations(current_user))
    activity = db.get_or_404(Activity, activity_id)
    invitation_list = queries.list_of(activity_id, with_delegates=True)
    staff = _staff()
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
            return redirect(_overview(activity_id))
    return render_template(
        "participants/invitations.html",
        form=form,
        activity=activity,
        invitation_list=invitation_list,
        proposed=proposed,
    ), status


@bp.route("/invitations/send", methods=["POST"])
def send_invitations(activity_id: int):
    permissions.require(permissions.can_manage_participants(current_user))
    invitation_list, back = _list_or_redirect(activity_id)
    if back is not None:
        return back
    form = SendForm()
    if not form.validate():
        flash("The page was out of date; reload it and send again.", "error")
        return redirect(_overview(activity_id))
    try:
        invitation_lists.send_invitations(
            acting_user(), invitation_list, form.version.data, today()
        )
    except DomainError as error:
        db.session.rollback()
        flash(error.message, "error")
        return redirect(_overview(activity_id))
    db.session.commit()
    states = sum(1 for i in invitation_list.invitations if i.is_state)
    flash(
        f"The invitations are sent: the focal points of {states} state"
        f"{'s' if states != 1 else ''} receive theirs with the next round of reminders.",
        "success",
    )
    _warn_unreachable(invitation_list)
    return redirect(_overview(activity_id))


@bp.route("/participants.<any(csv, xlsx):fmt>")
def export(activity_id: int, fmt: str):
    """Every delegate but the withdrawn, by delegation: for the venue and the badges."""
    permissions.require(permissions.can_manage_participants(current_user))
    invitation_list, back = _list_or_redirect(activity_id)
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
    permissions.require(permissions.can_manage_participants(current_user))
    invitation_list, back = _list_or_redirect(activity_id)
    if back is not None:
        return back
    return render_template(
        "participants/printable.html",
        activity=invitation_list.activity,
        invitation_list=invitation_list,
        listed=exports.listed(invitation_list),
    )


# --- A delegation ------------------------------------------------------------------------


@bp.route("/delegations/<int:invitation_id>", methods=["GET", "POST"])
def delegation(activity_id: int, invitation_id: int):
    """A delegation's own page: its invitation and documents, its delegates, and the form
    to name one (a POST names a delegate)."""
    invitation = _delegation_or_404(activity_id, invitation_id)
    invitation_list = invitation.invitation_list
    staff = _staff()
    form = DelegateForm()
    status = 200
    if form.validate_on_submit():
        wanted = ParticipantStatus(form.status.data) if staff else ParticipantStatus.NOMINATED
        created, status = save_form(
            form,
            lambda: nominations.nominate(
                acting_user(), invitation, form.details(), today(), wanted
            ),
        )
        if created is not None:
            flash(f"{created.name} is on {invitation.delegation}'s list.", "success")
            return redirect(_delegation_url(invitation))
    delegates = sorted(
        invitation.participants,
        key=lambda p: (p.status is ParticipantStatus.WITHDRAWN, p.id),
    )
    # The secretariat acts at any time, a focal point until the deadline; nobody once erased.
    can_act = not invitation_list.is_erased and (
        staff or invitation_list.open_for_nominations(today())
    )
    seats = invitation_list.seats_per_delegation
    return render_template(
        "participants/delegation.html",
        invitation=invitation,
        invitation_list=invitation_list,
        activity=invitation_list.activity,
        delegates=delegates,
        documents=queries.invitation_documents(activity_id),
        form=form,
        decline_form=DeclineForm(formdata=None, data={"version": invitation.version}),
        decisions=DECISIONS,
        staff=staff,
        can_act=can_act,
        seats_left=None if seats is None else max(seats - len(invitation.seated), 0),
        history=queries.delegation_history(invitation),
        today=today(),
    ), status


@bp.route("/delegations/<int:invitation_id>/decline", methods=["POST"])
def decline(activity_id: int, invitation_id: int):
    invitation = _delegation_or_404(activity_id, invitation_id)
    form = DeclineForm()
    if not form.validate():
        reason = form.reason.errors[0] if form.reason.errors else None
        flash(
            f"The reason: {reason}"
            if reason
            else "The page was out of date; reload it and answer again.",
            "error",
        )
        return redirect(_delegation_url(invitation))
    try:
        nominations.decline(acting_user(), invitation, form.version.data, form.reason.data, today())
    except DomainError as error:
        db.session.rollback()
        flash(error.message, "error")
    else:
        db.session.commit()
        flash(f"{invitation.delegation} has declined the invitation.", "success")
    return redirect(_delegation_url(invitation))


@bp.route("/participants/<int:participant_id>/edit", methods=["GET", "POST"])
def edit_participant(activity_id: int, participant_id: int):
    participant = _participant_or_404(activity_id, participant_id)
    invitation = participant.invitation
    form = (
        EditDelegateForm()
        if request.method == "POST"
        else EditDelegateForm.for_participant(participant)
    )
    status = 200
    if form.validate_on_submit():
        saved, status = save_form(
            form,
            lambda: nominations.update_participant(
                acting_user(), participant, form.version.data, form.details(), today()
            ),
        )
        if saved is not None:
            flash(f"{saved.name}'s details have been saved.", "success")
            return redirect(_delegation_url(invitation))
    return render_template(
        "participants/participant_form.html",
        form=form,
        participant=participant,
        invitation=invitation,
        activity=invitation.invitation_list.activity,
    ), status


@bp.route("/participants/<int:participant_id>/withdraw", methods=["POST"])
def withdraw(activity_id: int, participant_id: int):
    participant = _participant_or_404(activity_id, participant_id)
    form = WithdrawForm()
    if not form.validate():
        flash("The page was out of date; reload it and try again.", "error")
    else:
        try:
            nominations.withdraw(acting_user(), participant, form.version.data, today())
        except DomainError as error:
            db.session.rollback()
            flash(error.message, "error")
        else:
            db.session.commit()
            flash(f"{participant.name} has been withdrawn.", "success")
    return redirect(_delegation_url(participant.invitation))


@bp.route("/participants/<int:participant_id>/decide", methods=["POST"])
def decide(activity_id: int, participant_id: int):
    """The secretariat confirms, waitlists or refuses a delegate."""
    permissions.require(permissions.can_manage_participants(current_user))
    participant = _participant_or_404(activity_id, participant_id)
    back = (
        _delegation_url(participant.invitation)
        if request.form.get("back") == "delegation"
        else _overview(activity_id, f"#delegation-{participant.invitation_id}")
    )
    form = DecisionForm()
    if not form.validate():
        flash("The page was out of date; reload it and decide again.", "error")
        return redirect(back)
    try:
        nominations.decide(
            acting_user(), participant, form.version.data, ParticipantStatus(form.status.data)
        )
    except DomainError as error:
        db.session.rollback()
        flash(error.message, "error")
    else:
        db.session.commit()
        flash(f"{participant.name}: {participant.status.label.lower()}.", "success")
    return redirect(back)


# --- Attendance --------------------------------------------------------------------------


@bp.route("/attendance", methods=["GET", "POST"])
def attendance(activity_id: int):
    """Tick who came, on a tablet at the registration desk or after the meeting."""
    permissions.require(permissions.can_manage_participants(current_user))
    invitation_list, back = _list_or_redirect(activity_id)
    if back is not None:
        return back
    form = AttendanceForm()
    if form.validate_on_submit():
        try:
            changed = record_attendance(
                acting_user(), invitation_list, form.marks(request.form), today()
            )
        except StaleEdit as error:
            db.session.rollback()
            names = "; ".join(name.removesuffix(": present") for name, _, _ in error.changes)
            flash(f"{error.message} ({names})", "error")
        except DomainError as error:
            db.session.rollback()
            flash(error.message, "error")
        else:
            db.session.commit()
            flash(
                f"Attendance saved ({changed} change{'s' if changed != 1 else ''}): "
                f"{invitation_list.attended} present.",
                "success",
            )
        return redirect(url_for("participants.attendance", activity_id=activity_id))
    listed = [
        (invitation, [p for p in delegates if p.status.takes_a_seat or p.attended])
        for invitation, delegates in exports.listed(invitation_list)
    ]
    return render_template(
        "participants/attendance.html",
        activity=invitation_list.activity,
        invitation_list=invitation_list,
        listed=[(i, people) for i, people in listed if people],
        form=form,
        today=today(),
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
    permissions.require(permissions.can_manage_participants(current_user))
    invitation_list, back = _list_or_redirect(activity_id)
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
    permissions.require(permissions.can_manage_participants(current_user))
    invitation_list, back = _list_or_redirect(activity_id)
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
    return redirect(_overview(activity_id))
