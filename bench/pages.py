"""Time every page at 1x and 100x the Process's real volume, warm and right after a write.

    .venv/bin/python bench/pages.py [--runs 30] [--postgres URL] [--only SUBSTRING]

Uses the databases of ``bench/world.py`` (built once, kept under ``instance/bench/``), on
SQLite and, with ``--postgres`` (or ``KPPLAN_BENCH_POSTGRES_URL``), on PostgreSQL too. Each
page is rendered in the process through the test client, signed in as the secretariat's
administrator or as a Kenyan focal point:

- warm: the same page again and again (served as kept for its reader, ``@kept_page``);
- rendered: the same, with kept pages off, so that every request renders the page (as after
  a change to a table it reads; the figures it takes from the memo stay warm);
- after a write: a focal point posts a status update first (not timed), as happens all day.

Before timing, the follow-up figures of the day are counted for today as the reminder
scheduler's first tick of a day counts them (the databases are never ticked otherwise, and a
running installation has them within minutes of midnight). Prints p50 and p95 of each, the
number of queries of a render, and the 100x/1x ratio of the rendered p50. Targets: p95 <= 25
ms all three ways, at most 12 queries and no more at 100x than at 1x, and a 100x/1x ratio <=
1.5. Exits 1 when a page misses one. A benchmark, not a test: figures depend on the machine;
the README's Performance section says which machine gave them.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import sqlalchemy as sa  # noqa: E402
import world  # noqa: E402

P95_MS = 25.0
MAX_QUERIES = 12
MAX_RATIO = 1.5


def pages(ids: dict) -> list[tuple[str, str]]:
    """(who, URL) of every page worth timing; ``who`` is "admin" or "focal"."""
    admin = [
        "/",
        "/states/",
        f"/states/{ids['state']}",
        "/organisations/",
        "/users/",
        f"/users/?state={ids['state']}&role=focal_point",
        f"/users/{ids['user']}",
        "/history/",
        "/account",
        "/activities/",
        "/activities/archive",
        f"/activities/archive?state={ids['host']}&year={ids['year']}",
        "/activities/archive?q=protection",
        f"/activities/calendar?month={ids['month']}",
        "/activities/hosting",
        f"/activities/{ids['activity']}",
        "/calendar.ics",
        "/recommendations/",
        f"/recommendations/?theme=RD5&year={ids['year']}",
        f"/recommendations/?state={ids['state']}&overdue=1",
        "/recommendations/?status=implemented",
        "/recommendations/?q=smuggling",
        "/recommendations/shares",
        f"/recommendations/{ids['recommendation']}",
        f"/activities/{ids['activity']}/recommendations",
        "/follow-ups/",
        f"/follow-ups/?state={ids['state']}",
        "/follow-ups/validation",
        f"/follow-ups/{ids['follow_up']}",
        "/chair/",
        f"/chair/{ids['chair']}",
        f"/chair/items/{ids['item']}",
        f"/chair/{ids['chair']}/review",
        f"/chair/{ids['chair']}/handover",
        f"/chair/snapshots/{ids['snapshot']}",
        "/reports/statistics",
        f"/reports/statistics?from={ids['year'] - 5}-01-01&to={ids['year']}-12-31",
        f"/reports/timeline?from={ids['year'] - 4}-01-01&to={ids['year']}-12-31",
        "/reminders/",
    ]
    focal = [
        "/",
        "/follow-ups/",
        "/recommendations/",
        "/recommendations/shares",
        f"/chair/{ids['chair']}/review",
        f"/chair/snapshots/{ids['snapshot']}",
    ]
    return [("admin", p) for p in admin] + [("focal", p) for p in focal]


class Bench:
    """One database at one scale: the app, a signed-in client per role, a query counter."""

    def __init__(self, url: str, scale: int, rebuild: bool = False) -> None:
        built = world.ensure(url, scale, rebuild)
        if url.startswith("postgresql"):
            # The planner's statistics and the visibility map, as a server's autovacuum
            # keeps them (a test server may run without it): a database filled in bulk has
            # neither until vacuumed, and no count can be read from an index alone.
            engine = sa.create_engine(url, isolation_level="AUTOCOMMIT")
            with engine.connect() as connection:
                connection.exec_driver_sql("VACUUM ANALYZE")
            engine.dispose()
        self.scale = scale
        self.ids = dict(built["ids"])
        from kpplan import settled

        # Set aside from the garbage collector as wsgi.py sets a serving process's app.
        self.app = settled(world.bench_app(url, world.BENCH_DIR / "instance"))
        self.queries = 0
        with self.app.app_context():
            from kpplan.core.extensions import db
            from kpplan.meetings.models import Activity, ActivityStateRole, StateRole

            # Filters that find something at every scale: the sample activity's month,
            # year and host, so that a page is not cheaper at 1x for being empty.
            start = db.session.get(Activity, self.ids["activity"]).start_date
            self.ids["month"] = f"{start:%Y-%m}"
            self.ids["year"] = start.year
            self.ids["host"] = db.session.scalar(
                sa.select(ActivityStateRole.state_id).where(
                    ActivityStateRole.activity_id == self.ids["activity"],
                    ActivityStateRole.role == StateRole.HOST,
                )
            )
            self.rolled = self._roll_the_day()
            sa.event.listen(db.engine, "before_cursor_execute", self._count)
        self.clients = {
            "admin": self._signed_in("admin@bench.example"),
            "focal": self._signed_in_id(self.ids["focal_point"]),
        }
        self.writes = 0

    @staticmethod
    def _roll_the_day() -> bool:
        """Count the follow-up figures of the day for today, as the reminder scheduler's
        first tick of a day does (its first step, in its own commit), unless they already
        are. A running installation has them counted within minutes of midnight; the
        benchmark's databases are never ticked, so without this every page would count
        them live (what people see only in the minutes after midnight) from the day after
        the build on. Returns whether it counted."""
        from kpplan.core.db import utcnow
        from kpplan.reminders.planner import count_the_day

        return count_the_day(utcnow())

    def _count(self, *_args) -> None:
        self.queries += 1

    def _signed_in(self, email: str):
        with self.app.app_context():
            from kpplan.core.extensions import db
            from kpplan.directory.models import User

            user_id = db.session.scalar(sa.select(User.id).where(User.email == email))
        return self._signed_in_id(user_id)

    def _signed_in_id(self, user_id: int):
        from kpplan.auth.services import SESSION_KEY, open_session
        from kpplan.core.db import utcnow
        from kpplan.core.extensions import db
        from kpplan.directory.models import User

        client = self.app.test_client()
        with self.app.app_context():
            user = db.session.get(User, user_id)
            secret = open_session(user, utcnow())
            db.session.commit()
            values = {"_user_id": user.get_id(), SESSION_KEY: secret}
        with client.session_transaction() as session:
            session.update(values)
        return client

    def write(self) -> None:
        """A Kenyan focal point posts a status update on one of Kenya's follow-ups, through
        the update form, as in the app (the write every figure depends on)."""
        from kpplan.core.extensions import db
        from kpplan.recommendations.follow_up_models import FollowUp

        self.writes += 1
        with self.app.app_context():
            found = db.session.execute(
                sa.select(FollowUp.id, FollowUp.version)
                .where(FollowUp.state_id == self.ids["state"])
                .order_by(FollowUp.id)
                .offset(self.writes % 7)
                .limit(1)
            ).one()
        status = ("in_progress", "partially_implemented")[self.writes % 2]
        response = self.clients["focal"].post(
            f"/follow-ups/{found.id}",
            data={
                "version": found.version,
                "status": status,
                "narrative": f"Benchmark update {self.writes}: working group met again.",
            },
        )
        if response.status_code != 302:
            raise SystemExit(f"the benchmark's write was refused ({response.status_code})")

    def time(self, who: str, page: str, runs: int, after_write: bool, keep: bool = True) -> dict:
        client = self.clients[who]
        self.app.config["KEEP_PAGES"] = keep
        first = client.get(page)
        if first.status_code != 200:
            raise SystemExit(f"{page} answered {first.status_code} at {self.scale}x")
        times, queries = [], []
        for _ in range(runs):
            if after_write:
                self.write()
            self.queries = 0
            started = time.perf_counter()
            response = client.get(page)
            times.append((time.perf_counter() - started) * 1000)
            queries.append(self.queries)
            if response.status_code != 200:
                raise SystemExit(f"{page} answered {response.status_code}")
        times.sort()
        return {
            "p50": statistics.median(times),
            "p95": times[max(0, round(len(times) * 0.95) - 1)],
            "queries": max(queries),
        }


def run(label: str, urls: dict[int, str], runs: int, only: str | None) -> tuple[list, bool]:
    """Every page at each scale of ``urls`` ({scale: database URL}); prints and judges."""
    benches = {scale: Bench(url, scale) for scale, url in urls.items()}
    small, large = benches[min(benches)], benches[max(benches)]
    rows, failed = [], False
    print(f"\n{label}: pages at {large.scale}x (and {small.scale}x for the ratio)")
    rolled = [f"{b.scale}x" for b in benches.values() if b.rolled]
    if rolled:
        print(f"(figures of the day counted for today, as a tick does: {', '.join(rolled)})")
    header = (
        f"{'page':<46} {'warm p50':>8} {'p95':>5} {'render p50':>10} {'p95':>5} "
        f"{'write p50':>9} {'p95':>5} {'queries':>7} {'1x q':>4} {'ratio':>5}"
    )
    print(header)
    for (who, page), (_, small_page) in zip(pages(large.ids), pages(small.ids), strict=True):
        if only and only not in page:
            continue
        warm = large.time(who, page, runs, after_write=False)
        rendered = large.time(who, page, runs, after_write=False, keep=False)
        written = large.time(who, page, max(runs // 2, 5), after_write=True)
        base = small.time(who, small_page, runs, after_write=False, keep=False)
        ratio = rendered["p50"] / base["p50"] if base["p50"] else 0.0
        misses = []
        if warm["p95"] > P95_MS:
            misses.append("warm p95")
        if rendered["p95"] > P95_MS:
            misses.append("rendered p95")
        if written["p95"] > P95_MS:
            misses.append("after-write p95")
        if max(rendered["queries"], written["queries"]) > MAX_QUERIES:
            misses.append("queries")
        if rendered["queries"] > base["queries"]:
            misses.append("queries grow")
        if ratio > MAX_RATIO:
            misses.append("ratio")
        failed |= bool(misses)
        name = f"{page} ({who})" if who != "admin" else page
        print(
            f"{name[:46]:<46} {warm['p50']:>6.1f}ms {warm['p95']:>3.0f}ms "
            f"{rendered['p50']:>8.1f}ms {rendered['p95']:>3.0f}ms "
            f"{written['p50']:>7.1f}ms {written['p95']:>3.0f}ms {rendered['queries']:>7} "
            f"{base['queries']:>4} {ratio:>5.2f}" + (f"  <-- {', '.join(misses)}" if misses else "")
        )
        rows.append(
            {
                "page": name,
                "warm": warm,
                "rendered": rendered,
                "after_write": written,
                "at_1x": base,
                "ratio": ratio,
                "misses": misses,
            }
        )
    return rows, failed


def _postgres_url(server: str, scale: int) -> str:
    """The benchmark's database at ``scale`` on ``server``; ``KPPLAN_BENCH_POSTGRES_NAME``
    names a copy of its own (``<name>_<scale>x``), for a second checkout measuring alongside."""
    url = world.postgres_url(server, scale)
    name = os.environ.get("KPPLAN_BENCH_POSTGRES_NAME")
    if not name:
        return url
    return sa.engine.make_url(url).set(database=f"{name}_{scale}x").render_as_string(False)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=30, help="timed renders of each page")
    parser.add_argument(
        "--postgres",
        metavar="URL",
        default=os.environ.get("KPPLAN_BENCH_POSTGRES_URL"),
        help="also measure on this PostgreSQL server (its own databases are made there)",
    )
    parser.add_argument("--only", metavar="TEXT", help="only the pages whose URL holds TEXT")
    parser.add_argument(
        "--no-sqlite", action="store_true", help="measure on PostgreSQL only (with --postgres)"
    )
    args = parser.parse_args()

    results, failed = {}, False
    if not args.no_sqlite:
        sqlite = {scale: world.sqlite_url(scale) for scale in (1, 100)}
        results["sqlite"], missed = run("SQLite", sqlite, args.runs, args.only)
        failed |= missed
    if args.postgres:
        postgres = {scale: _postgres_url(args.postgres, scale) for scale in (1, 100)}
        results["postgresql"], missed = run("PostgreSQL", postgres, args.runs, args.only)
        failed |= missed
    results["machine"] = {
        "python": platform.python_version(),
        "processor": platform.processor() or platform.machine(),
        "cpus": os.cpu_count(),
    }
    (world.BENCH_DIR / "pages.json").write_text(json.dumps(results, indent=1))
    missed = [
        r["page"]
        for rows in results.values()
        if isinstance(rows, list)
        for r in rows
        if r["misses"]
    ]
    print(f"\n{len(missed)} page(s) missed a target" if missed else "\nevery page met its targets")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
