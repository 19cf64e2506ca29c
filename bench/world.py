"""The benchmark's databases: the Process at 1x and at 100x its real volume, built once.

    .venv/bin/python bench/world.py [--scale 100] [--postgres URL] [--rebuild]

At 100x: 3,000 activities, 20,000 recommendations addressed to 10 states each (200,000
follow-ups), 1,000,000 status updates, 2,000 users, 200,000 history entries; at 1x a
hundredth of each. The schema comes from the migrations, so the benchmark measures the
schema a deployment has. A database is kept under ``instance/bench/`` (SQLite) or in its
own PostgreSQL database, with a marker recording a digest of this file and the schema's
head: it is built again only when either changes or with ``--rebuild``.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import sys
import time
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import sqlalchemy as sa  # noqa: E402
from flask import Flask  # noqa: E402

BENCH_DIR = ROOT / "instance" / "bench"
PASSWORD = "benchmark password"
#: The day the benchmark's data is built around: pages and reminders see it as today.
TODAY = date(2026, 11, 26)


@dataclass(frozen=True)
class Volume:
    activities: int
    recommendations: int
    states_per_recommendation: int
    updates: int
    users: int
    history: int

    @classmethod
    def at(cls, scale: int) -> Volume:
        return cls(
            activities=30 * scale,
            recommendations=200 * scale,
            states_per_recommendation=10,
            updates=10_000 * scale,
            users=20 * scale,
            history=2_000 * scale,
        )


def bench_app(url: str, instance: Path) -> Flask:
    from kpplan import create_app

    instance.mkdir(parents=True, exist_ok=True)
    return create_app(
        {
            "SECRET_KEY": "bench",
            "SQLALCHEMY_DATABASE_URI": url,
            "PASSWORD_HASH_PROFILE": "test",
            # The benchmark posts its writes through the forms, like a user, without a token.
            "WTF_CSRF_ENABLED": False,
            "TESTING": False,
        },
        instance_path=str(instance),
    )


def schema_head() -> str:
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    config = Config()
    config.set_main_option("script_location", str(ROOT / "migrations"))
    return ScriptDirectory.from_config(config).get_current_head()


def sqlite_url(scale: int) -> str:
    return f"sqlite:///{BENCH_DIR / f'kpplan-{scale}x.db'}"


def postgres_url(server: str, scale: int) -> str:
    """A database of its own on the server named by ``server`` (any database URL on it)."""
    base = sa.engine.make_url(server)
    return base.set(database=f"kpplan_bench_{scale}x").render_as_string(hide_password=False)


def _marker(url: str) -> Path:
    name = sa.engine.make_url(url).database or "db"
    return BENCH_DIR / f"{Path(name).stem}.{sa.engine.make_url(url).get_backend_name()}.json"


def ensure(url: str, scale: int, rebuild: bool = False) -> dict:
    """Build the database at ``url`` at ``scale`` unless an identical build is there already.
    Returns the marker: what was built, and the ids the benchmark's pages use."""
    BENCH_DIR.mkdir(parents=True, exist_ok=True)
    marker = _marker(url)
    wanted = {
        "builder": hashlib.sha256(Path(__file__).read_bytes()).hexdigest()[:16],
        "head": schema_head(),
        "volume": asdict(Volume.at(scale)),
    }
    if marker.exists() and not rebuild:
        kept = json.loads(marker.read_text())
        if all(kept.get(k) == v for k, v in wanted.items()):
            return kept
    marker.unlink(missing_ok=True)
    _recreate(url)
    started = time.perf_counter()
    app = bench_app(url, BENCH_DIR / "instance")
    with app.app_context():
        from flask_migrate import upgrade

        upgrade(directory=str(ROOT / "migrations"))
        ids = fill(Volume.at(scale))
    built = {**wanted, "url": url, "ids": ids, "seconds": round(time.perf_counter() - started)}
    marker.write_text(json.dumps(built, indent=1))
    print(f"built {url} at {scale}x in {built['seconds']} s", file=sys.stderr)
    return built


