from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import JSON, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from kpplan.core.db import Base, UTCDateTime, utcnow

if TYPE_CHECKING:  # the trail names users by key; it imports none of directory's code
    from kpplan.directory.models import User


class AuditEntry(Base):
    """One change to one record. Never updated, never deleted."""

    __tablename__ = "audit_entries"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Empty when the change came from the command line or the scheduler.
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    action: Mapped[str] = mapped_column(String(40))
    object_type: Mapped[str] = mapped_column(String(40))
    object_id: Mapped[int | None]
    summary: Mapped[str] = mapped_column(String(300))
    before: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    after: Mapped[dict[str, Any] | None] = mapped_column(JSON)

    actor: Mapped[User | None] = relationship("User")

    __table_args__ = (
        Index("ix_audit_entries_object", "object_type", "object_id", "at"),
        Index("ix_audit_entries_at", "at"),
        # The history of one kind of record, newest first, read from the top.
        Index("ix_audit_entries_object_type_id", "object_type", "id"),
        Index("ix_audit_entries_actor_id", "actor_id"),
    )

    @property
    def changes(self) -> list[tuple[str, Any, Any]]:
        """The fields that differ between before and after, in a stable order."""
        before = self.before or {}
        after = self.after or {}
        keys = sorted(set(before) | set(after))
        return [(k, before.get(k), after.get(k)) for k in keys if before.get(k) != after.get(k)]
