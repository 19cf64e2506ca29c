"""Writing a backup archive of the whole installation (see ``archive`` for what it holds):
the database first, then the uploads and the key that signs sessions, and a manifest of
them all."""

from __future__ import annotations

import hashlib
import io
import json
import os
import sqlite3
import tarfile
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import sqlalchemy as sa
from flask import current_app

from kpplan.core.db import SQLITE_BUSY_TIMEOUT_SECONDS, utcnow
from kpplan.core.errors import DomainError
from kpplan.core.extensions import db
from kpplan.operations import postgres
from kpplan.operations.archive import (
    DATABASE_FILES,
    FORMAT,
    FORMAT_VERSION,
    MANIFEST,
    SECRET_KEY_FILE,
    database_kind,
    kpplan_version,
    revision_and_counts,
    secret_key_source,
    sha256,
    sqlite_path,
)


@dataclass
class BackupResult:
    path: Path
    size: int
    seconds: float
    manifest: dict = field(default_factory=dict)

    @property
    def rows(self) -> int:
        return sum(self.manifest["database"]["tables"].values())

    @property
    def uploads(self) -> int:
        return sum(1 for f in self.manifest["files"] if f["path"].startswith("uploads/"))


def _sqlite_state(path: Path) -> tuple[str | None, dict[str, int]]:
    engine = sa.create_engine(f"sqlite:///{path}", poolclass=sa.pool.NullPool)
    try:
        with engine.connect() as connection:
            return revision_and_counts(connection)
    finally:
        engine.dispose()


def _copy_sqlite(source: Path, target: Path) -> None:
    """Copy a live SQLite database page by page with its online backup, in one step: one
    consistent moment, while other connections go on writing (the write-ahead log lets them)."""
    if not source.exists():
        raise DomainError(f"There is no database at {source}.")
    timeout = SQLITE_BUSY_TIMEOUT_SECONDS
    with (
        sqlite3.connect(source, timeout=timeout) as reader,
        sqlite3.connect(target, timeout=timeout) as writer,
    ):
        reader.backup(writer)
    # The context managers commit but do not close.
    reader.close()
    writer.close()


def _dump_postgres(target: Path) -> tuple[str | None, dict[str, int]]:
    """pg_dump the database into ``target``, counting rows in the very snapshot it dumps."""
    with db.engine.connect() as connection:
        connection = connection.execution_options(isolation_level="REPEATABLE READ")
        with connection.begin():
            connection.exec_driver_sql("SET TRANSACTION READ ONLY")
            snapshot = connection.exec_driver_sql("SELECT pg_export_snapshot()").scalar_one()
            revision, counts = revision_and_counts(connection)
            pg_dump = postgres.find_tool("pg_dump", postgres.server_major_version(connection))
            address, env = postgres.connection_arguments(db.engine.url)
            postgres.run_tool(
                [
                    pg_dump,
                    "--format=custom",
                    f"--snapshot={snapshot}",
                    f"--file={target}",
                    f"--dbname={address}",
                ],
                env,
                "Dumping the database",
            )
    return revision, counts


def _archive_path(destination: Path) -> Path:
    """A name ending in .tar.gz is the archive's; anything else is a folder to put it in."""
    if destination.name.endswith(".tar.gz"):
        if destination.exists():
            raise DomainError(f"{destination} exists already: choose another name or a folder.")
        destination.parent.mkdir(parents=True, exist_ok=True)
        return destination
    if destination.exists() and not destination.is_dir():
        raise DomainError(f"{destination} is a file: give a folder, or a name ending in .tar.gz.")
    destination.mkdir(parents=True, exist_ok=True)
    stamp = utcnow().strftime("%Y%m%d-%H%M%S")
    path = destination / f"kpplan-backup-{stamp}.tar.gz"
    if path.exists():
        raise DomainError(f"{path} exists already: wait a second and try again.")
    return path


def make_backup(destination: Path) -> BackupResult:
    """Write one archive of the database, the uploaded files and the secret key.

    ``destination`` is the archive's file name when it ends in ``.tar.gz``, else a folder
    (made if missing) to write ``kpplan-backup-<UTC time>.tar.gz`` in. The archive is written
    under a temporary name and renamed when complete, readable by its owner only (it holds
    every password hash and the secret key). Raises ``DomainError`` when the database cannot
    be copied.
    """
    app = current_app._get_current_object()
    started = time.monotonic()
    kind = database_kind()
    path = _archive_path(destination)
    files: list[dict] = []
    with tempfile.TemporaryDirectory(dir=path.parent, prefix=".kpplan-backup-") as work:
        work_dir = Path(work)
        copy = work_dir / "database"
        if kind == "sqlite":
            _copy_sqlite(sqlite_path(), copy)
            revision, counts = _sqlite_state(copy)
        else:
            revision, counts = _dump_postgres(copy)
        if revision is None:
            raise DomainError(
                "The database has no migration revision: it was not made with "
                "`flask --app wsgi db upgrade`, and a restore could not check it."
            )
        partial = work_dir / "archive.tar.gz"
        with tarfile.open(partial, "w:gz") as archive:
            member = DATABASE_FILES[kind]
            archive.add(copy, arcname=member, recursive=False)
            files.append({"path": member, "size": copy.stat().st_size, "sha256": sha256(copy)})
            files.extend(_add_uploads(archive, Path(app.config["UPLOAD_FOLDER"])))
            key = (app.config["SECRET_KEY"] + "\n").encode()
            _add_bytes(archive, SECRET_KEY_FILE, key)
            files.append(
                {
                    "path": SECRET_KEY_FILE,
                    "size": len(key),
                    "sha256": hashlib.sha256(key).hexdigest(),
                }
            )
            manifest = {
                "format": FORMAT,
                "format_version": FORMAT_VERSION,
                "created_at": utcnow().isoformat(timespec="seconds"),
                "kpplan_version": kpplan_version(),
                "database": {"kind": kind, "revision": revision, "tables": counts},
                "secret_key": secret_key_source(app),
                "files": files,
            }
            _add_bytes(archive, MANIFEST, json.dumps(manifest, indent=2).encode())
        with open(partial, "rb") as handle:
            os.fsync(handle.fileno())
        os.chmod(partial, 0o600)
        os.replace(partial, path)
    return BackupResult(path, path.stat().st_size, time.monotonic() - started, manifest)


def _add_bytes(archive: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    info.mtime = int(time.time())
    info.mode = 0o600
    archive.addfile(info, io.BytesIO(data))


def _add_uploads(archive: tarfile.TarFile, folder: Path) -> list[dict]:
    """Add every file under the upload folder, each read once so that what is archived is
    what was checksummed; a file deleted meanwhile is left out."""
    added = []
    if not folder.is_dir():
        return added
    for path in sorted(p for p in folder.rglob("*") if p.is_file() and not p.is_symlink()):
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            continue
        name = "uploads/" + path.relative_to(folder).as_posix()
        _add_bytes(archive, name, data)
        added.append({"path": name, "size": len(data), "sha256": hashlib.sha256(data).hexdigest()})
    return added
