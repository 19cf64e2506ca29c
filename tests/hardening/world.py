"""A small world of records for the hardening tests: one of each kind that a URL names,
the people of every role, and the forms each page shows (their field names, the options
of their lists and their hidden values), read from the pages themselves."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from html.parser import HTMLParser
from urllib.parse import urlsplit

from werkzeug.exceptions import HTTPException
from werkzeug.routing import Rule

from kpplan.core.extensions import db
from kpplan.directory.models import Organisation, Role, State, User
from kpplan.meetings.kinds import ActivityKind
from tests.conftest import STATE_A, STATE_B
from tests.participants.helpers import draw_up
from tests.participants.helpers import name as name_delegate

#: The roles the issue names: signed out, and one account of each role.
ROLES = ("anonymous", "admin", "secretariat", "chair", "fp_a", "observer")


def build_world(app, factory, people) -> dict[str, int | str]:
    """The records a URL of each route may name; returns a sample value per argument."""
    target = factory.user(Role.OBSERVER, email="target@kpplan.example")
    activity = factory.activity(milestones=True)
    invitations = draw_up(app, activity.id)
    delegate_id = name_delegate(app, invitations[STATE_A], "Sample Delegate")
    link_id = factory.link(factory.activity().id, activity.id).id
    recommendation = factory.recommendation(activity.id, states=(STATE_A, STATE_B))
    follow_up_a = factory.follow_up_of(recommendation, STATE_A)
    update = factory.update(follow_up_a.id, with_file=b"%PDF-1.4\n%ev\n", pending=True)
    chairmanship = factory.chairmanship("South Sudan")
    work_plan = factory.work_plan(chairmanship.id)
    item = factory.work_plan_item(work_plan.id, activity_ids=(activity.id,))
    som = factory.activity(kind=ActivityKind.SENIOR_OFFICIALS, start=date(2024, 11, 14))
    with app.app_context():
        from kpplan.meetings.models import Activity
        from kpplan.reminders.models import Delivery, Reminder, ReminderKind, ReminderStatus
        from kpplan.review.services import take_snapshot

        snapshot_id = take_snapshot(None, db.session.get(Activity, som.id), date(2025, 1, 1)).id
        reminder = Reminder(
            kind=ReminderKind.REMINDER,
            rule="milestone_due",
            subject_key="milestone:1",
            period_key="due:2026-12-03",
            user_id=people["admin"].id,
            delivery=Delivery.IMMEDIATELY,
            status=ReminderStatus.SENT,
            title="Due on 3 December 2026: Agenda",
            planned_at=datetime(2026, 12, 1, tzinfo=UTC),
            message_id="<reminder-hardening@kpplan.example>",
        )
        db.session.add(reminder)
        db.session.commit()
        return {
            "state_id": db.session.scalar(db.select(State.id).where(State.name == STATE_A)),
            "organisation_id": db.session.scalar(db.select(Organisation.id).limit(1)),
            "user_id": target.id,
            "activity_id": activity.id,
            "milestone_id": activity.milestones[0].id,
            "link_id": link_id,
            "document_id": factory.document(activity.id).id,
            "filename": "kpplan.css",
            "recommendation_id": recommendation.id,
            "follow_up_id": follow_up_a.id,
            "update_id": update.id,
            "evidence_id": update.evidence[0].id,
            "fmt": "csv",
            "chairmanship_id": chairmanship.id,
            "work_plan_id": work_plan.id,
            "item_id": item.id,
            "reminder_id": reminder.id,
            "snapshot_id": snapshot_id,
            "som_id": som.id,
            "invitation_id": invitations[STATE_A],
            "participant_id": delegate_id,
            "section": "states",
        }


def sign_in(client, app, user_id: int | None) -> None:
    """Sign ``user_id`` in on ``client`` with a session of their own (None: sign out).

    The account is read afresh: an earlier request may have changed its session token."""
    from tests.conftest import signed_in_session

    with app.app_context():
        user = db.session.get(User, user_id) if user_id is not None else None
        values = signed_in_session(app, user) if user is not None else {}
    with client.session_transaction() as session:
        session.clear()
        session.update(values)


def routes(app) -> list[tuple[str, Rule]]:
    """Every (method, rule) of the URL map, static files aside."""
    found = []
    for rule in app.url_map.iter_rules():
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            found.append((method, rule))
    return sorted(found, key=lambda pair: (pair[1].endpoint, pair[0]))


# --- Forms read from the pages ---------------------------------------------------------


@dataclass
class FormShape:
    """What a form on a page sends: its fields with their values as the page holds them."""

    fields: dict[str, list[str]] = field(default_factory=dict)  # name → values offered
    files: set[str] = field(default_factory=set)

    def merge(self, other: FormShape) -> None:
        for name, values in other.fields.items():
            known = self.fields.setdefault(name, [])
            known.extend(v for v in values if v not in known)
        self.files |= other.files


class _FormReader(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.forms: list[tuple[str, str, FormShape]] = []  # (method, action, shape)
        self._select: str | None = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form":
            method = (attrs.get("method") or "get").upper()
            self.forms.append((method, attrs.get("action") or "", FormShape()))
            return
        if not self.forms:
            return
        shape = self.forms[-1][2]
        name = attrs.get("name")
        if tag == "input" and name:
            if attrs.get("type") == "file":
                shape.files.add(name)
            else:
                shape.fields.setdefault(name, [])
                if attrs.get("value") is not None:
                    shape.fields[name].append(attrs["value"])
        elif tag == "textarea" and name:
            shape.fields.setdefault(name, [])
        elif tag == "select" and name:
            shape.fields.setdefault(name, [])
            self._select = name
        elif tag == "option" and self._select and attrs.get("value") is not None:
            values = shape.fields[self._select]
            if len(values) < 12:  # a few options are enough to reach the services
                values.append(attrs["value"])

    def handle_endtag(self, tag):
        if tag == "select":
            self._select = None


def read_forms(app, client, pages: list[str]) -> dict[tuple[str, str], FormShape]:
    """The forms found on ``pages``, by the (method, endpoint) they are sent to."""
    adapter = app.url_map.bind("localhost")
    shapes: dict[tuple[str, str], FormShape] = {}
    for page in pages:
        response = client.get(page)
        html = "html" in response.mimetype
        text = response.text if response.status_code == 200 and html else ""
        response.close()
        if not text or not html:
            continue
        reader = _FormReader()
        reader.feed(text)
        for method, action, shape in reader.forms:
            path = urlsplit(action).path or urlsplit(page).path
            try:
                endpoint, _ = adapter.match(path, method=method)
            except HTTPException:
                continue
            shapes.setdefault((method, endpoint), FormShape()).merge(shape)
    return shapes


def sample_path(rule: Rule, objects: dict[str, int | str]) -> str:
    """The path of ``rule`` with each argument replaced by its sample value."""
    return re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", lambda m: str(objects[m.group(1)]), rule.rule)
