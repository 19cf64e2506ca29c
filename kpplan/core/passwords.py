"""Passwords: hashing with argon2id (argon2-cffi) and the strength asked of a new one; and
the digests kept of secret tokens (sessions, calendar links) instead of the tokens."""

from __future__ import annotations

import hashlib

from argon2 import PasswordHasher, profiles
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app

from kpplan.core.errors import DomainError

_PROFILES = {
    # RFC 9106's second recommendation: argon2id, t=3, 64 MiB.
    "default": profiles.RFC_9106_LOW_MEMORY,
    # Only for the test suite, where thousands of hashes would otherwise take minutes.
    "test": profiles.CHEAPEST,
}


def _hasher() -> PasswordHasher:
    name = current_app.config["PASSWORD_HASH_PROFILE"]
    return PasswordHasher.from_parameters(_PROFILES[name])


def hash_password(password: str) -> str:
    """Hash ``password`` with argon2id and a fresh salt."""
    return _hasher().hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    """True when ``password`` matches ``password_hash``; never raises for a wrong password."""
    try:
        return _hasher().verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    return _hasher().check_needs_rehash(password_hash)


_DUMMY: dict[str, str] = {}


def burn_time(password: str) -> None:
    """Spend as long as a real verification, so that unknown addresses cannot be told apart."""
    profile = current_app.config["PASSWORD_HASH_PROFILE"]
    if profile not in _DUMMY:
        _DUMMY[profile] = hash_password("not-a-real-password")
    verify_password(_DUMMY[profile], password)


def check_password_strength(password: str) -> None:
    minimum = current_app.config["PASSWORD_MIN_LENGTH"]
    if len(password) < minimum:
        raise DomainError(f"Choose a password of at least {minimum} characters.", "new_password")


def token_digest(token: str) -> str:
    """What kpplan keeps of a random secret token: its SHA-256 (hex). The token itself is
    long and random, so no slow hash is needed; a copy of the database opens nothing."""
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()
