"""Illustrative recommendations for the demo.

The Process's texts give no wording of recommendations (DOMAIN.md), so these are made up
for the demo and flagged ``illustrative``: every page that shows them says so. Dates are
set relative to today, so that the demo always has follow-ups due soon, overdue and not
updated for a long time.
"""

from __future__ import annotations

import hashlib
from datetime import date, timedelta

from sqlalchemy import select

from kpplan.core.db import utcnow
from kpplan.core.extensions import db
from kpplan.directory.models import Organisation, Role, State, User
from kpplan.meetings.demo import MOMBASA
from kpplan.meetings.models import Activity
from kpplan.recommendations import follow_up_services, services
from kpplan.recommendations.follow_up_models import FollowUp
from kpplan.recommendations.models import Lineage, Priority, Recommendation
from kpplan.recommendations.statuses import FollowUpStatus

# (activity title, wording, themes, priority, days from today to the target date,
#  addressees: "all", a tuple of state names, or "IOM"/"secretariat" among them)
EXAMPLES = (
    (
        "Thematic Meeting on Law Enforcement and Capacity Building",
        "Designate a national contact point for cross-border investigations of smuggling "
        "networks and share its details with the other member states.",
        ("RD5", "JVAP4", "4P-PROSECUTION"),
        Priority.HIGH,
        -40,
        "all",
    ),
    (
        "Thematic Meeting on Law Enforcement and Capacity Building",
        "Include modules on financial investigations in the training curricula of police "
        "and prosecutors.",
        ("RD2", "RD5"),
        Priority.MEDIUM,
        20,
        ("Kenya", "Italy", "Egypt", "Ethiopia", "Sudan"),
    ),
    (
        "Thematic Meeting on the Protection of Women and Girls on the Move from Africa to Europe",
        "Ensure gender-sensitive screening at reception so that victims of trafficking are "
        "identified early and referred to protection services.",
        ("RD7", "RD10", "4P-PROTECTION"),
        Priority.HIGH,
        120,
        "all",
    ),
    (
        "Thematic Meeting on the Protection of Women and Girls on the Move from Africa to Europe",
        "Compile the member states' referral mechanisms in a shared reader for practitioners.",
        ("RD7", "4P-PARTNERSHIP"),
        Priority.LOW,
        -10,
        ("secretariat", "IOM"),
    ),
    (
        "Thematic Meeting on Return, Reintegration and Integration: Finding Durable Solutions",
        "Link return programmes with local development plans in the regions of origin.",
        ("RD8", "RD9", "JVAP5"),
        Priority.MEDIUM,
        250,
        ("Kenya", "Italy", "Ethiopia", "Somalia", "Germany", "Switzerland"),
    ),
    (
        MOMBASA,
        "Explore skills mobility partnerships in sectors with shortages, with the private "
        "sector and training institutions of countries of origin.",
        ("JVAP2", "RD1"),
        Priority.MEDIUM,
        25,
        ("Kenya", "Italy", "Egypt", "Tunisia", "Germany", "Belgium", "The Netherlands"),
    ),
    (
        "Thematic Workshop on Enhancing Transnational Law Enforcement "
        "Partnerships on Combatting Trafficking in Persons",
        "Use joint investigation teams more systematically in trafficking cases that span "
        "the route.",
        ("RD5", "JVAP4", "4P-PROSECUTION", "4P-PARTNERSHIP"),
        Priority.HIGH,
        -5,
        ("Kenya", "Italy", "Ethiopia", "Sudan", "France", "Spain"),
    ),
)
# A later recommendation re-endorses the first one, to show the lineage.
RE_ENDORSED = (
    "Thematic Workshop on Enhancing Transnational Law Enforcement "
    "Partnerships on Combatting Trafficking in Persons",
    "Complete the designation of national contact points for cross-border investigations, "
    "agreed in 2018.",
    ("RD5", "4P-PARTNERSHIP"),
    Priority.HIGH,
    60,
    "all",
)
NARRATIVES = {
    FollowUpStatus.IN_PROGRESS: "Inter-ministerial working group set up; first meeting held.",
    FollowUpStatus.PARTIALLY_IMPLEMENTED: "Adopted by the ministry of the interior; the "
    "justice ministry's part is under way.",
    FollowUpStatus.IMPLEMENTED: "Done: the decree was published and the contact point named.",
    FollowUpStatus.NOT_APPLICABLE: "Covered by an existing regional mechanism.",
}


