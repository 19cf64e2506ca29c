"""Where a ``next`` parameter may lead after sign-in: only to a path on this site."""

from __future__ import annotations

from urllib.parse import unquote, urlsplit


def safe_next(target: str | None) -> str | None:
    """Return ``target`` if it is a local path, else None.

    Refuses absolute and scheme-relative URLs (``//evil.example``), backslash tricks that
    browsers read as slashes (``/\\evil.example``), ``https:evil.example`` and the same
    forms percent-encoded, as well as control characters.
    """
    if not target:
        return None
    candidates = [target]
    decoded = target
    for _ in range(3):  # doubly and triply encoded forms too
        decoded = unquote(decoded)
        candidates.append(decoded)
    for candidate in candidates:
        if any(ord(c) < 32 or c == "\x7f" for c in candidate) or "\\" in candidate:
            return None
        if not candidate.startswith("/") or candidate.startswith("//"):
            return None
        parts = urlsplit(candidate)
        if parts.scheme or parts.netloc:
            return None
    return target
