"""Changing the directory: states, organisations and user accounts.

Every function validates, changes, flushes and writes an audit entry; the view commits.
"""

from __future__ import annotations

import secrets
from typing import Any

from sqlalchemy import func, select

from kpplan import permissions
from kpplan.audit import services as audit
from kpplan.core.db import flush_or_refuse
from kpplan.core.errors import DomainError
from kpplan.core.extensions import db
from kpplan.core.names import possessive
from kpplan.core.passwords import check_password_strength, hash_password
from kpplan.directory.models import (
    Organisation,
    OrganisationKind,
    Region,
    Role,
    State,
    User,
    new_session_token,
)

STATE_FIELDS = ("name", "iso_code", "region", "is_member", "on_steering_committee", "version")
ORGANISATION_FIELDS = ("name", "acronym", "kind", "website", "version")
USER_FIELDS = (
    "name",
    "email",
    "role",
    "state_id",
    "is_alternate",
    "active",
    "must_change_password",
    "version",
)


def _save() -> None:
    flush_or_refuse(
        db.session,
        "Someone else saved the same name or address at the same moment. Nothing was "
        "saved: reload the page and check.",
    )


def _apply(obj: Any, fields: tuple[str, ...], changes: dict[str, Any]) -> bool:
    changed = False
    for name, value in changes.items():
        if name not in fields:
            raise ValueError(f"{name} cannot be changed here")
        if getattr(obj, name) != value:
            setattr(obj, name, value)
            changed = True
    return changed


# States -----------------------------------------------------------------------------


def _check_state(name: str, iso_code: str | None, is_member: bool, sc: bool, ignore_id=None):
    clash = db.session.scalar(
        select(State).where(func.lower(State.name) == name.lower(), State.id != (ignore_id or 0))
    )
    if clash:
        raise DomainError(f"{clash.name} is already in the directory.", "name")
    if iso_code:
        clash = db.session.scalar(
            select(State).where(State.iso_code == iso_code, State.id != (ignore_id or 0))
        )
        if clash:
            raise DomainError(f"{clash.name} already has the code {iso_code}.", "iso_code")
    if sc and not is_member:
        raise DomainError(
            "Only a member state can sit on the Steering Committee.", "on_steering_committee"
        )


def create_state(
    actor: User,
    name: str,
    region: Region,
    iso_code: str | None = None,
    is_member: bool = False,
    on_steering_committee: bool = False,
) -> State:
    """Add a country to the directory (a member state, or a place where activities happen).

    Raises ``DomainError`` for a name or code already in use, or a Steering Committee seat
    for a non-member.
    """
    name, iso_code = name.strip(), (iso_code or "").strip().upper() or None
    _check_state(name, iso_code, is_member, on_steering_committee)
    state = State(
        name=name,
        iso_code=iso_code,
        region=region,
        is_member=is_member,
        on_steering_committee=on_steering_committee,
    )
    db.session.add(state)
    _save()
    audit.record(
        actor, "created", state, f"Added {name}", None, audit.snapshot(state, STATE_FIELDS)
    )
    return state


def update_state(actor: User, state: State, version: int | None, **changes: Any) -> State:
    """Change a state's details, refusing an edit made from a stale page (``StaleEdit``)."""
    audit.ensure_current(state, version)
    if "name" in changes:
        changes["name"] = changes["name"].strip()
    if "iso_code" in changes:
        changes["iso_code"] = (changes["iso_code"] or "").strip().upper() or None
    merged = {name: changes.get(name, getattr(state, name)) for name in STATE_FIELDS[:-1]}
    _check_state(
        merged["name"],
        merged["iso_code"],
        merged["is_member"],
        merged["on_steering_committee"],
        ignore_id=state.id,
    )
    if not merged["is_member"] and state.is_member and _has_focal_points(state):
        raise DomainError(
            f"{state.name} still has focal points; move or deactivate them before it stops "
            "being a member state.",
            "is_member",
        )
    before = audit.snapshot(state, STATE_FIELDS)
    if _apply(state, STATE_FIELDS, changes):
        _save()
        audit.record(
            actor,
            "updated",
            state,
            f"Edited {state.name}",
            before,
            audit.snapshot(state, STATE_FIELDS),
        )
    return state


