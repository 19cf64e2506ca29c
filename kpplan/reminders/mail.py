"""Writing reminder mails (text and HTML) and handing them to SMTP or to ``.eml`` files."""

from __future__ import annotations

import functools
import hashlib
import os
import smtplib
from datetime import datetime
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, parseaddr
from pathlib import Path
from urllib.parse import urlsplit

from flask import current_app, render_template
from werkzeug.routing import BuildError

from kpplan.core.extensions import db
from kpplan.reminders.models import MailSender, Reminder


def message_id_for(
    rule: str, subject_key: str, period_key: str, user_id: int, domain: str | None = None
) -> str:
    """A Message-ID that depends only on the reminder's key: the same on every retry, so a
    mail server or client that got an earlier attempt recognises the repeat. ``domain`` is
    ``message_id_domain()``, given by a caller writing thousands."""
    key = f"{subject_key}|{rule}|{period_key}|{user_id}"
    digest = hashlib.sha256(key.encode()).hexdigest()[:24]
    domain = domain or message_id_domain()
    return f"<reminder-{rule.replace('_', '-')}-{digest}@{domain}>"


def message_id_domain() -> str:
    """The domain of the Message-IDs: that of ``MAIL_FROM``."""
    return _domain_of(current_app.config["MAIL_FROM"])


@functools.lru_cache(maxsize=8)
def _domain_of(mail_from: str) -> str:
    # Parsed once per address: a first tick writes hundreds of thousands of Message-IDs.
    _, sender = parseaddr(mail_from)
    return sender.rpartition("@")[2] or "kpplan.invalid"


def saved_mail_sender() -> MailSender | None:
    """The sender the secretariat set on the reminder settings page, if it did."""
    return db.session.get(MailSender, 1)


def mail_sender() -> Address:
    """Whom reminder mails come from: the secretariat's setting, else ``MAIL_FROM``."""
    saved = saved_mail_sender()
    if saved is not None:
        return Address(saved.name, addr_spec=saved.address)
    name, address = parseaddr(current_app.config["MAIL_FROM"])
    return Address(name, addr_spec=address)


def absolute_link(endpoint: str | None, values: dict | None) -> str | None:
    """The address of a page under ``BASE_URL``, built without a request."""
    if not endpoint:
        return None
    base = urlsplit(current_app.config["BASE_URL"])
    adapter = current_app.url_map.bind(
        base.netloc, script_name=base.path or "/", url_scheme=base.scheme or "http"
    )
    try:
        return adapter.build(endpoint, values or {}, force_external=True)
    except BuildError:
        return None


def build_message(
    reminder: Reminder, items: list[Reminder], now: datetime, more: int = 0
) -> EmailMessage:
    """The mail for a reminder, or for a summary listing ``items`` and ``more`` others,
    which it counts and leads to: the recipient's notifications of that summary."""
    base_url = current_app.config["BASE_URL"].rstrip("/")
    preferences = absolute_link("reminders.preferences", {})
    context = {
        "reminder": reminder,
        "user": reminder.user,
        "link": absolute_link(reminder.link_endpoint, reminder.link_values),
        "items": [(item, absolute_link(item.link_endpoint, item.link_values)) for item in items],
        "preferences_link": preferences,
        "base_url": base_url,
        "more": more,
        "more_link": absolute_link("reminders.notifications", {"summary": reminder.id})
        if more
        else None,
    }
    total = len(items) + more
    if reminder.is_digest and reminder.rule in ("daily_digest", "weekly_digest"):
        context["intro"] = (
            "Here is what needs your attention in the Khartoum Process "
            f"({total} reminder{'s' if total != 1 else ''}):"
        )
        context["why"] = (
            "kpplan sends you this summary because you chose it on your reminder settings:"
        )
    elif reminder.is_digest:
        # A summary the tick made itself: what was late at a first start or after a stop,
        # or the escalations of one tick. Its opening was written when it was planned.
        context["intro"] = reminder.message
        context["why"] = (
            "kpplan sent these reminders together rather than one e-mail each. To choose how "
            "you receive reminders, see your reminder settings:"
        )
    template = "digest" if reminder.is_digest else "reminder"
    text = render_template(f"reminders/mail/{template}.txt", **context)
    html = render_template(f"reminders/mail/{template}.html", **context)

    message = EmailMessage()
    message["Subject"] = reminder.title
    message["From"] = mail_sender()
    message["To"] = Address(reminder.user.name, addr_spec=reminder.user.email)
    message["Date"] = format_datetime(now)
    message["Message-ID"] = reminder.message_id
    message["Auto-Submitted"] = "auto-generated"
    message["X-Kpplan-Reminder"] = f"{reminder.rule} {reminder.subject_key} {reminder.period_key}"
    message.set_content(text)
    message.add_alternative(html, subtype="html")
    return message


class MailServerUnavailable(Exception):
    """The SMTP server could not be reached or refused to let kpplan in."""


class SMTPTransport:
    """One SMTP connection for a batch of mails, opened on the first one.

    When the server cannot be reached, the rest of the batch fails at once with the same
    error instead of each mail waiting for its own time-out.
    """

    def __init__(self, config) -> None:
        self.config = config
        self.connection: smtplib.SMTP | None = None
        self.unavailable: MailServerUnavailable | None = None

    def _connect(self) -> smtplib.SMTP:
        host, port = self.config["MAIL_SERVER"], int(self.config["MAIL_PORT"])
        timeout = self.config["MAIL_TIMEOUT"]
        if self.config["MAIL_USE_SSL"]:
            connection: smtplib.SMTP = smtplib.SMTP_SSL(host, port, timeout=timeout)
        else:
            connection = smtplib.SMTP(host, port, timeout=timeout)
            if self.config["MAIL_USE_TLS"]:
                connection.starttls()
        if self.config["MAIL_USERNAME"]:
            connection.login(self.config["MAIL_USERNAME"], self.config["MAIL_PASSWORD"])
        return connection

    def send(self, message: EmailMessage, reminder: Reminder) -> None:
        if self.unavailable is not None:
            raise self.unavailable
        if self.connection is None:
            try:
                self.connection = self._connect()
            except (smtplib.SMTPException, OSError) as error:
                self.unavailable = MailServerUnavailable(
                    f"The mail server {self.config['MAIL_SERVER']}:{self.config['MAIL_PORT']} "
                    f"could not be reached: {error}"
                )
                raise self.unavailable from error
        try:
            self.connection.send_message(message)
        except (smtplib.SMTPServerDisconnected, OSError):
            # A broken connection is not this mail's fault: the next mail reconnects.
            self.close()
            raise

    def close(self) -> None:
        if self.connection is not None:
            try:
                self.connection.quit()
            except (smtplib.SMTPException, OSError):
                self.connection.close()
            self.connection = None


class FolderTransport:
    """Without an SMTP server (as under ``make run``), mails become ``.eml`` files."""

    def __init__(self, folder: str) -> None:
        self.folder = Path(folder)

    def send(self, message: EmailMessage, reminder: Reminder) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        # Named by the outbox row: a retry rewrites the same file rather than adding one.
        path = self.folder / f"{reminder.id:06d}-{reminder.rule}.eml"
        temporary = path.with_suffix(".tmp")
        temporary.write_bytes(bytes(message))
        os.replace(temporary, path)

    def close(self) -> None:
        pass


def transport_for(config):
    """SMTP when ``MAIL_SERVER`` is set, else the ``.eml`` folder."""
    if config.get("MAIL_SERVER"):
        return SMTPTransport(config)
    return FolderTransport(config["MAIL_FOLDER"])
