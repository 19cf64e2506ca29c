"""An activity's documents: added, downloaded and removed."""

from __future__ import annotations

from pathlib import Path

from flask import abort, current_app, flash, redirect, url_for
from flask_login import current_user

from kpplan import permissions
from kpplan.core import files
from kpplan.core.errors import DomainError
from kpplan.core.extensions import db
from kpplan.core.forms import first_error
from kpplan.core.requests import acting_user
from kpplan.meetings import documents
from kpplan.meetings.blueprint import bp
from kpplan.meetings.forms import DocumentForm
from kpplan.meetings.models import Activity, Document, DocumentKind


@bp.route("/<int:activity_id>/documents", methods=["POST"])
def add_document(activity_id: int):
    permissions.require(permissions.can_plan_activities(current_user))
    found = db.get_or_404(Activity, activity_id)
    form = DocumentForm()
    if not form.validate():
        flash(first_error(form), "error")
        return redirect(url_for("meetings.activity", activity_id=activity_id) + "#documents")
    try:
        document = documents.add_document(
            acting_user(),
            found,
            DocumentKind(form.kind.data),
            form.title.data,
            files.Upload(form.file.data.stream, form.file.data.filename),
            Path(current_app.config["UPLOAD_FOLDER"]),
            current_app.config["MAX_DOCUMENT_SIZE"],
        )
    except DomainError as error:
        db.session.rollback()
        flash(error.message, "error")
    else:
        db.session.commit()
        flash(f"{document.title} has been added.", "success")
    return redirect(url_for("meetings.activity", activity_id=activity_id) + "#documents")


def _document_or_404(activity_id: int, document_id: int) -> Document:
    document = db.session.get(Document, document_id)
    if document is None or document.activity_id != activity_id:
        abort(404)
    return document


@bp.route("/<int:activity_id>/documents/<int:document_id>")
def document(activity_id: int, document_id: int):
    """The file, to everyone signed in who may see the activity (everyone, for now)."""
    permissions.require(permissions.can_view_activities(current_user))
    found = _document_or_404(activity_id, document_id)
    return files.send_kept_file(
        Path(current_app.config["UPLOAD_FOLDER"]),
        found.stored_name,
        found.content_type,
        found.original_name,
    )


@bp.route("/<int:activity_id>/documents/<int:document_id>/remove", methods=["POST"])
def remove_document(activity_id: int, document_id: int):
    permissions.require(permissions.can_plan_activities(current_user))
    found = _document_or_404(activity_id, document_id)
    title = found.title
    stored = documents.remove_document(acting_user(), found)
    db.session.commit()
    (Path(current_app.config["UPLOAD_FOLDER"]) / stored).unlink(missing_ok=True)
    flash(f"{title} has been removed.", "success")
    return redirect(url_for("meetings.activity", activity_id=activity_id) + "#documents")
