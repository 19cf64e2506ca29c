"""Conditional GET: the ETag of a page made of the change counters of the tables it shows
(``core.cache``), the layout's tables and its reader's scope, and the 304 when the browser
already has that version. Also what a kept page is kept for (``reader_scope``)."""

from __future__ import annotations

import hashlib
from collections.abc import Hashable
from typing import Any

from flask import Response, g, request, session
from flask_login import current_user
from flask_wtf.csrf import generate_csrf

from kpplan.core.cache import change_stamp, watch
from kpplan.core.clock import today


def etag_for(*parts: Hashable) -> str:
    """A strong ETag made of ``parts`` (change stamps, the reader's scope, the address)."""
    return hashlib.sha256(repr(parts).encode()).hexdigest()[:32]


#: Kept by the browser for its reader only, and asked for again every time.
PRIVATE_REVALIDATED = "private, no-cache"


#: What the layout of every page shows (the Chair of the header, the reader's state),
#: registered by the features that draw it.
_EVERY_PAGE: list[Any] = []


def stamp_every_page_with(*models: Any) -> None:
    """Make ``models``' tables part of every page's ETag (they are in its layout)."""
    watch(*models)
    _EVERY_PAGE.extend(m for m in models if m not in _EVERY_PAGE)


def reader_scope() -> tuple | None:
    """What a page shows depends on besides its data, for the signed-in reader: their
    account and scope, the figures the header shows beside them (the bell's unread count,
    the Process's timezone: ``g.signed_in_figures``, loaded with the user), the session's
    form token (the sign-out button carries it), the address and the Process's day. None
    when the page will show flashed messages (shown once)."""
    if session.get("_flashes"):
        return None
    user = current_user._get_current_object()
    token = session.get("csrf_token")
    if not token:
        generate_csrf()  # the session's token, made now for its first page
        token = session.get("csrf_token") or ""
    figures = g.get("signed_in_figures") or {}
    return (
        request.full_path,
        today(),
        getattr(user, "id", None),
        getattr(user, "name", None),
        str(getattr(user, "role", "")),
        getattr(user, "state_id", None),
        tuple(sorted((name, str(value)) for name, value in figures.items())),
        hashlib.sha256(token.encode()).hexdigest(),
    )


def page_etag(*models: Any) -> str | None:
    """The ETag of a page that shows figures read from ``models``' tables and the layout
    (``stamp_every_page_with``), for its reader (``reader_scope``); None when the page
    will show flashed messages."""
    reader = reader_scope()
    if reader is None:
        return None
    return etag_for(reader, change_stamp(*_EVERY_PAGE, *models))


def _validators(response: Response, etag: str) -> Response:
    response.set_etag(etag)
    # The page depends on who reads it: no shared cache keeps it, and the browser asks
    # every time (and gets a 304 while nothing changed).
    response.headers["Cache-Control"] = PRIVATE_REVALIDATED
    response.vary.add("Cookie")
    return response


def unchanged(etag: str) -> Response | None:
    """A 304 when the browser already has the version ``etag`` names, else None: asked
    before the page is computed, so an unchanged page costs only its stamps.

    Only for pages without forms or flashed messages, whose body depends on nothing but
    what the ETag is made of."""
    if request.if_none_match.contains(etag):
        return _validators(Response(status=304), etag)
    return None


def with_etag(response: Response, etag: str) -> Response:
    """``response`` with its ETag and the headers that keep it private."""
    return _validators(response, etag)
