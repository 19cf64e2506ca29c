"""Who a reminder goes to: the secretariat, a state's focal points, an owner, a Chair."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from kpplan.directory.models import Role, User
from kpplan.recommendations.follow_up_models import FollowUp


def secretariat_ids(session: Session) -> list[int]:
    """The active secretariat members; the administrators when there is none."""
    for role in (Role.SECRETARIAT, Role.ADMIN):
        ids = session.scalars(
            select(User.id).where(User.role == role, User.active.is_(True)).order_by(User.id)
        ).all()
        if ids:
            return list(ids)
    return []


def focal_point_ids(session: Session, state_id: int) -> list[int]:
    """The active national focal points of a state (alternates included)."""
    return list(
        session.scalars(
            select(User.id)
            .where(
                User.state_id == state_id,
                User.role == Role.FOCAL_POINT,
                User.active.is_(True),
            )
            .order_by(User.id)
        )
    )


def chair_delegate_ids(session: Session, state_id: int) -> list[int]:
    """The active Chair's delegates of a state."""
    return list(
        session.scalars(
            select(User.id).where(
                User.role == Role.CHAIR,
                User.state_id == state_id,
                User.active.is_(True),
            )
        )
    )


def owner_or_secretariat(session: Session, owner: User | None) -> list[int]:
    """The owner of a task while their account is active; else the secretariat."""
    if owner is not None and owner.active:
        return [owner.id]
    return secretariat_ids(session)


class Recipients:
    """Who answers for a follow-up: the state's focal points; the secretariat for an
    organisation or the secretariat itself. Looked up once per state and tick."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.by_state: dict[int, list[int]] = {}
        self.secretariat: list[int] | None = None

    def of(self, follow_up: FollowUp) -> list[int]:
        if follow_up.state_id is not None:
            if follow_up.state_id not in self.by_state:
                self.by_state[follow_up.state_id] = focal_point_ids(
                    self.session, follow_up.state_id
                )
            return self.by_state[follow_up.state_id]
        return self.staff()

    def staff(self) -> list[int]:
        if self.secretariat is None:
            self.secretariat = secretariat_ids(self.session)
        return self.secretariat
