"""Writing the audit trail. Services call ``record`` in the same transaction as the change."""

from __future__ import annotations

import enum
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.orm import joinedload

from kpplan.audit.models import AuditEntry
from kpplan.audit.sentences import changes_in_words
from kpplan.core.errors import StaleEdit
from kpplan.core.extensions import db

if TYPE_CHECKING:
    from kpplan.directory.models import User


def _plain(value: Any) -> Any:
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


def snapshot(obj: Any, fields: tuple[str, ...]) -> dict[str, Any]:
    """The named attributes of ``obj`` as JSON-ready values, for the before/after of an entry."""
    return {name: _plain(getattr(obj, name)) for name in fields}


def record(
    actor: User | None,
    action: str,
    obj: Any,
    summary: str,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> AuditEntry:
    """Add an audit entry for a change to ``obj``; the caller's commit makes both permanent."""
    db.session.flush()  # so that a new object has its id
    entry = AuditEntry(
        actor_id=actor.id if actor is not None else None,
        action=action,
        object_type=type(obj).__tablename__,
        object_id=obj.id,
        summary=summary[:300],
        before=before,
        after=after,
    )
    db.session.add(entry)
    return entry


def ensure_current(obj: Any, expected_version: int | None) -> None:
    """Refuse an edit drawn from an older version of ``obj``.

    Raises ``StaleEdit`` listing who changed what since that version, from the trail.
    """
    if expected_version is not None and expected_version == obj.version:
        return
    entries = db.session.scalars(
        select(AuditEntry)
        .where(AuditEntry.object_type == type(obj).__tablename__, AuditEntry.object_id == obj.id)
        .order_by(AuditEntry.at, AuditEntry.id)
        .options(joinedload(AuditEntry.actor))
    ).all()
    newer = []
    for entry in entries:
        after_version = (entry.after or {}).get("version")
        known = after_version is not None and expected_version is not None
        if not (known and after_version <= expected_version):
            newer.append(entry)
    changes = []
    for entry, in_words in changes_in_words(newer):
        who = entry.actor.name if entry.actor else "kpplan"
        changes.extend((f"{c.field} (by {who})", c.before, c.after) for c in in_words)
    raise StaleEdit(
        "Someone else changed this record after you opened the page. Nothing was saved: "
        "review their change below; to save yours over it, send the form again.",
        changes,
        current_version=obj.version,
    )
