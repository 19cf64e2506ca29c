"""Read paths of the directory, each eager-loading what its page shows."""

from __future__ import annotations

from dataclasses import dataclass

from flask_sqlalchemy.pagination import Pagination
from sqlalchemy import Row, exists, func, or_, select
from sqlalchemy.orm import joinedload, selectinload

from kpplan.core.cache import memoised, watch
from kpplan.core.extensions import db
from kpplan.core.paging import Key, KeysetPage, keyset_page
from kpplan.core.passwords import token_digest
from kpplan.directory.models import Organisation, OrganisationKind, Region, Role, State, User


def _has_active_focal_point():
    return exists().where(
        User.state_id == State.id, User.role == Role.FOCAL_POINT, User.active.is_(True)
    )


@dataclass(frozen=True)
class StateRow:
    """A line of the states page: the state (id, name, region, membership, Steering
    Committee), its first few active focal points (name, alternate or not), how many."""

    state: Row
    focal_points: list[Row]
    focal_point_count: int

    @property
    def more(self) -> int:
        return self.focal_point_count - len(self.focal_points)


def states_with_focal_points(
    region: Region | None = None, shown_per_state: int = 3
) -> list[StateRow]:
    """States in display order (members first) with their active focal points.

    Two queries whatever the number of states or accounts: the states, each with its count
    of active focal points and the ids of the first ``shown_per_state`` of them (alternate
    last, then by name), each read from the top of ``ix_users_state_focal_points`` (so a
    state with fifty accounts costs what one with two does); then those focal points' names.
    Only the columns the page shows.
    """

    def active_focal_points():
        return (
            select(User.id)
            .where(User.state_id == State.id, User.role == Role.FOCAL_POINT)
            .where(User.active.is_(True))
            .correlate(State)
        )

    first = [
        active_focal_points()
        .order_by(User.is_alternate, User.name, User.id)
        .limit(1)
        .offset(rank)
        .scalar_subquery()
        for rank in range(shown_per_state)
    ]
    count = active_focal_points().with_only_columns(func.count(User.id)).scalar_subquery()
    query = select(
        State.id,
        State.name,
        State.region,
        State.is_member,
        State.on_steering_committee,
        count.label("focal_point_count"),
        *first,
    ).order_by(State.is_member.desc(), State.name)
    if region is not None:
        query = query.where(State.region == region)
    states = db.session.execute(query).all()

    wanted = [user_id for row in states for user_id in row[-shown_per_state:] if user_id]
    names = {
        row.id: row
        for row in db.session.execute(
            select(User.id, User.name, User.is_alternate).where(User.id.in_(wanted))
        )
    }
    return [
        StateRow(
            state,
            [names[i] for i in state[-shown_per_state:] if i in names],
            state.focal_point_count,
        )
        for state in states
    ]


def member_states_without_focal_point() -> list[State]:
    """Member states with no active focal point, which the secretariat must fill."""
    return db.session.scalars(
        select(State)
        .where(State.is_member.is_(True), ~_has_active_focal_point())
        .order_by(State.name)
    ).all()


def directory_counts() -> dict[str, int]:
    """Figures for the home page, in one query."""
    row = db.session.execute(
        select(
            func.count(State.id).filter(State.is_member.is_(True)),
            func.count(State.id).filter(State.is_member.is_(True), State.region == Region.AFRICA),
            func.count(State.id).filter(State.is_member.is_(True), State.region == Region.EUROPE),
            func.count(State.id).filter(State.on_steering_committee.is_(True)),
            func.count(State.id).filter(State.is_member.is_(True), ~_has_active_focal_point()),
        )
    ).one()
    return dict(
        zip(
            ("members", "africa", "europe", "steering_committee", "without_focal_point"),
            row,
            strict=True,
        )
    )


def state_page(state_id: int) -> State | None:
    """A state with all its users (active or not), for its own page: of each user, the
    columns the page shows (a state has dozens of accounts at scale)."""
    return db.session.scalar(
        select(State)
        .where(State.id == state_id)
        .options(
            selectinload(State.users).load_only(
                User.name, User.email, User.role, User.is_alternate, User.active, raiseload=True
            )
        )
    )


