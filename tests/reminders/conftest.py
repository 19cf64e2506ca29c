"""Fixtures of the reminder tests: each app mails a real SMTP server started for the test."""

from __future__ import annotations

import pytest
from aiosmtpd.controller import Controller

from tests.reminders.helpers import Inbox, free_port


@pytest.fixture
def smtp_port() -> int:
    return free_port()


@pytest.fixture
def app_config(smtp_port, tmp_path):
    return {
        "MAIL_SERVER": "127.0.0.1",
        "MAIL_PORT": smtp_port,
        "MAIL_TIMEOUT": 5,
        "MAIL_FROM": "Khartoum Process secretariat <secretariat@kpplan.example>",
        "BASE_URL": "https://kpplan.example/app",
    }


@pytest.fixture
def smtp(smtp_port):
    """A real SMTP server on the loopback address, started for the test."""
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=smtp_port)
    controller.start()
    yield inbox
    controller.stop()
