"""Reading the audit trail."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import joinedload

from kpplan.audit.models import AuditEntry
from kpplan.audit.sentences import HistoryLine, describe
from kpplan.core.extensions import db
from kpplan.core.paging import Key, KeysetPage, keyset_page


def history_of(obj: Any, limit: int = 20) -> list[HistoryLine]:
    """The latest entries about one record, newest first, as sentences with their authors."""
    entries = db.session.scalars(
        select(AuditEntry)
        .where(AuditEntry.object_type == type(obj).__tablename__, AuditEntry.object_id == obj.id)
        .options(joinedload(AuditEntry.actor))
        .order_by(AuditEntry.at.desc(), AuditEntry.id.desc())
        .limit(limit)
    ).all()
    # The record itself is loaded: its name is not read again.
    return describe(entries, known=(obj,))


#: The history's order: newest first, by id, which grows with time (the primary key).
HISTORY_ORDER = (Key(AuditEntry.id, descending=True),)


def history_page(
    cursor: str | None,
    per_page: int,
    object_type: str | None = None,
    object_id: int | None = None,
) -> KeysetPage[AuditEntry]:
    """The page of all changes at ``cursor`` (None, or anything that is not one of this
    list's cursors: the first), newest first, optionally for one kind of record or one
    record.

    Read by key on the primary key, so a deep page costs what the first does, with their
    authors joined, and not counted (a count of the whole trail would read every entry
    after each change). The entries read as sentences with ``sentences.describe``.
    """
    query = select(AuditEntry).options(joinedload(AuditEntry.actor))
    if object_type:
        query = query.where(AuditEntry.object_type == object_type)
    if object_id:
        query = query.where(AuditEntry.object_id == object_id)
    return keyset_page(query, HISTORY_ORDER, cursor, per_page)


def object_types() -> dict[str, str]:
    """Kinds of record that leave a trace, by table name: each model names itself with
    ``__audit_label__``, so a new feature appears in the filter without a change here."""
    labels = {
        mapper.class_.__tablename__: mapper.class_.__audit_label__
        for mapper in db.Model.registry.mappers
        if hasattr(mapper.class_, "__audit_label__")
    }
    return dict(sorted(labels.items(), key=lambda item: item[1]))