def _recreate(url: str) -> None:
    parsed = sa.engine.make_url(url)
    if parsed.get_backend_name() == "sqlite":
        path = Path(parsed.database)
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        return
    server = sa.create_engine(
        parsed.set(database="postgres", drivername="postgresql+psycopg"),
        isolation_level="AUTOCOMMIT",
    )
    with server.connect() as connection:
        connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{parsed.database}" WITH (FORCE)')
        connection.exec_driver_sql(f'CREATE DATABASE "{parsed.database}"')
    server.dispose()


def _now() -> datetime:
    return datetime(TODAY.year, TODAY.month, TODAY.day, 9, tzinfo=UTC)


def _insert(model, rows: list[dict], chunk: int = 20_000) -> None:
    from kpplan.core.extensions import db

    for start in range(0, len(rows), chunk):
        db.session.execute(sa.insert(model), rows[start : start + chunk])


def fill(volume: Volume) -> dict:
    """Fill the migrated, empty database with ``volume``; commits. The ids the pages need."""
    from kpplan.core.extensions import db
    from kpplan.directory.models import State
    from kpplan.directory.reference import load_reference_data

    rng = random.Random(20261126)  # noqa: S311 (made-up data, not secrets)
    load_reference_data()
    db.session.flush()
    states = db.session.scalars(sa.select(State).where(State.is_member).order_by(State.name)).all()
    users = _fill_users(volume, states)
    activities = _fill_activities(volume, states, rng)
    follow_ups = _fill_recommendations(volume, states, activities, rng)
    _fill_updates(volume, follow_ups, users, rng)
    _fill_history(volume, users, activities, rng)
    _fill_chairmanships(states, activities)
    db.session.commit()
    _after_bulk_fill()
    ids = _sample_ids(states)
    db.session.commit()
    return ids


def _fill_users(volume: Volume, states) -> dict:
    from kpplan.core.db import utcnow
    from kpplan.core.extensions import db
    from kpplan.core.passwords import hash_password
    from kpplan.directory.models import Role, User

    password = hash_password(PASSWORD)
    staff = [
        ("admin@bench.example", "Bench Administrator", Role.ADMIN, None),
        ("secretariat@bench.example", "Bench Secretariat", Role.SECRETARIAT, None),
        ("observer@bench.example", "Bench Observer", Role.OBSERVER, None),
    ]
    rows = []
    for email, name, role, state_id in staff:
        rows.append((email, name, role, state_id))
    # Kenya first: the benchmark's focal point pages are Kenya's, at every scale.
    rotation = sorted(states, key=lambda s: s.name != "Kenya")
    for n in range(volume.users - len(staff)):
        state = rotation[n % len(rotation)]
        rows.append(
            (f"fp{n}@bench.example", f"Focal Point {n} of {state.name}", Role.FOCAL_POINT, state.id)
        )
    _insert(
        User,
        [
            {
                "name": name,
                "email": email,
                "password_hash": password,
                "role": role,
                "state_id": state_id,
                "is_alternate": False,
                "active": n % 11 != 10,
                "must_change_password": False,
                "session_token": f"bench-token-{n}",
                "version": 1,
                "created_at": utcnow(),
                "updated_at": utcnow(),
            }
            for n, (email, name, role, state_id) in enumerate(rows)
        ],
    )
    by_email = dict(db.session.execute(sa.select(User.email, User.id)).all())
    by_state: dict[int, list[int]] = {}
    for user_id, state_id in db.session.execute(
        sa.select(User.id, User.state_id).where(User.role == Role.FOCAL_POINT)
    ):
        by_state.setdefault(state_id, []).append(user_id)
    return {
        "by_state": by_state,
        "admin": by_email["admin@bench.example"],
        "secretariat": by_email["secretariat@bench.example"],
        "focal_points": [v for k, v in by_email.items() if k.startswith("fp")],
    }