def member_state_choices() -> list[State]:
    return db.session.scalars(
        select(State).where(State.is_member.is_(True)).order_by(State.name)
    ).all()


def organisations_page(
    page: int, per_page: int, kind: OrganisationKind | None = None, words: str = ""
) -> Pagination:
    """Organisations by name, filtered by kind and words in the name or acronym."""
    query = select(Organisation).order_by(Organisation.name)
    if kind is not None:
        query = query.where(Organisation.kind == kind)
    if words:
        pattern = f"%{words.lower()}%"
        query = query.where(
            or_(
                func.lower(Organisation.name).like(pattern),
                func.lower(Organisation.acronym).like(pattern),
            )
        )
    return db.paginate(query, page=page, per_page=per_page, error_out=False)


@dataclass(frozen=True)
class UserFilters:
    """What the users page is narrowed to: a role, a state, active or deactivated
    accounts (or all), words in the name or e-mail address."""

    role: Role | None = None
    state_id: int | None = None
    status: str = "active"
    words: str = ""


#: The users page's order when it shows active and deactivated accounts together: the
#: active first, then by name. ``active`` is left out when the page shows one or the other.
USERS_ORDER = (Key(User.active, descending=True), Key(User.name), Key(User.id))


def _users_query(filters: UserFilters):
    query = select(User)
    if filters.role is not None:
        query = query.where(User.role == filters.role)
    if filters.state_id:
        query = query.where(User.state_id == filters.state_id)
    if filters.status == "active":
        query = query.where(User.active.is_(True))
    elif filters.status == "deactivated":
        query = query.where(User.active.is_(False))
    if filters.words:
        pattern = f"%{filters.words.lower()}%"
        query = query.where(
            or_(func.lower(User.name).like(pattern), func.lower(User.email).like(pattern))
        )
    return query


def users_page(filters: UserFilters, cursor: str | None, per_page: int) -> KeysetPage[Row]:
    """The page of accounts at ``cursor`` (None, or anything that is not one: the first),
    for user administration: active first, then by name; narrowed by ``filters``.

    Read by key, not by OFFSET, as rows of the columns the page shows (``state_name``
    joined in the same query), not whole accounts. The total is counted each time: a few thousand
    accounts count in well under a millisecond, less than keeping it would cost (the
    change counters' read, and a count after every change anyway).
    """
    found = _users_query(filters).with_only_columns(User.id).subquery()
    total = db.session.scalar(select(func.count()).select_from(found))
    query = (
        _users_query(filters)
        .with_only_columns(
            User.id,
            User.name,
            User.email,
            User.role,
            User.is_alternate,
            User.active,
            State.name.label("state_name"),
        )
        .outerjoin(State, State.id == User.state_id)
    )
    keys = USERS_ORDER if filters.status == "all" else USERS_ORDER[1:]
    return keyset_page(query, keys, cursor, per_page, total=total)


def user_with_state(user_id: int) -> User | None:
    return db.session.scalar(select(User).where(User.id == user_id).options(joinedload(User.state)))


def user_by_calendar_token(token: str) -> User | None:
    """The active user whose calendar feed this token opens, if any."""
    return db.session.scalar(
        select(User).where(User.calendar_token_hash == token_digest(token), User.active.is_(True))
    )


def staff_choices() -> list[Row]:
    """Active administrators and secretariat members, by name (``id``, ``name``): who may
    own a preparation step. Kept until a user changes: an activity's page offers them
    after every write elsewhere, and finding them reads the whole directory at scale."""
    return memoised("staff_choices", (), _STAFF_READ, _staff_choices)


_STAFF_READ = watch(User)


def _staff_choices() -> list[Row]:
    return db.session.execute(
        select(User.id, User.name)
        .where(User.role.in_([Role.ADMIN, Role.SECRETARIAT]), User.active.is_(True))
        .order_by(User.name)
    ).all()
