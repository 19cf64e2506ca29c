"""Backups and restores through the commands an operator runs: `flask --app wsgi kpplan backup`
and `kpplan restore`, on SQLite and PostgreSQL, while kpplan goes on writing."""

from __future__ import annotations

import io
import json
import tarfile
import threading
import time
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask_migrate import upgrade

from kpplan import create_app
from kpplan.core.db import utcnow
from kpplan.core.errors import DomainError
from kpplan.core.extensions import db
from kpplan.meetings.models import Document, DocumentKind
from kpplan.operations.archive import DATABASE_FILES
from kpplan.operations.postgres import find_tool
from kpplan.operations.restore import _code_revisions
from kpplan.reminders.planner import tick
from kpplan.seed import seed
from tests.conftest import Factory

SECRET = "the-secret-key-of-the-source"


@pytest.fixture(scope="session")
def postgres_databases(postgres_server_url):
    """Databases of their own on the PostgreSQL server, made once per test run and emptied
    for each test (dropping a database makes the busy server checkpoint: seconds each)."""
    server = sa.make_url(postgres_server_url)
    admin = sa.create_engine(server, isolation_level="AUTOCOMMIT")
    made: dict[str, str] = {}

    def empty(name: str) -> str:
        if name not in made:
            made[name] = f"{server.database}_{name}"
            with admin.connect() as connection:
                connection.execute(sa.text(f'CREATE DATABASE "{made[name]}"'))
        url = server.set(database=made[name])
        engine = sa.create_engine(url, isolation_level="AUTOCOMMIT", poolclass=sa.pool.NullPool)
        with engine.connect() as connection:
            connection.execute(sa.text("DROP SCHEMA public CASCADE"))
            connection.execute(sa.text("CREATE SCHEMA public"))
        engine.dispose()
        return url.render_as_string(hide_password=False)

    yield empty
    with admin.connect() as connection:
        for database in made.values():
            connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture
def new_database(backend, tmp_path, request):
    """An empty database on the backend under test: ``new_database("source")``."""
    if backend == "postgres":
        return request.getfixturevalue("postgres_databases")
    return lambda name: f"sqlite:///{tmp_path / name / 'kpplan.db'}"


def installation(tmp_path: Path, name: str, url: str, **config):
    """An installation of kpplan of its own: instance folder, database, upload folder."""
    instance = tmp_path / name
    instance.mkdir(exist_ok=True)
    settings = {
        "TESTING": True,
        "SQLALCHEMY_DATABASE_URI": url,
        "PASSWORD_HASH_PROFILE": "test",
        "MAIL_SERVER": "",
        **config,
    }
    return create_app(settings, instance_path=str(instance))


def dispose(*apps) -> None:
    for app in apps:
        with app.app_context():
            db.engine.dispose()


@pytest.fixture
def source(new_database, tmp_path):
    """A migrated installation with the reference data, a document, evidence and reminders."""
    app = installation(tmp_path, "source", new_database("source"), SECRET_KEY=SECRET)
    with app.app_context():
        upgrade()
        seed()
    factory = Factory(app)
    activity = factory.activity(title="Workshop on evidence")
    factory.document(activity.id, b"%PDF-1.4\n% the agenda\n")
    recommendation = factory.recommendation(activity.id)
    factory.update(recommendation.follow_ups[0].id, with_file=b"%PDF-1.4\n% the report\n")
    with app.app_context():
        tick(utcnow())
    yield app
    dispose(app)


@pytest.fixture
def target(new_database, tmp_path):
    """An installation just set up: empty database, no uploads, its own new secret key."""
    app = installation(tmp_path, "target", new_database("target"))
    yield app
    dispose(app)


def cli(app, *args: str):
    return app.test_cli_runner().invoke(args=["kpplan", *args])


