"""Restoring a backup archive into an empty installation.

The whole archive is read and checked before anything changes: a damaged archive, one of
another kind of database, or one whose revision differs from this kpplan's is refused, and
so is a database or an upload folder that is not empty.
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import tarfile
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import sqlalchemy as sa
from flask import current_app

from kpplan.core.db import SQLITE_BUSY_TIMEOUT_SECONDS
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
    revision_and_counts,
    secret_key_source,
    sha256,
    sqlite_path,
)


@dataclass
class RestoreResult:
    manifest: dict
    upgraded_to: str | None = None
    notes: list[str] = field(default_factory=list)


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
        if path.stat().st_size != entry["size"] or sha256(path) != entry["sha256"]:
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
    if kind != database_kind():
        raise DomainError(
            f"This archive holds a {kind} database and this installation uses "
            f"{database_kind()}: set DATABASE_URL to a {kind} database to restore it."
        )
    if kind == "sqlite":
        path = sqlite_path()
        tables = _sqlite_tables(path) if path.exists() else []
    else:
        with db.engine.connect() as connection:
            tables = sa.inspect(connection).get_table_names()
    if tables:
        where = sqlite_path() if kind == "sqlite" else db.engine.url.database
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
        target = sqlite_path()
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
            _, counts = revision_and_counts(connection)
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
        configured = secret_key_source(app) == "configuration"
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
