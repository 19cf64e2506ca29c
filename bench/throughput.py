"""Requests per second of the list pages under gunicorn, against a Flask hello-world.

    .venv/bin/python bench/throughput.py [--seconds 10] [--workers 2] [--only PAGE ...]
    .venv/bin/python bench/throughput.py --in-process 2000 [--only PAGE ...]

Needs wrk (Debian's package). Serves the 100x SQLite database of bench/world.py (built
once under instance/bench/) with gunicorn on loopback, signs in as an administrator, and
drives each list page with wrk, alternating with a one-line Flask app served the same way
in the same run: each page is compared with the mean of the hello-world measured just
before and just after it. The sign-in and wrk send the same User-Agent, as one browser
would. The target: every list page keeps at least a fifth of the hello-world's throughput.
Exits 1 when one does not. Loopback only; each measure is bounded by --seconds.

``--in-process N`` measures instead what one hit of each page costs the application itself,
as a gunicorn worker calls it (one WSGI call, signed in as above, the page kept), without
gunicorn or wrk: the CPU time per hit (what the machine's other work changes least) and the
median wall time, over N hits, beside the same for the hello-world. A measure to compare
two versions of kpplan by, on the same machine, one after the other.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from http.cookiejar import CookieJar
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
sys.path.insert(0, str(ROOT / "bench"))

import world  # noqa: E402

HELLO = """from flask import Flask
app = Flask(__name__)

@app.get("/")
def hello():
    return "Hello, World!"
