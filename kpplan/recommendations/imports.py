"""Imports of recommendations and of follow-up updates from an edited export: each row is
checked first (``plan_*``), then every row is applied, or none (``apply_*``)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import func, select

from kpplan.core.errors import DomainError
from kpplan.core.extensions import db
from kpplan.core.parsing import MAX_INT, whole_number
from kpplan.core.spreadsheets import cell_problems
from kpplan.directory.models import Organisation, State, User
from kpplan.meetings.models import Activity
from kpplan.recommendations import follow_up_services, services
from kpplan.recommendations.exports import ALL_MEMBERS, SECRETARIAT
from kpplan.recommendations.follow_up_models import FollowUp
from kpplan.recommendations.models import Lineage, Priority, Recommendation
from kpplan.recommendations.queries import Scope
from kpplan.recommendations.statuses import FollowUpStatus


@dataclass
class RowPlan:
    number: int  # the row's line in the file (the header is line 1)
    values: dict[str, str]
    action: str = "unchanged"  # "new", "change", "unchanged" or "update"
    errors: list[str] = field(default_factory=list)
    apply: Any = None  # what to run when everything is valid

    @contextmanager
    def checking(self) -> Iterator[None]:
        """Run one check of the row: its ``DomainError`` becomes one of the row's errors,
        and the next check runs still, so that the preview shows all of them at once."""
        try:
            yield
        except DomainError as error:
            self.errors.append(error.message)


@dataclass
class ImportPlan:
    rows: list[RowPlan]

    @property
    def valid(self) -> bool:
        return all(not r.errors for r in self.rows)

    @property
    def error_count(self) -> int:
        return sum(1 for r in self.rows if r.errors)

    def count(self, action: str) -> int:
        return sum(1 for r in self.rows if r.action == action and not r.errors)


def _parse_date(value: str, what: str) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value[:10])
    except ValueError as error:
        raise DomainError(f"{what} “{value}” is not a date written as YYYY-MM-DD.") from error


def _parse_enum(enum_class, value: str, what: str):
    wanted = value.strip().lower().replace("-", " ").replace("_", " ")
    for member in enum_class:
        if wanted in (member.value.replace("_", " "), member.label.lower()):
            return member
    choices = ", ".join(m.label for m in enum_class)
    raise DomainError(f"{what} “{value}” is not one of: {choices}.")


class _Directory:
    """Names in a file resolved against states and organisations, loaded once."""

    def __init__(self) -> None:
        self.states = {s.name.lower(): s for s in db.session.scalars(select(State))}
        self.organisations: dict[str, Organisation] = {}
        for organisation in db.session.scalars(select(Organisation)):
            self.organisations[organisation.name.lower()] = organisation
            if organisation.acronym:
                self.organisations[organisation.acronym.lower()] = organisation


def _draft_from(
    values: dict[str, str], names: _Directory, coming: set[str], row: RowPlan
) -> tuple[services.Draft, tuple[str, Lineage] | None]:
    """The draft a row describes, and the predecessor to link once recorded when it is a
    recommendation recorded by an earlier row of the same file. What cannot be read is
    added to the row's errors (all of them) and left out of the draft."""
    addressed = [p.strip() for p in values["Addressed to"].split(";") if p.strip()]
    draft = services.Draft(
        text=values["Wording"],
        priority=Priority.MEDIUM,
        target_date=None,
        themes=[t.strip().upper() for t in values["Themes"].split(";") if t.strip()],
    )
    with row.checking():
        draft.priority = _parse_enum(Priority, values["Priority"] or "medium", "Priority")
    with row.checking():
        draft.target_date = _parse_date(values["Target date"], "Target date")
    unknown = []
    for name in addressed:
        key = name.lower()
        if key == ALL_MEMBERS.lower():
            draft.to_all_members = True
        elif key == SECRETARIAT.lower():
            draft.for_secretariat = True
        elif key in names.states:
            draft.states.append(names.states[key])
        elif key in names.organisations:
            draft.organisations.append(names.organisations[key])
        else:
            unknown.append(name)
    if unknown:
        row.errors.append(
            f"Addressed to: {', '.join(unknown)} is neither a state nor an organisation of the "
            f"directory (nor “{ALL_MEMBERS}” or “{SECRETARIAT}”)."
        )
    supersedes, re_endorses = values["Supersedes"], values["Re-endorses"]
    if supersedes and re_endorses:
        row.errors.append("Fill in either Supersedes or Re-endorses, not both.")
        return draft, None
    earlier = supersedes or re_endorses
    lineage = Lineage.SUPERSEDES if supersedes else Lineage.RE_ENDORSES
    if earlier:
        found = db.session.scalar(select(Recommendation).where(Recommendation.code == earlier))
        if found is not None:
            draft.predecessor, draft.lineage = found, lineage
        elif earlier in coming:
            return draft, (earlier, lineage)
        else:
            row.errors.append(
                f"No recommendation has the code {earlier} (nor does an earlier row record it)."
            )
    return draft, None


