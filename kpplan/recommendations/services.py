"""Recording recommendations: codes, the checks of a draft, recording, editing and
withdrawing. Each function validates, changes, flushes and writes the audit trail; the
caller commits. Following them up is in ``follow_up_services``."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from kpplan.audit import services as audit
from kpplan.core import clock
from kpplan.core.db import taken_meanwhile, utcnow
from kpplan.core.errors import DomainError
from kpplan.core.extensions import db
from kpplan.directory.models import Organisation, State, User
from kpplan.meetings.kinds import RECORDING_RECOMMENDATIONS
from kpplan.meetings.models import Activity
from kpplan.meetings.services import complete_steps
from kpplan.recommendations import follow_up_services
from kpplan.recommendations import themes as theme_catalogue
from kpplan.recommendations.follow_up_models import FollowUp, StatusUpdate
from kpplan.recommendations.models import (
    Lineage,
    Priority,
    Recommendation,
    RecommendationTheme,
    WordingRevision,
)
from kpplan.recommendations.statuses import FollowUpStatus

FIELDS = ("code", "text", "priority", "target_date", "to_all_members", "lineage", "version")
MAX_WORDING = 4000


@dataclass
class Draft:
    """What the secretariat writes down for one recommendation, from a form or a file."""

    text: str
    priority: Priority = Priority.MEDIUM
    target_date: date | None = None
    themes: list[str] = field(default_factory=list)
    to_all_members: bool = False
    states: list[State] = field(default_factory=list)
    organisations: list[Organisation] = field(default_factory=list)
    for_secretariat: bool = False
    predecessor: Recommendation | None = None
    lineage: Lineage | None = None
    # When it supersedes: leave the earlier one's open follow-ups open (else they close).
    keep_predecessor_open: bool = False


def code_prefix(activity: Activity) -> str:
    """The first part of the codes of an activity's recommendations, e.g. ``TM-2022-07``.

    Two activities of one kind in one month get ``TM-2022-07`` and ``TM-2022-07b``: an
    activity keeps the prefix its first recommendation got; a new one takes the first
    prefix no other activity uses.
    """
    base = f"{activity.kind.info.code}-{activity.start_date:%Y-%m}"
    taken: dict[str, int] = {}
    for code, activity_id in db.session.execute(
        select(Recommendation.code, Recommendation.activity_id).where(
            Recommendation.code.like(f"{base}%/R%")
        )
    ):
        taken.setdefault(code.rsplit("/R", 1)[0], activity_id)
    for prefix, owner in taken.items():
        if owner == activity.id:
            return prefix
    for suffix in ["", *"bcdefghijklmnopqrstuvwxyz"]:
        if base + suffix not in taken:
            return base + suffix
    return f"{base}-{activity.id}"


def code_for(activity: Activity, number: int) -> str:
    """The code a recommendation is known by, e.g. ``TM-2022-07/R3``."""
    return f"{code_prefix(activity)}/R{number}"


def _snapshot(recommendation: Recommendation) -> dict[str, Any]:
    data = audit.snapshot(recommendation, FIELDS)
    data["themes"] = sorted(recommendation.theme_codes)
    data["addressees"] = sorted(f.addressee for f in recommendation.follow_ups)
    data["predecessor"] = recommendation.predecessor.code if recommendation.predecessor else None
    return data


def draft_problems(draft: Draft, recommendation: Recommendation | None = None) -> list[DomainError]:
    """Every rule ``draft`` breaks, each as a ``DomainError`` on the field at fault (at most
    one per field); empty when it can be recorded."""
    problems = []
    text = (draft.text or "").strip()
    if not text:
        problems.append(DomainError("Write the wording of the recommendation.", "text"))
    elif len(text) > MAX_WORDING:
        problems.append(
            DomainError(
                f"The wording is {len(text)} characters long; keep it under {MAX_WORDING}.",
                "text",
            )
        )
    unknown = [code for code in draft.themes if theme_catalogue.theme(code) is None]
    if unknown:
        problems.append(
            DomainError(
                f"Unknown theme {', '.join(unknown)}: use the codes of the Rome Declaration "
                "(RD1–RD10), the Valletta Action Plan (JVAP1–JVAP5) or the 4Ps "
                "(4P-PREVENTION, …).",
                "themes",
            )
        )
    if not (draft.to_all_members or draft.states or draft.organisations or draft.for_secretariat):
        problems.append(
            DomainError(
                "Say whom the recommendation is addressed to: all member states, chosen "
                "states, organisations or the secretariat.",
                "states",
            )
        )
    outsiders = [state.name for state in draft.states if not state.is_member]
    if outsiders:
        problems.append(
            DomainError(f"{outsiders[0]} is not a member state of the Process.", "states")
        )
    if (draft.predecessor is None) != (draft.lineage is None):
        problems.append(
            DomainError(
                "Choose both the earlier recommendation and whether this one supersedes or "
                "re-endorses it.",
                "predecessor",
            )
        )
    elif draft.predecessor is not None and recommendation is not None:
        # Follow the chain back: a recommendation cannot descend from itself.
        seen: Recommendation | None = draft.predecessor
        while seen is not None:
            if seen.id == recommendation.id:
                problems.append(
                    DomainError(
                        "A recommendation cannot supersede or re-endorse itself or one that "
                        "descends from it.",
                        "predecessor",
                    )
                )
                break
            seen = seen.predecessor
    return problems


def not_held_problem(activity: Activity) -> DomainError | None:
    """Why recommendations cannot be recorded for ``activity`` yet (it has not been held),
    or None when they can: a meeting agrees recommendations once it has taken place."""
    if activity.took_place:
        return None
    return DomainError(
        f"{activity.title} is {activity.status.label.lower()}: recommendations are recorded "
        "once an activity has been held. Record it as held on its page first."
    )


def check_draft(draft: Draft, recommendation: Recommendation | None = None) -> None:
    """Raise ``DomainError`` (on the field at fault) unless ``draft`` can be recorded: the
    first of ``draft_problems``."""
    problems = draft_problems(draft, recommendation)
    if problems:
        raise problems[0]


def _all_member_states() -> list[State]:
    return list(db.session.scalars(select(State).where(State.is_member.is_(True))))


def _addressees(draft: Draft) -> list[tuple[str, int | None]]:
    """The addressees as (kind, id) keys: states, organisations, the secretariat."""
    states = _all_member_states() if draft.to_all_members else draft.states
    keys: list[tuple[str, int | None]] = [("state", s.id) for s in states]
    keys += [("organisation", o.id) for o in draft.organisations]
    if draft.for_secretariat:
        keys.append(("secretariat", None))
    return list(dict.fromkeys(keys))


def _key(follow_up: FollowUp) -> tuple[str, int | None]:
    if follow_up.state_id is not None:
        return ("state", follow_up.state_id)
    if follow_up.organisation_id is not None:
        return ("organisation", follow_up.organisation_id)
    return ("secretariat", None)


def _new_follow_up(key: tuple[str, int | None], target: date | None) -> FollowUp:
    kind, ident = key
    return FollowUp(
        state_id=ident if kind == "state" else None,
        organisation_id=ident if kind == "organisation" else None,
        for_secretariat=kind == "secretariat",
        status=FollowUpStatus.NOT_STARTED,
        next_review_date=target,
    )


def _set_themes(recommendation: Recommendation, codes: list[str]) -> None:
    wanted = sorted({theme_catalogue.theme(c).code for c in codes})
    for existing in list(recommendation.themes):
        if existing.code not in wanted:
            recommendation.themes.remove(existing)
    have = {t.code for t in recommendation.themes}
    for code in wanted:
        if code not in have:
            recommendation.themes.append(RecommendationTheme(code=code))


def record_recommendations(
    actor: User, activity: Activity, drafts: list[Draft], *, illustrative: bool = False
) -> list[Recommendation]:
    """Record recommendations agreed at ``activity``, numbered after those it has already,
    each with one follow-up per addressee; ticks its step "Recommendations recorded".

    Raises ``DomainError`` when the activity has not been held, or naming the first draft
    that breaks a rule; nothing is kept then.
    """
    problem = not_held_problem(activity)
    if problem is not None:
        raise problem
    if not drafts:
        raise DomainError("Write at least one recommendation.", "text")
    for position, draft in enumerate(drafts, start=1):
        try:
            check_draft(draft)
        except DomainError as error:
            if len(drafts) > 1:
                error.message = f"Recommendation {position}: {error.message}"
            raise
    created = []
    for draft in drafts:
        recommendation = _record_numbered(activity, draft, illustrative)
        audit.record(
            actor,
            "created",
            recommendation,
            f"Recorded {recommendation.code} ({activity.title})",
            None,
            _snapshot(recommendation),
        )
        _close_superseded(actor, draft, recommendation)
        created.append(recommendation)
    complete_steps(actor, activity, RECORDING_RECOMMENDATIONS, clock.today())
    return created


def _close_superseded(actor: User, draft: Draft, recommendation: Recommendation) -> None:
    """A recommendation that supersedes another closes the earlier one's open follow-ups,
    unless the secretariat keeps them open."""
    if (
        draft.lineage is Lineage.SUPERSEDES
        and draft.predecessor is not None
        and not draft.keep_predecessor_open
    ):
        follow_up_services.close_superseded(actor, draft.predecessor, recommendation)


#: How often a recommendation's number is taken again when someone else took it meanwhile.
NUMBER_ATTEMPTS = 40


def _record_numbered(activity: Activity, draft: Draft, illustrative: bool) -> Recommendation:
    """Insert ``draft`` as the next recommendation of ``activity``.

    The next number is the highest plus one; when people record for the same activity at
    the same moment, two of them read the same highest number and the unique code refuses
    the second insert. That insert is undone alone (a savepoint) and tried with the number
    the other has left, so everyone's recommendations are recorded with distinct codes.
    Raises ``DomainError`` if the numbers keep being taken (what was typed stays).
    """
    for _attempt in range(NUMBER_ATTEMPTS):
        number = 1 + (
            db.session.scalar(
                select(func.max(Recommendation.number)).where(
                    Recommendation.activity_id == activity.id
                )
            )
            or 0
        )
        # By ids, not relationships: an attempt undone must leave no trace in the
        # collections of the activity or the predecessor.
        recommendation = Recommendation(
            activity_id=activity.id,
            number=number,
            code=code_for(activity, number),
            text=draft.text.strip(),
            priority=draft.priority,
            target_date=draft.target_date,
            to_all_members=draft.to_all_members,
            predecessor_id=draft.predecessor.id if draft.predecessor else None,
            lineage=draft.lineage,
            illustrative=illustrative,
        )
        _set_themes(recommendation, draft.themes)
        for key in _addressees(draft):
            recommendation.follow_ups.append(_new_follow_up(key, draft.target_date))
        try:
            with db.session.begin_nested():
                db.session.add(recommendation)
                db.session.flush()
        except IntegrityError as error:
            if not taken_meanwhile(error, Recommendation.__tablename__):
                raise
            continue  # the number was taken meanwhile: read the highest again
        return recommendation
    raise DomainError(
        "Others were recording recommendations for this activity at the same moment and "
        "their numbers kept coming first. Nothing was recorded; send the form again."
    )


def has_reports(recommendation: Recommendation) -> bool:
    """Whether any addressee has reported on it (its wording is then versioned)."""
    return bool(
        db.session.scalar(
            select(func.count(StatusUpdate.id))
            .join(FollowUp, StatusUpdate.follow_up_id == FollowUp.id)
            .where(FollowUp.recommendation_id == recommendation.id)
        )
    )


def update_recommendation(
    actor: User,
    recommendation: Recommendation,
    version: int | None,
    draft: Draft,
    revision_reason: str = "",
) -> Recommendation:
    """Change a recommendation. Before anyone reports on it the wording is simply corrected;
    afterwards the earlier wording is kept as a revision, with the reason for the change.

    Raises ``StaleEdit`` for an edit drawn from an older version, ``DomainError`` for a
    rule broken, such as removing an addressee who has already reported.
    """
    audit.ensure_current(recommendation, version)
    if recommendation.is_withdrawn:
        raise DomainError("This recommendation has been withdrawn; it is kept as it was.")
    check_draft(draft, recommendation)
    before = _snapshot(recommendation)
    text = draft.text.strip()
    if text != recommendation.text and has_reports(recommendation):
        if not (revision_reason or "").strip():
            raise DomainError(
                "Addressees have already reported on this wording: say why it changes, so the "
                "earlier wording is kept with the reason.",
                "revision_reason",
            )
        recommendation.revisions.append(
            WordingRevision(
                text=recommendation.text, replaced_by=actor, reason=revision_reason.strip()
            )
        )
    old_target = recommendation.target_date
    newly_superseding = draft.lineage is Lineage.SUPERSEDES and (
        recommendation.lineage is not Lineage.SUPERSEDES
        or recommendation.predecessor_id != (draft.predecessor.id if draft.predecessor else None)
    )
    recommendation.text = text
    recommendation.priority = draft.priority
    recommendation.target_date = draft.target_date
    recommendation.to_all_members = draft.to_all_members
    recommendation.predecessor = draft.predecessor
    recommendation.lineage = draft.lineage
    _set_themes(recommendation, draft.themes)

    wanted = _addressees(draft)
    for follow_up in list(recommendation.follow_ups):
        if _key(follow_up) in wanted:
            if follow_up.last_update_at is None and follow_up.next_review_date == old_target:
                follow_up.next_review_date = draft.target_date
            continue
        if follow_up.updates:
            raise DomainError(
                f"{follow_up.addressee} has already reported on this recommendation and stays "
                "among its addressees.",
                "states",
            )
        recommendation.follow_ups.remove(follow_up)
    have = {_key(f) for f in recommendation.follow_ups}
    for key in wanted:
        if key not in have:
            recommendation.follow_ups.append(_new_follow_up(key, draft.target_date))
    db.session.flush()
    after = _snapshot(recommendation)
    if after != before:
        audit.record(
            actor, "updated", recommendation, f"Edited {recommendation.code}", before, after
        )
    if newly_superseding:
        _close_superseded(actor, draft, recommendation)
    return recommendation


def withdraw(
    actor: User, recommendation: Recommendation, version: int | None, reason: str
) -> Recommendation:
    """Withdraw a recommendation with a reason: it is kept, but left out of open counts.

    Raises ``StaleEdit`` or ``DomainError`` (no reason, already withdrawn).
    """
    audit.ensure_current(recommendation, version)
    if recommendation.is_withdrawn:
        raise DomainError("This recommendation has already been withdrawn.")
    if not (reason or "").strip():
        raise DomainError("Say why the recommendation is withdrawn.", "reason")
    before = _snapshot(recommendation)
    recommendation.withdrawn_at = utcnow()
    recommendation.withdrawal_reason = reason.strip()
    db.session.flush()
    after = {**_snapshot(recommendation), "withdrawal_reason": recommendation.withdrawal_reason}
    audit.record(
        actor, "withdrawn", recommendation, f"Withdrew {recommendation.code}", before, after
    )
    return recommendation


__all__ = [
    "Draft",
    "check_draft",
    "code_for",
    "has_reports",
    "not_held_problem",
    "record_recommendations",
    "update_recommendation",
    "withdraw",
]
