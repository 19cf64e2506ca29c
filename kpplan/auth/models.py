from __future__ import annotations

from datetime import datetime

from sqlalchemy import String, UniqueConstraint
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