def _has_focal_points(state: State) -> bool:
    return bool(
        db.session.scalar(
            select(func.count(User.id)).where(
                User.state_id == state.id, User.role == Role.FOCAL_POINT, User.active.is_(True)
            )
        )
    )


# Organisations ---------------------------------------------------------------------


def _check_organisation(name: str, ignore_id: int | None = None) -> None:
    clash = db.session.scalar(
        select(Organisation).where(
            func.lower(Organisation.name) == name.lower(), Organisation.id != (ignore_id or 0)
        )
    )
    if clash:
        raise DomainError(f"{clash.display_name} is already in the directory.", "name")


def create_organisation(
    actor: User,
    name: str,
    kind: OrganisationKind,
    acronym: str | None = None,
    website: str | None = None,
) -> Organisation:
    """Add an organisation; raises ``DomainError`` if the name is taken."""
    name = name.strip()
    _check_organisation(name)
    org = Organisation(
        name=name, kind=kind, acronym=(acronym or "").strip() or None, website=website or None
    )
    db.session.add(org)
    _save()
    audit.record(
        actor,
        "created",
        org,
        f"Added {org.display_name}",
        None,
        audit.snapshot(org, ORGANISATION_FIELDS),
    )
    return org


def update_organisation(
    actor: User, org: Organisation, version: int | None, **changes: Any
) -> Organisation:
    """Change an organisation; raises ``StaleEdit`` or ``DomainError``."""
    audit.ensure_current(org, version)
    if "name" in changes:
        changes["name"] = changes["name"].strip()
        _check_organisation(changes["name"], ignore_id=org.id)
    for optional in ("acronym", "website"):
        if optional in changes:
            changes[optional] = (changes[optional] or "").strip() or None
    before = audit.snapshot(org, ORGANISATION_FIELDS)
    if _apply(org, ORGANISATION_FIELDS, changes):
        _save()
        audit.record(
            actor,
            "updated",
            org,
            f"Edited {org.display_name}",
            before,
            audit.snapshot(org, ORGANISATION_FIELDS),
        )
    return org


# Users -----------------------------------------------------------------------------


def _check_user(
    actor: User | None,
    email: str,
    role: Role,
    state: State | None,
    is_alternate: bool,
    ignore_id: int | None = None,
) -> None:
    if actor is not None and not permissions.can_grant_role(actor, role):
        raise DomainError("Only an administrator can make someone an administrator.", "role")
    clash = db.session.scalar(
        select(User.id).where(User.email == email, User.id != (ignore_id or 0))
    )
    if clash:
        raise DomainError("Another account already uses this e-mail address.", "email")
    if role.needs_state and state is None:
        raise DomainError(f"A {role.label.lower()} belongs to a state: choose one.", "state")
    if state is not None and not role.needs_state:
        raise DomainError(
            f"Only focal points and the Chair's delegates belong to a state; "
            f"leave the state empty for a {role.label.lower()}.",
            "state",
        )
    if state is not None and not state.is_member:
        raise DomainError(f"{state.name} is not a member state of the Process.", "state")
    if is_alternate and role is not Role.FOCAL_POINT:
        raise DomainError("Only a focal point can be an alternate.", "is_alternate")
    if is_alternate:
        other = db.session.scalar(
            select(User).where(
                User.state_id == state.id,
                User.is_alternate.is_(True),
                User.active.is_(True),
                User.id != (ignore_id or 0),
            )
        )
        if other is not None:
            raise DomainError(
                f"{other.name} is already {possessive(state.name)} alternate focal point.",
                "is_alternate",
            )