def _pick(seed: str, n: int) -> int:
    return int(hashlib.sha256(seed.encode()).hexdigest(), 16) % n


def load_demo_recommendations(today: date) -> int:
    """Record the illustrative recommendations and their follow-up, once; returns how many
    were added (0 when the demo has them already or the activities are missing)."""
    if db.session.scalar(select(Recommendation.id).where(Recommendation.illustrative)):
        return 0
    activities = {a.title: a for a in db.session.scalars(select(Activity))}
    if not all(example[0] in activities for example in EXAMPLES):
        return 0
    users = {u.email: u for u in db.session.scalars(select(User))}
    secretariat = users.get("secretariat@kpplan.example") or db.session.scalar(
        select(User).where(User.role == Role.SECRETARIAT)
    )
    if secretariat is None:
        return 0
    states = {s.name: s for s in db.session.scalars(select(State))}
    iom = db.session.scalar(select(Organisation).where(Organisation.acronym == "IOM"))
    created: list[Recommendation] = []
    for title, text, themes, priority, days, to in (*EXAMPLES, RE_ENDORSED):
        draft = services.Draft(
            text=text,
            priority=priority,
            target_date=today + timedelta(days=days),
            themes=list(themes),
            to_all_members=to == "all",
        )
        if to != "all":
            draft.states = [states[name] for name in to if name in states]
            draft.organisations = [iom] if "IOM" in to and iom else []
            draft.for_secretariat = "secretariat" in to
        if (title, text, themes, priority, days, to) == RE_ENDORSED:
            draft.predecessor, draft.lineage = created[0], Lineage.RE_ENDORSES
        created += services.record_recommendations(
            secretariat, activities[title], [draft], illustrative=True
        )
    db.session.flush()
    # Each state's updates are posted by its focal point (its first, not the alternate).
    authors: dict[str, User] = {}
    for user in sorted(users.values(), key=lambda u: (u.is_alternate, u.id)):
        if user.role is Role.FOCAL_POINT and user.state is not None:
            authors.setdefault(user.state.name, user)
    for position, recommendation in enumerate(created[:-1]):
        for follow_up in recommendation.follow_ups:
            _history(follow_up, position, authors, secretariat, today)
    return len(created)


def _history(follow_up: FollowUp, position: int, authors, secretariat: User, today: date) -> None:
    """A plausible timeline: some addressees never report, others move on over months."""
    name = follow_up.addressee
    roll = _pick(f"{position}:{name}", 10)
    if name == "Kenya":
        roll = (3, 7, 9, 5, 2, 8, 6)[position]
    elif name == "Italy":
        roll = (6, 2, 4, 0, 7, 3, 9)[position]
    path = {
        0: [],
        1: [],
        2: [FollowUpStatus.IN_PROGRESS],
        3: [FollowUpStatus.IN_PROGRESS, FollowUpStatus.PARTIALLY_IMPLEMENTED],
        4: [FollowUpStatus.IN_PROGRESS, FollowUpStatus.IMPLEMENTED],
        5: [FollowUpStatus.IN_PROGRESS],
        6: [FollowUpStatus.PARTIALLY_IMPLEMENTED, FollowUpStatus.IMPLEMENTED],
        7: [FollowUpStatus.IN_PROGRESS, FollowUpStatus.PARTIALLY_IMPLEMENTED],
        8: [FollowUpStatus.NOT_APPLICABLE],
        9: [FollowUpStatus.IN_PROGRESS],
    }[roll]
    author = authors.get(name) or secretariat
    for step, status in enumerate(path):
        update = follow_up_services.post_update(
            author,
            follow_up,
            follow_up.version,
            status=status,
            narrative=NARRATIVES[status],
            today=today,
            reason="Covered by the IGAD regional mechanism."
            if status.value == "not_applicable"
            else "",
        )
        # Spread the timeline over the past months; stale ones stopped long ago.
        age = (len(path) - step) * (150 if roll in (5, 9) else 45) + _pick(name, 20)
        posted = utcnow() - timedelta(days=age)
        update.posted_at = posted
        follow_up.last_update_at = posted
        if update.validation is not None and roll == 6:
            # Accepted for some, left waiting for the secretariat for others.
            # The demo's updates give no evidence: accepted knowingly, as the page asks.
            follow_up_services.validate(secretariat, update, True, "", without_evidence=True)
            update.validated_at = posted + timedelta(days=3)
        db.session.flush()
