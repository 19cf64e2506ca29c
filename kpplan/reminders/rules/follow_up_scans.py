"""The scans of the follow-up rules: the open follow-ups that still deserve a reminder,
with those of their recipients not reminded yet, read as rows in keyset batches (a first
tick of a large installation finds hundreds of thousands), and the reminders they give.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime
from itertools import groupby

from sqlalchemy import and_, exists, func, literal, select, tuple_, union_all
from sqlalchemy.orm import Session

from kpplan.core.names import possessive
from kpplan.directory.models import Role, User, organisation_display_name
from kpplan.recommendations.addressees import addressee_columns, addressee_joins
from kpplan.recommendations.follow_up_models import FollowUp, StatusUpdate, addressee_name
from kpplan.recommendations.models import Recommendation
from kpplan.recommendations.statuses import OPEN_STATUSES, FollowUpStatus
from kpplan.reminders.models import Reminder
from kpplan.reminders.rules.recipients import secretariat_ids
from kpplan.reminders.rules.registry import PlannedReminder
from kpplan.reminders.rules.sql import iso_day_of, not_planned, text_of, to_recipients

#: installation finds hundreds of thousands, handed over batch by batch.
BATCH = 20_000


@dataclass(frozen=True)
class Wording:
    code: str
    text: str


@dataclass(frozen=True)
class FollowUpRow:
    """The columns of a follow-up that its reminders show, read without the ORM (a first
    tick reads hundreds of thousands)."""

    id: int
    state_id: int | None
    status: FollowUpStatus
    next_review_date: date | None
    last_update_at: datetime | None
    created_at: datetime
    addressee: str
    recommendation: Wording


SUBJECT = literal("follow_up:") + text_of(FollowUp.id)
#: What the follow-up rules read that can make them find something new: the follow-ups and
#: their recommendations, the updates (awaiting validation) and the people (focal points,
#: the secretariat). The states' and organisations' names only word the reminders.
FOLLOW_UPS_READ = (FollowUp, Recommendation, StatusUpdate, User)


def open_follow_ups(*where):
    """Follow-ups of recommendations in force that still wait for something from their
    addressee: not implemented or not applicable, and no implementation awaiting validation."""
    return addressee_joins(
        select(
            FollowUp.id,
            FollowUp.state_id,
            FollowUp.status,
            FollowUp.next_review_date,
            FollowUp.last_update_at,
            FollowUp.created_at,
            Recommendation.code,
            Recommendation.text,
            *addressee_columns(),
        )
    ).where(
        Recommendation.withdrawn_at.is_(None),
        FollowUp.status.in_(OPEN_STATUSES),
        FollowUp.pending_update_id.is_(None),
        *where,
    )


def addressee_of(row) -> str:
    organisation = row.organisation_name
    if organisation is not None:
        organisation = organisation_display_name(organisation, row.acronym)
    return addressee_name(row.state_name, organisation)


def since_not_reminded(rule_key: str):
    """No reminder "not updated since" the follow-up's last update (or recording) is in the
    outbox for the person: its key is that moment's day in the Process's timezone, which
    SQLite cannot tell, so any of the day before, the day and the day after (in UTC) planned
    since that moment counts. Two updates are further apart than the rule's days, or the
    first one was not reminded of."""
    since = func.coalesce(FollowUp.last_update_at, FollowUp.created_at)
    return ~exists().where(
        Reminder.subject_key == SUBJECT,
        Reminder.rule == rule_key,
        Reminder.user_id == User.id,
        Reminder.period_key.between(
            literal("since:") + iso_day_of(since, -1), literal("since:") + iso_day_of(since, 1)
        ),
        Reminder.planned_at >= since,
    )


def not_reminded(
    session: Session,
    rule_key: str,
    where,
    period_key,
    staff_only: bool = False,
    stale: bool = False,
) -> Iterator[tuple[FollowUpRow, list[int]]]:
    """The open follow-ups matching ``where`` with those of their recipients (``staff_only``:
    the secretariat) whose reminder of ``rule_key`` for ``period_key`` (a SQL expression of
    the follow-up's columns) is not in the outbox yet, by follow-up, in batches (``stale``:
    the period is the day of the last update, see ``since_not_reminded``)."""
    staff = secretariat_ids(session)
    unplanned = (
        since_not_reminded(rule_key)
        if stale
        else not_planned(rule_key, SUBJECT, period_key, User.id)
    )
    # A state's follow-up goes to its focal points; an organisation's or the secretariat's
    # (and every escalation) to the staff.
    branches = to_recipients(
        open_follow_ups(*where),
        None
        if staff_only
        else and_(User.state_id == FollowUp.state_id, User.role == Role.FOCAL_POINT),
        staff,
        None if staff_only else FollowUp.state_id.is_(None),
    )
    if not branches:
        return
    # Keyset batches. A batch read past the first one would still look at every row after
    # it (a sort of all that remains), so once a first batch comes back full the scan goes
    # on by windows of follow-up ids sized to hold about a batch each: each reads its own.
    after, upto, last_id = (0, 0), None, None
    while True:
        window = [] if upto is None else [FollowUp.id < upto]
        found = union_all(
            *(
                branch.where(
                    FollowUp.id >= after[0],
                    tuple_(FollowUp.id, User.id) > tuple_(*after),
                    *window,
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
                FollowUpRow(
                    id=row.id,
                    state_id=row.state_id,
                    status=row.status,
                    next_review_date=row.next_review_date,
                    last_update_at=row.last_update_at,
                    created_at=row.created_at,
                    addressee=addressee_of(row),
                    recommendation=Wording(row.code, row.text),
                ),
                [pair.user_id for pair in pairs],
            )
        if len(rows) == BATCH:
            # More in this window (or, the first time, after this batch).
            after = (rows[-1].id, rows[-1].user_id)
            if upto is None:
                last_id = session.scalar(select(func.max(FollowUp.id))) or 0
                span = max((rows[-1].id - rows[0].id + 1) * 4 // 5, 1)
                upto = rows[-1].id + 1 + span
            continue
        if upto is None or upto > last_id:
            return
        # This window is done: the next one, as wide as a batch's worth of this one.
        width = upto - after[0]
        span = max(width * BATCH * 4 // (5 * len(rows)), 1) if rows else 2 * width
        after, upto = (upto, 0), upto + min(span, 1_000_000)


def reminders_of(
    rule_key: str,
    follow_up: FollowUpRow,
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


def whose(follow_up: FollowUp, *, start: bool = False) -> str:
    """ "Kenya's follow-up of TM-2022-07/R3", "the Netherlands' follow-up of …"; with
    ``start`` (a sentence opens with it) "The Netherlands' follow-up of …"."""
    whose_name = _possessive(follow_up.addressee, start)
    return f"{whose_name} follow-up of {follow_up.recommendation.code}"


@functools.lru_cache(maxsize=1024)
def _possessive(addressee: str, start: bool) -> str:
    # Worked out once per addressee and tick (a name's reading takes a few steps): a tick
    # a day later words tens of thousands of reminders for a few hundred addressees.
    return possessive(addressee, start=start)


def wording(follow_up: FollowUp) -> str:
    text = follow_up.recommendation.text
    return text if len(text) <= 200 else text[:197] + "…"
