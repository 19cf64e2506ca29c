"""The blueprint of recommendations and follow-ups, and what its views share.

Its routes live in three modules: ``views`` (recommendations), ``follow_up_views``
(follow-ups and their validation) and ``import_views`` (imports of both); ``views``
imports the other two, so that registering ``views.bp`` brings every route.
"""

from __future__ import annotations

from pathlib import Path

from flask import Blueprint, Response, current_app
from flask_login import current_user, login_required

from kpplan.recommendations.queries import Scope, scope_of

bp = Blueprint("recommendations", __name__)

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@bp.before_request
@login_required
def signed_in_only():
    """Every page of recommendations and follow-ups is for signed-in users."""


def current_scope() -> Scope:
    """Whose follow-ups the signed-in person sees."""
    return scope_of(current_user)


def evidence_folder() -> Path:
    return Path(current_app.config["UPLOAD_FOLDER"]) / "evidence"


def download(body: bytes, filename: str, fmt: str) -> Response:
    """A spreadsheet to save, never kept by a cache: ``fmt`` is "csv" or "xlsx"."""
    mimetype = XLSX if fmt == "xlsx" else "text/csv; charset=utf-8"
    response = Response(body, mimetype=mimetype)
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}.{fmt}"'
    response.headers["Cache-Control"] = "no-store"
    return response
