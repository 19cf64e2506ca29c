"""Who may do what: the roles, and small predicates that views and templates share.

Each predicate takes the current user (possibly anonymous) and, where it matters, the object
at stake. Views call them through ``require``; templates through the ``can`` namespace.

This module sits just above ``core``: it imports no feature, so that every feature, the
audit trail's history page included, may import it. ``Role`` lives here for that reason
(``kpplan.directory.models.Role`` is the same class, for the accounts that hold one).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from flask import abort
from flask_login import current_user

from kpplan.core.db import LabelledEnum

if TYPE_CHECKING:
    from kpplan.directory.models import User


class Role(LabelledEnum):
    ADMIN = "admin", "Administrator"
    SECRETARIAT = "secretariat", "Secretariat"
    CHAIR = "chair", "Chair's delegate"
    FOCAL_POINT = "focal_point", "National focal point"
    OBSERVER = "observer", "Observer"

    @property
    def needs_state(self) -> bool:
        return self in (Role.CHAIR, Role.FOCAL_POINT)


STAFF = (Role.ADMIN, Role.SECRETARIAT)


def _role(user: Any) -> Role | None:
    if user is None or not getattr(user, "is_authenticated", False):
        return None
    return user.role


def is_signed_in(user: Any) -> bool:
    return _role(user) is not None


def is_admin(user: Any) -> bool:
    return _role(user) is Role.ADMIN


def is_staff(user: Any) -> bool:
    """Admins and the secretariat: those who plan, record and administer."""
    return _role(user) in STAFF


def can_view_directory(user: Any) -> bool:
    return is_signed_in(user)


def can_edit_directory(user: Any) -> bool:
    """Edit states (Steering Committee membership, other countries) and organisations."""
    return is_staff(user)


def can_manage_users(user: Any) -> bool:
    """Open user administration: list, create, edit, deactivate, reset passwords."""
    return is_staff(user)


def can_manage_user(user: Any, target: User) -> bool:
    """The secretariat manages every account but administrators'; admins manage all."""
    if is_admin(user):
        return True
    return can_manage_users(user) and target.role is not Role.ADMIN


def can_grant_role(user: Any, role: Role) -> bool:
    if is_admin(user):
        return True
    return can_manage_users(user) and role is not Role.ADMIN


def can_view_activities(user: Any) -> bool:
    return is_signed_in(user)


def can_plan_activities(user: Any) -> bool:
    """Create and edit activities, move them through their life, record their outcomes."""
    return is_staff(user)


def can_view_recommendations(user: Any) -> bool:
    """Recommendations are read by everyone signed in; follow-ups by ``can_see_follow_up``."""
    return is_signed_in(user)


def can_record_recommendations(user: Any) -> bool:
    """Record, edit, withdraw, import recommendations and validate implementation."""
    return is_staff(user)


def can_see_follow_up(user: Any, follow_up: Any) -> bool:
    """A focal point sees only their own state's follow-ups; every other role sees all."""
    role = _role(user)
    if role is None:
        return False
    if role is Role.FOCAL_POINT:
        return follow_up.state_id is not None and follow_up.state_id == user.state_id
    return True


def can_update_follow_up(user: Any, follow_up: Any) -> bool:
    """Focal points report for their own state; the secretariat for every addressee."""
    if is_staff(user):
        return True
    return _role(user) is Role.FOCAL_POINT and can_see_follow_up(user, follow_up)


def can_report_follow_ups(user: Any) -> bool:
    """Open the import of follow-up updates: the secretariat and focal points."""
    return is_staff(user) or _role(user) is Role.FOCAL_POINT


def can_view_invitations(user: Any) -> bool:
    """An activity's invitations and their answers, in figures: everyone signed in (the
    delegates' names by ``can_manage_participants`` and ``can_see_delegation``)."""
    return is_signed_in(user)


def can_manage_participants(user: Any) -> bool:
    """Draw up and send invitation lists, decide on delegates, tick attendance, import and
    export the lists of participants: the staff."""
    return is_staff(user)


def can_see_delegation(user: Any, invitation: Any) -> bool:
    """A delegation and its delegates (people): the staff, and the focal points of its own
    state once the invitations are sent. They name and change its delegates too."""
    if is_staff(user):
        return True
    return (
        _role(user) is Role.FOCAL_POINT
        and invitation.state_id is not None
        and invitation.state_id == user.state_id
        and invitation.invitation_list.sent_at is not None
    )


def can_view_history(user: Any) -> bool:
    return is_staff(user)


def can_view_chair(user: Any) -> bool:
    """Chairmanships and work plans are read by everyone signed in."""
    return is_signed_in(user)


def can_edit_chairmanships(user: Any) -> bool:
    """Add and edit chairmanships: who chairs when, and the handover."""
    return is_staff(user)


def can_edit_work_plan(user: Any, chairmanship: Any) -> bool:
    """The staff edit every work plan; the Chair's delegates edit their own state's.

    ``chairmanship`` is the one the work plan belongs to (anything with a ``state_id``).
    """
    if is_staff(user):
        return True
    return (
        _role(user) is Role.CHAIR
        and chairmanship is not None
        and user.state_id is not None
        and user.state_id == chairmanship.state_id
    )


def can_view_review(user: Any) -> bool:
    """The Chair's review, the handover pack and the review snapshots: everyone signed in
    (a focal point's figures and lists hold only their own state's follow-ups)."""
    return is_signed_in(user)


def can_take_snapshots(user: Any) -> bool:
    """Freeze the follow-up at a Senior Officials' Meeting: the staff."""
    return is_staff(user)


def can_view_reports(user: Any) -> bool:
    """Statistics, the timeline and the exports: everyone signed in."""
    return is_signed_in(user)


def can_view_reminders(user: Any) -> bool:
    """See the reminder outbox and the runs of the scheduler."""
    return is_staff(user)


def can_manage_reminders(user: Any) -> bool:
    """Change the reminder rules and timezone, and send a failed mail again."""
    return is_admin(user)


def require(allowed: bool) -> None:
    """Stop the request with 403 unless ``allowed``."""
    if not allowed:
        abort(403)


class _Can:
    """``can.edit_directory`` in templates reads ``can_edit_directory(current_user)``."""

    def __getattr__(self, name: str):
        predicate = globals().get(f"can_{name}") or globals().get(f"is_{name}")
        if predicate is None:
            raise AttributeError(name)
        return lambda *args: predicate(current_user, *args)


can = _Can()
