"""States, organisations and users."""

from __future__ import annotations

import secrets
from datetime import datetime

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    String,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from kpplan.core.db import Base, LabelledEnum, Timestamped, UTCDateTime, Versioned, enum_column
from kpplan.permissions import Role  # an account's role; defined with what each role may do


class Region(LabelledEnum):
    AFRICA = "africa", "Africa"
    EUROPE = "europe", "Europe"
    OTHER = "other", "Elsewhere"


class OrganisationKind(LabelledEnum):
    INTERNATIONAL = "international", "International organisation"
    EU_INSTITUTION = "eu_institution", "EU institution"
    REGIONAL = "regional", "Regional organisation"
    NGO = "ngo", "NGO"
    ACADEMIA = "academia", "Academia"


class State(Versioned, Timestamped, Base):
    """A country: one of the 40 member states, or another country where activities happen."""

    __tablename__ = "states"
    __audit_label__ = "States"
    __audit_noun__ = "state"
    __audit_link__ = "directory.state", "state_id"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    # ISO 3166-1 alpha-2, for calendars and exports; optional for places without one.
    iso_code: Mapped[str | None] = mapped_column(String(2), unique=True)
    region: Mapped[Region] = mapped_column(enum_column(Region, "region"))
    is_member: Mapped[bool] = mapped_column(Boolean, default=False)
    on_steering_committee: Mapped[bool] = mapped_column(Boolean, default=False)

    users: Mapped[list[User]] = relationship(back_populates="state", order_by="User.name")

    __table_args__ = (
        CheckConstraint(
            "on_steering_committee = false OR is_member = true", name="committee_members_only"
        ),
    )

    def __repr__(self) -> str:
        return f"<State {self.name}>"

    @property
    def active_focal_points(self) -> list[User]:
        return [u for u in self.users if u.is_active and u.role is Role.FOCAL_POINT]


class Organisation(Versioned, Timestamped, Base):
    """An organisation that takes part in, presents at or implements activities."""

    __tablename__ = "organisations"
    __audit_label__ = "Organisations"
    __audit_noun__ = "organisation"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    acronym: Mapped[str | None] = mapped_column(String(40))
    kind: Mapped[OrganisationKind] = mapped_column(enum_column(OrganisationKind, "org_kind"))
    website: Mapped[str | None] = mapped_column(String(300))

    __table_args__ = (Index("ix_organisations_acronym", "acronym"),)

    @property
    def display_name(self) -> str:
        return organisation_display_name(self.name, self.acronym)


def organisation_display_name(name: str, acronym: str | None) -> str:
    """How an organisation is named in lists: "International Organization for Migration
    (IOM)", or its name alone without an acronym (for rows read without the object)."""
    return f"{name} ({acronym})" if acronym else name


def new_session_token() -> str:
    return secrets.token_urlsafe(24)


class User(Versioned, Timestamped, Base):
    """A person who signs in. Deactivated, never deleted, so that history keeps its authors."""

    __tablename__ = "users"
    __audit_label__ = "User accounts"
    __audit_noun__ = "account of"
    __audit_link__ = "directory.user", "user_id"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    # Stored lower-cased (checked below), so that uniqueness ignores case.
    email: Mapped[str] = mapped_column(String(254), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[Role] = mapped_column(enum_column(Role, "role"))
    state_id: Mapped[int | None] = mapped_column(ForeignKey("states.id"))
    is_alternate: Mapped[bool] = mapped_column(Boolean, default=False)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    must_change_password: Mapped[bool] = mapped_column(Boolean, default=False)
    # Part of the session cookie: changing it ends every open session of this user.
    session_token: Mapped[str] = mapped_column(String(64), default=new_session_token)
    last_sign_in_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The SHA-256 of the secret in the address of the person's calendar feed (the address
    # itself is shown once, when made); reset to cut off old copies.
    calendar_token_hash: Mapped[str | None] = mapped_column(String(64), unique=True)

    state: Mapped[State | None] = relationship(back_populates="users")

    __table_args__ = (
        CheckConstraint("email = lower(email)", name="email_lower_case"),
        # A state's accounts by role; its active focal points, alternate last, by name (the
        # states page reads its first three and its count from the index alone).
        Index(
            "ix_users_state_focal_points",
            "state_id",
            "role",
            "active",
            "is_alternate",
            "name",
            "id",
        ),
        CheckConstraint(
            "(role IN ('chair', 'focal_point')) = (state_id IS NOT NULL)",
            name="state_matches_role",
        ),
        CheckConstraint(
            "is_alternate = false OR role = 'focal_point'", name="alternate_is_focal_point"
        ),
    )

    def __repr__(self) -> str:
        return f"<User {self.email} {self.role.value}>"

    # Flask-Login protocol.
    @property
    def is_authenticated(self) -> bool:
        return True

    @property
    def is_active(self) -> bool:
        return self.active

    @property
    def is_anonymous(self) -> bool:
        return False

    def get_id(self) -> str:
        return f"{self.id}:{self.session_token}"
