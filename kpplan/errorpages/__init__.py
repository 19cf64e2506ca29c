"""Error pages in the site's layout, and no 500 for a request the rules refuse."""

from __future__ import annotations

from flask import Flask, render_template
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError
from werkzeug.exceptions import HTTPException

from kpplan.core.errors import DomainError, StaleEdit
from kpplan.core.extensions import db

MESSAGES = {
    400: ("Bad request", "The request could not be understood."),
    403: ("Not allowed", "Your account does not give access to this page or action."),
    404: ("Not found", "There is no such page. It may have been moved, or the address mistyped."),
    405: ("Not allowed", "This address does not accept that kind of request."),
    409: ("Changed meanwhile", "Someone else changed this record; reload and try again."),
    413: ("Too large", "What you sent is larger than kpplan accepts."),
    429: ("Please wait", "Too many attempts; please wait a little and try again."),
    500: (
        "Something went wrong",
        "kpplan could not complete the request. Nothing was saved; the error has been logged.",
    ),
}


def _page(code: int, message: str | None = None):
    title, default = MESSAGES.get(code, ("Error", "The request could not be completed."))
    return render_template(
        "errors/error.html", code=code, title=title, message=message or default
    ), code


def init_app(app: Flask) -> None:
    @app.errorhandler(CSRFError)
    def csrf_error(error: CSRFError):
        return _page(
            400,
            "The form had expired or did not come from kpplan. Go back, reload the page and "
            "send it again.",
        )

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException):
        if error.code is None or error.code < 400:
            return error
        return _page(error.code)

    @app.errorhandler(DomainError)
    def domain_error(error: DomainError):
        db.session.rollback()
        return _page(error.status_code if error.status_code >= 400 else 400, error.message)

    @app.errorhandler(StaleDataError)
    def changed_meanwhile(error: StaleDataError):
        # Forms go through core.requests.save_form, which keeps what was typed; this is for
        # the other writes (a button, a move), which would otherwise end in a 500.
        db.session.rollback()
        return _page(409, StaleEdit.at_the_same_moment().message)

    @app.errorhandler(IntegrityError)
    def taken_meanwhile(error: IntegrityError):
        # A unique key taken by a concurrent request after the service checked it.
        db.session.rollback()
        return _page(
            409,
            "Someone else saved the same thing (a name, a code or a date that must be unique) "
            "at the same moment. Nothing was saved: go back, check and send it again.",
        )

    @app.errorhandler(500)
    def server_error(error):
        db.session.rollback()
        return _page(500)
