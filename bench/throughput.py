"""Requests per second of the list pages under gunicorn, against a Flask hello-world.

    .venv/bin/python bench/throughput.py [--seconds 10] [--workers 2]

Needs wrk (Debian's package). Serves the 100x SQLite database of bench/world.py (built
once under instance/bench/) with gunicorn on loopback, signs in as an administrator, and
drives each list page with wrk, alternating with a one-line Flask app served the same way
in the same run: each page is compared with the mean of the hello-world measured just
before and just after it. The sign-in and wrk send the same User-Agent, as one browser
would. The target: every list page keeps at least a fifth of the hello-world's throughput.
Exits 1 when one does not. Loopback only; each measure is bounded by --seconds.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import socket
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
        {"email": "admin@bench.example", "password": "benchmark password", "csrf_token": token}
    ).encode()
    opener.open(base + "/login", data)
    return "; ".join(f"{c.name}={c.value}" for c in jar)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=5)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    if not shutil.which("wrk"):
        raise SystemExit("wrk is needed: apt-get install wrk")

    sys.path.insert(0, str(ROOT / "bench"))
    import world

    url = world.sqlite_url(100)
    world.ensure(url, 100)
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
        for page in PAGES:
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
