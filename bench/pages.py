"""Time every directory page at 100x the Process's real volume, in the process.

    .venv/bin/python bench/pages.py [--users 4000] [--history 200000] [--runs 30]

Builds a scratch SQLite database (or uses KPPLAN_BENCH_DATABASE_URL, e.g. a PostgreSQL
database that may be emptied), fills it, then renders each page through the test client
and prints the median and 95th-percentile time and the number of queries. Exits 1 when a
median is over the 25 ms target. A benchmark, not a test: timings depend on the machine.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import sqlalchemy as sa  # noqa: E402

from kpplan import create_app  # noqa: E402
from kpplan.audit.models import AuditEntry  # noqa: E402
from kpplan.auth.services import SESSION_KEY, open_session  # noqa: E402
from kpplan.core.db import utcnow  # noqa: E402
from kpplan.core.extensions import db  # noqa: E402
from kpplan.core.passwords import hash_password  # noqa: E402
from kpplan.directory.models import Organisation, OrganisationKind, Role, State, User  # noqa: E402
from kpplan.directory.reference import load_reference_data  # noqa: E402
from kpplan.meetings.kinds import ActivityKind  # noqa: E402
from kpplan.meetings.models import (  # noqa: E402
    Activity,
    ActivityStateRole,
    Format,
    Milestone,
    StateRole,
    Status,
)
from kpplan.recommendations.models import (  # noqa: E402
    FollowUp,
    FollowUpStatus,
    Priority,
    Recommendation,
    RecommendationTheme,
    StatusUpdate,
    Validation,
)
from kpplan.recommendations.themes import THEMES  # noqa: E402

TARGET_MS = 25.0


def _signed_in(user: User) -> dict:
    """The session cookie's values of ``user`` signed in (a session recorded on the server)."""
    secret = open_session(user, utcnow())
    db.session.commit()
    return {"_user_id": user.get_id(), SESSION_KEY: secret}