"""
PAGES = [
    "/",
    "/states/",
    "/organisations/",
    "/users/",
    "/history/",
    "/activities/",
    "/activities/archive",
    "/recommendations/",
    "/follow-ups/",
    "/follow-ups/validation",
    "/chair/",
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def serve(app: str, cwd: Path, env: dict, workers: int) -> tuple[subprocess.Popen, str]:
    port = free_port()
    process = subprocess.Popen(
        [str(BIN / "gunicorn"), "--workers", str(workers), "--bind", f"127.0.0.1:{port}", app],
        cwd=cwd,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    for _ in range(100):
        try:
            urllib.request.urlopen(base + "/healthz" if "wsgi" in app else base + "/")
            return process, base
        except OSError:
            time.sleep(0.1)
    process.kill()
    raise SystemExit(f"gunicorn did not start for {app}")


#: Sent by the sign-in and by wrk alike: the sign-in's session is bound to the browser that
#: opened it (Flask-Login's session protection), and a page is not kept for a session that
#: another browser's request changed.
USER_AGENT = "kpplan-throughput"


def wrk(url: str, seconds: int, cookie: str | None = None) -> float:
    command = ["wrk", "-t2", "-c16", f"-d{seconds}s", "-H", f"User-Agent: {USER_AGENT}", url]
    if cookie:
        command[1:1] = ["-H", f"Cookie: {cookie}"]
    output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    return float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))


def sign_in(base: str) -> str:
    jar = CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    opener.addheaders = [("User-Agent", USER_AGENT)]
    page = opener.open(base + "/login").read().decode()
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    data = urllib.parse.urlencode(
        {"email": "admin@bench.example", "password": world.PASSWORD, "csrf_token": token}
    ).encode()
    opener.open(base + "/login", data)
    return "; ".join(f"{c.name}={c.value}" for c in jar)


def _cost_per_hit(app, environ: dict, hits: int) -> tuple[float, float]:
    """CPU and median wall microseconds of one WSGI call of ``app`` with ``environ``."""

    def call() -> str:
        status = []
        body = app(dict(environ), lambda s, headers, exc_info=None: status.append(s))
        b"".join(body)
        getattr(body, "close", lambda: None)()
        return status[0]

    for _ in range(3):
        first = call()
    if not first.startswith("200"):
        raise SystemExit(f"{environ['PATH_INFO']} answered {first}")
    walls = []
    cpu = time.process_time_ns()
    for _ in range(hits):
        started = time.perf_counter_ns()
        call()
        walls.append(time.perf_counter_ns() - started)
    cpu = time.process_time_ns() - cpu
    return cpu / hits / 1000, statistics.median(walls) / 1000


def in_process(url: str, pages: list[str], hits: int) -> int:
    """Print what one kept hit of each page costs the application (see the module's doc)."""
    from flask import Flask
    from werkzeug.test import EnvironBuilder

    os.environ.update({"KPPLAN_DATABASE_URL": url, "KPPLAN_SECRET_KEY": "bench"})
    sys.path.insert(0, str(ROOT))
    from wsgi import app

    client = app.test_client()
    headers = {"User-Agent": USER_AGENT}
    page = client.get("/login", headers=headers).text
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    client.post(
        "/login",
        data={"email": "admin@bench.example", "password": world.PASSWORD, "csrf_token": token},
        headers=headers,
    )
    client.get("/", headers=headers)  # the session's form token, as a browser's first page
    cookie = f"session={client.get_cookie('session').value}"

    def environ(path: str, with_cookie: bool = True) -> dict:
        sent = {**headers, "Cookie": cookie} if with_cookie else headers
        return EnvironBuilder(
            path=path, headers=sent, environ_base={"REMOTE_ADDR": "127.0.0.1"}
        ).get_environ()

    hello = Flask("hello")
    hello.get("/")(lambda: "Hello, World!")
    cpu, wall = _cost_per_hit(hello, environ("/", with_cookie=False), hits)
    print(f"{'page':<24} {'cpu us/hit':>11} {'wall us':>9}")
    print(f"{'(hello-world)':<24} {cpu:>11.0f} {wall:>9.0f}")
    for path in pages:
        cpu, wall = _cost_per_hit(app, environ(path), hits)
        print(f"{path:<24} {cpu:>11.0f} {wall:>9.0f}")
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=5)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--only", nargs="+", metavar="PAGE", help="these pages of the list only")
    parser.add_argument(
        "--in-process", type=int, metavar="N", help="N kept hits of each page in the process"
    )
    args = parser.parse_args()
    pages = PAGES
    if args.only:
        unknown = sorted(set(args.only) - set(PAGES))
        if unknown:
            raise SystemExit(f"not a list page of the benchmark: {unknown}; pages: {PAGES}")
        pages = [page for page in PAGES if page in args.only]

    url = world.sqlite_url(100)
    world.ensure(url, 100)
    if args.in_process:
        return in_process(url, pages, args.in_process)
    if not shutil.which("wrk"):
        raise SystemExit("wrk is needed: apt-get install wrk")
    scratch = Path(tempfile.mkdtemp(prefix="kpplan-throughput-"))
    env = {
        **os.environ,
        "KPPLAN_DATABASE_URL": url,
        "KPPLAN_SECRET_KEY": "bench",
    }
    (scratch / "hello.py").write_text(HELLO)
    hello, hello_base = serve("hello:app", scratch, env, args.workers)
    kpplan, base = serve("wsgi:app", ROOT, env, args.workers)
    failed = False
    shares = []
    try:
        cookie = sign_in(base)
        print(f"{'page':<24} {'req/s':>9} {'hello-world':>12} {'share':>7}")
        after = wrk(hello_base + "/", args.seconds)
        for page in pages:
            # Each page between two runs of the hello-world, against their mean: a machine
            # whose load changes during the run moves both alike.
            before = after
            rate = wrk(base + page, args.seconds, cookie)
            after = wrk(hello_base + "/", args.seconds)
            baseline = (before + after) / 2
            share = rate / baseline
            shares.append(share)
            failed |= share < 0.2
            flag = "" if share >= 0.2 else "  <-- under a fifth"
            print(f"{page:<24} {rate:>9.0f} {baseline:>12.0f} {share:>7.1%}{flag}")
    finally:
        for process in (kpplan, hello):
            process.terminate()
            process.wait()
        shutil.rmtree(scratch, ignore_errors=True)
    print(f"lowest share: {min(shares):.1%}" if shares else "nothing measured")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
