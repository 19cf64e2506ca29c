"""One archive with everything kpplan keeps, and its restore into an empty installation.

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
import io
import json
import os
import shutil
import sqlite3
import tarfile
import tempfile
import time
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

import sqlalchemy as sa
from flask import Flask, current_app

from kpplan.core.db import SQLITE_BUSY_TIMEOUT_SECONDS, utcnow
from kpplan.core.errors import DomainError
from kpplan.core.extensions import db
from kpplan.operations import postgres

FORMAT = "kpplan-backup"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
SECRET_KEY_FILE = "secret_key"  # noqa: S105 - a file name, not a secret
DATABASE_FILES = {"sqlite": "database/kpplan.sqlite", "postgresql": "database/kpplan.pgdump"}


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


@dataclass
class RestoreResult:
    manifest: dict
    upgraded_to: str | None = None
    notes: list[str] = field(default_factory=list)


def kpplan_version() -> str:
    from kpplan import PROJECT_ROOT

    try:
        with open(PROJECT_ROOT / "pyproject.toml", "rb") as handle:
            return tomllib.load(handle)["project"]["version"]
    except (OSError, KeyError, tomllib.TOMLDecodeError):
        return "unknown"


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1024 * 1024), b""):
            digest.update(block)
    return digest.hexdigest()


def _database_kind() -> str:
    name = db.engine.dialect.name
    if name not in DATABASE_FILES:
        raise DomainError(f"kpplan backs up SQLite and PostgreSQL databases, not {name}.")
    return name


def _sqlite_path() -> Path:
    path = db.engine.url.database
    if not path or path == ":memory:" or path.startswith("file:"):
        raise DomainError("The database is in memory: there is no file to back up or restore.")
    return Path(path)


def _revision_and_counts(connection: sa.Connection) -> tuple[str | None, dict[str, int]]:
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


def _sqlite_state(path: Path) -> tuple[str | None, dict[str, int]]:
    engine = sa.create_engine(f"sqlite:///{path}", poolclass=sa.pool.NullPool)
    try:
        with engine.connect() as connection:
            return _revision_and_counts(connection)
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
            revision, counts = _revision_and_counts(connection)
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


def _secret_key_source(app: Flask) -> str:
    kept = Path(app.instance_path) / SECRET_KEY_FILE
    if kept.exists() and kept.read_text().strip() == app.config["SECRET_KEY"]:
        return "instance"
    return "configuration"


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
    kind = _database_kind()
    path = _archive_path(destination)
    files: list[dict] = []
    with tempfile.TemporaryDirectory(dir=path.parent, prefix=".kpplan-backup-") as work:
        work_dir = Path(work)
        copy = work_dir / "database"
        if kind == "sqlite":
            _copy_sqlite(_sqlite_path(), copy)
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
            files.append({"path": member, "size": copy.stat().st_size, "sha256": _sha256(copy)})
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
                "secret_key": _secret_key_source(app),
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


# Restoring ----------------------------------------------------------------------------------


def _damaged(source: Path, why: str) -> DomainError:
    return DomainError(f"{source} is damaged or is not a kpplan backup: {why}")


def read_archive(source: Path, into: Path) -> dict:
    """Unpack ``source`` into the folder ``into`` and check it against its manifest; returns
    the manifest. Raises ``DomainError`` for anything missing, added or changed."""
    try:
        with tarfile.open(source, "r:*") as archive:
            members = archive.getmembers()
            for member in members:
                if not (member.isfile() or member.isdir()):
                    raise _damaged(source, f"{member.name} is neither a file nor a folder.")
            archive.extractall(into, members=members, filter="data")
    except (tarfile.TarError, EOFError, OSError, ValueError) as error:
        raise _damaged(source, str(error) or type(error).__name__) from error
    try:
        manifest = json.loads((into / MANIFEST).read_text())
        listed = {entry["path"]: entry for entry in manifest["files"]}
        kind = manifest["database"]["kind"]
        if not isinstance(manifest["database"]["revision"], str) or not isinstance(
            manifest["database"]["tables"], dict
        ):
            raise TypeError("no database revision or tables")
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise _damaged(source, f"its manifest cannot be read ({error}).") from error
    if manifest.get("format") != FORMAT or manifest.get("format_version") != FORMAT_VERSION:
        raise _damaged(source, "its manifest is not that of a kpplan backup of this format.")
    present = {p.relative_to(into).as_posix() for p in into.rglob("*") if p.is_file()} - {MANIFEST}
    if kind not in DATABASE_FILES or DATABASE_FILES[kind] not in listed:
        raise _damaged(source, "it holds no database.")
    if SECRET_KEY_FILE not in listed:
        raise _damaged(source, "it holds no secret key.")
    missing, added = sorted(set(listed) - present), sorted(present - set(listed))
    if missing:
        raise _damaged(source, f"{', '.join(missing)} is missing.")
    if added:
        raise _damaged(source, f"{', '.join(added)} is not in its manifest.")
    for name, entry in sorted(listed.items()):
        path = into / name
        if path.stat().st_size != entry["size"] or _sha256(path) != entry["sha256"]:
            raise _damaged(source, f"{name} does not match its checksum.")
    return manifest


def _code_revisions() -> tuple[list[str], object]:
    from alembic.script import ScriptDirectory

    from kpplan import PROJECT_ROOT

    script = ScriptDirectory(str(PROJECT_ROOT / "migrations"))
    return sorted(script.get_heads()), script


def check_revision(manifest: dict, upgrade: bool) -> bool:
    """Whether the archive's revision is this kpplan's; raises ``DomainError`` when it is
    not and cannot be made so. Returns True when the restore must upgrade afterwards."""
    from alembic.util import CommandError

    heads, script = _code_revisions()
    revision = manifest["database"]["revision"]
    made_by = manifest.get("kpplan_version", "unknown")
    if revision == ",".join(heads):
        return False
    try:
        known = all(script.get_revision(r) is not None for r in revision.split(","))
    except CommandError:
        known = False
    if not known:
        raise DomainError(
            f"This archive was made by kpplan {made_by} at database revision {revision}, which "
            f"this kpplan (revision {', '.join(heads)}) does not know: it is newer. Restore it "
            f"with kpplan {made_by}."
        )
    if not upgrade:
        raise DomainError(
            f"This archive was made by kpplan {made_by} at database revision {revision}, older "
            f"than this kpplan's ({', '.join(heads)}). Restore it with kpplan {made_by}, or "
            "here with --upgrade, which applies the migrations from its revision to this one "
            "once it is restored."
        )
    return True


def _check_empty_target(kind: str) -> None:
    if kind != _database_kind():
        raise DomainError(
            f"This archive holds a {kind} database and this installation uses "
            f"{_database_kind()}: set DATABASE_URL to a {kind} database to restore it."
        )
    if kind == "sqlite":
        path = _sqlite_path()
        tables = _sqlite_tables(path) if path.exists() else []
    else:
        with db.engine.connect() as connection:
            tables = sa.inspect(connection).get_table_names()
    if tables:
        where = _sqlite_path() if kind == "sqlite" else db.engine.url.database
        raise DomainError(
            f"The database ({where}) is not empty: it has {len(tables)} tables. A restore goes "
            "into an empty database only: "
            + (
                "move the file away (with its -wal and -shm files) and try again."
                if kind == "sqlite"
                else "drop it and create it again (dropdb, createdb -O <owner>), then try again."
            )
        )
    uploads = Path(current_app.config["UPLOAD_FOLDER"])
    if uploads.is_dir() and any(uploads.iterdir()):
        raise DomainError(
            f"The upload folder ({uploads}) is not empty: a restore fills an empty one only. "
            "Move it away and try again."
        )


def _sqlite_tables(path: Path) -> list[str]:
    with sqlite3.connect(path, timeout=SQLITE_BUSY_TIMEOUT_SECONDS) as connection:
        found = [
            name
            for (name,) in connection.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
            )
        ]
    connection.close()
    return found


def _restore_database(kind: str, copy: Path) -> None:
    db.engine.dispose()
    if kind == "sqlite":
        target = _sqlite_path()
        target.parent.mkdir(parents=True, exist_ok=True)
        with (
            sqlite3.connect(copy) as reader,
            sqlite3.connect(target, timeout=SQLITE_BUSY_TIMEOUT_SECONDS) as writer,
        ):
            reader.backup(writer)
        reader.close()
        writer.close()
        return
    with db.engine.connect() as connection:
        pg_restore = postgres.find_tool("pg_restore", postgres.server_major_version(connection))
    address, env = postgres.connection_arguments(db.engine.url)
    postgres.run_tool(
        [
            pg_restore,
            "--no-owner",
            "--no-privileges",
            "--single-transaction",
            "--exit-on-error",
            f"--dbname={address}",
            str(copy),
        ],
        env,
        "Restoring the database",
    )


def restore_backup(source: Path, upgrade: bool = False) -> RestoreResult:
    """Restore an archive made by ``make_backup`` into this installation, which must have an
    empty database and an empty upload folder.

    Every file is checked against the manifest, and the database kind and revision against
    this installation, before anything is written. With ``upgrade``, an archive of an older
    revision is restored and then migrated to this kpplan's. Raises ``DomainError`` saying
    why and what to do when the archive or the installation does not fit.
    """
    app = current_app._get_current_object()
    instance = Path(app.instance_path)
    with tempfile.TemporaryDirectory(dir=instance, prefix=".kpplan-restore-") as work:
        unpacked = Path(work)
        manifest = read_archive(source, unpacked)
        kind = manifest["database"]["kind"]
        must_upgrade = check_revision(manifest, upgrade)
        _check_empty_target(kind)
        result = RestoreResult(manifest)

        _restore_database(kind, unpacked / DATABASE_FILES[kind])
        with db.engine.connect() as connection:
            _, counts = _revision_and_counts(connection)
        if counts != manifest["database"]["tables"]:
            raise DomainError(
                "The restored database does not hold the rows the archive lists "
                f"({sum(counts.values())} rows instead of "
                f"{sum(manifest['database']['tables'].values())}); do not use it."
            )

        uploads = Path(app.config["UPLOAD_FOLDER"])
        from_archive = unpacked / "uploads"
        if from_archive.is_dir():
            shutil.copytree(from_archive, uploads, dirs_exist_ok=True)

        key = (unpacked / SECRET_KEY_FILE).read_text().strip()
        configured = _secret_key_source(app) == "configuration"
        kept = instance / SECRET_KEY_FILE
        temporary = kept.with_suffix(".restoring")
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(key + "\n")
        os.replace(temporary, kept)
    if configured and app.config["SECRET_KEY"] != key:
        result.notes.append(
            f"The archive's secret key is now in {kept}, but SECRET_KEY is set in the "
            "configuration (instance/config.py or KPPLAN_SECRET_KEY) to another value, which "
            "wins: set it to the archive's key, or remove it, to keep sessions valid."
        )
    if must_upgrade:
        from flask_migrate import upgrade as migrate_upgrade

        migrate_upgrade()
        result.upgraded_to = ",".join(_code_revisions()[0])
    return result
