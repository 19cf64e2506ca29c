"""Accounts, organisations and countries; the states the permission table's people belong to."""

from __future__ import annotations

import sqlalchemy as sa

from kpplan.core.extensions import db
from kpplan.core.passwords import hash_password
from kpplan.directory.models import Organisation, OrganisationKind, Region, Role, State, User
from tests.factories.base import BaseFactory

PASSWORD = "correct horse battery"

# The roles of the permission table: focal points of two different states.
STATE_A = "Kenya"
STATE_B = "Italy"
CHAIR_STATE = "South Sudan"


def state_named(name: str) -> State:
    """A state of the reference data, by name (inside an app context)."""
    return db.session.scalars(sa.select(State).where(State.name == name)).one()


class DirectoryFactory(BaseFactory):
    def user(
        self,
        role: Role = Role.OBSERVER,
        state: str | State | None = None,
        email: str | None = None,
        name: str | None = None,
        active: bool = True,
        is_alternate: bool = False,
        password: str = PASSWORD,
    ) -> User:
        self.count += 1
        with self.app.app_context():
            if isinstance(state, str):
                state = state_named(state)
            user = User(
                name=name or f"{role.label} {self.count}",
                email=email or f"{role.value}.{self.count}@kpplan.example",
                role=role,
                state_id=state.id if state else None,
                active=active,
                is_alternate=is_alternate,
                password_hash=hash_password(password),
            )
            return self._save(user)

    def organisation(self, name: str | None = None) -> Organisation:
        self.count += 1
        with self.app.app_context():
            org = Organisation(name=name or f"Organisation {self.count}", kind=OrganisationKind.NGO)
            return self._save(org)

    def country(self, name: str, region: Region = Region.OTHER) -> State:
        with self.app.app_context():
            return self._save(State(name=name, region=region, is_member=False))
