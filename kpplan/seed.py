"""Reference data every installation needs, and demo data for trying kpplan out."""

from __future__ import annotations

from sqlalchemy import select

from kpplan.chair.demo import load_demo_chairmanships
from kpplan.core import clock
from kpplan.core.extensions import db
from kpplan.directory import services as directory
from kpplan.directory.models import Role, State, User
from kpplan.directory.reference import load_reference_data
from kpplan.meetings.demo import load_demo_activities, load_demo_upcoming
from kpplan.participants.demo import load_demo_invitations
from kpplan.recommendations.demo import load_demo_recommendations
from kpplan.review.demo import load_demo_snapshot

# The demo password: these accounts exist only where `kpplan seed --demo` was run.
DEMO_PASSWORD = "khartoum-demo"  # noqa: S105 - printed for the demo on purpose

# (e-mail, name, role, state, alternate)
DEMO_ACCOUNTS: list[tuple[str, str, Role, str | None, bool]] = [
    ("admin@kpplan.example", "Amina Admin", Role.ADMIN, None, False),
    ("secretariat@kpplan.example", "Sara Secretariat", Role.SECRETARIAT, None, False),
    ("chair@kpplan.example", "Greta Chair", Role.CHAIR, "Germany", False),
    ("focal.kenya@kpplan.example", "Kamau Focal", Role.FOCAL_POINT, "Kenya", False),
    ("alternate.kenya@kpplan.example", "Wanjiru Alternate", Role.FOCAL_POINT, "Kenya", True),
    ("focal.italy@kpplan.example", "Giulia Focal", Role.FOCAL_POINT, "Italy", False),
    ("observer@kpplan.example", "Olu Observer", Role.OBSERVER, None, False),
]
# More national focal points, so that the directory, the home page and the follow-ups have
# states with someone to report: illustrative names, the same password. (name, state)
DEMO_FOCAL_POINTS: list[tuple[str, str]] = [
    ("Amira Focal", "Egypt"),
    ("Dawit Focal", "Ethiopia"),
    ("Selam Focal", "Eritrea"),
    ("Nyandeng Focal", "South Sudan"),
    ("Hassan Focal", "Sudan"),
    ("Sarah Focal", "Uganda"),
    ("Khadar Focal", "Somalia"),
    ("Jonas Focal", "Germany"),
    ("Claire Focal", "France"),
    ("Sanne Focal", "The Netherlands"),
    ("Ingrid Focal", "Sweden"),
    ("Lukas Focal", "Switzerland"),
    ("Inês Focal", "Portugal"),
]


def focal_point_email(state: str) -> str:
    """The demo e-mail address of ``state``'s illustrative focal point."""
    slug = state.lower().removeprefix("the ").replace(" ", "-")
    return f"focal.{slug}@kpplan.example"


def demo_accounts() -> list[tuple[str, str, Role, str | None, bool]]:
    """Every demo account: (e-mail, name, role, state, alternate)."""
    return DEMO_ACCOUNTS + [
        (focal_point_email(state), name, Role.FOCAL_POINT, state, False)
        for name, state in DEMO_FOCAL_POINTS
    ]


def seed(demo: bool = False) -> dict[str, int]:
    """Load reference data and, with ``demo``, the demo accounts. Idempotent; commits."""
    added = load_reference_data()
    added["accounts"] = added["activities"] = 0
    added["recommendations"] = added["chairmanships"] = added["snapshots"] = 0
    added["invitations"] = added["upcoming"] = 0
    if demo:
        today = clock.today()
        added["accounts"] = _demo_accounts()
        added["activities"] = load_demo_activities()
        added["upcoming"] = load_demo_upcoming(today)
        added["recommendations"] = load_demo_recommendations(today)
        # After the activities: the Chairs took over at Senior Officials' Meetings, and the
        # upcoming activities deliver the current work plan.
        added["chairmanships"] = load_demo_chairmanships(today)
        # Last: it freezes the follow-up of the demo recommendations.
        added["snapshots"] = load_demo_snapshot(today)
        # Upcoming activities (an illustrative one if there is none) invite and nominate.
        added["invitations"] = load_demo_invitations(today)
    db.session.commit()
    return added


def _demo_accounts() -> int:
    states = {s.name: s for s in db.session.scalars(select(State))}
    added = 0
    for email, name, role, state_name, alternate in demo_accounts():
        exists = db.session.scalar(select(User.id).where(User.email == email))
        if exists:
            continue
        directory.create_user(
            None,
            name=name,
            email=email,
            role=role,
            password=DEMO_PASSWORD,
            state=states[state_name] if state_name else None,
            is_alternate=alternate,
        )
        added += 1
    return added
