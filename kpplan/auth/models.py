from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from kpplan.core.db import Base, UTCDateTime


class SignInThrottle(Base):
    """Failed sign-ins counted per account or per address, shared by every web worker."""

    __tablename__ = "sign_in_throttles"

    id: Mapped[int] = mapped_column(primary_key=True)
    # "account" (a lower-cased e-mail address) or "address" (the client's IP address).
    scope: Mapped[str] = mapped_column(String(10))
    key: Mapped[str] = mapped_column(String(254))
    failures: Mapped[int] = mapped_column(default=0)
    first_failure_at: Mapped[datetime] = mapped_column(UTCDateTime)
    blocked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)

    __table_args__ = (UniqueConstraint("scope", "key"),)


class SignedInSession(Base):
    """One signed-in session: the cookie carries a secret, the server keeps its SHA-256.

    Signing out deletes the row, so a copy of the cookie no longer signs anyone in; the
    person's other sessions (other browsers, other devices) go on. Rows of sessions left
    without signing out are removed once no cookie can still be valid for them.
    """

    __tablename__ = "signed_in_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    signed_in_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