def _same(recommendation: Recommendation, draft: services.Draft) -> bool:
    def keys(states, organisations, secretariat):
        return (
            sorted(s.id for s in states),
            sorted(o.id for o in organisations),
            secretariat,
        )

    current = keys(
        [f.state for f in recommendation.follow_ups if f.state is not None]
        if not recommendation.to_all_members
        else [],
        [f.organisation for f in recommendation.follow_ups if f.organisation is not None],
        any(f.for_secretariat for f in recommendation.follow_ups),
    )
    wanted = keys(draft.states, draft.organisations, draft.for_secretariat)
    return (
        recommendation.text == draft.text.strip()
        and recommendation.priority is draft.priority
        and recommendation.target_date == draft.target_date
        and sorted(recommendation.theme_codes) == sorted({c.upper() for c in draft.themes})
        and recommendation.to_all_members == draft.to_all_members
        and current == wanted
        and recommendation.predecessor_id == (draft.predecessor.id if draft.predecessor else None)
        and recommendation.lineage is draft.lineage
    )


def _activity_id(value: str) -> int | None:
    return whole_number(value, 1, MAX_INT)


def plan_recommendations(
    rows: list[dict[str, str]], activity: Activity | None = None
) -> ImportPlan:
    """Check each row: a row with a code changes that recommendation, a row without one
    records a new recommendation for its activity (or for ``activity`` when importing
    into one activity's page). Every error of a row is listed. Nothing is changed here."""
    names = _Directory()
    codes = [r["Code"] for r in rows if r["Code"]]
    existing = {
        r.code: r
        for r in db.session.scalars(select(Recommendation).where(Recommendation.code.in_(codes)))
    }
    activity_ids = {_activity_id(r["Activity ID"]) for r in rows} - {None}
    activities = {
        a.id: a for a in db.session.scalars(select(Activity).where(Activity.id.in_(activity_ids)))
    }
    seen_codes: set[str] = set()
    # The codes that new rows will get, so that a later row may name them as predecessor.
    numbers = dict(
        db.session.execute(
            select(Recommendation.activity_id, func.max(Recommendation.number))
            .where(Recommendation.activity_id.in_(activity_ids))
            .group_by(Recommendation.activity_id)
        ).all()
    )
    coming: set[str] = set()
    plan = ImportPlan([])
    for number, values in enumerate(rows, start=2):
        row = RowPlan(number, values)
        plan.rows.append(row)
        row.errors.extend(cell_problems(values))
        target = activity
        given = values["Activity ID"]
        with row.checking():
            if given:
                found = activities.get(_activity_id(given))
                if found is None:
                    raise DomainError(f"No activity has the ID {given}.")
                if activity is not None and found.id != activity.id:
                    raise DomainError(
                        f"This row belongs to another activity (ID {given}); import it from "
                        "the list of all recommendations."
                    )
                target = found
            elif target is None:
                raise DomainError("Give the Activity ID of the meeting that agreed it.")
        draft, link_later = _draft_from(values, names, coming, row)
        code = values["Code"]
        recommendation = None
        if code:
            with row.checking():
                if code in seen_codes:
                    raise DomainError(f"The code {code} appears twice in the file.")
                seen_codes.add(code)
                recommendation = existing.get(code)
                if recommendation is None:
                    raise DomainError(
                        f"No recommendation has the code {code}; leave the code empty to "
                        "record a new one."
                    )
                if target is not None and recommendation.activity_id != target.id:
                    raise DomainError(f"{code} belongs to another activity.")
                if link_later:
                    raise DomainError("A recommendation recorded before cannot follow a new one.")
        elif target is not None:
            not_held = services.not_held_problem(target)
            if not_held is not None:
                row.errors.append(not_held.message)
            else:
                numbers[target.id] = (numbers.get(target.id) or 0) + 1
                coming.add(services.code_for(target, numbers[target.id]))
        if recommendation is not None and not row.errors and _same(recommendation, draft):
            continue
        with row.checking():
            if recommendation is not None and recommendation.is_withdrawn:
                raise DomainError(f"{code} has been withdrawn; it is kept as it was.")
        # The rules of the draft itself, except on what could not be read at all.
        unread = {"predecessor"} if values["Supersedes"] or values["Re-endorses"] else set()
        if any(e.startswith("Addressed to:") for e in row.errors):
            unread.add("states")
        row.errors.extend(
            p.message for p in services.draft_problems(draft) if p.field not in unread
        )
        if row.errors or target is None:
            continue
        if recommendation is not None:
            row.action = "change"
            row.apply = ("change", recommendation, recommendation.version, draft)
        else:
            row.action = "new"
            illustrative = values["Illustrative"].strip().lower() in ("yes", "y", "true", "1")
            row.apply = ("new", target, draft, link_later, illustrative)
    return plan