def table_rows(app) -> dict[str, list[tuple]]:
    """Every row of every table, in primary-key order."""
    with app.app_context(), db.engine.connect() as connection:
        metadata = sa.MetaData()
        metadata.reflect(connection)
        found = {}
        for _, table in sorted(metadata.tables.items()):
            order = list(table.primary_key.columns) or list(table.columns)
            found[table.name] = [
                tuple(r) for r in connection.execute(table.select().order_by(*order))
            ]
        return found


def files_under(folder: Path) -> dict[str, bytes]:
    if not folder.exists():
        return {}
    return {
        p.relative_to(folder).as_posix(): p.read_bytes() for p in folder.rglob("*") if p.is_file()
    }


class DocumentWriter:
    """Adds documents as the web app does (the file, then its row) until stopped."""

    def __init__(self, app, activity_id: int) -> None:
        self.app = app
        self.activity_id = activity_id
        self.written = 0
        self.stop = threading.Event()
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._write)

    def _write(self) -> None:
        folder = Path(self.app.config["UPLOAD_FOLDER"])
        try:
            with self.app.app_context():
                while not self.stop.is_set():
                    number = self.written + 1
                    content = f"%PDF-1.4\n% written while backing up: {number}\n".encode()
                    (folder / f"during-{number}.pdf").write_bytes(content)
                    db.session.add(
                        Document(
                            activity_id=self.activity_id,
                            kind=DocumentKind.REPORT,
                            title=f"Written during the backup {number}",
                            original_name="during.pdf",
                            stored_name=f"during-{number}.pdf",
                            content_type="application/pdf",
                            size=len(content),
                        )
                    )
                    db.session.commit()
                    self.written = number
                    time.sleep(0.005)
                db.session.remove()
        except BaseException as error:  # noqa: BLE001 - reported to the test
            self.error = error

    def wait_for(self, count: int) -> None:
        deadline = time.monotonic() + 30
        while self.written < count:
            assert self.error is None, self.error
            assert time.monotonic() < deadline, "the writer is stuck"
            time.sleep(0.01)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        self.thread.join(30)
        assert self.error is None, self.error


def test_backup_while_writing_then_restore_into_an_empty_installation(source, target, tmp_path):
    uploads = Path(source.config["UPLOAD_FOLDER"])
    with source.app_context():
        seed(demo=True)  # rows in (nearly) every table
        tick(utcnow())
        activity_id = db.session.scalar(sa.select(Document.activity_id))
        documents = db.session.scalar(sa.select(sa.func.count(Document.id)))
    with DocumentWriter(source, activity_id) as writer:
        writer.wait_for(5)
        before = writer.written
        result = cli(source, "backup", str(tmp_path / "backups"))
        after = writer.written
        writer.wait_for(after + 5)
    assert result.exit_code == 0, result.output
    assert before < after, "the writes went on during the backup"
    (archive,) = (tmp_path / "backups").glob("kpplan-backup-*.tar.gz")
    assert "Backed up into" in result.output and archive.stat().st_mode & 0o077 == 0

    restored = cli(target, "restore", str(archive))
    assert restored.exit_code == 0, restored.output
    assert "rows, checked" in restored.output

    # The restored database is the source as it stood at one moment during the backup: every
    # table the same, the documents up to the last one written before that moment.
    now_rows, restored_rows = table_rows(source), table_rows(target)
    assert set(now_rows) == set(restored_rows) and len(restored_rows) > 25
    for table, rows in now_rows.items():
        if table == "documents":
            assert rows[: len(restored_rows[table])] == restored_rows[table]
            assert documents + before <= len(restored_rows[table]) <= documents + after
        elif table == "change_counters":
            # Counted with the documents written meanwhile; every other counter the same.
            def others(counters):
                return [row for row in counters if row[0] != "documents"]

            assert others(rows) == others(restored_rows[table])
        else:
            assert rows == restored_rows[table], table
    assert sum(len(r) > 0 for r in restored_rows.values()) > 20  # the demo fills most tables

    # Every file came back byte for byte, including the evidence and every document the
    # restored database names.
    source_files, target_files = (
        files_under(uploads),
        files_under(Path(target.config["UPLOAD_FOLDER"])),
    )
    assert any(name.startswith("evidence/") for name in target_files)
    for name, content in target_files.items():
        assert source_files[name] == content
    with target.app_context():
        names = db.session.scalars(sa.select(Document.stored_name)).all()
    assert names and all(name in target_files for name in names)

    key = (Path(target.instance_path) / "secret_key").read_text().strip()
    assert key == SECRET


