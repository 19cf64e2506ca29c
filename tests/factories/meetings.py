"""Activities, the links between them and their documents."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

from kpplan.core.dates import DatePrecision
from kpplan.core.extensions import db
from kpplan.meetings.kinds import ActivityKind
from kpplan.meetings.models import (
    Activity,
    ActivityLink,
    ActivityStateRole,
    Document,
    DocumentKind,
    Format,
    Milestone,
    Relation,
    StateRole,
    Status,
)
from tests.factories.base import BaseFactory
from tests.factories.directory import state_named


class MeetingsFactory(BaseFactory):
    def activity(
        self,
        title: str | None = None,
        kind: ActivityKind = ActivityKind.THEMATIC_MEETING,
        start: date = date(2026, 3, 10),
        days: int = 2,
        status: Status = Status.PLANNED,
        host: str | None = None,
        co_hosts: tuple[str, ...] = (),
        format: Format = Format.IN_PERSON,
        theme: str | None = None,
        milestones: bool = False,
        date_precision: DatePrecision = DatePrecision.DAY,
    ) -> Activity:
        self.count += 1
        with self.app.app_context():
            activity = Activity(
                kind=kind,
                title=title or f"Thematic Meeting {self.count}",
                theme=theme,
                start_date=start,
                end_date=start + timedelta(days=days - 1),
                format=format,
                status=status,
                date_precision=date_precision,
            )
            if host:
                activity.state_roles.append(
                    ActivityStateRole(state=state_named(host), role=StateRole.HOST)
                )
            for name in co_hosts:
                activity.state_roles.append(
                    ActivityStateRole(state=state_named(name), role=StateRole.CO_HOST)
                )
            if milestones:
                activity.milestones.append(
                    Milestone(name="Agenda", due_date=start - timedelta(days=30))
                )
            db.session.add(activity)
            db.session.commit()
            db.session.refresh(activity)
            # Load what tests read before the record leaves the session.
            for milestone in activity.milestones:
                db.session.refresh(milestone)
            for role in activity.state_roles:
                db.session.refresh(role)
            db.session.expunge_all()
            return activity

    def link(self, source_id: int, target_id: int, relation=None) -> ActivityLink:
        with self.app.app_context():
            return self._save(
                ActivityLink(
                    source_id=source_id,
                    target_id=target_id,
                    relation=relation or Relation.PREPARES,
                )
            )

    def document(self, activity_id: int, content: bytes = b"%PDF-1.4\n%test\n") -> Document:
        """A PDF kept for the activity the way an upload keeps it."""
        with self.app.app_context():
            folder = Path(self.app.config["UPLOAD_FOLDER"])
            folder.mkdir(parents=True, exist_ok=True)
            self.count += 1
            stored = f"test{self.count}.pdf"
            (folder / stored).write_bytes(content)
            return self._save(
                Document(
                    activity_id=activity_id,
                    kind=DocumentKind.AGENDA,
                    title=f"Agenda {self.count}",
                    original_name="agenda.pdf",
                    stored_name=stored,
                    content_type="application/pdf",
                    size=len(content),
                )
            )