def fill(users: int, history: int, activities: int = 3000, recommendations: int = 5000) -> User:
    load_reference_data()
    states = db.session.scalars(sa.select(State).where(State.is_member)).all()
    password = hash_password("benchmark password")
    rows = []
    for n in range(users):
        state = states[n % len(states)]
        rows.append(
            {
                "name": f"Focal Point {n}",
                "email": f"fp{n}@bench.example",
                "password_hash": password,
                "role": Role.FOCAL_POINT,
                "state_id": state.id,
                "is_alternate": False,
                "active": n % 7 != 0,
                "must_change_password": False,
                "session_token": f"token{n}",
                "version": 1,
                "created_at": utcnow(),
                "updated_at": utcnow(),
            }
        )
    db.session.execute(sa.insert(User), rows)
    db.session.execute(
        sa.insert(Organisation),
        [
            {
                "name": f"Organisation {n}",
                "kind": OrganisationKind.NGO,
                "version": 1,
                "created_at": utcnow(),
                "updated_at": utcnow(),
            }
            for n in range(users // 4)
        ],
    )
    admin = User(
        name="Bench Admin",
        email="admin@bench.example",
        password_hash=password,
        role=Role.ADMIN,
    )
    db.session.add(admin)
    db.session.flush()
    start = utcnow() - timedelta(days=3650)
    for offset in range(0, history, 20000):
        db.session.execute(
            sa.insert(AuditEntry),
            [
                {
                    "at": start + timedelta(minutes=n),
                    "actor_id": admin.id,
                    "action": "updated",
                    "object_type": "users",
                    "object_id": 1 + n % users,
                    "summary": f"Edited an account ({n})",
                    "before": {"name": "before", "version": 1},
                    "after": {"name": "after", "version": 2},
                }
                for n in range(offset, min(history, offset + 20000))
            ],
        )
    fill_activities(states, activities)
    fill_recommendations(states, recommendations, admin.id)
    fill_chairmanships(states)
    db.session.commit()
    return admin


def fill_recommendations(states: list[State], count: int, author_id: int) -> None:
    """``count`` recommendations spread over the activities, each addressed to every member
    state (40 follow-ups each: 5,000 give 200,000), a quarter of them reported on."""
    activities = db.session.execute(
        sa.select(Activity.id, Activity.start_date).order_by(Activity.id)
    ).all()
    activity_ids = [a.id for a in activities]
    rows = []
    for n in range(count):
        activity_id, meeting_date = activities[n % len(activities)]
        number = n // len(activity_ids) + 1
        rows.append(
            {
                "activity_id": activity_id,
                "number": number,
                "meeting_date": meeting_date,
                "code": f"B-{activity_id}/R{number}",
                "text": f"Recommendation {n}: strengthen cooperation against smuggling networks.",
                "priority": Priority.MEDIUM,
                "target_date": date(2000, 1, 1) + timedelta(days=n * 3),
                "to_all_members": True,
                "illustrative": False,
                "version": 1,
                "created_at": utcnow(),
                "updated_at": utcnow(),
            }
        )
    db.session.execute(sa.insert(Recommendation), rows)
    ids = db.session.scalars(sa.select(Recommendation.id).order_by(Recommendation.id)).all()
    db.session.execute(
        sa.insert(RecommendationTheme),
        [
            {"recommendation_id": r, "code": THEMES[(n + k) % len(THEMES)].code}
            for n, r in enumerate(ids)
            for k in (0, 5)
        ],
    )
    statuses = list(FollowUpStatus)
    for chunk in range(0, len(ids), 500):
        db.session.execute(
            sa.insert(FollowUp),
            [
                {
                    "recommendation_id": r,
                    "state_id": state.id,
                    "for_secretariat": False,
                    "status": statuses[(n + s) % len(statuses)],
                    "next_review_date": date(2000, 1, 1) + timedelta(days=(n * 3 + s) % 12000),
                    "created_at": utcnow(),
                    "version": 1,
                }
                for n, r in enumerate(ids[chunk : chunk + 500], start=chunk)
                for s, state in enumerate(states)
            ],
        )
    reported = db.session.scalars(
        sa.select(FollowUp.id).where(FollowUp.id % 4 == 0).order_by(FollowUp.id)
    ).all()
    for chunk in range(0, len(reported), 10000):
        db.session.execute(
            sa.insert(StatusUpdate),
            [
                {
                    "follow_up_id": f,
                    "author_id": author_id,
                    "posted_at": utcnow() - timedelta(days=f % 400),
                    "status_before": FollowUpStatus.NOT_STARTED,
                    "status": FollowUpStatus.IN_PROGRESS,
                    "narrative": "Working group set up.",
                    "validation": Validation.PENDING if f % 400 == 0 else None,
                }
                for f in reported[chunk : chunk + 10000]
            ],
        )


def fill_chairmanships(states: list[State]) -> None:
    """A Chair a year since 2000, alternating between Africa and Europe, each with a work
    plan of twelve items delivered by the activities of its year."""
    from kpplan.chair.models import Chairmanship, TargetPrecision, WorkPlan, WorkPlanItem
    from kpplan.directory.models import Region

    african = [s for s in states if s.region is Region.AFRICA]
    european = [s for s in states if s.region is Region.EUROPE]
    for year in range(2000, 2030):
        pool = african if year % 2 else european
        chair = Chairmanship(
            state=pool[year % len(pool)], start_date=date(year, 3, 1), end_date=date(year + 1, 3, 1)
        )
        plan = WorkPlan(chairmanship=chair, title=f"Work Plan {year}/{year + 1 - 2000:02d}")
        activities = db.session.scalars(
            sa.select(Activity)
            .where(Activity.start_date.between(date(year, 3, 1), date(year + 1, 2, 28)))
            .limit(24)
        ).all()
        for n in range(12):
            plan.items.append(
                WorkPlanItem(
                    kind=ActivityKind.THEMATIC_MEETING,
                    theme=f"Theme {n} of {year}",
                    target_date=date(year, 1 + 3 * (n % 4), 1),
                    target_precision=TargetPrecision.QUARTER,
                    activities=activities[2 * n : 2 * n + 2],
                )
            )
        db.session.add(chair)


def take_snapshots() -> int:
    """Review snapshots at two Senior Officials' Meetings, with 2 % of the follow-ups
    moved to implemented between them; prints how long each took. The second one's id."""
    from kpplan.review.services import take_snapshot

    meetings = db.session.scalars(
        sa.select(Activity)
        .where(Activity.kind == ActivityKind.SENIOR_OFFICIALS, Activity.status == Status.HELD)
        .order_by(Activity.start_date.desc())
        .limit(2)
    ).all()
    taken = []
    for n, meeting in enumerate(reversed(meetings)):
        if n:
            db.session.execute(
                sa.update(FollowUp)
                .where(FollowUp.id % 50 == 1)
                .values(status=FollowUpStatus.IMPLEMENTED)
            )
        started = time.perf_counter()
        snapshot = take_snapshot(None, meeting, meeting.start_date)
        db.session.commit()
        print(
            f"snapshot of {snapshot.entry_count} follow-ups in "
            f"{(time.perf_counter() - started) * 1000:.0f} ms"
        )
        taken.append(snapshot.id)
    return taken[-1]


def fill_activities(states: list[State], count: int) -> None:
    """``count`` activities over 30 years, each with a host, a co-host and five milestones."""
    kinds = list(ActivityKind)
    first = date(2000, 1, 1)
    rows = [
        {
            "kind": kinds[n % len(kinds)],
            "title": f"Activity {n} on trafficking and smuggling",
            "theme": "Law enforcement" if n % 3 else "Protection",
            "start_date": first + timedelta(days=n * 4),
            "end_date": first + timedelta(days=n * 4 + 1),
            "format": Format.IN_PERSON,
            "status": Status.HELD if n % 5 else Status.PLANNED,
            "version": 1,
            "created_at": utcnow(),
            "updated_at": utcnow(),
        }
        for n in range(count)
    ]
    db.session.execute(sa.insert(Activity), rows)
    ids = db.session.scalars(sa.select(Activity.id).order_by(Activity.id)).all()
    db.session.execute(
        sa.insert(ActivityStateRole),
        [
            {"activity_id": a, "state_id": states[(n + shift) % len(states)].id, "role": role}
            for n, a in enumerate(ids)
            for role, shift in ((StateRole.HOST, 0), (StateRole.CO_HOST, 7))
        ],
    )
    db.session.execute(
        sa.insert(Milestone),
        [
            {"activity_id": a, "name": f"Step {k}", "due_date": first + timedelta(days=n * 4 + k)}
            for n, a in enumerate(ids)
            for k in range(5)
        ],
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=4000)
    parser.add_argument("--history", type=int, default=200_000)
    parser.add_argument("--activities", type=int, default=3000)
    parser.add_argument("--recommendations", type=int, default=5000)
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--fill-only", metavar="URL", help="fill this database and stop")
    args = parser.parse_args()

    scratch = tempfile.mkdtemp(prefix="kpplan-bench-")
    url = args.fill_only or os.environ.get(
        "KPPLAN_BENCH_DATABASE_URL", f"sqlite:///{scratch}/bench.db"
    )
    app = create_app(
        {"SECRET_KEY": "bench", "SQLALCHEMY_DATABASE_URI": url, "PASSWORD_HASH_PROFILE": "test"},
        instance_path=scratch,
    )
    with app.app_context():
        db.drop_all()
        db.create_all()
        started = time.perf_counter()
        admin = fill(args.users, args.history, args.activities, args.recommendations)
        print(
            f"filled in {time.perf_counter() - started:.1f} s: {args.users} users, "
            f"{args.history} history entries"
        )
        if args.fill_only:
            return 0
        kenya = db.session.scalar(sa.select(State.id).where(State.name == "Kenya"))
        some_user = db.session.scalar(sa.select(User.id).limit(1))
        some_activity = db.session.scalar(sa.select(Activity.id).offset(1500).limit(1))
        admin_session = _signed_in(admin)
        some_recommendation = db.session.scalar(sa.select(Recommendation.id).offset(2500).limit(1))
        kenya_follow_up = db.session.scalar(
            sa.select(FollowUp.id)
            .where(FollowUp.state_id == kenya, FollowUp.id % 4 == 0)
            .offset(50)
            .limit(1)
        )
        kenya_session = _signed_in(
            db.session.scalar(
                sa.select(User).where(User.state_id == kenya, User.active.is_(True)).limit(1)
            )
        )
        from kpplan.chair.models import Chairmanship, WorkPlanItem

        some_chair = db.session.scalar(sa.select(Chairmanship.id).offset(10).limit(1))
        some_item = db.session.scalar(sa.select(WorkPlanItem.id).offset(100).limit(1))
        snapshot_id = take_snapshots()

    pages = [
        "/",
        "/states/",
        f"/states/{kenya}",
        "/organisations/",
        "/organisations/?page=20",
        "/users/",
        "/users/?status=all&page=40",
        f"/users/?state={kenya}&role=focal_point",
        f"/users/{some_user}",
        "/history/",
        "/history/?page=2000",
        "/account",
        "/activities/",
        "/activities/archive",
        "/activities/archive?page=50",
        f"/activities/archive?state={kenya}&year=2010",
        "/activities/archive?q=protection",
        "/activities/calendar?month=2010-06",
        "/activities/hosting",
        f"/activities/{some_activity}",
        "/calendar.ics",
        "/recommendations/",
        "/recommendations/?page=60",
        "/recommendations/?theme=RD5&year=2010",
        f"/recommendations/?state={kenya}&overdue=1",
        "/recommendations/?status=implemented",
        "/recommendations/?q=smuggling",
        "/recommendations/shares",
        f"/recommendations/{some_recommendation}",
        f"/activities/{some_activity}/recommendations",
        f"/follow-ups/?state={kenya}",
        "/follow-ups/validation",
        f"/follow-ups/{kenya_follow_up}",
        "/chair/",
        f"/chair/{some_chair}",
        f"/chair/items/{some_item}",
        f"/chair/{some_chair}/review",
        f"/chair/{some_chair}/review.xlsx",
        f"/chair/{some_chair}/handover",
        f"/chair/snapshots/{snapshot_id}",
        "/reports/statistics",
        "/reports/statistics?from=2010-01-01&to=2015-12-31",
        "/reports/statistics.csv?from=2010-01-01&to=2015-12-31",
        "/reports/timeline?from=2020-01-01&to=2024-12-31",
    ]
    # A focal point's own pages, scoped to their state.
    focal_pages = [
        "/",
        "/follow-ups/",
        "/recommendations/",
        "/recommendations/shares",
        f"/chair/{some_chair}/review",
        f"/chair/snapshots/{snapshot_id}",
    ]
    client = app.test_client()
    with client.session_transaction() as session:
        session.update(admin_session)

    queries = []

    def count(*_args):
        queries.append(1)

    with app.app_context():
        engine = db.engine
    sa.event.listen(engine, "before_cursor_execute", count)

    focal_client = app.test_client()
    with focal_client.session_transaction() as session:
        session.update(kenya_session)

    failed = False
    print(f"{'page':<40} {'median':>8} {'p95':>8} {'queries':>8}")
    for client, page in [(client, p) for p in pages] + [(focal_client, p) for p in focal_pages]:
        assert client.get(page).status_code == 200, page
        times = []
        for _ in range(args.runs):
            queries.clear()
            started = time.perf_counter()
            response = client.get(page)
            times.append((time.perf_counter() - started) * 1000)
            assert response.status_code == 200
        median = statistics.median(times)
        p95 = sorted(times)[int(len(times) * 0.95) - 1]
        flag = "" if median <= TARGET_MS else "  <-- over target"
        failed |= median > TARGET_MS
        print(f"{page:<40} {median:>6.1f}ms {p95:>6.1f}ms {len(queries):>8}{flag}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
