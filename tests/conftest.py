"""Fixtures: an app per test on SQLite (and on PostgreSQL when KPPLAN_TEST_POSTGRES_URL is
set), a client, a CLI runner, factories, sign-in as any role, and a query counter."""

from __future__ import annotations

import contextlib
import os
import uuid
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy import event

from kpplan import create_app
from kpplan.chair.models import Chairmanship, TargetPrecision, WorkPlan, WorkPlanItem
from kpplan.config import normalise_database_url
from kpplan.core.db import utcnow
from kpplan.core.extensions import db
from kpplan.core.passwords import hash_password
from kpplan.directory.models import Organisation, OrganisationKind, Region, Role, State, User
from kpplan.directory.reference import load_reference_data
from kpplan.meetings.kinds import ActivityKind
from kpplan.meetings.models import (
    Activity,
    ActivityLink,
    ActivityStateRole,
    Document,
    DocumentKind,
    Format,
    Milestone,
    Relation,
    StateRole,
    Status,
)
from kpplan.recommendations.models import (  # noqa: E402
    Evidence,
    FollowUp,
    FollowUpStatus,
    Priority,
    Recommendation,
    RecommendationTheme,
    StatusUpdate,
    Validation,
)
from kpplan.recommendations.services import code_for  # noqa: E402

PASSWORD = "correct horse battery"
POSTGRES_URL = os.environ.get("KPPLAN_TEST_POSTGRES_URL")
IN_CI = os.environ.get("CI") == "true"


def _backends() -> list:
    backends = [pytest.param("sqlite", id="sqlite")]
    if POSTGRES_URL or IN_CI:
        backends.append(pytest.param("postgres", id="postgres", marks=pytest.mark.postgres))
    return backends


@pytest.fixture(scope="session")
def postgres_server_url() -> Iterator[str]:
    """A database of its own for this test run, on the server KPPLAN_TEST_POSTGRES_URL names."""
    if not POSTGRES_URL:
        pytest.fail("CI=true but KPPLAN_TEST_POSTGRES_URL is not set: .ci/run must set it.")
    server = sa.make_url(normalise_database_url(POSTGRES_URL))
    name = f"kpplan_test_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
    try:
        yield server.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(scope="session")
def postgres_schema(postgres_server_url) -> str:
    """The test database with every table created once; each test empties it afterwards."""
    app = create_app(_test_config(postgres_server_url))
    with app.app_context():
        db.create_all()
        db.engine.dispose()
    return postgres_server_url


def _test_config(url: str, **extra) -> dict:
    return {
        "TESTING": True,
        "SECRET_KEY": "test-secret-key",
        "SQLALCHEMY_DATABASE_URI": url,
        "WTF_CSRF_ENABLED": False,
        "PASSWORD_HASH_PROFILE": "test",
        **extra,
    }


@pytest.fixture(params=_backends())
def backend(request) -> str:
    return request.param


@pytest.fixture
def database_url(backend, tmp_path, request) -> str:
    if backend == "sqlite":
        return f"sqlite:///{tmp_path / 'kpplan-test.db'}"
    return request.getfixturevalue("postgres_schema")


@pytest.fixture
def app_config() -> dict:
    """Override in a test module to change the configuration of its app."""
    return {}


