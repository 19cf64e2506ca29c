"""Time the pages of follow-up figures warm and right after a write, at 100x.

    .venv/bin/python bench/figures.py sqlite:///instance/bench-fig.db [--runs 20]

The database is one filled by ``bench/pages.py --fill-only URL`` (200,000 follow-ups). The
script takes two review snapshots if it has none, counts the kept figures again (when this
kpplan keeps them), then, for each page, renders it ``--runs`` times warm and ``--runs``
times right after a write (a focal point posts a status update through the test client,
then the page is rendered), and prints p50/p95 and the queries of each. A benchmark, not a
test: exits 1 when a p95 is over the 25 ms target.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import sqlalchemy as sa  # noqa: E402

from kpplan import create_app  # noqa: E402
from kpplan.auth.services import SESSION_KEY, open_session  # noqa: E402
from kpplan.core.db import utcnow  # noqa: E402
from kpplan.core.extensions import db  # noqa: E402
from kpplan.directory.models import Role, State, User  # noqa: E402
from kpplan.meetings.kinds import ActivityKind  # noqa: E402
from kpplan.meetings.models import Activity, Status  # noqa: E402
from kpplan.recommendations.models import FollowUp, FollowUpStatus  # noqa: E402

TARGET_MS = 25.0
STATUSES = [FollowUpStatus.IN_PROGRESS, FollowUpStatus.PARTIALLY_IMPLEMENTED]


def _signed_in(user: User) -> dict:
    """The session cookie's values of ``user`` signed in (a session recorded on the server)."""
    secret = open_session(user, utcnow())
    db.session.commit()
    return {"_user_id": user.get_id(), SESSION_KEY: secret}


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


def _p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("url")
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args()
    scratch = tempfile.mkdtemp(prefix="kpplan-figures-")
    app = create_app(
        {
            "SECRET_KEY": "bench",
            "SQLALCHEMY_DATABASE_URI": args.url,
            "PASSWORD_HASH_PROFILE": "test",
            # The writes are posted as a form would be, without its token.
            "WTF_CSRF_ENABLED": False,
        },
        instance_path=scratch,
    )
    with app.app_context():
        db.create_all()  # the tables this kpplan adds, if the database predates them
        from kpplan.review.models import ReviewSnapshot

        if db.session.scalar(sa.select(sa.func.count(ReviewSnapshot.id))) < 2:
            take_snapshots()
        try:
            from kpplan.recommendations import tallies
            from kpplan.review import snapshots
        except ImportError:
            pass
        else:
            started = time.perf_counter()
            tallies.recount(db.session.connection())
            snapshots.compare_all()
            db.session.commit()
            print(f"recount in {(time.perf_counter() - started) * 1000:.0f} ms")
        snapshot_id = db.session.scalar(sa.select(sa.func.max(ReviewSnapshot.id)))
        kenya = db.session.scalar(sa.select(State.id).where(State.name == "Kenya"))
        admin = db.session.scalar(
            sa.select(User).where(User.role == Role.ADMIN, User.active.is_(True)).limit(1)
        )
        focal = db.session.scalar(
            sa.select(User)
            .where(User.state_id == kenya, User.role == Role.FOCAL_POINT, User.active.is_(True))
            .limit(1)
        )
        written = db.session.scalar(
            sa.select(FollowUp.id)
            .where(FollowUp.state_id == kenya, FollowUp.pending_update_id.is_(None))
            .order_by(FollowUp.id.desc())
            .limit(1)
        )
        from kpplan.chair.models import Chairmanship

        chair = db.session.scalar(sa.select(Chairmanship.id).offset(10).limit(1))
        admin_session, focal_session = _signed_in(admin), _signed_in(focal)

    pages = [
        ("admin", "/"),
        ("admin", "/recommendations/shares"),
        ("admin", f"/chair/{chair}/review"),
        ("admin", f"/chair/{chair}/handover"),
        ("admin", f"/chair/snapshots/{snapshot_id}"),
        ("admin", "/reports/statistics"),
        ("focal", "/"),
        ("focal", "/recommendations/shares"),
        ("focal", f"/chair/{chair}/review"),
        ("focal", f"/chair/snapshots/{snapshot_id}"),
    ]
    clients = {"admin": app.test_client(), "focal": app.test_client()}
    for name, values in (("admin", admin_session), ("focal", focal_session)):
        with clients[name].session_transaction() as session:
            session.update(values)
    queries: list[int] = []
    with app.app_context():
        sa.event.listen(db.engine, "before_cursor_execute", lambda *a: queries.append(1))

    writes = 0

    def write() -> None:
        nonlocal writes
        with app.app_context():
            version = db.session.scalar(sa.select(FollowUp.version).where(FollowUp.id == written))
        writes += 1
        response = clients["focal"].post(
            f"/follow-ups/{written}",
            data={
                "version": version,
                "status": STATUSES[writes % 2].value,
                "narrative": "The ministry has set up a working group.",
            },
        )
        assert response.status_code == 302, response.status_code

    failed = False
    heads = ("warm p50", "p95", "write p50", "p95", "queries")
    print(f"{'reader':<6} {'page':<30} " + " ".join(f"{h:>9}" for h in heads))
    for who, page in pages:
        client = clients[who]
        assert client.get(page).status_code == 200, page
        warm, cold = [], []
        for _ in range(args.runs):
            queries.clear()
            started = time.perf_counter()
            client.get(page)
            warm.append((time.perf_counter() - started) * 1000)
            count = len(queries)
        for _ in range(args.runs):
            write()
            started = time.perf_counter()
            assert client.get(page).status_code == 200
            cold.append((time.perf_counter() - started) * 1000)
        worst = max(_p95(warm), _p95(cold))
        failed |= worst > TARGET_MS
        print(
            f"{who:<6} {page:<30} {statistics.median(warm):>9.1f} {_p95(warm):>9.1f} "
            f"{statistics.median(cold):>9.1f} {_p95(cold):>9.1f} {count:>9}"
        )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
