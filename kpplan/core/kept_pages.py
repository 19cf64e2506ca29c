"""Pages kept as rendered, for their reader, until a table they read changes.

A list page is read far more often than what it shows changes. ``kept_page`` renders a
page once for a reader (``etags.reader_scope``: the address, the Process's day, the
account and its scope, the header's figures, the session's form token) and records every
table its statements read, and every kept figure it took from the memo. The next time
that reader asks for that address, the page is served as it was rendered while the
change counters of those tables are the same (one query), with no other query and no
template. A change to any of them, committed by any worker, renders it again.

Kept only when that holds: a page that read SQL text (whose tables cannot be told; text
made by ``cache.text_reading`` names them), a table whose changes are not counted, or
that changed the session (flashed messages, a first form token), or that is not a plain
200, is rendered every time. A table the database keeps in step with another by itself
(the search's FTS5 table, filled by triggers) is recorded as that other table
(``cache.kept_in_step_with``), whose counter moves with every change of it. Each worker keeps
its own pages, at most ``MAX_PAGES`` and ``MAX_BYTES`` in all, the oldest used dropped.
"""

from __future__ import annotations

import functools
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flask import Response, current_app, request, session
from werkzeug.datastructures import Headers

from kpplan.core.cache import UNKNOWN, change_stamps, counted, reading_tables
from kpplan.core.etags import reader_scope

MAX_PAGES = 512
MAX_BYTES = 64 * 1024 * 1024
#: A page larger than this is rendered each time rather than crowd out the others.
MAX_PAGE_BYTES = 1024 * 1024

#: Read by every kept page's check itself: not a dependency.
_STAMPS_TABLE = "change_counters"


@dataclass(frozen=True)
class KeptPage:
    tables: tuple[str, ...]
    stamps: tuple[int, ...]
    status: int
    headers: tuple[tuple[str, str], ...]
    body: bytes


class KeptPages:
    """The pages one worker keeps, by reader, the most recently used last."""

    def __init__(self) -> None:
        self.pages: OrderedDict[tuple, KeptPage] = OrderedDict()
        self.size = 0

    def get(self, key: tuple) -> KeptPage | None:
        page = self.pages.get(key)
        if page is not None:
            self.pages.move_to_end(key)
        return page

    def drop(self, key: tuple) -> None:
        page = self.pages.pop(key, None)
        if page is not None:
            self.size -= len(page.body)

    def put(self, key: tuple, page: KeptPage) -> None:
        self.drop(key)
        self.pages[key] = page
        self.size += len(page.body)
        while self.pages and (len(self.pages) > MAX_PAGES or self.size > MAX_BYTES):
            _, oldest = self.pages.popitem(last=False)
            self.size -= len(oldest.body)


def kept_pages() -> KeptPages:
    """This worker's kept pages (one store per application, and so per test)."""
    pages = current_app.extensions.get("kpplan_kept_pages")
    if pages is None:
        pages = current_app.extensions["kpplan_kept_pages"] = KeptPages()
    return pages


def _stamps_of(tables: tuple[str, ...]) -> tuple[int, ...]:
    stamps = change_stamps()
    return tuple(stamps.get(name, 0) for name in tables)


def _served(page: KeptPage) -> Response:
    response = Response(page.body, status=page.status, headers=Headers(list(page.headers)))
    if response.get_etag()[0]:
        response.make_conditional(request)
    return response


def _keepable(response: Response, tables: set[str]) -> bool:
    return (
        response.status_code == 200
        and not response.direct_passthrough
        and not response.is_streamed
        and not session.modified
        and "Set-Cookie" not in response.headers
        and UNKNOWN not in tables
        and all(counted(name) for name in tables - {_STAMPS_TABLE})
        and len(response.get_data()) <= MAX_PAGE_BYTES
    )


def kept_page(view: Callable[..., Any]) -> Callable[..., Any]:
    """Serve ``view``'s page as rendered for this reader while nothing it read changed.

    Put it under the access checks (``login_required``, role requirements), which run on
    every request: only the rendering is kept."""

    @functools.wraps(view)
    def keep(*args: Any, **kwargs: Any) -> Any:
        if request.method != "GET" or not current_app.config["KEEP_PAGES"]:
            return view(*args, **kwargs)
        reader = reader_scope()
        if reader is None:
            return view(*args, **kwargs)
        key = (request.endpoint, reader)
        pages = kept_pages()
        page = pages.get(key)
        if page is not None:
            if _stamps_of(page.tables) == page.stamps:
                return _served(page)
            pages.drop(key)
        # Read before rendering: a change committed meanwhile makes the page look older
        # than it is (rendered again next time), never newer.
        change_stamps()
        with reading_tables() as tables:
            response = current_app.make_response(view(*args, **kwargs))
        if _keepable(response, tables):
            read = tuple(sorted(tables - {_STAMPS_TABLE}))
            headers = tuple(
                (name, value)
                for name, value in response.headers.items()
                if name not in ("Content-Length", "Set-Cookie")
            )
            pages.put(
                key,
                KeptPage(
                    read, _stamps_of(read), response.status_code, headers, response.get_data()
                ),
            )
        return response

    keep.kept_page = True  # type: ignore[attr-defined]
    return keep