@pytest.fixture
def app(backend, database_url, tmp_path, app_config):
    # No app context stays pushed while the test runs: requests would share it (and its
    # ``g``) instead of getting their own, as they do in production.
    app = create_app(_test_config(database_url, **app_config), instance_path=str(tmp_path))
    with app.app_context():
        if backend == "sqlite":
            db.create_all()
        load_reference_data()
        db.session.commit()
    yield app
    with app.app_context():
        if backend == "postgres":
            tables = ", ".join(f'"{t.name}"' for t in db.metadata.sorted_tables)
            with db.engine.begin() as connection:
                connection.execute(sa.text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
        db.engine.dispose()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


def state_named(name: str) -> State:
    return db.session.scalars(sa.select(State).where(State.name == name)).one()


class Factory:
    """Builds records straight in the database, for the arrange step of tests.

    Each record comes back detached with its columns loaded, usable outside an app context.
    """

    def __init__(self, app) -> None:
        self.app = app
        self.count = 0

    def _save(self, obj):
        db.session.add(obj)
        db.session.commit()
        db.session.refresh(obj)
        db.session.expunge(obj)
        return obj

    def user(
        self,
        role: Role = Role.OBSERVER,
        state: str | State | None = None,
        email: str | None = None,
        name: str | None = None,
        active: bool = True,
        is_alternate: bool = False,
        password: str = PASSWORD,
    ) -> User:
        self.count += 1
        with self.app.app_context():
            if isinstance(state, str):
                state = state_named(state)
            user = User(
                name=name or f"{role.label} {self.count}",
                email=email or f"{role.value}.{self.count}@kpplan.example",
                role=role,
                state_id=state.id if state else None,
                active=active,
                is_alternate=is_alternate,
                password_hash=hash_password(password),
            )
            return self._save(user)

    def organisation(self, name: str | None = None) -> Organisation:
        self.count += 1
        with self.app.app_context():
            org = Organisation(name=name or f"Organisation {self.count}", kind=OrganisationKind.NGO)
            return self._save(org)

    def activity(
        self,
        title: str | None = None,
        kind: ActivityKind = ActivityKind.THEMATIC_MEETING,
        start: date = date(2026, 3, 10),
        days: int = 2,
        status: Status = Status.PLANNED,
        host: str | None = None,
        co_hosts: tuple[str, ...] = (),
        format: Format = Format.IN_PERSON,
        theme: str | None = None,
        milestones: bool = False,
    ) -> Activity:
        self.count += 1
        with self.app.app_context():
            activity = Activity(
                kind=kind,
                title=title or f"Thematic Meeting {self.count}",
                theme=theme,
                start_date=start,
                end_date=start + timedelta(days=days - 1),
                format=format,
                status=status,
            )
            if host:
                activity.state_roles.append(
                    ActivityStateRole(state=state_named(host), role=StateRole.HOST)
                )
            for name in co_hosts:
                activity.state_roles.append(
                    ActivityStateRole(state=state_named(name), role=StateRole.CO_HOST)
                )
            if milestones:
                activity.milestones.append(
                    Milestone(name="Agenda", due_date=start - timedelta(days=30))
                )
            db.session.add(activity)
            db.session.commit()
            db.session.refresh(activity)
            # Load what tests read before the record leaves the session.
            for milestone in activity.milestones:
                db.session.refresh(milestone)
            for role in activity.state_roles:
                db.session.refresh(role)
            db.session.expunge_all()
            return activity

    def link(self, source_id: int, target_id: int, relation=None) -> ActivityLink:
        with self.app.app_context():
            return self._save(
                ActivityLink(
                    source_id=source_id,
                    target_id=target_id,
                    relation=relation or Relation.PREPARES,
                )
            )

    def document(self, activity_id: int, content: bytes = b"%PDF-1.4\n%test\n") -> Document:
        """A PDF kept for the activity the way an upload keeps it."""
        with self.app.app_context():
            folder = Path(self.app.config["UPLOAD_FOLDER"])
            folder.mkdir(parents=True, exist_ok=True)
            self.count += 1
            stored = f"test{self.count}.pdf"
            (folder / stored).write_bytes(content)
            return self._save(
                Document(
                    activity_id=activity_id,
                    kind=DocumentKind.AGENDA,
                    title=f"Agenda {self.count}",
                    original_name="agenda.pdf",
                    stored_name=stored,
                    content_type="application/pdf",
                    size=len(content),
                )
            )

    def recommendation(
        self,
        activity_id: int,
        states: tuple[str, ...] = ("Kenya", "Italy"),
        organisations: tuple[int, ...] = (),
        secretariat: bool = False,
        text: str | None = None,
        target: date | None = date(2026, 12, 31),
        themes: tuple[str, ...] = ("RD3",),
    ) -> Recommendation:
        """A recommendation with one follow-up per addressee (``follow_ups`` loaded)."""
        with self.app.app_context():
            activity = db.session.get(Activity, activity_id)
            self.count += 1
            number = 1 + len(
                db.session.scalars(
                    sa.select(Recommendation.id).where(Recommendation.activity_id == activity_id)
                ).all()
            )
            recommendation = Recommendation(
                activity=activity,
                number=number,
                code=code_for(activity, number),
                text=text or f"Recommendation {self.count}: strengthen cooperation.",
                priority=Priority.MEDIUM,
                target_date=target,
            )
            for code in themes:
                recommendation.themes.append(RecommendationTheme(code=code))
            for name in states:
                recommendation.follow_ups.append(
                    FollowUp(state=state_named(name), next_review_date=target)
                )
            for organisation_id in organisations:
                recommendation.follow_ups.append(
                    FollowUp(organisation_id=organisation_id, next_review_date=target)
                )
            if secretariat:
                recommendation.follow_ups.append(
                    FollowUp(for_secretariat=True, next_review_date=target)
                )
            db.session.add(recommendation)
            db.session.commit()
            db.session.refresh(recommendation)
            for follow_up in recommendation.follow_ups:
                db.session.refresh(follow_up)
            db.session.expunge_all()
            return recommendation

    def follow_up_of(self, recommendation: Recommendation, state: str) -> FollowUp:
        with self.app.app_context():
            found = db.session.scalar(
                sa.select(FollowUp)
                .join(State)
                .where(FollowUp.recommendation_id == recommendation.id, State.name == state)
            )
            db.session.expunge(found)
            return found

    def update(
        self,
        follow_up_id: int,
        status: FollowUpStatus = FollowUpStatus.IN_PROGRESS,
        with_file: bytes | None = None,
        pending: bool = False,
    ) -> StatusUpdate:
        """A status update as a focal point would post it, optionally with a file."""
        with self.app.app_context():
            follow_up = db.session.get(FollowUp, follow_up_id)
            update = StatusUpdate(
                follow_up=follow_up,
                status_before=follow_up.status,
                status=status,
                narrative="Done some work.",
                validation=Validation.PENDING if pending else None,
            )
            if with_file is not None:
                folder = Path(self.app.config["UPLOAD_FOLDER"]) / "evidence"
                folder.mkdir(parents=True, exist_ok=True)
                self.count += 1
                stored = f"evidence{self.count}.pdf"
                (folder / stored).write_bytes(with_file)
                update.evidence.append(
                    Evidence(
                        title="Report",
                        original_name="report.pdf",
                        stored_name=stored,
                        content_type="application/pdf",
                        size=len(with_file),
                    )
                )
            db.session.add(update)
            db.session.flush()
            if pending:
                follow_up.pending_update_id = update.id
            else:
                follow_up.status = status
            follow_up.last_update_at = utcnow()
            db.session.commit()
            db.session.refresh(update)
            for item in update.evidence:
                db.session.refresh(item)
            db.session.expunge_all()
            return update

    def chairmanship(
        self,
        state: str = "South Sudan",
        start: date | None = date(2022, 3, 22),
        end: date | None = None,
    ) -> Chairmanship:
        with self.app.app_context():
            return self._save(
                Chairmanship(state_id=state_named(state).id, start_date=start, end_date=end)
            )

    def work_plan(self, chairmanship_id: int, title: str = "Work Plan 2022/23") -> WorkPlan:
        with self.app.app_context():
            return self._save(WorkPlan(chairmanship_id=chairmanship_id, title=title))

    def work_plan_item(
        self,
        work_plan_id: int,
        theme: str | None = None,
        kind: ActivityKind = ActivityKind.THEMATIC_MEETING,
        target: date = date(2026, 7, 1),
        quarter: bool = True,
        activity_ids: tuple[int, ...] = (),
        dropped_reason: str | None = None,
    ) -> WorkPlanItem:
        """An item of a work plan; with ``quarter`` its target is the quarter that
        ``target`` (a quarter's first day) begins."""
        self.count += 1
        with self.app.app_context():
            item = WorkPlanItem(
                work_plan_id=work_plan_id,
                kind=kind,
                theme=theme or f"Theme {self.count}",
                target_date=target,
                target_precision=TargetPrecision.QUARTER if quarter else TargetPrecision.DAY,
                dropped_reason=dropped_reason,
            )
            for activity_id in activity_ids:
                item.activities.append(db.session.get(Activity, activity_id))
            db.session.add(item)
            db.session.commit()
            db.session.refresh(item)
            db.session.expunge_all()
            return item

    def country(self, name: str, region: Region = Region.OTHER) -> State:
        with self.app.app_context():
            return self._save(State(name=name, region=region, is_member=False))


@pytest.fixture
def factory(app) -> Factory:
    return Factory(app)


# The roles of the permission table: focal points of two different states.
STATE_A = "Kenya"
STATE_B = "Italy"
CHAIR_STATE = "South Sudan"


@pytest.fixture
def people(factory) -> dict[str, User]:
    """One account per role, as the permission table names them."""
    return {
        "admin": factory.user(Role.ADMIN, email="admin@kpplan.example"),
        "secretariat": factory.user(Role.SECRETARIAT, email="secretariat@kpplan.example"),
        "chair": factory.user(Role.CHAIR, state=CHAIR_STATE, email="chair@kpplan.example"),
        "fp_a": factory.user(Role.FOCAL_POINT, state=STATE_A, email="fp.a@kpplan.example"),
        "fp_b": factory.user(Role.FOCAL_POINT, state=STATE_B, email="fp.b@kpplan.example"),
        "observer": factory.user(Role.OBSERVER, email="observer@kpplan.example"),
    }


def signed_in_session(app, user: User) -> dict:
    """What the session cookie holds once ``user`` has signed in: their id and session
    token, and the secret of a session recorded on the server as a real sign-in does."""
    from kpplan.auth.services import SESSION_KEY, open_session

    with app.app_context():
        secret = open_session(user, utcnow())
        db.session.commit()
    return {"_user_id": user.get_id(), "_fresh": True, SESSION_KEY: secret}


@pytest.fixture
def login_as(client):
    """Sign a user in on the test client, as Flask-Login would after a real sign-in."""

    def login(user: User | None):
        values = signed_in_session(client.application, user) if user is not None else {}
        with client.session_transaction() as session:
            session.clear()
            session.update(values)
        return user

    return login


@pytest.fixture
def sign_in(client):
    """Sign in through the real form."""

    def submit(email: str, password: str = PASSWORD, **kwargs):
        return client.post("/login", data={"email": email, "password": password}, **kwargs)

    return submit


class QueryCounter:
    def __init__(self) -> None:
        self.statements: list[str] = []

    @property
    def count(self) -> int:
        return len(self.statements)


@pytest.fixture
def count_queries(app):
    """``with count_queries() as counter:`` counts the SQL statements run inside the block."""
    with app.app_context():
        engine = db.engine

    @contextlib.contextmanager
    def counting():
        counter = QueryCounter()

        def before(conn, cursor, statement, parameters, context, executemany):
            counter.statements.append(statement)

        event.listen(engine, "before_cursor_execute", before)
        try:
            yield counter
        finally:
            event.remove(engine, "before_cursor_execute", before)

    return counting
