"""Ticking who came to an activity."""

from __future__ import annotations

from flask import (
    flash,
    redirect,
    render_template,
    request,
    url_for,
)

from kpplan.core.clock import today
from kpplan.core.errors import DomainError, StaleEdit
from kpplan.core.extensions import db
from kpplan.core.requests import acting_user
from kpplan.participants import exports
from kpplan.participants.attendance import record_attendance
from kpplan.participants.blueprint import bp, managed_list_or_redirect
from kpplan.participants.forms import (
    AttendanceForm,
)

# --- Attendance --------------------------------------------------------------------------


@bp.route("/attendance", methods=["GET", "POST"])
def attendance(activity_id: int):
    """Tick who came, on a tablet at the registration desk or after the meeting."""
    invitation_list, back = managed_list_or_redirect(activity_id)
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
