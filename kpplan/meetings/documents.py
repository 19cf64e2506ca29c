"""The documents of activities: added and removed with a trace; files kept by ``core.files``."""

from __future__ import annotations

from pathlib import Path

from kpplan.audit import services as audit
from kpplan.core import clock
from kpplan.core.extensions import db
from kpplan.core.files import Upload, store_file
from kpplan.directory.models import User
from kpplan.meetings.kinds import uploading
from kpplan.meetings.models import Activity, Document, DocumentKind
from kpplan.meetings.services import complete_steps

FIELDS = ("kind", "title", "original_name", "content_type", "size")


def add_document(
    actor: User,
    activity: Activity,
    kind: DocumentKind,
    title: str,
    upload: Upload,
    folder: Path,
    max_size: int,
) -> Document:
    """Keep an uploaded file for the activity under a generated name; an agenda, a concept
    note or a report ticks the preparation step it completes.

    Raises ``DomainError`` for an empty or too large file, or one whose content is not a
    PDF, Word, Excel or PowerPoint document or an image, whatever its name says.
    """
    kept = store_file(upload, folder, max_size)
    try:
        document = Document(
            activity=activity,
            kind=kind,
            title=(title or "").strip() or kept.original_name,
            original_name=kept.original_name,
            stored_name=kept.stored_name,
            content_type=kept.content_type,
            size=kept.size,
            uploaded_by=actor,
        )
        db.session.add(document)
        db.session.flush()
        audit.record(
            actor,
            "created",
            document,
            f"{activity.title}: added {document.title}",
            None,
            audit.snapshot(document, FIELDS),
        )
        complete_steps(actor, activity, uploading(kind.value), clock.today())
    except Exception:
        (folder / kept.stored_name).unlink(missing_ok=True)
        raise
    return document


def remove_document(actor: User, document: Document) -> str:
    """Remove a document, keeping a trace; returns the stored name, for the caller to
    delete the file once the removal is committed."""
    audit.record(
        actor,
        "deleted",
        document,
        f"{document.activity.title}: removed {document.title}",
        audit.snapshot(document, FIELDS),
        None,
    )
    stored = document.stored_name
    db.session.delete(document)
    db.session.flush()
    return stored
