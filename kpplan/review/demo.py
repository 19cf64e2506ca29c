"""An illustrative review snapshot for the demo, so that its page shows something."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select

from kpplan.core.extensions import db
from kpplan.meetings.kinds import ActivityKind
from kpplan.meetings.models import Activity, Status
from kpplan.review import services
from kpplan.review.models import ReviewSnapshot


def load_demo_snapshot(today: date) -> int:
    """Take the snapshot at the latest Senior Officials' Meeting of the demo history, once.

    Returns how many snapshots it took (0 or 1). It freezes the demo follow-ups as they
    stand when the demo is loaded: illustrative, like them.
    """
    latest = db.session.scalar(
        select(Activity)
        .where(
            Activity.kind == ActivityKind.SENIOR_OFFICIALS,
            Activity.status != Status.CANCELLED,
            Activity.start_date <= today,
        )
        .order_by(Activity.start_date.desc(), Activity.id.desc())
        .limit(1)
    )
    if latest is None:
        return 0
    if db.session.scalar(select(ReviewSnapshot.id).where(ReviewSnapshot.activity_id == latest.id)):
        return 0
    services.take_snapshot(None, latest, today)
    return 1
