"""Start kpplan in its production shape on this machine, use it, and stop it.

The shape is the one of deploy/: gunicorn with 2 workers and the reminder scheduler, each
started with the ExecStart line of its systemd unit and the settings of kpplan.env, against a
new PostgreSQL database. The script then follows the README: migrate, load the reference data,
create an administrator; it signs in, reads pages, waits for the scheduler's first tick to
write reminder mail (no member state has a focal point yet: the administrator hears of it),
checks the Reminders page shows that tick, runs the nightly backup, and stops everything (even
when a step fails), dropping the database it made.

    .venv/bin/python deploy/smoke.py postgresql://postgres@127.0.0.1:5432/postgres

The address names a PostgreSQL server and a database to connect to while creating and
dropping ``kpplan_smoke_<random>``; its user must be allowed to create databases. Uses only the
standard library and kpplan's own dependencies, from the interpreter that runs it.
"""

from __future__ import annotations

import argparse
import email
import html
import html.parser
import http.cookiejar
import os
import secrets
import shlex
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from email.policy import default as default_policy
from pathlib import Path

import sqlalchemy as sa

DEPLOY = Path(__file__).resolve().parent
ROOT = DEPLOY.parent
# Where the units expect kpplan; here, this checkout and the interpreter's own bin folder.
INSTALLED_AT = "/opt/kpplan"
INSTALLED_BIN = "/opt/kpplan/.venv/bin/"
BIN = Path(sys.executable).parent
ADMIN = "smoke-admin@kpplan.example"
PASSWORD = secrets.token_urlsafe(16)
PAGES = [
    ("/", "States to give a focal point"),
    ("/activities/", "Activities"),
    ("/activities/archive", "Activities"),
    ("/recommendations/", "Recommendations"),
    ("/follow-ups/", "Follow-ups"),
    ("/states/", "Kenya"),
    ("/organisations/", "IOM"),
    ("/chair/", "Chair"),
    ("/reports/statistics", "Statistics"),
    ("/users/", ADMIN),
    ("/history/", "History"),
]


def say(text: str) -> None:
    print(text, flush=True)


class Failed(Exception):
    pass


def environment_file(path: Path) -> dict[str, str]:
    """NAME=value lines as systemd's EnvironmentFile reads them: comments skipped, quotes
    around a value removed, a later line winning over an earlier one."""
    found = {}
    for line in path.read_text().splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        name, _, value = line.partition("=")
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] == "'":
            value = value[1:-1]
        elif len(value) >= 2 and value[0] == value[-1] == '"':
            value = value[1:-1].replace('\\"', '"')
        found[name.strip()] = value
    return found


def exec_start(unit: str) -> list[str]:
    """The command of a unit's ExecStart, with this checkout's virtual environment."""
    for line in (DEPLOY / unit).read_text().splitlines():
        if line.startswith("ExecStart="):
            words = shlex.split(line.removeprefix("ExecStart="))
            return [w.replace(INSTALLED_BIN, f"{BIN}/") for w in words]
    raise Failed(f"{unit} has no ExecStart line")


def gunicorn_arguments(configured: str, port: int) -> str:
    """kpplan.env's gunicorn options, with 2 workers and this run's port."""
    words = shlex.split(configured)
    for option, value in (("--workers", "2"), ("--bind", f"127.0.0.1:{port}")):
        if option in words:
            words[words.index(option) + 1] = value
        else:
            words += [option, value]
    return shlex.join(words)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def run(command: list[str], env: dict[str, str], stdin: str | None = None) -> str:
    started = time.monotonic()
    result = subprocess.run(  # noqa: S603 - our own commands
        command, cwd=ROOT, env=env, input=stdin, capture_output=True, text=True, check=False
    )
    shown = " ".join(command).replace(f"{BIN}/", "").replace(f"sh {DEPLOY}/", "")
    if result.returncode != 0:
        raise Failed(f"{shown} failed:\n{result.stdout}{result.stderr}")
    say(f"  ok  {shown}  ({time.monotonic() - started:.1f} s)")
    return result.stdout


class Form(html.parser.HTMLParser):
    """The hidden CSRF token of a page's form."""

    def __init__(self) -> None:
        super().__init__()
        self.csrf_token = None

    def handle_starttag(self, tag, attrs):
        values = dict(attrs)
        if tag == "input" and values.get("name") == "csrf_token":
            self.csrf_token = values.get("value")


