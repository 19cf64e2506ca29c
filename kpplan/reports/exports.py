"""Activities and statistics as spreadsheet rows, for ``core.spreadsheets`` to write."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from kpplan.meetings.models import Activity, StateRole
from kpplan.reports.queries import Statistics


def _states(activity: Activity, role: StateRole) -> str:
    return "; ".join(r.state.name for r in activity.state_roles if r.role is role)


# (heading, value of an activity)
ACTIVITY_COLUMNS: list[tuple[str, Callable[[Activity], Any]]] = [
    ("id", lambda a: a.id),
    ("kind", lambda a: a.kind.label),
    ("title", lambda a: a.title),
    ("theme", lambda a: a.theme),
    ("start date", lambda a: a.start_date),
    ("end date", lambda a: a.end_date),
    # An activity dated 2016-06-01, known to "the month only", is known as June 2016.
    ("dates known to", lambda a: a.date_precision.label),
    ("format", lambda a: a.format.label),
    ("city", lambda a: a.city),
    ("country", lambda a: a.country.name if a.country else None),
    ("status", lambda a: a.status.label),
    ("host", lambda a: _states(a, StateRole.HOST)),
    ("co-hosts", lambda a: _states(a, StateRole.CO_HOST)),
    ("chair", lambda a: _states(a, StateRole.CHAIR)),
    ("co-chairs", lambda a: _states(a, StateRole.CO_CHAIR)),
    ("organisations", lambda a: "; ".join(o.organisation.display_name for o in a.organisations)),
    ("participants", lambda a: a.participants),
    ("countries represented", lambda a: a.countries_represented),
    ("organisations represented", lambda a: a.organisations_represented),
    ("series", lambda a: a.series_title),
    ("module", lambda a: a.series_position),
]

STATISTICS_HEADINGS = [
    "kind",
    "activities",
    "participants",
    "country delegations",
    "organisation delegations",
    "activities with a participant figure",
    "of which from an attendance list",
    "women (attendance lists)",
]


# The columns an attendance list counts, when one was ticked: heading → its figure.
COUNTED_COLUMNS = {
    "participants": "participants",
    "countries represented": "countries",
    "organisations represented": "organisations",
}


def activity_rows(
    activities: Iterable[Activity], figures: dict[int, Any] | None = None
) -> tuple[list[str], list[list[Any]]]:
    """The rows of the activity export; ``figures`` (by activity id, from the attendance
    lists) replace the typed participant figures where a list was ticked."""
    headings = [name for name, _ in ACTIVITY_COLUMNS]
    rows = []
    for a in activities:
        counted = (figures or {}).get(a.id)
        from_list = counted is not None and counted.from_list
        rows.append(
            [
                getattr(counted, COUNTED_COLUMNS[name])
                if from_list and name in COUNTED_COLUMNS
                else value(a)
                for name, value in ACTIVITY_COLUMNS
            ]
        )
    return headings, rows


def statistics_rows(stats: Statistics) -> tuple[list[str], list[list[Any]]]:
    rows: list[list[Any]] = [
        [
            r.kind.label,
            r.activities,
            r.participants,
            r.countries,
            r.organisations,
            r.with_participants,
            r.from_lists,
            r.women,
        ]
        for r in stats.rows
    ]
    rows.append(
        [
            "Total",
            stats.activities,
            stats.participants,
            stats.countries,
            stats.organisations,
            stats.with_participants,
            stats.from_lists,
            stats.women,
        ]
    )
    blank = [None] * (len(STATISTICS_HEADINGS) - 2)
    rows.append(["Recommendations recorded", stats.recommendations.total, *blank])
    scoped = stats.recommendations.state_id is not None
    whose = "Your state's follow-ups" if scoped else "Addressees following up"
    for status, count in stats.recommendations.by_status.items():
        rows.append([f"{whose}: {status}", count, *blank])
    return STATISTICS_HEADINGS, rows
