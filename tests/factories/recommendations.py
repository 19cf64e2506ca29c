"""Recommendations with a follow-up per addressee, and status updates."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import sqlalchemy as sa

from kpplan.core.db import utcnow
from kpplan.core.extensions import db
from kpplan.directory.models import State
from kpplan.meetings.models import Activity
from kpplan.recommendations import follow_up_services, services
from kpplan.recommendations.follow_up_models import Evidence, FollowUp, StatusUpdate
from kpplan.recommendations.models import Priority, Recommendation, RecommendationTheme
from kpplan.recommendations.services import code_for
from kpplan.recommendations.statuses import FollowUpStatus, Validation
from tests.factories.base import BaseFactory
from tests.factories.directory import state_named


class RecommendationsFactory(BaseFactory):
    def recommendation(
        self,
        activity_id: int,
        states: tuple[str, ...] = ("Kenya", "Italy"),
        organisations: tuple[int, ...] = (),
        secretariat: bool = False,
        text: str | None = None,
        target: date | None = date(2026, 12, 31),
        themes: tuple[str, ...] = ("RD3",),
    ) -> Recommendation:
        """A recommendation with one follow-up per addressee (``follow_ups`` loaded)."""
        with self.app.app_context():
            activity = db.session.get(Activity, activity_id)
            self.count += 1
            number = 1 + len(
                db.session.scalars(
                    sa.select(Recommendation.id).where(Recommendation.activity_id == activity_id)
                ).all()
            )
            recommendation = Recommendation(
                activity=activity,
                number=number,
                code=code_for(activity, number),
                text=text or f"Recommendation {self.count}: strengthen cooperation.",
                priority=Priority.MEDIUM,
                target_date=target,
            )
            for code in themes:
                recommendation.themes.append(RecommendationTheme(code=code))
            for name in states:
                recommendation.follow_ups.append(
                    FollowUp(state=state_named(name), next_review_date=target)
                )
            for organisation_id in organisations:
                recommendation.follow_ups.append(
                    FollowUp(organisation_id=organisation_id, next_review_date=target)
                )
            if secretariat:
                recommendation.follow_ups.append(
                    FollowUp(for_secretariat=True, next_review_date=target)
                )
            db.session.add(recommendation)
            db.session.commit()
            db.session.refresh(recommendation)
            for follow_up in recommendation.follow_ups:
                db.session.refresh(follow_up)
            db.session.expunge_all()
            return recommendation

    def follow_up_of(self, recommendation: Recommendation, state: str) -> FollowUp:
        with self.app.app_context():
            found = db.session.scalar(
                sa.select(FollowUp)
                .join(State)
                .where(FollowUp.recommendation_id == recommendation.id, State.name == state)
            )
            db.session.expunge(found)
            return found

    def update(
        self,
        follow_up_id: int,
        status: FollowUpStatus = FollowUpStatus.IN_PROGRESS,
        with_file: bytes | None = None,
        pending: bool = False,
    ) -> StatusUpdate:
        """A status update as a focal point would post it, optionally with a file."""
        with self.app.app_context():
            follow_up = db.session.get(FollowUp, follow_up_id)
            update = StatusUpdate(
                follow_up=follow_up,
                status_before=follow_up.status,
                status=status,
                narrative="Done some work.",
                validation=Validation.PENDING if pending else None,
            )
            if with_file is not None:
                folder = Path(self.app.config["UPLOAD_FOLDER"]) / "evidence"
                folder.mkdir(parents=True, exist_ok=True)
                self.count += 1
                stored = f"evidence{self.count}.pdf"
                (folder / stored).write_bytes(with_file)
                update.evidence.append(
                    Evidence(
                        title="Report",
                        original_name="report.pdf",
                        stored_name=stored,
                        content_type="application/pdf",
                        size=len(with_file),
                    )
                )
            db.session.add(update)
            db.session.flush()
            if pending:
                follow_up.pending_update_id = update.id
            else:
                follow_up.status = status
            follow_up.last_update_at = utcnow()
            db.session.commit()
            db.session.refresh(update)
            for item in update.evidence:
                db.session.refresh(item)
            db.session.expunge_all()
            return update


#: The day the game's status updates are posted on.
_POSTED_ON = date(2026, 6, 1)


def random_change(rng, actor, moves, draft, activity) -> None:
    """One change of the ``random_changes`` fixture's game, chosen by ``rng`` among
    ``moves``; raises ``DomainError`` when the service refuses it."""
    # In a fixed order: the same game on every database.
    recommendations = db.session.scalars(
        sa.select(Recommendation).order_by(Recommendation.id)
    ).all()
    move = rng.choice(moves)
    if move == "record" or not recommendations:
        written = draft(rng)
        services.record_recommendations(actor, activity(rng), [written])
    elif move == "edit":
        target = rng.choice(recommendations)
        services.update_recommendation(actor, target, target.version, draft(rng), "Reworded.")
    elif move == "withdraw":
        target = rng.choice(recommendations)
        services.withdraw(actor, target, target.version, "Overtaken by events.")
    elif move == "validate":
        waiting = db.session.scalars(
            sa.select(StatusUpdate)
            .where(StatusUpdate.validation == Validation.PENDING)
            .order_by(StatusUpdate.id)
        ).all()
        if waiting:
            follow_up_services.validate(
                actor, rng.choice(waiting), rng.random() < 0.6, "Add the decree."
            )
    else:
        follow_up = rng.choice(db.session.scalars(sa.select(FollowUp).order_by(FollowUp.id)).all())
        follow_up_services.post_update(
            actor,
            follow_up,
            follow_up.version,
            status=rng.choice(list(FollowUpStatus)),
            narrative="Working group set up.",
            reason="Covered by a regional mechanism.",
            today=_POSTED_ON,
        )
