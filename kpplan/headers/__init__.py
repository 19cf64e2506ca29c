"""Security headers and cookie flags that every response carries.

A response to a signed-in person (any page but the static files) holds private data:
``Cache-Control: no-store`` keeps it out of shared caches and the browser's disk, so the
back button of a shared computer shows nothing once its user has signed out. The pages of
figures that answer conditional requests (an ETag, a 304 while nothing changed) are
``private, no-cache`` instead: kept by the browser but asked for again each time.
"""

from __future__ import annotations

from flask import Flask, Response, request, session
from flask.sessions import SecureCookieSessionInterface

from kpplan.core.cache import PRIVATE_REVALIDATED

CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)


class SessionInterface(SecureCookieSessionInterface):
    """Marks the session cookie Secure whenever the request came over HTTPS."""

    def get_cookie_secure(self, app: Flask) -> bool:
        return bool(app.config["SESSION_COOKIE_SECURE"]) or request.is_secure


def add_security_headers(response: Response) -> Response:
    headers = response.headers
    headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("Referrer-Policy", "same-origin")
    headers.setdefault("X-Frame-Options", "DENY")
    headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
    headers.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
    if request.is_secure:
        headers.setdefault("Strict-Transport-Security", "max-age=31536000")
    # The session names a user: not read from the database again (no query more).
    # Pages of figures with an ETag (``core.cache.with_etag``) are kept "private,
    # no-cache" instead: the browser asks again each time, and a person signed out is sent
    # to the sign-in page rather than shown them.
    if (
        request.endpoint != "static"
        and session.get("_user_id")
        and headers.get("Cache-Control") != PRIVATE_REVALIDATED
    ):
        headers["Cache-Control"] = "no-store"
        headers.pop("Expires", None)
    return response


def init_app(app: Flask) -> None:
    app.session_interface = SessionInterface()
    app.after_request(add_security_headers)
