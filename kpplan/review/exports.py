"""The figures of the review and the handover pack as spreadsheet rows."""

from __future__ import annotations

from datetime import date
from typing import Any

from kpplan.meetings.models import Activity
from kpplan.recommendations.figures import ShareRow
from kpplan.recommendations.statuses import FollowUpStatus
from kpplan.recommendations.themes import BY_CODE
from kpplan.review.handover import OpenRecommendation
from kpplan.review.progress import ItemProgress

Sheet = tuple[str, list[str], list[list[Any]]]

ITEM_COLUMNS = [
    "Target",
    "Due by",
    "Kind",
    "Item",
    "Lead state",
    "Host state",
    "Status",
    "Held on",
    "Held by the target",
]


def item_rows(items: list[ItemProgress]) -> list[list[Any]]:
    rows = []
    for entry in items:
        item = entry.item
        on_time = entry.on_time
        rows.append(
            [
                item.target_label,
                item.due_by,
                item.kind.label,
                item.theme,
                item.lead_state.name if item.lead_state else None,
                item.host_state.name if item.host_state else None,
                entry.status.label,
                entry.held_on,
                None if on_time is None else ("Yes" if on_time else "No"),
            ]
        )
    return rows


SHARE_COLUMNS = [
    "Follow-ups",
    "Implemented",
    "Not applicable or superseded",
    "Awaiting validation",
    "Share %",
]


def _share(row: ShareRow) -> list[Any]:
    return [row.total, row.implemented, row.not_applicable, row.pending, row.share]


def state_rows(rows: list[ShareRow]) -> list[list[Any]]:
    return [[r.label, *_share(r)] for r in rows]


def theme_rows(rows: list[ShareRow]) -> list[list[Any]]:
    return [[r.key, BY_CODE[r.key].frame, BY_CODE[r.key].name, *_share(r)] for r in rows]


OVERDUE_COLUMNS = [
    "Follow-up ID",
    "Code",
    "Wording",
    "Addressee",
    "Status",
    "Next review date",
    "Days overdue",
]


def overdue_rows(follow_ups: list[Any], today: date) -> list[list[Any]]:
    return [
        [
            f.id,
            f.recommendation.code,
            f.recommendation.text,
            f.addressee,
            f.status.label,
            f.next_review_date,
            (today - f.next_review_date).days,
        ]
        for f in follow_ups
    ]


ACTIVITY_COLUMNS = ["Start", "End", "Kind", "Title", "Status", "City"]


def activity_rows(activities: list[Activity]) -> list[list[Any]]:
    return [
        [a.start_date, a.end_date, a.kind.label, a.title, a.status.label, a.city]
        for a in activities
    ]


# The activities of a term also say how many took part (from the attendance list where one
# was ticked, else as typed).
TERM_ACTIVITY_COLUMNS = [*ACTIVITY_COLUMNS, "Participants", "Participants counted from"]


def term_activity_rows(activities: list[Any]) -> list[list[Any]]:
    """The rows of a term's activities (``review.queries.ActivityRow``, with their figures)."""
    rows = []
    for activity, row in zip(activities, activity_rows(activities), strict=True):
        counted = activity.figures
        participants = counted.participants if counted else None
        source = None
        if participants is not None:
            source = "attendance list" if counted.from_list else "typed figure"
        rows.append([*row, participants, source])
    return rows


OPEN_COLUMNS = [
    "Code",
    "Activity",
    "Activity date",
    "Wording",
    "Target date",
    "Addressees",
    *(s.label for s in FollowUpStatus),
    "Awaiting validation",
    "Overdue",
]


def open_rows(found: list[OpenRecommendation]) -> list[list[Any]]:
    return [
        [
            r.code,
            r.activity_title,
            r.activity_date,
            r.text,
            r.target_date,
            r.addressees,
            *(r.by_status[s] for s in FollowUpStatus),
            r.pending,
            r.overdue,
        ]
        for r in found
    ]


def dashboard_sheets(review: Any, today: date) -> dict[str, Sheet]:
    """The sections of the dashboard by their name in the address, each a sheet."""
    return {
        "work-plan": ("Work plan", ITEM_COLUMNS, item_rows(review.progress.items)),
        "states": ("Follow-up by state", ["State", *SHARE_COLUMNS], state_rows(review.by_state)),
        "themes": (
            "Follow-up by theme",
            ["Code", "Frame", "Theme", *SHARE_COLUMNS],
            theme_rows(review.by_theme),
        ),
        "overdue": ("Overdue", OVERDUE_COLUMNS, overdue_rows(review.overdue_list, today)),
        "activities": (
            "Activities",
            TERM_ACTIVITY_COLUMNS,
            term_activity_rows(review.activities),
        ),
    }


def handover_sheets(pack: Any, today: date) -> list[Sheet]:
    return [
        ("Open recommendations", OPEN_COLUMNS, open_rows(pack.open_recommendations)),
        ("Overdue follow-ups", OVERDUE_COLUMNS, overdue_rows(pack.overdue, today)),
        ("Upcoming activities", ACTIVITY_COLUMNS, activity_rows(pack.upcoming)),
        ("Items not delivered", ITEM_COLUMNS, item_rows(pack.not_delivered)),
    ]
