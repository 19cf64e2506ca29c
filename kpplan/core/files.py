"""Kept files: uploads checked by their content, stored under generated names, and sent back.

Documents of activities and the evidence of follow-up updates are kept the same way: the
type is read from the content, never from the name, and the name a person gave is cleaned
before it is shown or served.
"""

from __future__ import annotations

import secrets
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import filetype
from flask import abort, send_file
from werkzeug.utils import secure_filename

from kpplan.core.errors import DomainError

# What the secretariat shares: PDF, Word, Excel, PowerPoint and images.
ACCEPTED = {
    "pdf": "application/pdf",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "pptx": "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    "png": "image/png",
    "jpg": "image/jpeg",
    "gif": "image/gif",
    "webp": "image/webp",
}


#: Characters that reorder the text around them: a name such as "report\u202efdp.exe" reads
#: "reportexe.pdf". Left-to-right and right-to-left embeddings, overrides and isolates,
#: the marks, and the Arabic letter mark.
BIDI_CONTROLS = frozenset(
    "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c"
)


def clean_name(name: str | None) -> str:
    """A file name as kpplan shows and serves it: without bidirectional controls or other
    control characters (they can make "exe" read as "pdf"), and without surrounding spaces."""
    return "".join(
        c for c in name or "" if c not in BIDI_CONTROLS and unicodedata.category(c) != "Cc"
    ).strip()


@dataclass(frozen=True)
class Upload:
    stream: BinaryIO
    filename: str


def readable_size(size: int) -> str:
    """A file's size as people read it: "512 bytes", "1.2 kB", "3.4 MB", "20 MB".

    Units of 1024, as the upload limit (``MAX_DOCUMENT_SIZE``) is set, so that a file that
    fits shows no more than the limit; one decimal, none when it is zero.
    """
    if size < 1024:
        return "1 byte" if size == 1 else f"{size} bytes"
    value = float(size)
    for unit in ("kB", "MB", "GB"):
        value /= 1024
        if value < 1024 or unit == "GB":
            break
    return f"{value:.1f}".removesuffix(".0") + f" {unit}"


def _read_limited(stream: BinaryIO, limit: int, field: str = "file") -> bytes:
    data = stream.read(limit + 1)
    if len(data) > limit:
        raise DomainError(
            f"The file is larger than {readable_size(limit)}; share a smaller version.",
            field,
        )
    return data


@dataclass(frozen=True)
class StoredFile:
    original_name: str
    stored_name: str
    content_type: str
    size: int


def store_file(upload: Upload, folder: Path, max_size: int, field: str = "file") -> StoredFile:
    """Check an upload by its content and keep it in ``folder`` under a generated name.

    Raises ``DomainError`` (on ``field``) for an empty or too large file, or one whose
    content is not a PDF, Word, Excel or PowerPoint document or an image, whatever its
    name says. The caller removes the file if its transaction fails.
    """
    data = _read_limited(upload.stream, max_size, field)
    if not data:
        raise DomainError("The file is empty.", field)
    guess = filetype.guess(data)
    if guess is None or guess.extension not in ACCEPTED:
        raise DomainError(
            "kpplan keeps PDF, Word, Excel and PowerPoint documents and images; the content of "
            "this file is none of these, whatever its name says.",
            field,
        )
    original = secure_filename(clean_name(upload.filename)) or f"document.{guess.extension}"
    stored = f"{secrets.token_hex(16)}.{guess.extension}"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / stored).write_bytes(data)
    return StoredFile(original[:200], stored, ACCEPTED[guess.extension], len(data))


def send_kept_file(folder: Path, stored_name: str, content_type: str, download_name: str):
    """The response that downloads a kept file under its original name (cleaned, see
    ``clean_name``: names kept before are cleaned here); 404 when the file is missing from
    ``folder``."""
    path = folder / stored_name
    if not path.is_file():
        abort(404)
    return send_file(
        path,
        mimetype=content_type,
        as_attachment=True,
        download_name=clean_name(download_name) or stored_name,
        max_age=0,
    )