def test_restore_refuses_a_damaged_archive_and_changes_nothing(source, target, tmp_path):
    result = cli(source, "backup", str(tmp_path / "kpplan.tar.gz"))
    assert result.exit_code == 0, result.output
    archive = tmp_path / "kpplan.tar.gz"
    good = archive.read_bytes()

    def refused(content: bytes, says: str) -> None:
        damaged = tmp_path / "damaged.tar.gz"
        damaged.write_bytes(content)
        outcome = cli(target, "restore", str(damaged))
        assert outcome.exit_code == 1, outcome.output
        assert "is damaged or is not a kpplan backup" in outcome.output
        assert says in outcome.output, outcome.output

    refused(good[: len(good) // 2], "")  # cut short
    middle = len(good) // 2
    refused(good[:middle] + bytes([good[middle] ^ 0xFF]) + good[middle + 1 :], "")
    refused(b"not an archive at all", "")
    refused(repack(good, change={"uploads/evidence/": b"%PDF-1.4\n% forged\n"}), "checksum")
    refused(repack(good, drop="secret_key"), "secret_key is missing")
    refused(repack(good, add={"uploads/extra.pdf": b"%PDF"}), "not in its manifest")

    assert table_rows(target) == {}
    assert files_under(Path(target.config["UPLOAD_FOLDER"])) == {}
    assert (Path(target.instance_path) / "secret_key").read_text().strip() != SECRET


def repack(archive: bytes, change=None, drop=None, add=None, rename=None, manifest=None) -> bytes:
    """The archive with a member changed, dropped, added or renamed, and the manifest left as
    it was unless ``manifest`` changes it."""
    members = {}
    with tarfile.open(fileobj=io.BytesIO(archive), mode="r:gz") as source:
        for member in source.getmembers():
            members[member.name] = source.extractfile(member).read()
    for prefix, content in (change or {}).items():
        name = next(n for n in members if n.startswith(prefix))
        members[name] = content
    if drop:
        del members[drop]
    members.update(add or {})
    for old, new in (rename or {}).items():
        members[new] = members.pop(old)
    if manifest:
        data = json.loads(members["manifest.json"])
        manifest(data)
        members["manifest.json"] = json.dumps(data).encode()
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w:gz") as target:
        for name, content in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(content)
            target.addfile(info, io.BytesIO(content))
    return out.getvalue()


def backend_kind(backend: str) -> str:
    return "sqlite" if backend == "sqlite" else "postgresql"


def _at_revision(revision: str):
    def change(manifest: dict) -> None:
        manifest["database"]["revision"] = revision

    return change


def test_restore_refuses_an_archive_of_another_revision_or_database(
    source, target, tmp_path, backend
):
    cli(source, "backup", str(tmp_path / "kpplan.tar.gz"))
    good = (tmp_path / "kpplan.tar.gz").read_bytes()
    newer = tmp_path / "newer.tar.gz"
    newer.write_bytes(repack(good, manifest=_at_revision("9999_from_the_future")))
    outcome = cli(target, "restore", str(newer))
    assert outcome.exit_code == 1
    assert "does not know: it is newer. Restore it with kpplan 0.1.0" in outcome.output

    older = tmp_path / "older.tar.gz"
    older.write_bytes(repack(good, manifest=_at_revision("0010_reminders")))
    outcome = cli(target, "restore", str(older))
    assert outcome.exit_code == 1 and "older than this kpplan's" in outcome.output
    assert "--upgrade" in outcome.output

    other_kind = "postgresql" if backend == "sqlite" else "sqlite"
    ours, theirs = DATABASE_FILES[backend_kind(backend)], DATABASE_FILES[other_kind]

    def other_database(manifest: dict) -> None:
        manifest["database"]["kind"] = other_kind
        for entry in manifest["files"]:
            if entry["path"] == ours:
                entry["path"] = theirs

    other = tmp_path / "other.tar.gz"
    other.write_bytes(repack(good, rename={ours: theirs}, manifest=other_database))
    outcome = cli(target, "restore", str(other))
    assert outcome.exit_code == 1 and f"holds a {other_kind} database" in outcome.output
    assert table_rows(target) == {}


def test_restore_goes_into_an_empty_installation_only(source, target, tmp_path):
    cli(source, "backup", str(tmp_path / "kpplan.tar.gz"))
    uploads = Path(target.config["UPLOAD_FOLDER"])
    uploads.mkdir(parents=True)
    (uploads / "left-over.pdf").write_bytes(b"%PDF")
    outcome = cli(target, "restore", str(tmp_path / "kpplan.tar.gz"))
    assert outcome.exit_code == 1 and "upload folder" in outcome.output
    (uploads / "left-over.pdf").unlink()

    with target.app_context():
        upgrade()
    outcome = cli(target, "restore", str(tmp_path / "kpplan.tar.gz"))
    assert outcome.exit_code == 1 and "is not empty" in outcome.output
    with target.app_context():
        assert db.session.scalar(sa.text("SELECT count(*) FROM users")) == 0


def test_an_archive_of_an_older_revision_restores_with_upgrade(new_database, target, tmp_path):
    old = installation(tmp_path, "old", new_database("old"), SECRET_KEY=SECRET)
    with old.app_context():
        upgrade(revision="0010_reminders")
        db.session.execute(
            sa.text(
                "INSERT INTO states (name, region, is_member, on_steering_committee, version, "
                "created_at, updated_at) VALUES ('Kenya', 'africa', true, false, 1, "
                "'2026-01-01 00:00:00', '2026-01-01 00:00:00')"
            )
        )
        db.session.commit()
    result = cli(old, "backup", str(tmp_path / "old.tar.gz"))
    dispose(old)
    assert result.exit_code == 0, result.output
    assert "revision 0010_reminders" in result.output

    (head,) = _code_revisions()[0]
    outcome = cli(target, "restore", str(tmp_path / "old.tar.gz"), "--upgrade")
    assert outcome.exit_code == 0, outcome.output
    assert f"Upgraded the database to revision {head}" in outcome.output
    with target.app_context():
        assert db.session.scalar(sa.text("SELECT version_num FROM alembic_version")) == head
        assert db.session.scalar(sa.text("SELECT name FROM states")) == "Kenya"


def test_backup_refuses_to_overwrite_and_a_database_made_without_migrations(
    source, new_database, tmp_path
):
    existing = tmp_path / "there.tar.gz"
    existing.write_bytes(b"keep me")
    outcome = cli(source, "backup", str(existing))
    assert outcome.exit_code == 1 and "exists already" in outcome.output
    assert existing.read_bytes() == b"keep me"

    unmigrated = installation(tmp_path, "unmigrated", new_database("unmigrated"))
    with unmigrated.app_context():
        db.create_all()
    outcome = cli(unmigrated, "backup", str(tmp_path / "out"))
    dispose(unmigrated)
    assert outcome.exit_code == 1 and "no migration revision" in outcome.output
    assert not list((tmp_path / "out").glob("*"))  # nothing half-written is left


def test_a_missing_postgresql_tool_says_what_to_install(tmp_path):
    app = installation(tmp_path, "tools", f"sqlite:///{tmp_path / 'tools.db'}")
    with app.app_context(), pytest.raises(DomainError) as refused:
        find_tool("pg_dump", 99)
    assert "pg_dump 99 or later is needed" in refused.value.message
    assert "apt install postgresql-client-99" in refused.value.message
    dispose(app)