def _fill_activities(volume: Volume, states, rng: random.Random) -> list[tuple[int, date]]:
    """Activities from 2000 to two years ahead, evenly spread: held in the past, planned
    ahead; each with a host, a co-host and five preparation steps."""
    from kpplan.core.db import utcnow
    from kpplan.core.extensions import db
    from kpplan.meetings.kinds import ActivityKind
    from kpplan.meetings.models import (
        Activity,
        ActivityStateRole,
        Format,
        Milestone,
        StateRole,
        Status,
    )

    first, last = date(2000, 1, 15), TODAY + timedelta(days=730)
    step = (last - first) / volume.activities
    kinds = list(ActivityKind)
    rows = []
    for n in range(volume.activities):
        start = first + step * n
        kind = kinds[n % len(kinds)]
        rows.append(
            {
                "kind": kind,
                "title": f"{kind.label} {n} on trafficking in human beings and smuggling",
                "theme": ("Law enforcement", "Protection", "Return and reintegration")[n % 3],
                "start_date": start,
                "end_date": start + timedelta(days=n % 3),
                "city": ("Khartoum", "Rome", "Nairobi", "Valletta", "Addis Ababa")[n % 5],
                "country_id": states[n % len(states)].id,
                "format": Format.VIRTUAL if n % 6 == 0 else Format.IN_PERSON,
                "status": Status.HELD if start < TODAY else Status.PLANNED,
                "participants": 30 + n % 70 if start < TODAY else None,
                "version": 1,
                "created_at": utcnow(),
                "updated_at": utcnow(),
            }
        )
    _insert(Activity, rows)
    found = db.session.execute(
        sa.select(Activity.id, Activity.start_date).order_by(Activity.id)
    ).all()
    _insert(
        ActivityStateRole,
        [
            {"activity_id": a, "state_id": states[(n + shift) % len(states)].id, "role": role}
            for n, (a, _) in enumerate(found)
            for role, shift in ((StateRole.HOST, 0), (StateRole.CO_HOST, 7))
        ],
    )
    _insert(
        Milestone,
        [
            {
                "activity_id": a,
                "name": name,
                "due_date": start + timedelta(days=offset),
                "done_on": start + timedelta(days=offset)
                if start + timedelta(days=offset) < TODAY
                else None,
            }
            for a, start in found
            for name, offset in (
                ("Concept note", -60),
                ("Invitations", -42),
                ("Agenda", -21),
                ("Recommendations recorded", 14),
                ("Report", 30),
            )
        ],
    )
    return [(a, start) for a, start in found]


def _fill_recommendations(volume, states, activities, rng) -> list[tuple[int, date, int]]:
    """Recommendations of the held activities, each to ``states_per_recommendation`` states.
    Returns each follow-up as (id, meeting date, state id)."""
    from kpplan.core.db import utcnow
    from kpplan.core.extensions import db
    from kpplan.recommendations.follow_up_models import FollowUp
    from kpplan.recommendations.models import Priority, Recommendation, RecommendationTheme
    from kpplan.recommendations.statuses import FollowUpStatus
    from kpplan.recommendations.themes import THEMES

    held = [(a, start) for a, start in activities if start < TODAY - timedelta(days=7)]
    rows, numbers = [], {}
    for n in range(volume.recommendations):
        activity_id, start = held[n % len(held)]
        number = numbers[activity_id] = numbers.get(activity_id, 0) + 1
        rows.append(
            {
                "activity_id": activity_id,
                "meeting_date": start,
                "number": number,
                "code": f"KP-{start.year}-{activity_id}/R{number}",
                "text": f"Recommendation {n}: "
                + rng.choice(
                    (
                        "strengthen cooperation between law enforcement agencies against "
                        "smuggling networks",
                        "set up national referral mechanisms for victims of trafficking",
                        "train border officials in identifying vulnerable migrants",
                        "share data on routes and modus operandi with neighbouring states",
                        "improve access to justice and protection for survivors",
                    )
                ),
                "priority": (Priority.HIGH, Priority.MEDIUM, Priority.LOW)[n % 3],
                "target_date": start + timedelta(days=365 + n % 400),
                "to_all_members": False,
                "illustrative": False,
                "version": 1,
                "created_at": utcnow(),
                "updated_at": utcnow(),
            }
        )
    _insert(Recommendation, rows)
    recommendations = db.session.execute(
        sa.select(Recommendation.id, Recommendation.activity_id).order_by(Recommendation.id)
    ).all()
    starts = dict(activities)
    _insert(
        RecommendationTheme,
        [
            {"recommendation_id": r, "code": THEMES[(n + k) % len(THEMES)].code}
            for n, (r, _) in enumerate(recommendations)
            for k in (0, 5)
        ],
    )
    per = volume.states_per_recommendation
    follow_ups = []
    for chunk in range(0, len(recommendations), 2_000):
        _insert(
            FollowUp,
            [
                {
                    "recommendation_id": r,
                    "state_id": states[(n * 3 + k) % len(states)].id,
                    "for_secretariat": False,
                    "status": FollowUpStatus.NOT_STARTED,
                    "created_at": utcnow(),
                    "version": 1,
                }
                for n, (r, _) in enumerate(recommendations[chunk : chunk + 2_000], start=chunk)
                for k in range(per)
            ],
        )
    for f, activity_id, state_id in db.session.execute(
        sa.select(FollowUp.id, Recommendation.activity_id, FollowUp.state_id)
        .join(Recommendation)
        .order_by(FollowUp.id)
    ):
        follow_ups.append((f, starts[activity_id], state_id))
    return follow_ups