class Browser:
    """Cookies kept across requests, as a browser would; redirects followed."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar())
        )

    def request(self, path: str, data: dict | None = None) -> tuple[int, str, str]:
        body = urllib.parse.urlencode(data).encode() if data is not None else None
        request = urllib.request.Request(self.base + path, data=body)  # noqa: S310 - http only
        # As nginx would set them (PROXY_FIX is on in kpplan.env).
        request.add_header("X-Forwarded-For", "127.0.0.1")
        request.add_header("X-Forwarded-Proto", "http")
        try:
            with self.opener.open(request, timeout=20) as response:  # noqa: S310 - our server
                return response.status, response.geturl(), response.read().decode()
        except urllib.error.HTTPError as error:
            return error.code, error.geturl(), error.read().decode(errors="replace")


def wait_for(what: str, condition, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.25)
    raise Failed(f"gave up waiting {seconds:g} s for {what}")


def healthy(base: str) -> bool:
    try:
        with urllib.request.urlopen(base + "/healthz", timeout=2) as response:  # noqa: S310
            return response.status == 200 and b'"database":"ok"' in response.read().replace(
                b" ", b""
            )
    except (OSError, urllib.error.URLError):
        return False


def children_of(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid:
                found.append(int(entry.name))
    return found


def stop(process: subprocess.Popen | None) -> None:
    """Stop a service and everything it started (its own process group), as systemd would."""
    if process is None or process.poll() is not None:
        return
    try:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)
    except ProcessLookupError:
        pass


def start(command: list[str], env: dict[str, str], log: Path) -> subprocess.Popen:
    with open(log, "w") as handle:
        return subprocess.Popen(  # noqa: S603 - our own commands
            command,
            cwd=ROOT,
            env=env,
            stdout=handle,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


def smoke(server_url: str, work: Path) -> None:
    started = time.monotonic()
    server = sa.make_url(server_url).set(drivername="postgresql+psycopg")
    name = f"kpplan_smoke_{secrets.token_hex(4)}"
    admin = sa.create_engine(server, isolation_level="AUTOCOMMIT", poolclass=sa.pool.NullPool)
    with admin.connect() as connection:
        connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
    web = scheduler = None
    try:
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        # kpplan.env as shipped, then this run's own values: a later line wins.
        settings = work / "kpplan.env"
        ours = {
            "KPPLAN_DATABASE_URL": server.set(database=name).render_as_string(hide_password=False),
            "KPPLAN_SECRET_KEY": secrets.token_hex(32),
            "KPPLAN_BASE_URL": base,
            # No TLS and no mail server here: cookies over plain HTTP, mail as .eml files.
            "KPPLAN_SESSION_COOKIE_SECURE": "false",
            "KPPLAN_MAIL_SERVER": "",
            "KPPLAN_UPLOAD_FOLDER": str(work / "uploads"),
            "KPPLAN_MAIL_FOLDER": str(work / "mail"),
            "KPPLAN_SCHEDULER_LOCK_FILE": str(work / "scheduler.lock"),
        }
        shipped = environment_file(DEPLOY / "kpplan.env")
        ours["GUNICORN_CMD_ARGS"] = gunicorn_arguments(shipped["GUNICORN_CMD_ARGS"], port)
        settings.write_text(
            (DEPLOY / "kpplan.env").read_text()
            + "\n# This run's own\n"
            + "".join(f"{key}='{value}'\n" for key, value in ours.items())
        )
        # What systemd gives the services: the environment file and the unit's Environment=.
        clean = {k: v for k, v in os.environ.items() if not k.startswith(("KPPLAN_", "GUNICORN"))}
        env = {**clean, **environment_file(settings), "PYTHONUNBUFFERED": "1"}
        # What kpplan-manage gives the commands: the same file, read by the shell.
        manage_env = {
            **clean,
            "KPPLAN_ENV_FILE": str(settings),
            "KPPLAN_HOME": str(ROOT),
            "KPPLAN_FLASK": f"{BIN}/flask",
        }
        manage = ["sh", str(DEPLOY / "kpplan-manage")]
        say(f"kpplan in its deploy/ shape on {base}, database {name}:")
        run([*manage, "db", "upgrade"], manage_env)
        run([*manage, "kpplan", "seed"], manage_env)
        run(
            [*manage, "kpplan", "create-user", ADMIN, "--role", "admin", "--password-stdin"],
            manage_env,
            stdin=PASSWORD + "\n",
        )

        web = start(exec_start("kpplan-web.service"), env, work / "web.log")
        scheduler = start(exec_start("kpplan-scheduler.service"), env, work / "scheduler.log")
        wait_for("gunicorn to answer /healthz", lambda: healthy(base), 60)
        workers = children_of(web.pid)
        if len(workers) != 2:
            raise Failed(f"gunicorn runs {len(workers)} workers, not 2")
        say(f"  ok  gunicorn answers /healthz with the database ok; 2 workers {workers}")

        browser = Browser(base)
        status, _, page = browser.request("/login")
        form = Form()
        form.feed(page)
        if status != 200 or not form.csrf_token:
            raise Failed(f"/login: {status}, no sign-in form")
        status, where, page = browser.request(
            "/login",
            {"csrf_token": form.csrf_token, "email": ADMIN, "password": PASSWORD, "next": ""},
        )
        if status != 200 or urllib.parse.urlsplit(where).path != "/" or "Sign out" not in page:
            raise Failed(f"signing in ended on {where} ({status})")
        say(f"  ok  signed in as {ADMIN}")
        for path, text in PAGES:
            status, where, page = browser.request(path)
            if status != 200 or text not in page or urllib.parse.urlsplit(where).path != path:
                raise Failed(f"{path}: {status} at {where}, {text!r} not on the page")
        say(f"  ok  read {len(PAGES)} pages: {', '.join(p for p, _ in PAGES)}")

        mail = work / "mail"
        wait_for(
            "the scheduler's first tick to write mail",
            lambda: mail.is_dir() and any(mail.glob("*.eml")),
            60,
        )
        # Let the tick finish its batch before reading what it wrote.
        wait_for(
            "the tick to be recorded",
            lambda: "planned" in (work / "scheduler.log").read_text(),
            30,
        )
        mails = sorted(mail.glob("*.eml"))
        message = email.message_from_bytes(mails[0].read_bytes(), policy=default_policy)
        text = message.get_body(("plain",)).get_content()
        if not str(message["Message-ID"]).strip().startswith("<reminder-") or base not in text:
            raise Failed(f"{mails[0].name}: {message['Message-ID']!r}, no link to {base}:\n{text}")
        last = (work / "scheduler.log").read_text().strip().splitlines()[-1]
        count = f"{len(mails)} mail{'s' if len(mails) != 1 else ''}"
        say(f"  ok  the scheduler ticked and wrote {count} ({last.split(': ', 1)[-1]})")
        status, _, page = browser.request("/reminders/outbox")
        page = html.unescape(page)
        runner = f"by scheduler {scheduler.pid}@"
        if status != 200 or runner not in page or str(message["Subject"]) not in page:
            raise Failed(f"/reminders/outbox ({status}) shows neither the tick nor its mail")
        say("  ok  the Reminders page shows the scheduler's tick and its mail")

        backup = exec_start("kpplan-backup.service")
        backup[-1] = str(work / "backups")
        output = run(backup, env).strip()
        say(f"      {output}")
        say(f"kpplan works in its deploy/ shape ({time.monotonic() - started:.0f} s).")
    except BaseException:
        for log in ("web.log", "scheduler.log"):
            path = work / log
            if path.exists():
                lines = path.read_text().splitlines()
                say(f"--- the last lines of {log}:\n" + "\n".join(lines[-40:]))
        raise
    finally:
        stop(web)
        stop(scheduler)
        with admin.connect() as connection:
            connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "server_url",
        nargs="?",
        default=os.environ.get("KPPLAN_TEST_POSTGRES_URL"),
        help="a PostgreSQL address whose user may create databases "
        "(default: $KPPLAN_TEST_POSTGRES_URL)",
    )
    arguments = parser.parse_args()
    if not arguments.server_url:
        parser.error("give a PostgreSQL address, or set KPPLAN_TEST_POSTGRES_URL")
    with tempfile.TemporaryDirectory(prefix="kpplan-smoke-") as work:
        try:
            smoke(arguments.server_url, Path(work))
        except Failed as failure:
            say(f"FAILED: {failure}")
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
