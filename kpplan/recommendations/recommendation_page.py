"""A recommendation's page read as plain rows: the recommendation with what it shows of
its activity, predecessor, themes, earlier wordings and successors (one query, and one more
for each of the last two only when there are any); its addressees' follow-ups, each with its
whole timeline of updates (their authors, validators and evidence: two queries); and the
figures of the page counted from those rows.

The page loaded all of them as objects (nine queries, and the ORM's work for each of some
fifty objects cost more than the page's SQL), then counted the same follow-ups again in SQL
for the "Implemented" line."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import exists, func, select
from sqlalchemy.orm import aliased

from kpplan.core.dates import DatePrecision
from kpplan.core.extensions import db
from kpplan.directory.models import Organisation, State, User
from kpplan.meetings.models import Activity
from kpplan.recommendations.addressees import addressee_columns, addressee_of
from kpplan.recommendations.figures import Figures
from kpplan.recommendations.follow_up_models import Evidence, FollowUp, StatusUpdate
from kpplan.recommendations.models import (
    Lineage,
    Priority,
    Recommendation,
    RecommendationTheme,
    WordingRevision,
)
from kpplan.recommendations.queries import Scope
from kpplan.recommendations.statuses import OUT_OF_SHARE, FollowUpStatus, Validation


@dataclass(frozen=True)
class Person:
    """Who posted or validated an update, by name (all the timeline shows of them)."""

    name: str


@dataclass(frozen=True)
class ActivityShown:
    """The activity a recommendation was agreed at, as its page names it."""

    id: int
    title: str
    start_date: date
    date_precision: DatePrecision

    first_day = Activity.first_day


@dataclass(frozen=True)
class ThemeShown:
    code: str


@dataclass(frozen=True)
class Linked:
    """A recommendation the page links to (its predecessor, a successor)."""

    id: int
    code: str
    lineage: Lineage | None = None


@dataclass(frozen=True)
class RevisionShown:
    """An earlier wording, with who replaced it (by name), when and why."""

    text: str
    replaced_at: datetime
    replaced_by: Person | None
    reason: str


@dataclass(frozen=True)
class RecommendationShown:
    """What a recommendation's page shows of it, as values."""

    id: int
    code: str
    text: str
    priority: Priority
    target_date: date | None
    to_all_members: bool
    illustrative: bool
    lineage: Lineage | None
    withdrawn_at: datetime | None
    withdrawal_reason: str | None
    version: int
    activity: ActivityShown
    predecessor: Linked | None
    themes: tuple[ThemeShown, ...]
    revisions: tuple[RevisionShown, ...]
    successors: tuple[Linked, ...]

    is_withdrawn = Recommendation.is_withdrawn


_PREDECESSOR = aliased(Recommendation)
_SUCCESSOR = aliased(Recommendation)
_REPLACED_BY = aliased(User)


def recommendation_shown(recommendation_id: int) -> RecommendationShown | None:
    """The recommendation with its activity, predecessor and themes in one query (its
    themes as one text, sorted here, as the list reads them), and its earlier wordings and
    successors each in one more only when it has any. None when there is no such
    recommendation."""
    row = db.session.execute(
        select(
            Recommendation.id,
            Recommendation.code,
            Recommendation.text,
            Recommendation.priority,
            Recommendation.target_date,
            Recommendation.to_all_members,
            Recommendation.illustrative,
            Recommendation.lineage,
            Recommendation.withdrawn_at,
            Recommendation.withdrawal_reason,
            Recommendation.version,
            Activity.id.label("activity_id"),
            Activity.title.label("activity_title"),
            Activity.start_date,
            Activity.date_precision,
            _PREDECESSOR.id.label("predecessor_id"),
            _PREDECESSOR.code.label("predecessor_code"),
            select(func.aggregate_strings(RecommendationTheme.code, ","))
            .where(RecommendationTheme.recommendation_id == Recommendation.id)
            .correlate(Recommendation)
            .scalar_subquery()
            .label("theme_codes"),
            exists()
            .where(WordingRevision.recommendation_id == Recommendation.id)
            .correlate(Recommendation)
            .label("has_revisions"),
            exists()
            .where(_SUCCESSOR.predecessor_id == Recommendation.id)
            .correlate(Recommendation)
            .label("has_successors"),
        )
        .join(Activity, Activity.id == Recommendation.activity_id)
        .outerjoin(_PREDECESSOR, _PREDECESSOR.id == Recommendation.predecessor_id)
        .where(Recommendation.id == recommendation_id)
    ).one_or_none()
    if row is None:
        return None
    return RecommendationShown(
        id=row.id,
        code=row.code,
        text=row.text,
        priority=row.priority,
        target_date=row.target_date,
        to_all_members=row.to_all_members,
        illustrative=row.illustrative,
        lineage=row.lineage,
        withdrawn_at=row.withdrawn_at,
        withdrawal_reason=row.withdrawal_reason,
        version=row.version,
        activity=ActivityShown(
            row.activity_id, row.activity_title, row.start_date, row.date_precision
        ),
        predecessor=(
            Linked(row.predecessor_id, row.predecessor_code)
            if row.predecessor_id is not None
            else None
        ),
        themes=tuple(
            ThemeShown(code)
            for code in sorted(row.theme_codes.split(",") if row.theme_codes else [])
        ),
        revisions=_revisions_of(row.id) if row.has_revisions else (),
        successors=_successors_of(row.id) if row.has_successors else (),
    )