def _fill_updates(volume, follow_ups, users, rng: random.Random) -> None:
    """``volume.updates`` status updates spread over the follow-ups (0 to 10 each), in
    order, each moving its follow-up on; the follow-up then carries its last update's
    status, progress and date. A few implementations await validation; the others were
    accepted by the secretariat."""
    from kpplan.core.extensions import db
    from kpplan.recommendations.follow_up_models import FollowUp, StatusUpdate
    from kpplan.recommendations.statuses import FollowUpStatus, Validation

    path = [
        FollowUpStatus.IN_PROGRESS,
        FollowUpStatus.IN_PROGRESS,
        FollowUpStatus.PARTIALLY_IMPLEMENTED,
        FollowUpStatus.PARTIALLY_IMPLEMENTED,
        FollowUpStatus.IMPLEMENTED,
    ]
    author_pool = users["focal_points"]
    mean = volume.updates / len(follow_ups)
    rows, finals, total = [], [], 0
    now = _now()
    for n, (follow_up_id, meeting, state_id) in enumerate(follow_ups):
        left = volume.updates - total
        count = min(left, rng.randint(0, int(2 * mean))) if n < len(follow_ups) - 1 else left
        if count <= 0:
            continue
        total += count
        author = users["by_state"].get(state_id) or author_pool
        start = datetime(meeting.year, meeting.month, meeting.day, 10, tzinfo=UTC)
        span = max((now - start).total_seconds(), 3600)
        before = FollowUpStatus.NOT_STARTED
        moments = sorted(start + timedelta(seconds=rng.random() * span) for _ in range(count))
        for k, at in enumerate(moments):
            status = path[min(k * len(path) // max(count, 1), len(path) - 1)]
            if k == count - 1 and count > 6 and n % 9 == 0:
                status = FollowUpStatus.NOT_APPLICABLE
            implemented = status is FollowUpStatus.IMPLEMENTED
            # Only a follow-up's last move to "implemented" may still await validation.
            pending = implemented and k == count - 1 and n % 5 == 0
            validation = (
                Validation.PENDING if pending else Validation.ACCEPTED if implemented else None
            )
            rows.append(
                {
                    "follow_up_id": follow_up_id,
                    "author_id": author[n % len(author)],
                    "posted_at": at,
                    "status_before": before,
                    "status": status,
                    "progress": None,
                    "narrative": "Inter-ministerial working group met; draft action plan "
                    f"circulated to the partners (update {k + 1}).",
                    "reason": "No maritime border"
                    if status is FollowUpStatus.NOT_APPLICABLE
                    else None,
                    "validation": validation,
                    "validated_by_id": users["admin"]
                    if validation is Validation.ACCEPTED
                    else None,
                    "validated_at": at + timedelta(days=3)
                    if validation is Validation.ACCEPTED
                    else None,
                }
            )
            if not pending:
                before = status
        # A pending implementation leaves the follow-up where it was until validated.
        finals.append((follow_up_id, before, moments[-1]))
        if len(rows) >= 50_000:
            _insert(StatusUpdate, rows)
            rows = []
    _insert(StatusUpdate, rows)
    # The follow-ups carry their last update, as posting one does.
    last = (
        sa.select(StatusUpdate.follow_up_id, sa.func.max(StatusUpdate.id).label("last_id"))
        .group_by(StatusUpdate.follow_up_id)
        .subquery()
    )
    pending_by_follow_up = dict(
        db.session.execute(
            sa.select(StatusUpdate.follow_up_id, StatusUpdate.id)
            .join(last, last.c.last_id == StatusUpdate.id)
            .where(StatusUpdate.validation == Validation.PENDING)
        ).all()
    )
    review = TODAY + timedelta(days=10)
    table = FollowUp.__table__
    carry = (
        sa.update(table)
        .where(table.c.id == sa.bindparam("fid"))
        .values(
            status=sa.bindparam("new_status"),
            last_update_at=sa.bindparam("at"),
            next_review_date=sa.bindparam("review"),
            pending_update_id=sa.bindparam("pending"),
            version=2,
        )
    )
    for chunk in range(0, len(finals), 5_000):
        db.session.execute(
            carry,
            [
                {
                    "fid": f,
                    "new_status": status.value,
                    "at": at,
                    "review": review - timedelta(days=(f * 7) % 200),
                    "pending": pending_by_follow_up.get(f),
                }
                for f, status, at in finals[chunk : chunk + 5_000]
            ],
        )


def _fill_history(volume, users, activities, rng: random.Random) -> None:
    from kpplan.audit.models import AuditEntry

    start = _now() - timedelta(days=3650)
    minutes = 3650 * 24 * 60 / max(volume.history, 1)
    actors = [users["admin"], users["secretariat"], *users["focal_points"][:50]]
    rows = []
    for n in range(volume.history):
        if n % 2:
            object_type, object_id = "activities", activities[n % len(activities)][0]
            summary = f"Edited the activity {object_id}"
            before, after = {"title": "Thematic meeting"}, {"title": "Thematic meeting (rev.)"}
        else:
            object_type, object_id = "users", users["focal_points"][n % len(users["focal_points"])]
            summary = "Edited an account"
            before, after = {"active": True}, {"active": False}
        rows.append(
            {
                "at": start + timedelta(minutes=n * minutes),
                "actor_id": actors[n % len(actors)],
                "action": "updated",
                "object_type": object_type,
                "object_id": object_id,
                "summary": summary,
                "before": before,
                "after": after,
            }
        )
    _insert(AuditEntry, rows)


def _fill_chairmanships(states, activities) -> None:
    """A Chair a year from March 2000, alternating between Africa and Europe, each with a
    work plan of twelve items delivered by activities of its year."""
    from kpplan.chair.models import Chairmanship, TargetPrecision, WorkPlan, WorkPlanItem
    from kpplan.core.extensions import db
    from kpplan.directory.models import Region
    from kpplan.meetings.kinds import ActivityKind
    from kpplan.meetings.models import Activity

    african = [s for s in states if s.region is Region.AFRICA]
    european = [s for s in states if s.region is Region.EUROPE]
    for year in range(2000, TODAY.year + 1):
        pool = african if year % 2 else european
        chair = Chairmanship(
            state=pool[year % len(pool)],
            start_date=date(year, 3, 1),
            end_date=date(year + 1, 2, 28),
        )
        plan = WorkPlan(chairmanship=chair, title=f"Work plan {year}–{year + 1}")
        of_year = db.session.scalars(
            sa.select(Activity)
            .where(Activity.start_date.between(date(year, 3, 1), date(year + 1, 2, 28)))
            .order_by(Activity.start_date)
            .limit(24)
        ).all()
        for n in range(12):
            plan.items.append(
                WorkPlanItem(
                    kind=ActivityKind.THEMATIC_MEETING,
                    theme=f"Theme {n + 1} of {year}",
                    target_date=date(year, 1 + 3 * (n % 4), 1),
                    target_precision=TargetPrecision.QUARTER,
                    activities=of_year[2 * n : 2 * n + 2],
                )
            )
        db.session.add(chair)


def _after_bulk_fill() -> None:
    """What kpplan keeps in step on each write, brought in step once after the bulk fill:
    the kept follow-up figures and the figures of the day (as ``kpplan recount`` does)."""
    from kpplan.core.clock import today
    from kpplan.core.extensions import db
    from kpplan.recommendations import day_figures, deadlines, tallies

    tallies.recount(db.session.connection())
    day_figures.count_the_day(db.session.connection(), today(), deadlines.current())
    db.session.commit()


def _sample_ids(states) -> dict:
    """Ids of typical records for the pages' URLs, and two review snapshots."""
    from kpplan.chair.models import Chairmanship, WorkPlanItem
    from kpplan.core.extensions import db
    from kpplan.directory.models import Role, User
    from kpplan.meetings.kinds import ActivityKind
    from kpplan.meetings.models import Activity, Status
    from kpplan.recommendations.follow_up_models import FollowUp
    from kpplan.recommendations.models import Recommendation
    from kpplan.review.services import take_snapshot

    kenya = next(s.id for s in states if s.name == "Kenya")
    held = sa.select(Activity.id).where(Activity.status == Status.HELD)
    activity = db.session.scalar(
        held.where(Activity.id.in_(sa.select(Recommendation.activity_id)))
        .order_by(Activity.start_date.desc())
        .offset(3)
        .limit(1)
    )
    chair = db.session.scalar(
        sa.select(Chairmanship.id)
        .where(Chairmanship.start_date <= TODAY)
        .order_by(Chairmanship.start_date.desc())
        .limit(1)
    )
    meetings = db.session.scalars(
        sa.select(Activity)
        .where(Activity.kind == ActivityKind.SENIOR_OFFICIALS, Activity.status == Status.HELD)
        .order_by(Activity.start_date.desc())
        .limit(2)
    ).all()
    snapshots = []
    for meeting in reversed(meetings):
        snapshots.append(take_snapshot(None, meeting, TODAY).id)
        db.session.commit()
    kenya_focal_point = db.session.scalar(
        sa.select(User.id)
        .where(User.state_id == kenya, User.role == Role.FOCAL_POINT, User.active.is_(True))
        .order_by(User.id)
        .limit(1)
    )
    return {
        "state": kenya,
        "user": kenya_focal_point,
        "focal_point": kenya_focal_point,
        "admin": db.session.scalar(sa.select(User.id).where(User.email == "admin@bench.example")),
        "activity": activity,
        "recommendation": db.session.scalar(
            sa.select(Recommendation.id).where(Recommendation.activity_id == activity).limit(1)
        ),
        "follow_up": db.session.scalar(
            sa.select(FollowUp.id)
            .where(FollowUp.state_id == kenya)
            .order_by(FollowUp.id.desc())
            .offset(10)
            .limit(1)
        ),
        "chair": chair,
        "item": db.session.scalar(
            sa.select(WorkPlanItem.id).order_by(WorkPlanItem.id.desc()).offset(20).limit(1)
        ),
        "snapshot": snapshots[-1],
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=int, default=100, help="times the real volume")
    parser.add_argument("--postgres", metavar="URL", help="build on this PostgreSQL server")
    parser.add_argument("--rebuild", action="store_true", help="build even if it is there")
    args = parser.parse_args()
    url = postgres_url(args.postgres, args.scale) if args.postgres else sqlite_url(args.scale)
    built = ensure(url, args.scale, args.rebuild)
    print(json.dumps(built, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
