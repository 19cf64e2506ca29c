"""A delegation: its answer to the invitation, its delegates, and the secretariat's
decisions on them."""

from __future__ import annotations

from flask import (
    abort,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user

from kpplan import permissions
from kpplan.core.clock import today
from kpplan.core.names import in_sentence, possessive
from kpplan.core.requests import acting_user, commit_or_flash, save_form
from kpplan.directory.models import Role
from kpplan.participants import nominations, queries
from kpplan.participants.blueprint import bp, manages_participants, overview_url
from kpplan.participants.forms import (
    DecisionForm,
    DeclineForm,
    DelegateForm,
    EditDelegateForm,
    WithdrawForm,
)
from kpplan.participants.models import (
    DECISIONS,
    Invitation,
    Participant,
    ParticipantStatus,
)


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


# --- A delegation ------------------------------------------------------------------------


@bp.route("/delegations/<int:invitation_id>", methods=["GET", "POST"])
def delegation(activity_id: int, invitation_id: int):
    """A delegation's own page: its invitation and documents, its delegates, and the form
    to name one (a POST names a delegate)."""
    invitation = _delegation_or_404(activity_id, invitation_id)
    invitation_list = invitation.invitation_list
    staff = manages_participants()
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
            flash(f"{created.name} is on {possessive(invitation.delegation)} list.", "success")
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
    if commit_or_flash(
        lambda: nominations.decline(
            acting_user(), invitation, form.version.data, form.reason.data, today()
        )
    ):
        flash(
            f"{in_sentence(invitation.delegation, start=True)} has declined the invitation.",
            "success",
        )
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
    elif commit_or_flash(
        lambda: nominations.withdraw(acting_user(), participant, form.version.data, today())
    ):
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
        else overview_url(activity_id, f"#delegation-{participant.invitation_id}")
    )
    form = DecisionForm()
    if not form.validate():
        flash("The page was out of date; reload it and decide again.", "error")
        return redirect(back)
    if commit_or_flash(
        lambda: nominations.decide(
            acting_user(), participant, form.version.data, ParticipantStatus(form.status.data)
        )
    ):
        flash(f"{participant.name}: {participant.status.label.lower()}.", "success")
    return redirect(back)
