"""The secretariat's summary sentence, written from the figures of a period.

"Between November 2015 and March 2020, 2 Informal Working Groups, 9 Steering Committee
Meetings, 7 Senior Officials' Meetings, 12 Thematic Meetings and 1 Regional Training have
gathered almost 1,800 delegates and resulted in over 130 recommendations."
"""

from __future__ import annotations

import calendar
from datetime import date, timedelta

from kpplan.reports.queries import Statistics


def approximately(n: int) -> str:
    """A figure as the secretariat writes it: two significant digits, "almost" when rounded
    up, "over" when rounded down (1,776 → "almost 1,800"; 134 → "over 130"; 28 → "28")."""
    if n < 100:
        return f"{n:,}"
    step = 10 ** (len(str(n)) - 2)
    rounded = (n + step // 2) // step * step
    if rounded > n:
        return f"almost {rounded:,}"
    if rounded < n:
        return f"over {rounded:,}"
    return f"{n:,}"


def _is_month_start(day: date) -> bool:
    return day.day == 1


def _is_month_end(day: date) -> bool:
    return (day + timedelta(days=1)).day == 1


def period_words(start: date, end: date) -> str:
    """ "between November 2015 and March 2020", "in March 2020", or with days when the
    period does not begin and end with whole months."""
    if _is_month_start(start) and _is_month_end(end):
        if (start.year, start.month) == (end.year, end.month):
            return f"in {calendar.month_name[start.month]} {start.year}"
        return (
            f"between {calendar.month_name[start.month]} {start.year} and "
            f"{calendar.month_name[end.month]} {end.year}"
        )
    if start == end:
        return f"on {start.day} {calendar.month_name[start.month]} {start.year}"
    return (
        f"between {start.day} {calendar.month_name[start.month]} {start.year} and "
        f"{end.day} {calendar.month_name[end.month]} {end.year}"
    )


def _listing(parts: list[str]) -> str:
    if len(parts) == 1:
        return parts[0]
    return ", ".join(parts[:-1]) + " and " + parts[-1]


def sentence(stats: Statistics) -> str:
    """The summary of a period in one sentence, from its figures."""
    when = period_words(stats.start, stats.end)
    when = when[0].upper() + when[1:]
    if not stats.rows:
        return f"{when}, no activity of the Process was held."
    kinds = _listing(
        [f"{row.activities:,} {row.kind.summary_name(row.activities)}" for row in stats.rows]
    )
    results = []
    if stats.participants:
        one = stats.activities == 1
        results.append(
            f"{'has' if one else 'have'} gathered {approximately(stats.participants)} delegates"
        )
    if stats.recommendations.total:
        verb = (
            "resulted"
            if results
            else ("has resulted" if stats.activities == 1 else "have resulted")
        )
        results.append(f"{verb} in {approximately(stats.recommendations.total)} recommendations")
    if not results:
        return f"{when}, {kinds} {'was' if stats.activities == 1 else 'were'} held."
    return f"{when}, {kinds} {' and '.join(results)}."
