"""What every factory shares: the app, a counter for unique names, and saving a record."""

from __future__ import annotations

from kpplan.core.extensions import db


class BaseFactory:
    """Builds records straight in the database, for the arrange step of tests.

    Each record comes back detached with its columns loaded, usable outside an app context.
    """

    def __init__(self, app) -> None:
        self.app = app
        self.count = 0

    def _save(self, obj):
        db.session.add(obj)
        db.session.commit()
        db.session.refresh(obj)
        db.session.expunge(obj)
        return obj
