"""The rules of the follow-up of recommendations: due soon, overdue (weekly, then escalated
to the secretariat), not updated for long, and implementations awaiting validation.

Which follow-ups are overdue, due soon or not updated is asked of the hybrids on
``FollowUp``, as the pages ask it; the days are the administrator's for each rule, and
the pages use the same days (``kpplan.recommendations.deadlines``).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from itertools import groupby, islice

from sqlalchemy import and_, exists, func, literal, or_, select, tuple_, union_all
from sqlalchemy.orm import Session, aliased

from kpplan.directory.models import Organisation, Role, State, User
from kpplan.recommendations import deadlines
from kpplan.recommendations.models import (
    OPEN_STATUSES,
    FollowUp,
    FollowUpStatus,
    Recommendation,
    StatusUpdate,
    Validation,
)
from kpplan.reminders.models import Reminder, ReminderStatus
from kpplan.reminders.rules.recipients import Recipients, secretariat_ids
from kpplan.reminders.rules.registry import PlannedReminder, RuleSettings, long_date, rule
from kpplan.reminders.rules.sql import (
    iso_date,
    iso_day_of,
    late_crossed,
    late_key,
    late_period,
    not_planned,
    text_of,
    to_recipients,
)

#: Rows (a follow-up and one of its recipients) read at a time: the first tick of a large
#: installation finds hundreds of thousands, handed over batch by batch.
BATCH = 20_000


@dataclass(frozen=True)
class _Wording:
    code: str
    text: str


@dataclass(frozen=True)
class _FollowUp:
    """The columns of a follow-up that its reminders show, read without the ORM (a first
    tick reads hundreds of thousands)."""

    id: int
    state_id: int | None
    status: FollowUpStatus
    next_review_date: date | None
    last_update_at: datetime | None
    created_at: datetime
    addressee: str
    recommendation: _Wording


_SUBJECT = literal("follow_up:") + text_of(FollowUp.id)
#: What the follow-up rules read that can make them find something new: the follow-ups and
#: their recommendations, the updates (awaiting validation) and the people (focal points,
#: the secretariat). The states' and organisations' names only word the reminders.
_FOLLOW_UPS_READ = (FollowUp, Recommendation, StatusUpdate, User)


def _open_follow_ups(*where):
    """Follow-ups of recommendations in force that still wait for something from their
    addressee: not implemented or not applicable, and no implementation awaiting validation."""
    return (
        select(
            FollowUp.id,
            FollowUp.state_id,
            FollowUp.status,
            FollowUp.next_review_date,
            FollowUp.last_update_at,
            FollowUp.created_at,
            Recommendation.code,
            Recommendation.text,
            State.name.label("state_name"),
            Organisation.name.label("organisation_name"),
            Organisation.acronym,
        )
        .join(Recommendation, FollowUp.recommendation_id == Recommendation.id)
        .outerjoin(State, State.id == FollowUp.state_id)
        .outerjoin(Organisation, Organisation.id == FollowUp.organisation_id)
        .where(
            Recommendation.withdrawn_at.is_(None),
            FollowUp.status.in_(OPEN_STATUSES),
            FollowUp.pending_update_id.is_(None),
            *where,
        )
    )


def _addressee(row) -> str:
    # As ``FollowUp.addressee`` says it.
    if row.state_name is not None:
        return row.state_name
    if row.organisation_name is not None:
        return f"{row.organisation_name} ({row.acronym})" if row.acronym else row.organisation_name
    return "Secretariat"


def _since_not_reminded(rule_key: str):
    """No reminder "not updated since" the follow-up's last update (or recording) is in the
    outbox for the person: its key is that moment's day in the Process's timezone, which
    SQLite cannot tell, so any of the day before, the day and the day after (in UTC) planned
    since that moment counts. Two updates are further apart than the rule's days, or the
    first one was not reminded of."""
    since = func.coalesce(FollowUp.last_update_at, FollowUp.created_at)
    return ~exists().where(
        Reminder.subject_key == _SUBJECT,
        Reminder.rule == rule_key,
        Reminder.user_id == User.id,
        Reminder.period_key.between(
            literal("since:") + iso_day_of(since, -1), literal("since:") + iso_day_of(since, 1)
        ),
        Reminder.planned_at >= since,
    )


def _next_stale(session: Session, now: datetime, days: int) -> datetime | None:
    """The first moment after ``now`` at which one more open follow-up has gone ``days``
    days without an update (None: none will before something changes)."""
    since = func.coalesce(FollowUp.last_update_at, FollowUp.created_at)
    first = session.scalar(
        _open_follow_ups(since >= now - timedelta(days=days)).with_only_columns(func.min(since))
    )
    return _after(first, now, days)


def _next_waiting(session: Session, now: datetime, days: int) -> datetime | None:
    """The first moment after ``now`` at which one more update has waited ``days`` days for
    validation (None: none will before something changes)."""
    first = session.scalar(
        select(func.min(StatusUpdate.posted_at)).where(
            StatusUpdate.validation == Validation.PENDING,
            StatusUpdate.posted_at >= now - timedelta(days=days),
        )
    )
    return _after(first, now, days)


def _after(first, now: datetime, days: int) -> datetime | None:
    """``days`` days after the moment ``first`` (None: None), at the earliest: counted in
    the Process's clock time, as the rules' ``now - days`` is, or in elapsed time (a day
    of daylight saving between them makes them an hour apart)."""
    if first is None:
        return None
    # An aggregate comes back as the database gives it: naive UTC (or text on SQLite).
    if isinstance(first, str):
        first = datetime.fromisoformat(first)
    if first.tzinfo is None:
        first = first.replace(tzinfo=UTC)
    return min(first + timedelta(days=days), first.astimezone(now.tzinfo) + timedelta(days=days))


def _after_day(due_date, since: date | None, days: int) -> list:
    """``due_date`` (a date column) after ``days`` days from ``since``, if any: what a rule
    triggered ``days`` days before a date finds anew after that day."""
    return [] if since is None else [due_date > since + timedelta(days=days)]


def _not_reminded(
    session: Session,
    rule_key: str,
    where,
    period_key,
    staff_only: bool = False,
    stale: bool = False,
) -> Iterator[tuple[_FollowUp, list[int]]]:
    """The open follow-ups matching ``where`` with those of their recipients (``staff_only``:
    the secretariat) whose reminder of ``rule_key`` for ``period_key`` (a SQL expression of
    the follow-up's columns) is not in the outbox yet, by follow-up, in batches (``stale``:
    the period is the day of the last update, see ``_since_not_reminded``)."""
    staff = secretariat_ids(session)
    unplanned = (
        _since_not_reminded(rule_key)
        if stale
        else not_planned(rule_key, _SUBJECT, period_key, User.id)
    )
    # A state's follow-up goes to its focal points; an organisation's or the secretariat's
    # (and every escalation) to the staff.
    branches = to_recipients(
        _open_follow_ups(*where),
        None
        if staff_only
        else and_(User.state_id == FollowUp.state_id, User.role == Role.FOCAL_POINT),
        staff,
        None if staff_only else FollowUp.state_id.is_(None),
    )
    if not branches:
        return
    after = (0, 0)
    while True:
        found = union_all(
            *(
                branch.where(
                    FollowUp.id >= after[0],
                    tuple_(FollowUp.id, User.id) > tuple_(*after),
                    unplanned,
                )
                for branch in branches
            )
        ).subquery()
        rows = session.execute(
            select(found).order_by(found.c.id, found.c.user_id).limit(BATCH)
        ).all()
        for _, pairs in groupby(rows, key=lambda row: row.id):
            pairs = list(pairs)
            row = pairs[0]
            yield (
                _FollowUp(
                    id=row.id,
                    state_id=row.state_id,
                    status=row.status,
                    next_review_date=row.next_review_date,
                    last_update_at=row.last_update_at,
                    created_at=row.created_at,
                    addressee=_addressee(row),
                    recommendation=_Wording(row.code, row.text),
                ),
                [pair.user_id for pair in pairs],
            )
        if len(rows) < BATCH:
            return
        after = (rows[-1].id, rows[-1].user_id)


def _reminders(
    rule_key: str,
    follow_up: _FollowUp,
    user_ids: list[int],
    period_key: str,
    title: str,
    message: str,
    due_since: date | None = None,
) -> Iterator[PlannedReminder]:
    """The reminder of ``rule_key`` of one follow-up to each of ``user_ids``, with a link
    to post an update."""
    for user_id in user_ids:
        yield PlannedReminder(
            rule=rule_key,
            subject_key=f"follow_up:{follow_up.id}",
            period_key=period_key,
            user_id=user_id,
            title=title,
            message=message,
            due_since=due_since,
            link_endpoint="recommendations.follow_up",
            link_values={"follow_up_id": follow_up.id},
            link_label="Post an update",
        )


def _whose(follow_up: FollowUp) -> str:
    """ "Kenya's follow-up of TM-2022-07/R3" (addressees' names start with a capital)."""
    return f"{follow_up.addressee}'s follow-up of {follow_up.recommendation.code}"


def _wording(follow_up: FollowUp) -> str:
    text = follow_up.recommendation.text
    return text if len(text) <= 200 else text[:197] + "…"


@rule(
    # The pages' "due within N days" uses this rule's days.
    deadlines.DUE_SOON_RULE,
    "A follow-up is due soon",
    "To the state's focal points (the secretariat for an organisation or itself), once for "
    "each next review date.",
    default_days=deadlines.DUE_SOON_DAYS,
    days_label="Days before the next review date",
    reads=_FOLLOW_UPS_READ,
)
def follow_up_due(
    session: Session, now: datetime, settings: RuleSettings
) -> Iterator[PlannedReminder]:
    today = now.date()
    for follow_up, user_ids in _not_reminded(
        session,
        "follow_up_due",
        [
            FollowUp.is_due_soon(today, settings.days or 0),
            # Since the day it last looked, only those come within its days anew.
            *_after_day(FollowUp.next_review_date, settings.since, settings.days or 0),
        ],
        literal("due:") + iso_date(FollowUp.next_review_date),
    ):
        due = follow_up.next_review_date
        when = "today" if due == today else f"on {long_date(due)}"
        yield from _reminders(
            "follow_up_due",
            follow_up,
            user_ids,
            f"due:{due.isoformat()}",
            f"Due {when}: {_whose(follow_up)}",
            f"{_whose(follow_up)} is due for review {when}. The recommendation reads: "
            f"“{_wording(follow_up)}” Its status is “{follow_up.status.label.lower()}”: "
            "post an update with what has been done and the evidence.",
        )


def _overdue(today: date) -> list:
    """Open follow-ups that are overdue and not updated since their review date: an update,
    even one that gives no new date, stops the reminders (the lists still say overdue)."""
    return [
        FollowUp.is_overdue(today),
        # The day of the (UTC) update before the review date; both databases compare a
        # moment with a day as that day's midnight.
        or_(
            FollowUp.last_update_at.is_(None),
            FollowUp.last_update_at < FollowUp.next_review_date,
        ),
    ]


@rule(
    "follow_up_overdue",
    "A follow-up is overdue",
    "To the state's focal points (the secretariat for an organisation or itself), every "
    "week until it is updated.",
    default_days=7,
    days_label="Days between reminders",
    reads=_FOLLOW_UPS_READ,
)
def follow_up_overdue(
    session: Session, now: datetime, settings: RuleSettings
) -> Iterator[PlannedReminder]:
    today = now.date()
    every = max(settings.days or 7, 1)
    period = late_period(today, FollowUp.next_review_date, every)
    crossed = late_crossed(today, settings.since, FollowUp.next_review_date, every)
    for follow_up, user_ids in _not_reminded(
        session, "follow_up_overdue", [*_overdue(today), *crossed], period
    ):
        due = follow_up.next_review_date
        yield from _reminders(
            "follow_up_overdue",
            follow_up,
            user_ids,
            late_key(today, due, every),
            f"Overdue: {_whose(follow_up)}",
            f"{_whose(follow_up)} was due for review on {long_date(due)}, "
            f"{(today - due).days} days ago, and has not been updated since. The recommendation "
            f"reads: “{_wording(follow_up)}” Post an update, even to say that work is still in "
            "progress, with a new review date.",
            due_since=due + timedelta(days=1),
        )


@rule(
    "follow_up_escalated",
    "A follow-up is long overdue (escalation)",
    "To the secretariat, once, when a follow-up has been overdue this many days without an "
    "update. It cannot be turned off.",
    default_days=28,
    days_label="Days overdue before the secretariat is told",
    can_turn_off=False,
    reads=_FOLLOW_UPS_READ,
)
def follow_up_escalated(
    session: Session, now: datetime, settings: RuleSettings
) -> Iterator[PlannedReminder]:
    today = now.date()
    after = settings.days or 0
    recipients = Recipients(session)
    found = _not_reminded(
        session,
        "follow_up_escalated",
        [
            *_overdue(today),
            FollowUp.next_review_date <= today - timedelta(days=after),
            *_after_day(FollowUp.next_review_date, settings.since, -after),
        ],
        literal("escalated:") + iso_date(FollowUp.next_review_date),
        staff_only=True,
    )
    # What the outbox sent before, read for a thousand follow-ups at a time.
    while chunk := list(islice(found, 1000)):
        reminded = _times_reminded(session, [follow_up for follow_up, _ in chunk])
        for follow_up, user_ids in chunk:
            yield from _escalations(follow_up, user_ids, today, after, recipients, reminded)


def _escalations(
    follow_up: _FollowUp,
    user_ids: list[int],
    today: date,
    after: int,
    recipients: Recipients,
    reminded: dict[int, int],
) -> Iterator[PlannedReminder]:
    """The escalation of one follow-up to each of ``user_ids``."""
    due = follow_up.next_review_date
    late = (today - due).days
    return _reminders(
        "follow_up_escalated",
        follow_up,
        user_ids,
        f"escalated:{due.isoformat()}",
        f"Overdue for {late} days: {_whose(follow_up)}",
        f"{_whose(follow_up)} was due for review on {long_date(due)} and is still not updated, "
        f"{late} days later. "
        + _who_was_reminded(follow_up, recipients, reminded.get(follow_up.id, 0)),
        due_since=due + timedelta(days=after),
    )


def _times_reminded(session: Session, follow_ups: list[FollowUp]) -> dict[int, int]:
    """How many times each follow-up's addressee was actually reminded that it is overdue
    since its current review date: the weekly reminders the outbox sent, alone or in a
    summary that was sent (planned or failed ones do not count), once per week whatever the
    number of focal points."""
    if not follow_ups:
        return {}
    by_key = {f"follow_up:{f.id}": f for f in follow_ups}
    summary = aliased(Reminder)
    rows = session.execute(
        select(Reminder.subject_key, Reminder.period_key)
        .outerjoin(summary, Reminder.digest_id == summary.id)
        .where(
            Reminder.rule == "follow_up_overdue",
            Reminder.subject_key.in_(list(by_key)),
            or_(
                Reminder.status == ReminderStatus.SENT,
                and_(
                    Reminder.status == ReminderStatus.IN_DIGEST,
                    summary.status == ReminderStatus.SENT,
                ),
            ),
        )
        .distinct()
    ).all()
    counts: dict[int, int] = {}
    for subject_key, period_key in rows:
        follow_up = by_key[subject_key]
        # Only the reminders of its current review date.
        if period_key.startswith(f"late:{follow_up.next_review_date.isoformat()}:"):
            counts[follow_up.id] = counts.get(follow_up.id, 0) + 1
    return counts


def _who_was_reminded(follow_up: FollowUp, recipients: Recipients, times: int) -> str:
    """What an escalation says of the reminders before it: only what the outbox shows."""
    if follow_up.state_id is not None and not recipients.of(follow_up):
        state = follow_up.addressee
        return (
            f"{state} has no focal point in kpplan, so nobody there has been reminded. Ask "
            f"{state} to name one, or contact {state} directly."
        )
    who = f"{follow_up.addressee}'s focal points" if follow_up.state_id else "the secretariat"
    if times == 0:
        return (
            f"No reminder of it has been sent to {who} (they may have chosen not to receive "
            f"them). Consider contacting {follow_up.addressee} directly."
        )
    verb = "was" if who == "the secretariat" else "were"
    return (
        f"{who[0].upper()}{who[1:]} {verb} reminded "
        f"{'once' if times == 1 else f'{times} times'} since it fell due. Consider "
        f"contacting {follow_up.addressee} directly."
    )


@rule(
    # The pages' "not updated for N days" uses this rule's days.
    deadlines.STALE_RULE,
    "A follow-up has not been updated for a long time",
    "To the state's focal points (the secretariat for an organisation or itself), once "
    "after this many days without an update.",
    default_days=deadlines.STALE_DAYS,
    days_label="Days without an update",
    reads=_FOLLOW_UPS_READ,
    wakes=lambda session, now, settings: _next_stale(session, now, settings.days or 0),
)
def follow_up_stale(
    session: Session, now: datetime, settings: RuleSettings
) -> Iterator[PlannedReminder]:
    days = settings.days or 0
    # Counted from the tick's moment (the pages count from the start of their day): a
    # day's difference at the edges does not matter here.
    for follow_up, user_ids in _not_reminded(
        session, "follow_up_stale", [FollowUp.is_stale(now, days)], None, stale=True
    ):
        since = (follow_up.last_update_at or follow_up.created_at).astimezone(now.tzinfo).date()
        never = follow_up.last_update_at is None
        yield from _reminders(
            "follow_up_stale",
            follow_up,
            user_ids,
            f"since:{since.isoformat()}",
            f"No update for {days} days: {_whose(follow_up)}",
            f"{_whose(follow_up)} "
            + (
                f"has had no update since it was recorded on {long_date(since)}. "
                if never
                else f"was last updated on {long_date(since)}. "
            )
            + f"The recommendation reads: “{_wording(follow_up)}” Tell the Process where it "
            "stands.",
            due_since=since + timedelta(days=days),
        )


@rule(
    "validation_waiting",
    "An implementation waits for validation",
    "To the secretariat, once, when a move to “implemented” has waited this many days.",
    default_days=7,
    days_label="Days waiting",
    reads=_FOLLOW_UPS_READ,
    wakes=lambda session, now, settings: _next_waiting(session, now, settings.days or 0),
)
def validation_waiting(
    session: Session, now: datetime, settings: RuleSettings
) -> Iterator[PlannedReminder]:
    before = now - timedelta(days=settings.days or 0)
    staff = secretariat_ids(session)
    if not staff:
        return
    subject = literal("status_update:") + text_of(StatusUpdate.id)
    # Read as rows (not objects), a batch at a time: a first tick finds tens of thousands.
    found = (
        select(
            StatusUpdate.id.label("update_id"),
            StatusUpdate.posted_at,
            User.id.label("user_id"),
            Recommendation.code,
            State.name.label("state_name"),
            Organisation.name.label("organisation_name"),
            Organisation.acronym,
        )
        .join(FollowUp, FollowUp.id == StatusUpdate.follow_up_id)
        .join(Recommendation, Recommendation.id == FollowUp.recommendation_id)
        .outerjoin(State, State.id == FollowUp.state_id)
        .outerjoin(Organisation, Organisation.id == FollowUp.organisation_id)
        .join(User, User.id.in_(staff))
        .where(
            StatusUpdate.validation == Validation.PENDING,
            StatusUpdate.posted_at < before,
            # An update is never edited, so its reminder's period (the day it was posted) is
            # fixed: one of this rule for the update and the person is the one.
            ~exists().where(
                Reminder.subject_key == subject,
                Reminder.rule == "validation_waiting",
                Reminder.user_id == User.id,
            ),
        )
    )
    after = (0, 0)
    while True:
        rows = session.execute(
            found.where(
                StatusUpdate.id >= after[0],
                tuple_(StatusUpdate.id, User.id) > tuple_(*after),
            )
            .order_by(StatusUpdate.id, User.id)
            .limit(BATCH)
        ).all()
        for row in rows:
            posted = row.posted_at.astimezone(now.tzinfo).date()
            addressee = _addressee(row)
            yield PlannedReminder(
                rule="validation_waiting",
                subject_key=f"status_update:{row.update_id}",
                period_key=f"posted:{posted.isoformat()}",
                user_id=row.user_id,
                title=f"To validate: {addressee}'s follow-up of {row.code} reported as implemented",
                message=(
                    f"On {long_date(posted)}, {addressee} reported {row.code} as implemented. "
                    "It counts once the secretariat accepts it; accept it, or return it with a "
                    "comment."
                ),
                due_since=posted + timedelta(days=settings.days or 0),
                # To the page where the secretariat accepts or returns this update, not to
                # the form that posts an update.
                link_endpoint="recommendations.validate",
                link_values={"update_id": row.update_id},
                link_label="Review and validate",
            )
        if len(rows) < BATCH:
            return
        after = (rows[-1].update_id, rows[-1].user_id)
