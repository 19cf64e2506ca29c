"""PostgreSQL's own tools, pg_dump and pg_restore: finding the right version and calling them."""

from __future__ import annotations

import glob
import os
import re
import shutil
import subprocess
from pathlib import Path

import sqlalchemy as sa
from flask import current_app

from kpplan.core.errors import DomainError


def server_major_version(connection) -> int:
    """The major version of the PostgreSQL server (15 for 15.4)."""
    return int(connection.exec_driver_sql("SHOW server_version_num").scalar()) // 10000


def _tool_major_version(path: str) -> int | None:
    try:
        output = subprocess.run(  # noqa: S603 - a path we chose, no shell
            [path, "--version"], capture_output=True, text=True, timeout=30, check=True
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    found = re.search(r"(\d+)(?:\.\d+)?", output)
    return int(found.group(1)) if found else None


def find_tool(name: str, server_major: int) -> str:
    """The path of ``pg_dump`` or ``pg_restore`` at least as recent as the server.

    Looks in ``PG_BIN_DIR`` when set, then in Debian's ``/usr/lib/postgresql/<version>/bin``,
    then on the ``PATH``. Raises ``DomainError`` saying what to install when none fits: an older
    pg_dump refuses to dump a newer server.
    """
    candidates: list[str] = []
    configured = current_app.config.get("PG_BIN_DIR")
    if configured:
        candidates.append(os.path.join(configured, name))
    candidates.append(f"/usr/lib/postgresql/{server_major}/bin/{name}")
    on_path = shutil.which(name)
    if on_path:
        candidates.append(on_path)
    candidates.extend(
        sorted(
            glob.glob(f"/usr/lib/postgresql/*/bin/{name}"),
            key=lambda p: (
                int(Path(p).parent.parent.name) if Path(p).parent.parent.name.isdigit() else 0
            ),
            reverse=True,
        )
    )
    seen: list[str] = []
    for path in candidates:
        if path in seen or not os.access(path, os.X_OK):
            continue
        seen.append(path)
        major = _tool_major_version(path)
        if major is not None and major >= server_major:
            return path
    found = f" (found: {', '.join(seen)})" if seen else ""
    raise DomainError(
        f"{name} {server_major} or later is needed for this PostgreSQL {server_major} server "
        f"and was not found{found}. Install PostgreSQL's client programs of that version "
        f"(Debian and Ubuntu: apt install postgresql-client-{server_major}), or set PG_BIN_DIR "
        "to the folder that holds them."
    )


def connection_arguments(url: sa.URL) -> tuple[str, dict[str, str]]:
    """A libpq address for the command-line tools, and the environment that carries the
    password (so that it never shows in the list of processes)."""
    env = dict(os.environ)
    if url.password:
        env["PGPASSWORD"] = str(url.password)
    address = url.set(drivername="postgresql", password=None)
    return address.render_as_string(hide_password=False), env


def run_tool(arguments: list[str], env: dict[str, str], what: str) -> None:
    """Run a PostgreSQL tool; raise ``DomainError`` with its own words when it fails."""
    result = subprocess.run(  # noqa: S603 - fixed arguments, no shell
        arguments, capture_output=True, text=True, env=env, check=False
    )
    if result.returncode != 0:
        said = (result.stderr or result.stdout).strip()
        raise DomainError(f"{what} failed ({Path(arguments[0]).name}): {said}")
