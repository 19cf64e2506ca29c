"""Every page of the URL map, with sample ids taken from the demo, and the roles and screen
sizes of the walks of the accessibility checks.

A GET route added to the app is walked without anything to add here, unless its URL needs
an id this module does not know: then ``pages_of`` fails and says which.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from urllib.parse import urljoin, urlsplit

import sqlalchemy as sa
from flask import Flask, url_for

# The demo accounts the walks sign in as (kpplan.seed.DEMO_ACCOUNTS), one per role.
ROLE_ACCOUNTS: dict[str, str | None] = {
    "admin": "admin@kpplan.example",
    "focal_point": "focal.kenya@kpplan.example",
    "chair": "chair@kpplan.example",
    "observer": "observer@kpplan.example",
    "signed_out": None,
}

DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}

# Routes that answer with something other than a page: static files, the health check,
# kept documents and evidence, and any path ending in an extension (.ics, .csv, .xlsx, .<fmt>).
NOT_PAGES = re.compile(r"^/static/|^/healthz$|/documents/<|/evidence/<|\.[^/]+$")

# Pages worth walking in a second state besides the bare URL: filtered lists, the
# focal point's and the staff's views of follow-ups, a month with activities, a report
# asked for a wrong date, a past chairmanship, an error page.
EXTRA_PAGES = [
    "/recommendations/?show=all&overdue=1",
    "/follow-ups/?only=overdue",
    "/activities/archive?year=2019",
    "/activities/calendar?month=2024-02",
    "/reports/statistics?from=2024-13-01",
    "/no-such-page",
]


def sample_ids(app: Flask) -> dict[str, int | str]:
    """Ids of records of the demo that show each kind of page at its fullest."""
    from kpplan.chair.models import Chairmanship, WorkPlan, WorkPlanItem
    from kpplan.directory.models import Organisation, State, User
    from kpplan.participants.models import Invitation, Participant
    from kpplan.recommendations.follow_up_models import FollowUp, StatusUpdate
    from kpplan.recommendations.models import Recommendation
    from kpplan.recommendations.statuses import Validation
    from kpplan.review.models import ReviewSnapshot

    db = app.extensions["sqlalchemy"]
    with app.app_context():
        session = db.session
        kenya = session.scalar(sa.select(State.id).where(State.name == "Kenya"))
        # Kenya's follow-up with the longest timeline, so its focal point may update it.
        follow_up = session.execute(
            sa.select(FollowUp.id, FollowUp.recommendation_id)
            .outerjoin(StatusUpdate, StatusUpdate.follow_up_id == FollowUp.id)
            .where(FollowUp.state_id == kenya)
            .group_by(FollowUp.id, FollowUp.recommendation_id)
            .order_by(sa.func.count(StatusUpdate.id).desc(), FollowUp.id)
            .limit(1)
        ).one()
        recommendation = session.get(Recommendation, follow_up.recommendation_id)
        # The chairmanship with the longest work plan.
        item = session.execute(
            sa.select(WorkPlanItem.id, WorkPlan.id, WorkPlan.chairmanship_id)
            .join(WorkPlan, WorkPlanItem.work_plan_id == WorkPlan.id)
            .order_by(WorkPlanItem.id)
            .limit(1)
        ).one()
        # Kenya's invitation to the demo's upcoming training, and one of its delegates.
        invitation = session.scalar(
            sa.select(sa.func.max(Invitation.id)).where(Invitation.state_id == kenya)
        )
        return {
            "invitation_id": invitation,
            "participant_id": session.scalar(
                sa.select(sa.func.min(Participant.id)).where(
                    Participant.invitation_id == invitation
                )
            ),
            "state_id": kenya,
            "organisation_id": session.scalar(sa.select(sa.func.min(Organisation.id))),
            "user_id": session.scalar(
                sa.select(User.id).where(User.email == "focal.kenya@kpplan.example")
            ),
            "activity_id": recommendation.activity_id,
            "recommendation_id": recommendation.id,
            "follow_up_id": follow_up.id,
            # An update to "implemented" awaiting validation: its page shows the decision form.
            "update_id": session.scalar(
                sa.select(sa.func.min(StatusUpdate.id)).where(
                    StatusUpdate.validation == Validation.PENDING
                )
            ),
            "chairmanship_id": item[2],
            "work_plan_id": item[1],
            "item_id": item[0],
            "snapshot_id": session.scalar(sa.select(sa.func.min(ReviewSnapshot.id))),
            "other_chairmanship_id": session.scalar(
                sa.select(sa.func.min(Chairmanship.id)).where(Chairmanship.id != item[2])
            ),
        }


def pages_of(app: Flask) -> list[str]:
    """The path of every page of the URL map (GET routes, files aside), then the extras."""
    ids = sample_ids(app)
    paths: list[str] = []
    with app.test_request_context():
        for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
            if "GET" not in rule.methods or NOT_PAGES.search(rule.rule):
                continue
            missing = rule.arguments - ids.keys()
            assert not missing, f"no sample value for {missing} of {rule.rule}: add one"
            paths.append(url_for(rule.endpoint, **{name: ids[name] for name in rule.arguments}))
        paths.append(url_for("review.dashboard", chairmanship_id=ids["other_chairmanship_id"]))
    return [*paths, *EXTRA_PAGES]


def visit_each(page, base_url: str, paths: list[str]) -> Iterator[str]:
    """Open in ``page`` each of ``paths`` its role may see, once: a page the role may not see
    (403, 404) is left out, and so is one a redirect leads to again (every page leads a
    signed-out visitor to the sign-in page). A quick request without the browser tells
    which, so that only pages worth checking are drawn. Yields each path once it is open."""
    seen: set[str] = set()
    for path in paths:
        response = page.context.request.get(base_url + path, max_redirects=0)
        status, location = response.status, response.headers.get("location")
        response.dispose()
        if status in (403, 404) and path != "/no-such-page":
            continue
        landed = urlsplit(urljoin(base_url + path, location) if location else path)
        key = landed.path if landed.path == "/login" else f"{landed.path}?{landed.query}"
        if key in seen:
            continue
        seen.add(key)
        page.goto(base_url + path)
        yield path