def create_user(
    actor: User | None,
    name: str,
    email: str,
    role: Role,
    password: str,
    state: State | None = None,
    is_alternate: bool = False,
    must_change_password: bool = False,
) -> User:
    """Create an account. ``actor`` is None from the command line.

    Raises ``DomainError`` for an address in use, a role without its state (or a state
    without a role that needs one), a weak password, or a role the actor may not grant.
    """
    email = email.strip().lower()
    _check_user(actor, email, role, state, is_alternate)
    check_password_strength(password)
    user = User(
        name=name.strip(),
        email=email,
        role=role,
        state=state,
        is_alternate=is_alternate,
        password_hash=hash_password(password),
        must_change_password=must_change_password,
    )
    db.session.add(user)
    _save()
    audit.record(
        actor,
        "created",
        user,
        f"Created the account of {user.name} ({role.label})",
        None,
        audit.snapshot(user, USER_FIELDS),
    )
    return user


def update_user(
    actor: User,
    user: User,
    version: int | None,
    name: str,
    email: str,
    role: Role,
    state: State | None,
    is_alternate: bool,
) -> User:
    """Change an account's name, address, role and state; raises ``StaleEdit``/``DomainError``."""
    audit.ensure_current(user, version)
    if not permissions.can_manage_user(actor, user):
        raise DomainError("Only an administrator can change an administrator's account.")
    if user.id == actor.id and role is not user.role:
        raise DomainError("You cannot change your own role; ask another administrator.", "role")
    email = email.strip().lower()
    _check_user(actor, email, role, state, is_alternate, ignore_id=user.id)
    before = audit.snapshot(user, USER_FIELDS)
    changes = {
        "name": name.strip(),
        "email": email,
        "role": role,
        "state_id": state.id if state else None,
        "is_alternate": is_alternate,
    }
    if _apply(user, USER_FIELDS, changes):
        if before["role"] != role.value or before["state_id"] != changes["state_id"]:
            # What the person may see changes: their open sessions must start again.
            user.session_token = new_session_token()
        _save()
        audit.record(
            actor,
            "updated",
            user,
            f"Edited the account of {user.name}",
            before,
            audit.snapshot(user, USER_FIELDS),
        )
    return user


def set_active(actor: User, user: User, active: bool) -> User:
    """Deactivate (ending every open session) or reactivate an account. Never deletes."""
    if not permissions.can_manage_user(actor, user):
        raise DomainError("Only an administrator can change an administrator's account.")
    if user.id == actor.id and not active:
        raise DomainError("You cannot deactivate your own account.")
    if user.active == active:
        return user
    if active and user.is_alternate:
        _check_user(None, user.email, user.role, user.state, True, ignore_id=user.id)
    before = audit.snapshot(user, USER_FIELDS)
    user.active = active
    user.session_token = new_session_token()
    _save()
    verb = "Reactivated" if active else "Deactivated"
    audit.record(
        actor,
        "reactivated" if active else "deactivated",
        user,
        f"{verb} the account of {user.name}",
        before,
        audit.snapshot(user, USER_FIELDS),
    )
    return user


def reset_password(actor: User, user: User) -> str:
    """Give the account a one-time password, to be changed at the next sign-in.

    Returns the new password for the actor to pass on; ends the user's open sessions.
    """
    if not permissions.can_manage_user(actor, user):
        raise DomainError("Only an administrator can reset an administrator's password.")
    temporary = "-".join(secrets.token_urlsafe(4) for _ in range(4))
    before = audit.snapshot(user, USER_FIELDS)
    user.password_hash = hash_password(temporary)
    user.must_change_password = True
    user.session_token = new_session_token()
    _save()
    audit.record(
        actor,
        "password_reset",
        user,
        f"Reset the password of {user.name}",
        before,
        audit.snapshot(user, USER_FIELDS),
    )
    return temporary
