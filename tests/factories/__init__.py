"""Factories for the arrange step of tests, one module per feature.

``Factory`` composes them, so that the ``factory`` fixture offers every one:
``factory.user(...)``, ``factory.activity(...)``, ``factory.recommendation(...)``,
``factory.chairmanship(...)``. A feature's new records get a method in its own module, and
its class joins ``Factory`` here.
"""

from __future__ import annotations

from tests.factories.chair import ChairFactory
from tests.factories.directory import (
    CHAIR_STATE,
    PASSWORD,
    STATE_A,
    STATE_B,
    DirectoryFactory,
    state_named,
)
from tests.factories.meetings import MeetingsFactory
from tests.factories.recommendations import RecommendationsFactory

__all__ = [
    "CHAIR_STATE",
    "PASSWORD",
    "STATE_A",
    "STATE_B",
    "Factory",
    "state_named",
]


class Factory(DirectoryFactory, MeetingsFactory, RecommendationsFactory, ChairFactory):
    """Every feature's factory in one object; they share the app and the name counter."""