def apply_recommendations(actor: User, plan: ImportPlan, filename: str) -> dict[str, int]:
    """Apply a valid plan; a row refused now (someone changed it meanwhile) raises
    ``DomainError`` naming the row, and the caller rolls everything back."""
    done = {"new": 0, "change": 0}
    for row in plan.rows:
        if row.apply is None:
            continue
        try:
            if row.apply[0] == "new":
                _kind, target, draft, link_later, illustrative = row.apply
                if link_later:
                    code, lineage = link_later
                    draft.predecessor = db.session.scalar(
                        select(Recommendation).where(Recommendation.code == code)
                    )
                    draft.lineage = lineage
                services.record_recommendations(actor, target, [draft], illustrative=illustrative)
            else:
                _kind, recommendation, version, draft = row.apply
                services.update_recommendation(
                    actor, recommendation, version, draft, f"Changed by the import of {filename}"
                )
        except DomainError as error:
            raise DomainError(f"Row {row.number}: {error.message}") from error
        done[row.apply[0]] += 1
    return done


# Where a follow-up export holds what ``follow_up_services.check_update`` names by its field.
UPDATE_COLUMNS = {
    "narrative": "New narrative",
    "progress": "Progress",
    "reason": "Reason",
    "next_review_date": "Next review date",
}


def plan_follow_ups(rows: list[dict[str, str]], scope: Scope, today: date) -> ImportPlan:
    """Check each row of a follow-up export: a row whose status, progress, next review
    date or reason differs, or that has a new narrative, becomes a status update, checked
    by the rules of the update form (``follow_up_services.check_update``). Every error of
    a row is listed."""
    ids = {whole_number(r["Follow-up ID"], 1, MAX_INT) for r in rows} - {None}
    follow_ups = {
        f.id: f
        for f in db.session.scalars(
            select(FollowUp).where(
                FollowUp.id.in_(ids), scope.where(), FollowUp.state_id.is_not(None)
            )
        )
    }
    seen: set[int] = set()
    plan = ImportPlan([])
    for number, values in enumerate(rows, start=2):
        row = RowPlan(number, values)
        plan.rows.append(row)
        row.errors.extend(cell_problems(values))
        given = values["Follow-up ID"]
        follow_up = follow_ups.get(whole_number(given, 1, MAX_INT))
        with row.checking():
            if follow_up is None:
                # Another state's follow-up is "not found", like everywhere else.
                raise DomainError(f"There is no follow-up {given} of yours to update.")
            if follow_up.id in seen:
                raise DomainError(f"Follow-up {given} appears twice in the file.")
            seen.add(follow_up.id)
        status = progress = review = None
        with row.checking():
            status = _parse_enum(FollowUpStatus, values["Status"], "Status")
        progress_text = values["Progress"].rstrip("%").strip()
        if progress_text:
            # A whole number out of 0–100 is for the update's own rules to refuse.
            progress = whole_number(progress_text, 0, MAX_INT)
            if progress is None:
                row.errors.append(
                    f"Progress “{values['Progress']}” is not a whole percentage from 0 to 100."
                )
        with row.checking():
            review = _parse_date(values["Next review date"], "Next review date")
        reason = values["Reason"]
        narrative = values["New narrative"]
        version = whole_number(values["Version"], 0, MAX_INT)
        if version is None:
            row.errors.append("The Version column must keep the number of the export.")
        if follow_up is None or status is None or version is None:
            continue
        unchanged = (
            status is follow_up.status
            and progress == follow_up.progress
            and review == follow_up.next_review_date
            and (reason or None) == follow_up.status_reason
        )
        if unchanged and not narrative and not row.errors:
            continue
        if version != follow_up.version:
            row.errors.append(
                "This follow-up has been updated since the file was exported; export it "
                "again and redo this row."
            )
            continue
        # An unchanged review date is not posted again (it may have passed meanwhile).
        new_review = review if review != follow_up.next_review_date else None
        problems = follow_up_services.check_update(
            follow_up,
            status=status,
            narrative=narrative,
            today=today,
            progress=progress,
            reason=reason,
            next_review_date=new_review,
        )
        row.errors += [
            f"{UPDATE_COLUMNS[p.field]}: {p.message}" if p.field else p.message for p in problems
        ]
        if row.errors:
            continue
        row.action = "update"
        row.apply = (follow_up, version, status, progress, new_review, reason, narrative)
    return plan


def apply_follow_ups(actor: User, plan: ImportPlan, today: date) -> int:
    """Post the planned status updates; raises ``DomainError`` naming a refused row."""
    posted = 0
    for row in plan.rows:
        if row.apply is None:
            continue
        follow_up, version, status, progress, review, reason, narrative = row.apply
        try:
            follow_up_services.post_update(
                actor,
                follow_up,
                version,
                status=status,
                narrative=narrative,
                today=today,
                progress=progress,
                reason=reason,
                next_review_date=review,
            )
        except DomainError as error:
            raise DomainError(f"Row {row.number}: {error.message}") from error
        posted += 1
    return posted
