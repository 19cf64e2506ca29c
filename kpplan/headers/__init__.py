"""Security headers and cookie flags that every response carries.

A response to a signed-in person (any page but the static files) holds private data:
``Cache-Control: no-store`` keeps it out of shared caches and the browser's disk, so the
back button of a shared computer shows nothing once its user has signed out. The pages of
figures that answer conditional requests (an ETag, a 304 while nothing changed) are
``private, no-cache`` instead: kept by the browser but asked for again each time.

The session cookie is Flask's signed cookie. Each worker checks the signature of a cookie
once and remembers what it holds (``SessionInterface``), since the same browser sends the
same cookie with every request until the session changes; the cookie's age is still
checked on every request.
"""

from __future__ import annotations

import contextlib
import time

from flask import Flask, Response, request, session
from flask.sessions import SecureCookieSession, SecureCookieSessionInterface
from itsdangerous import BadSignature, URLSafeTimedSerializer

from kpplan.core.etags import PRIVATE_REVALIDATED

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

#: Every response's headers, unless the view set one of them itself.
SECURITY_HEADERS = (
    ("Content-Security-Policy", CONTENT_SECURITY_POLICY),
    ("X-Content-Type-Options", "nosniff"),
    ("Referrer-Policy", "same-origin"),
    ("X-Frame-Options", "DENY"),
    ("Cross-Origin-Opener-Policy", "same-origin"),
    ("Permissions-Policy", "camera=(), microphone=(), geolocation=()"),
)

#: Cookies whose signature a worker remembers having checked (the oldest forgotten first).
MAX_CHECKED_COOKIES = 1024

#: What a remembered cookie may hold: values a request cannot change in place, so that
#: each request's session is a copy of its own (a list of flashed messages is not one).
_PLAIN_VALUES = (str, int, float, bool, type(None))


class _CheckedCookies:
    """One signing key's cookies already checked: cookie -> (what it holds, when signed)."""

    def __init__(self, keys: tuple, serializer: URLSafeTimedSerializer) -> None:
        self.keys = keys
        self.serializer = serializer
        self.cookies: dict[str, tuple[dict, int]] = {}

    def remember(self, cookie: str, data: dict, signed_at: int) -> None:
        if not all(isinstance(value, _PLAIN_VALUES) for value in data.values()):
            return
        if len(self.cookies) >= MAX_CHECKED_COOKIES:
            # Another thread may have dropped it first.
            with contextlib.suppress(KeyError, RuntimeError, StopIteration):
                self.cookies.pop(next(iter(self.cookies)))
        self.cookies[cookie] = (data, signed_at)


class SessionInterface(SecureCookieSessionInterface):
    """Flask's signed cookie, marked Secure whenever the request came over HTTPS, whose
    signature each worker checks once per cookie.

    A cookie already checked is not checked again: the same characters signed by the same
    key hold the same session. Its age still is, on every request, as Flask does
    (``PERMANENT_SESSION_LIFETIME`` from the moment it was signed). A new secret key (or new
    fallbacks) forgets every cookie checked with the old ones.
    """

    def get_cookie_secure(self, app: Flask) -> bool:
        return bool(app.config["SESSION_COOKIE_SECURE"]) or request.is_secure

    def _checked(self, app: Flask) -> _CheckedCookies | None:
        keys = (app.secret_key, tuple(app.config["SECRET_KEY_FALLBACKS"] or ()))
        checked = app.extensions.get("kpplan_checked_cookies")
        if checked is None or checked.keys != keys:
            serializer = super().get_signing_serializer(app)
            if serializer is None:
                return None
            checked = app.extensions["kpplan_checked_cookies"] = _CheckedCookies(keys, serializer)
        return checked

    def get_signing_serializer(self, app: Flask) -> URLSafeTimedSerializer | None:
        checked = self._checked(app)
        return checked.serializer if checked is not None else None

    def open_session(self, app: Flask, request) -> SecureCookieSession | None:
        checked = self._checked(app)
        if checked is None:
            return None
        cookie = request.cookies.get(self.get_cookie_name(app))
        if not cookie:
            return self.session_class()
        max_age = int(app.permanent_session_lifetime.total_seconds())
        known = checked.cookies.get(cookie)
        if known is not None:
            data, signed_at = known
            # As itsdangerous judges a signature's age: whole seconds, never in the future.
            age = int(time.time()) - signed_at
            if 0 <= age <= max_age:
                return self.session_class(data)
            checked.cookies.pop(cookie, None)
            return self.session_class()
        try:
            data, signed = checked.serializer.loads(cookie, max_age=max_age, return_timestamp=True)
        except BadSignature:
            return self.session_class()
        checked.remember(cookie, data, int(signed.timestamp()))
        return self.session_class(data)

    def save_session(self, app: Flask, session, response: Response) -> None:
        # Nothing to write (the usual case, a session only read): only what Flask's own
        # method would then do, without working out every attribute of a cookie unsent.
        if not session.modified and not (
            session.permanent and app.config["SESSION_REFRESH_EACH_REQUEST"]
        ):
            if session.accessed:
                response.vary.add("Cookie")
            return
        super().save_session(app, session, response)


def add_security_headers(response: Response) -> Response:
    headers = response.headers
    # One pass over what the response holds, rather than a search per header.
    present = {name.lower() for name, _ in headers.items()}
    headers.extend(
        [(name, value) for name, value in SECURITY_HEADERS if name.lower() not in present]
    )
    if request.is_secure and "strict-transport-security" not in present:
        headers["Strict-Transport-Security"] = "max-age=31536000"
    # The session names a user: not read from the database again (no query more).
    # Pages of figures with an ETag (``core.etags.with_etag``) are kept "private,
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
