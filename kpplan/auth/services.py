"""Signing in with throttling, and changing passwords."""

from __future__ import annotations

import math
import secrets
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import and_, delete, or_, select, update

from kpplan.audit import services as audit
from kpplan.auth.models import SignedInSession, SignInThrottle
from kpplan.core.db import insert_ignoring_conflicts
from kpplan.core.errors import DomainError
from kpplan.core.extensions import db
from kpplan.core.passwords import (
    burn_time,
    check_password_strength,
    hash_password,
    needs_rehash,
    token_digest,
    verify_password,
)
from kpplan.directory.models import User, new_session_token


class SignInRefused(DomainError):
    status_code = 200  # the form is shown again with the message


class SignInThrottled(DomainError):
    status_code = 429

    def __init__(self, wait_seconds: int) -> None:
        minutes = max(1, math.ceil(wait_seconds / 60))
        unit = "minute" if minutes == 1 else "minutes"
        super().__init__(
            f"Too many failed sign-ins. For your security, please wait {minutes} {unit} "
            "and try again."
        )
        self.wait_seconds = wait_seconds


WRONG_CREDENTIALS = "That e-mail address and password do not match an active account."


def _throttle_key(value: str) -> str:
    """``value`` as a key that fits its column: a long one (no account has such an address,
    but anyone may type it) stands as its SHA-256, so sign-in never fails before the
    credentials are checked."""
    if len(value) <= SignInThrottle.__table__.c.key.type.length:
        return value
    return "sha256:" + token_digest(value)


def _throttle_keys(email: str, address: str | None) -> list[tuple[str, str]]:
    keys = [("account", _throttle_key(email))]
    if address:
        keys.append(("address", _throttle_key(address)))
    return keys


def _check_throttle(keys: list[tuple[str, str]], now: datetime) -> None:
    rows = db.session.scalars(
        select(SignInThrottle).where(
            or_(*(and_(SignInThrottle.scope == s, SignInThrottle.key == k) for s, k in keys))
        )
    ).all()
    waits = [
        (row.blocked_until - now).total_seconds()
        for row in rows
        if row.blocked_until is not None and row.blocked_until > now
    ]
    if waits:
        raise SignInThrottled(math.ceil(max(waits)))


def _count_failure(scope: str, key: str, now: datetime) -> None:
    config = current_app.config
    db.session.execute(
        insert_ignoring_conflicts(
            SignInThrottle,
            ["scope", "key"],
            scope=scope,
            key=key,
            failures=0,
            first_failure_at=now,
        )
    )
    row = db.session.scalars(
        select(SignInThrottle)
        .where(SignInThrottle.scope == scope, SignInThrottle.key == key)
        .with_for_update()
    ).one()
    if (now - row.first_failure_at).total_seconds() > config["LOGIN_FAILURE_WINDOW"]:
        row.failures = 0
        row.first_failure_at = now
    row.failures += 1
    excess = row.failures - config["LOGIN_MAX_FAILURES"]
    if excess >= 0:
        delay = min(config["LOGIN_BASE_DELAY"] * 2**excess, config["LOGIN_MAX_DELAY"])
        row.blocked_until = now + timedelta(seconds=delay)
        # A block outlives the window of failures that caused it.
        row.first_failure_at = now


def authenticate(email: str, password: str, address: str | None, now: datetime) -> User:
    """Return the active user with these credentials, counting failures.

    Raises ``SignInThrottled`` while the account or the address is blocked (the password
    is then not even checked) and ``SignInRefused`` for wrong credentials or a deactivated
    account. The caller commits, so that failures are counted even though sign-in fails.
    """
    email = email.strip().lower()
    keys = _throttle_keys(email, address)
    _check_throttle(keys, now)

    user = db.session.scalars(select(User).where(User.email == email)).one_or_none()
    if user is None:
        burn_time(password)
        ok = False
    else:
        ok = verify_password(user.password_hash, password) and user.active
    if not ok:
        for scope, key in keys:
            _count_failure(scope, key, now)
        raise SignInRefused(WRONG_CREDENTIALS)

    db.session.execute(
        delete(SignInThrottle).where(
            SignInThrottle.scope == "account", SignInThrottle.key == keys[0][1]
        )
    )
    if needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    # Not audited as a change: a sign-in is not an edit. Kept without bumping the version,
    # so that an administrator editing the account meanwhile is not refused as stale.
    db.session.execute(
        update(User)
        .where(User.id == user.id)
        .values(last_sign_in_at=now)
        .execution_options(synchronize_session=False)
    )
    return user


def change_password(user: User, current: str, new: str) -> User:
    """Change the user's own password; the current one is required.

    Ends the user's other sessions (the caller signs the current one in again).
    """
    if not verify_password(user.password_hash, current):
        raise DomainError("That is not your current password.", "current_password")
    check_password_strength(new)
    if verify_password(user.password_hash, new):
        raise DomainError("The new password must differ from the current one.", "new_password")
    user.password_hash = hash_password(new)
    user.must_change_password = False
    user.session_token = new_session_token()
    audit.record(user, "password_changed", user, f"{user.email} changed their password")
    return user


#: The key of the Flask session (the signed cookie) that holds the session's secret.
SESSION_KEY = "kpplan_session"
#: ``last_seen_at`` is written at most this often (see ``auth.loader``).
SEEN_EVERY = timedelta(hours=1)


def open_session(user: User, now: datetime) -> str:
    """Record a new signed-in session of ``user``; returns the secret for its cookie.

    Also removes the sessions that no cookie can carry any more: a cookie is valid for
    ``PERMANENT_SESSION_LIFETIME`` after the request that last wrote it, and every request
    of a session marks it seen (at most ``SEEN_EVERY`` late).
    """
    horizon = now - current_app.permanent_session_lifetime - 2 * SEEN_EVERY
    db.session.execute(delete(SignedInSession).where(SignedInSession.last_seen_at < horizon))
    secret = secrets.token_urlsafe(32)
    db.session.add(
        SignedInSession(
            user_id=user.id, key_hash=token_digest(secret), signed_in_at=now, last_seen_at=now
        )
    )
    return secret


def end_session(secret: str | None) -> None:
    """Sign-out: the session with this secret ends on the server; a copy of its cookie no
    longer signs anyone in. The person's other sessions go on."""
    if secret:
        db.session.execute(
            delete(SignedInSession).where(SignedInSession.key_hash == token_digest(secret))
        )


def reset_calendar_token(user: User) -> str:
    """Give the user a new secret for their calendar feed and return it; the old address
    stops working. Only its digest is kept, so the address can be shown this once."""
    token = secrets.token_urlsafe(32)
    user.calendar_token_hash = token_digest(token)
    audit.record(user, "calendar_link_reset", user, f"{user.email} made a new calendar link")
    return token
