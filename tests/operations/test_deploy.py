"""The deploy/ folder: the environment file names every setting, and the smoke script starts
that very shape (gunicorn with 2 workers and the scheduler, on PostgreSQL) and uses it."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest

from kpplan import PROJECT_ROOT
from kpplan.config import Defaults
from tests.conftest import IN_CI, POSTGRES_URL

DEPLOY = PROJECT_ROOT / "deploy"


def test_the_environment_file_names_every_setting():
    listed = set(re.findall(r"^#?KPPLAN_([A-Z_]+)=", (DEPLOY / "kpplan.env").read_text(), re.M))
    # SECRET_KEY has no default: without it, kpplan makes one in instance/secret_key.
    settings = {name for name in vars(Defaults) if name.isupper()} | {"SECRET_KEY"}
    assert settings - listed == set(), "add them to deploy/kpplan.env (and the README)"
    assert listed - settings == set(), "deploy/kpplan.env names settings kpplan does not have"


@pytest.mark.parametrize(
    "unit", ["kpplan-web.service", "kpplan-scheduler.service", "kpplan-backup.service"]
)
def test_each_unit_runs_as_kpplan_with_the_one_environment_file(unit):
    text = (DEPLOY / unit).read_text()
    assert "\nEnvironmentFile=/etc/kpplan/kpplan.env\n" in text
    assert "\nUser=kpplan\n" in text and "\nWorkingDirectory=/opt/kpplan\n" in text
    assert re.search(r"^ExecStart=/opt/kpplan/\.venv/bin/(gunicorn|flask) ", text, re.M)


@pytest.mark.deploy
def test_the_smoke_script_starts_the_deploy_shape_signs_in_and_a_tick_mails():
    if not POSTGRES_URL:
        if IN_CI:
            pytest.fail("CI=true but KPPLAN_TEST_POSTGRES_URL is not set: .ci/run must set it.")
        pytest.skip("needs the PostgreSQL server named by KPPLAN_TEST_POSTGRES_URL")
    # The script finds gunicorn and flask beside the interpreter that runs it: the tests' own.
    result = subprocess.run(
        [sys.executable, str(DEPLOY / "smoke.py"), POSTGRES_URL],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    for step in (
        "ok  gunicorn answers /healthz with the database ok; 2 workers",
        "ok  signed in as",
        "ok  the scheduler ticked and wrote",
        "ok  the Reminders page shows the scheduler's tick and its mail",
        "Backed up into",
        "kpplan works in its deploy/ shape",
    ):
        assert step in result.stdout, result.stdout
