"""Time the reminder tick at 100x the Process's real volume, with its peak memory.

    .venv/bin/python bench/tick.py [--focal-points 2] [--rebuild]

Takes the 100x database of ``bench/world.py`` (3,000 activities, 15,000 preparation
milestones, 20,000 recommendations to 10 states each: 200,000 follow-ups, 1,000,000 status
updates, 2,000 accounts) and keeps ``--focal-points`` active national focal points per state
(the others observers), under ``instance/bench/`` with a marker saying how it was built.
Every person takes their reminders in a daily summary, so that the first tick plans
everything and sends nothing, as a large installation's first tick should.

Each run copies that database and, in a fresh process each (so that the peak resident
memory is the tick's own), runs ``planner.tick`` at 06:00 in the Process's timezone:

(a) the first tick, which plans every reminder the archive deserves;
(b) a second tick at the same moment: nothing is new (target: at most 200 ms);
(c) a tick a day later: the new week of some overdue follow-ups, the summaries of 08:00
    the day before, their sending (target: at most 2 s); and (d) again at that moment.

and prints, for each, the time of each phase (plan, summaries, send) and of each rule,
what it planned and sent, and the peak resident memory (target: at most 200 MB for each
tick). Exits 1 when a target is missed. A benchmark, not a test: timings depend on the
machine.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sqlite3
import subprocess
import sys
import time
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import sqlalchemy as sa  # noqa: E402

from kpplan import create_app  # noqa: E402
from kpplan.core.extensions import db  # noqa: E402

TARGET_NOTHING_NEW_MS = 200
TARGET_TICK_MS = 2000
TARGET_PEAK_MB = 200
BUILD_VERSION = 3  # 3: a copy of the world of bench/world.py
SCENARIOS = {
    "a": ("first tick", 0),
    "b": ("same moment again (nothing new)", 0),
    "c": ("a day later", 1),
    "d": ("a day later, again (nothing new)", 1),
}


def _app(url: str, instance: Path):
    return create_app(
        {"SECRET_KEY": "bench", "SQLALCHEMY_DATABASE_URI": url, "PASSWORD_HASH_PROFILE": "test"},
        instance_path=str(instance),
    )


def build(path: Path, focal_points: int) -> dict:
    """Copy the 100x database of ``world.py`` (built there once) to ``path`` and keep
    ``focal_points`` active focal points per state; returns what the marker records."""
    import world

    from kpplan.directory.models import Role, User
    from kpplan.reminders.models import Delivery, ReminderPreference
    from kpplan.reminders.rules import RULES

    started = time.perf_counter()
    source = world.ensure(world.sqlite_url(100), 100)
    for leftover in path.parent.glob(f"{path.name}*"):
        leftover.unlink()
    with (
        sqlite3.connect(world.BENCH_DIR / "kpplan-100x.db") as original,
        sqlite3.connect(path) as target,
    ):
        original.backup(target)
    app = _app(f"sqlite:///{path}", path.parent)
    with app.app_context():
        # The world has about fifty focal points a state: keep ``focal_points`` active ones
        # per state, as the Process has (a focal point and an alternate), the others observe.
        rows = db.session.execute(
            sa.select(User.id, User.state_id)
            .where(User.role == Role.FOCAL_POINT, User.active.is_(True))
            .order_by(User.id)
        ).all()
        kept: dict[int, int] = {}
        observers = []
        for user_id, state_id in rows:
            if kept.get(state_id, 0) < focal_points:
                kept[state_id] = kept.get(state_id, 0) + 1
            else:
                observers.append(user_id)
        for start in range(0, len(observers), 500):
            db.session.execute(
                sa.update(User)
                .where(User.id.in_(observers[start : start + 500]))
                .values(role=Role.OBSERVER, state_id=None)
            )
        db.session.execute(
            sa.insert(ReminderPreference),
            [
                {"user_id": user_id, "rule": key, "delivery": Delivery.DAILY}
                for user_id in db.session.scalars(sa.select(User.id))
                for key in RULES
            ],
        )
        db.session.commit()
        built_at = db.session.scalar(sa.select(sa.func.max(User.created_at)))
        db.session.remove()
        db.engine.dispose()
    return {
        "version": BUILD_VERSION,
        "world": source["builder"] + source["head"],
        "focal_points": focal_points,
        "built_at": built_at.replace(tzinfo=UTC).isoformat(),
        "seconds": round(time.perf_counter() - started, 1),
    }


class NullTransport:
    """Builds every mail as for real and sends it nowhere."""

    def __init__(self) -> None:
        self.count = 0

    def send(self, message, reminder) -> None:
        bytes(message)
        self.count += 1

    def close(self) -> None:
        pass


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run_scenario(url: str, instance: Path, now: datetime) -> dict:
    """One real tick at ``now`` in this process, timed phase by phase and rule by rule."""
    from kpplan.reminders import planner
    from kpplan.reminders.rules import registry

    app = _app(url, instance)
    rules: dict[str, float] = {}

    def timed_rule(key, find):
        def find_timed(*args):
            started = time.perf_counter()
            iterator = iter(find(*args))
            rules[key] = rules.get(key, 0) + time.perf_counter() - started
            while True:
                started = time.perf_counter()
                try:
                    item = next(iterator)
                except StopIteration:
                    rules[key] += time.perf_counter() - started
                    return
                rules[key] += time.perf_counter() - started
                yield item

        return find_timed

    for key, rule in list(registry.RULES.items()):
        registry.RULES[key] = replace(rule, find=timed_rule(key, rule.find))
    phases: dict[str, float] = {}

    def timed(name, function):
        def run(*args, **kwargs):
            started = time.perf_counter()
            try:
                return function(*args, **kwargs)
            finally:
                phases[name] = time.perf_counter() - started

        return run

    planner.plan = timed("plan", planner.plan)
    planner.gather_digests = timed("summaries", planner.gather_digests)
    planner.send_due = timed("send", planner.send_due)
    queries = []
    with app.app_context():
        sa.event.listen(db.engine, "before_cursor_execute", lambda *a: queries.append(1))
        db.session.execute(sa.text("select 1"))  # connect before timing
        baseline = _peak_mb()
        queries.clear()
        started = time.perf_counter()
        report = planner.tick(now, transport=NullTransport())
        total = time.perf_counter() - started
    return {
        "total": total,
        "phases": phases,
        "rules": rules,
        "planned": report.planned_count
        if hasattr(report, "planned_count")
        else len(report.planned),
        "digests": len(report.digests),
        "sent": len(report.send.sent),
        "errors": report.errors,
        "queries": len(queries),
        "peak_mb": _peak_mb(),
        "baseline_mb": baseline,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--focal-points", type=int, default=2, help="active per state")
    parser.add_argument("--rebuild", action="store_true", help="build the database again")
    parser.add_argument("--keep", action="store_true", help="keep the ticked copy")
    parser.add_argument("--scenario", help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    parser.add_argument("--now", help=argparse.SUPPRESS)
    args = parser.parse_args()
    folder = ROOT / "instance" / "bench"

    if args.scenario:
        result = run_scenario(args.url, folder, datetime.fromisoformat(args.now))
        print(json.dumps(result))
        return 0

    folder.mkdir(parents=True, exist_ok=True)
    built = folder / f"tick-{args.focal_points}fp.db"
    marker = built.with_suffix(".json")
    info = json.loads(marker.read_text()) if marker.exists() else None
    import world

    wanted = world.ensure(world.sqlite_url(100), 100)
    stale = info is None or info.get("version") != BUILD_VERSION or not built.exists()
    if args.rebuild or stale or info.get("world") != wanted["builder"] + wanted["head"]:
        print(f"building {built} ...", flush=True)
        marker.unlink(missing_ok=True)
        info = build(built, args.focal_points)
        marker.write_text(json.dumps(info))
        print(f"built in {info['seconds']} s", flush=True)
    copy = folder / "tick-run.db"
    # A journal left by a run that was killed would be replayed into the fresh copy; the
    # backup API copies what the built database's write-ahead log holds too.
    for leftover in folder.glob("tick-run.db*"):
        leftover.unlink()
    with sqlite3.connect(built) as source, sqlite3.connect(copy) as target:
        source.backup(target)
    # 06:00 in Brussels, 100 days after the accounts were made: every follow-up never
    # updated is "not updated for 90 days" already.
    day = datetime.fromisoformat(info["built_at"]).date() + timedelta(days=100)
    from zoneinfo import ZoneInfo

    failed = False
    print(
        f"{'tick':<36} {'total':>8} {'plan':>8} {'summ.':>8} {'send':>8} "
        f"{'planned':>8} {'sent':>6} {'queries':>7} {'peak':>7}"
    )
    for key, (label, days) in SCENARIOS.items():
        moment = datetime.combine(
            date.fromordinal(day.toordinal() + days),
            datetime.min.time().replace(hour=6),
            tzinfo=ZoneInfo("Europe/Brussels"),
        ).astimezone(UTC)
        output = subprocess.run(
            [
                sys.executable,
                __file__,
                "--scenario",
                key,
                "--url",
                f"sqlite:///{copy}",
                "--now",
                moment.isoformat(),
            ],
            capture_output=True,
            text=True,
            env={**os.environ, "PYTHONWARNINGS": "ignore"},
        )
        if output.returncode:
            print(output.stderr[-3000:], file=sys.stderr)
            return 1
        result = json.loads(output.stdout.strip().splitlines()[-1])
        phases = result["phases"]
        target = TARGET_NOTHING_NEW_MS if key in "bd" else TARGET_TICK_MS
        over = []
        if key != "a" and result["total"] * 1000 > target:
            over.append(f"time over {target} ms")
        if result["peak_mb"] > TARGET_PEAK_MB:
            over.append(f"memory over {TARGET_PEAK_MB} MB")
        failed |= bool(over)
        print(
            f"({key}) {label:<32} {result['total'] * 1000:>6.0f}ms "
            + " ".join(f"{phases.get(p, 0) * 1000:>6.0f}ms" for p in ("plan", "summaries", "send"))
            + f" {result['planned']:>8} {result['sent']:>6} {result['queries']:>7} "
            f"{result['peak_mb']:>5.0f}MB" + (f"  <-- {', '.join(over)}" if over else "")
        )
        print(
            "     rules: "
            + ", ".join(
                f"{rule} {seconds * 1000:.0f}ms" for rule, seconds in result["rules"].items()
            )
        )
        if result["errors"]:
            print(f"     errors: {result['errors']}")
    if not args.keep:
        copy.unlink()
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
