"""The backup archive: what it holds, and what writing and restoring one share.

``backup`` writes an archive, ``restore`` checks one and restores it into an empty
installation.

An archive is a ``.tar.gz`` file holding:

- ``database/kpplan.sqlite`` (a copy made with SQLite's online backup) or
  ``database/kpplan.pgdump`` (``pg_dump``'s custom format, from one snapshot);
- ``uploads/...``: the documents of activities and, under ``uploads/evidence/``, the evidence
  of follow-up updates;
- ``secret_key``: the key that signs sessions;
- ``manifest.json``: the kpplan version, the kind of database and its migration revision, the
  number of rows of every table, and every file with its size and SHA-256.

The database is copied first and the files after it: a document is written before the row
that names it is committed, so every file the copied database names is in the archive (unless
it was deleted meanwhile). Writes go on during a backup; the copy is of one moment.

A restore reads and checks the whole archive before it changes anything: a damaged archive,
one of another kind of database, or one whose revision differs from this kpplan's is refused,
and so is a database or an upload folder that is not empty.
"""

from __future__ import annotations

import hashlib
import tomllib
from pathlib import Path

import sqlalchemy as sa
from flask import Flask

from kpplan.core.errors import DomainError
from kpplan.core.extensions import db

FORMAT = "kpplan-backup"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
SECRET_KEY_FILE = "secret_key"  # noqa: S105 - a file name, not a secret
DATABASE_FILES = {"sqlite": "database/kpplan.sqlite", "postgresql": "database/kpplan.pgdump"}


def kpplan_version() -> str:
    """The version of kpplan that writes or reads the archive (from pyproject.toml)."""
    from kpplan import PROJECT_ROOT

    try:
        with open(PROJECT_ROOT / "pyproject.toml", "rb") as handle:
            return tomllib.load(handle)["project"]["version"]
    except (OSError, KeyError, tomllib.TOMLDecodeError):
        return "unknown"


def sha256(path: Path) -> str:
    """The SHA-256 of the file at ``path``, read a megabyte at a time."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1024 * 1024), b""):
            digest.update(block)
    return digest.hexdigest()


def database_kind() -> str:
    """ "sqlite" or "postgresql"; ``DomainError`` for any other database."""
    name = db.engine.dialect.name
    if name not in DATABASE_FILES:
        raise DomainError(f"kpplan backs up SQLite and PostgreSQL databases, not {name}.")
    return name


def sqlite_path() -> Path:
    """The SQLite database's file; ``DomainError`` for a database in memory."""
    path = db.engine.url.database
    if not path or path == ":memory:" or path.startswith("file:"):
        raise DomainError("The database is in memory: there is no file to back up or restore.")
    return Path(path)


def revision_and_counts(connection: sa.Connection) -> tuple[str | None, dict[str, int]]:
    """The migration revision and the rows of every table, as ``connection`` sees them."""
    tables = sorted(sa.inspect(connection).get_table_names())
    counts = {
        table: connection.execute(
            sa.select(sa.func.count()).select_from(sa.table(table))
        ).scalar_one()
        for table in tables
    }
    revision = None
    if "alembic_version" in tables:
        versions = connection.execute(sa.text("SELECT version_num FROM alembic_version")).scalars()
        revision = ",".join(sorted(versions)) or None
    return revision, counts


def secret_key_source(app: Flask) -> str:
    """Where the key that signs sessions comes from: "instance" (the file kept there) or
    "configuration"."""
    kept = Path(app.instance_path) / SECRET_KEY_FILE
    if kept.exists() and kept.read_text().strip() == app.config["SECRET_KEY"]:
        return "instance"
    return "configuration"