def _revisions_of(recommendation_id: int) -> tuple[RevisionShown, ...]:
    rows = db.session.execute(
        select(
            WordingRevision.text,
            WordingRevision.replaced_at,
            _REPLACED_BY.name,
            WordingRevision.reason,
        )
        .outerjoin(_REPLACED_BY, _REPLACED_BY.id == WordingRevision.replaced_by_id)
        .where(WordingRevision.recommendation_id == recommendation_id)
        .order_by(WordingRevision.id)
    )
    return tuple(
        RevisionShown(text, at, Person(name) if name is not None else None, reason)
        for text, at, name, reason in rows
    )


def _successors_of(recommendation_id: int) -> tuple[Linked, ...]:
    """The later recommendations that supersede or re-endorse this one."""
    rows = db.session.execute(
        select(_SUCCESSOR.id, _SUCCESSOR.code, _SUCCESSOR.lineage)
        .where(_SUCCESSOR.predecessor_id == recommendation_id)
        .order_by(_SUCCESSOR.id)
    )
    return tuple(Linked(*row) for row in rows)


@dataclass(frozen=True)
class EvidenceShown:
    """A link or a file supporting an update, as the timeline shows it."""

    id: int
    title: str
    url: str | None
    size: int | None
    stored_name: str | None

    is_file = property(Evidence.is_file.fget)


@dataclass(frozen=True)
class UpdateShown:
    """A status update as the timeline shows it: its columns, the names of its author and
    validator, and its evidence. Frozen and made of values only, so that it can be part of
    the key of the timeline's kept HTML (``views._timelines``)."""

    id: int
    posted_at: datetime
    status_before: FollowUpStatus
    status: FollowUpStatus
    progress: int | None
    narrative: str
    reason: str | None
    next_review_date: date | None
    validation: Validation | None
    validated_at: datetime | None
    validation_comment: str | None
    author: Person | None
    validated_by: Person | None
    evidence: tuple[EvidenceShown, ...] = ()


@dataclass(frozen=True)
class AddresseeShown:
    """One addressee's follow-up as the page shows it: its status (``FollowUp``'s own
    rules of "overdue", applied to its columns), its name and its updates, oldest first."""

    id: int
    status: FollowUpStatus
    pending_update_id: int | None
    next_review_date: date | None
    addressee: str
    updates: tuple[UpdateShown, ...] = ()

    waits_for_addressee = property(FollowUp.__dict__["waits_for_addressee"].fget)
    is_overdue = FollowUp.__dict__["is_overdue"].func


