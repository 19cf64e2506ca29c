"""Reading the audit trail."""

from __future__ import annotations

from typing import Any

from flask_sqlalchemy.pagination import Pagination
from sqlalchemy import select
from sqlalchemy.orm import joinedload, selectinload

from kpplan.audit.models import AuditEntry
from kpplan.audit.sentences import HistoryLine, describe
from kpplan.core.extensions import db


def history_of(obj: Any, limit: int = 20) -> list[HistoryLine]:
    """The latest entries about one record, newest first, as sentences with their authors."""
    entries = db.session.scalars(
        select(AuditEntry)
        .where(AuditEntry.object_type == type(obj).__tablename__, AuditEntry.object_id == obj.id)
        .options(joinedload(AuditEntry.actor))
        .order_by(AuditEntry.at.desc(), AuditEntry.id.desc())
        .limit(limit)
    ).all()
    return describe(entries)


def history_page(
    page: int, per_page: int, object_type: str | None = None, object_id: int | None = None
) -> Pagination:
    """All changes, newest first, optionally for one kind of record or one record.

    Ordered by id, which grows with time, so that even a deep page walks the primary key;
    authors are loaded in a second query rather than joined to every skipped row. The
    page's entries read as sentences with ``sentences.describe``.
    """
    query = (
        select(AuditEntry).options(selectinload(AuditEntry.actor)).order_by(AuditEntry.id.desc())
    )
    if object_type:
        query = query.where(AuditEntry.object_type == object_type)
    if object_id:
        query = query.where(AuditEntry.object_id == object_id)
    return db.paginate(query, page=page, per_page=per_page, error_out=False)


def object_types() -> dict[str, str]:
    """Kinds of record that leave a trace, by table name: each model names itself with
    ``__audit_label__``, so a new feature appears in the filter without a change here."""
    labels = {
        mapper.class_.__tablename__: mapper.class_.__audit_label__
        for mapper in db.Model.registry.mappers
        if hasattr(mapper.class_, "__audit_label__")
    }
    return dict(sorted(labels.items(), key=lambda item: item[1]))
