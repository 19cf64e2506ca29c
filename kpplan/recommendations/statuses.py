"""A follow-up's statuses and the secretariat's validation of a move to "implemented":
each status one entry with its words, its colour and what it means (open or closed, the
progress it implies, set by kpplan alone), and the groups every page, chart, export and
query reads."""

from __future__ import annotations

from dataclasses import dataclass

from kpplan.core.db import LabelledEnum


@dataclass(frozen=True)
class StatusInfo:
    """What a follow-up status means, besides its value and label."""

    # The progress the status stands for when the focal point gives none.
    implied_progress: int | None
    # Closed (implemented, not applicable): nothing more is expected, nothing is reminded.
    closed: bool
    # Its colour in charts; its badge is the CSS class ``fu-<value>`` in kpplan.css.
    colour: str
    # Set by kpplan only (when a later recommendation supersedes), never chosen in an update.
    set_by_kpplan: bool = False


class FollowUpStatus(LabelledEnum):
    """A follow-up's status, each one entry: every page, chart, export and query reads it."""

    NOT_STARTED = "not_started", "Not started", StatusInfo(0, closed=False, colour="#8A94A3")
    IN_PROGRESS = "in_progress", "In progress", StatusInfo(25, closed=False, colour="#5B9BBD")
    PARTIALLY_IMPLEMENTED = (
        "partially_implemented",
        "Partially implemented",
        StatusInfo(50, closed=False, colour="#D9A400"),
    )
    IMPLEMENTED = "implemented", "Implemented", StatusInfo(100, closed=True, colour="#1D7A3A")
    NOT_APPLICABLE = (
        "not_applicable",
        "Not applicable",
        StatusInfo(None, closed=True, colour="#C3C9D2"),
    )
    # The recommendation was superseded by a later one, whose follow-up carries on.
    SUPERSEDED = (
        "superseded",
        "Superseded",
        StatusInfo(None, closed=True, colour="#A0785A", set_by_kpplan=True),
    )

    def __init__(self, value: str, label: str, info: StatusInfo) -> None:
        self.info = info

    @property
    def implied_progress(self) -> int | None:
        """The progress a status stands for when the focal point gives none."""
        return self.info.implied_progress

    @property
    def is_closed(self) -> bool:
        """Implemented, not applicable or superseded: nothing more is expected."""
        return self.info.closed

    @property
    def is_set_by_kpplan(self) -> bool:
        """Superseded: kpplan sets it when a later recommendation supersedes; nobody
        chooses it in an update."""
        return self.info.set_by_kpplan

    @property
    def css_class(self) -> str:
        """The badge's class in kpplan.css, which gives each status its colours."""
        return f"fu-{self.value}"


OPEN_STATUSES = tuple(s for s in FollowUpStatus if not s.is_closed)
#: Closed without implying any progress (not applicable, superseded): left out of the
#: addressees an implemented share is counted over.
OUT_OF_SHARE = tuple(s for s in FollowUpStatus if s.is_closed and s.implied_progress is None)
# The statuses a status update may choose.
REPORTED_STATUSES = tuple(s for s in FollowUpStatus if not s.is_set_by_kpplan)


class Validation(LabelledEnum):
    """The secretariat's decision on a move to "implemented"; ``css_class`` is its badge."""

    PENDING = "pending", "Awaiting validation", "fu-pending"
    ACCEPTED = "accepted", "Validated", FollowUpStatus.IMPLEMENTED.css_class
    RETURNED = "returned", "Returned", FollowUpStatus.PARTIALLY_IMPLEMENTED.css_class

    def __init__(self, value: str, label: str, css_class: str) -> None:
        self.css_class = css_class