def addressees_of(recommendation_id: int, scope: Scope) -> list[AddresseeShown]:
    """The follow-ups of a recommendation within ``scope`` with their timelines: states by
    name, then organisations, then the secretariat. Two queries (the follow-ups with their
    addressees' names; the updates with their people and evidence), whatever their number."""
    follow_ups = db.session.execute(
        select(
            FollowUp.id,
            FollowUp.status,
            FollowUp.pending_update_id,
            FollowUp.next_review_date,
            *addressee_columns(),
        )
        .select_from(FollowUp)
        .outerjoin(State, State.id == FollowUp.state_id)
        .outerjoin(Organisation, Organisation.id == FollowUp.organisation_id)
        .where(FollowUp.recommendation_id == recommendation_id, scope.where())
        .order_by(FollowUp.state_id.is_(None), State.name, FollowUp.organisation_id, FollowUp.id)
    ).all()
    updates = _updates_of([row.id for row in follow_ups])
    return [
        AddresseeShown(
            id=row.id,
            status=row.status,
            pending_update_id=row.pending_update_id,
            next_review_date=row.next_review_date,
            addressee=addressee_of(row),
            updates=tuple(updates.get(row.id, ())),
        )
        for row in follow_ups
    ]


_AUTHOR = aliased(User)
_VALIDATOR = aliased(User)


def _updates_of(follow_up_ids: list[int]) -> dict[int, list[UpdateShown]]:
    """The updates of the given follow-ups, oldest first, by follow-up: one query, the
    people and the evidence joined (an update with several pieces of evidence comes on
    as many rows, one after the other)."""
    if not follow_up_ids:
        return {}
    rows = db.session.execute(
        select(
            StatusUpdate.follow_up_id,
            StatusUpdate.id,
            StatusUpdate.posted_at,
            StatusUpdate.status_before,
            StatusUpdate.status,
            StatusUpdate.progress,
            StatusUpdate.narrative,
            StatusUpdate.reason,
            StatusUpdate.next_review_date,
            StatusUpdate.validation,
            StatusUpdate.validated_at,
            StatusUpdate.validation_comment,
            _AUTHOR.name.label("author_name"),
            _VALIDATOR.name.label("validator_name"),
            Evidence.id.label("evidence_id"),
            Evidence.title.label("evidence_title"),
            Evidence.url.label("evidence_url"),
            Evidence.size.label("evidence_size"),
            Evidence.stored_name.label("evidence_stored_name"),
        )
        .outerjoin(_AUTHOR, _AUTHOR.id == StatusUpdate.author_id)
        .outerjoin(_VALIDATOR, _VALIDATOR.id == StatusUpdate.validated_by_id)
        .outerjoin(Evidence, Evidence.status_update_id == StatusUpdate.id)
        .where(StatusUpdate.follow_up_id.in_(follow_up_ids))
        .order_by(StatusUpdate.id, Evidence.id)
    ).all()
    evidence: dict[int, list[EvidenceShown]] = {}
    first_rows = {}
    for row in rows:
        first_rows.setdefault(row.id, row)
        if row.evidence_id is not None:
            evidence.setdefault(row.id, []).append(
                EvidenceShown(
                    row.evidence_id,
                    row.evidence_title,
                    row.evidence_url,
                    row.evidence_size,
                    row.evidence_stored_name,
                )
            )
    found: dict[int, list[UpdateShown]] = {}
    for update_id, row in first_rows.items():
        found.setdefault(row.follow_up_id, []).append(
            UpdateShown(
                id=update_id,
                posted_at=row.posted_at,
                status_before=row.status_before,
                status=row.status,
                progress=row.progress,
                narrative=row.narrative,
                reason=row.reason,
                next_review_date=row.next_review_date,
                validation=row.validation,
                validated_at=row.validated_at,
                validation_comment=row.validation_comment,
                author=Person(row.author_name) if row.author_name is not None else None,
                validated_by=Person(row.validator_name) if row.validator_name is not None else None,
                evidence=tuple(evidence.get(update_id, ())),
            )
        )
    return found


def figures_of(addressees: list[AddresseeShown], today: date) -> Figures:
    """How the given follow-ups stand (``figures.figures_for`` of one recommendation,
    counted from the rows the page read rather than again in SQL)."""
    return Figures(
        total=len(addressees),
        implemented=sum(a.status is FollowUpStatus.IMPLEMENTED for a in addressees),
        overdue=sum(a.is_overdue(today) for a in addressees),
        pending=sum(a.pending_update_id is not None for a in addressees),
        not_applicable=sum(a.status in OUT_OF_SHARE for a in addressees),
    )
