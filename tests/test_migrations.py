"""Migrations from empty to head and back down, and no drift from the models."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade
from sqlalchemy import select

from kpplan import PROJECT_ROOT
from kpplan.core.extensions import db
from kpplan.recommendations.search import described_by_models


def _tables() -> set[str]:
    """The tables the models describe (not the search's FTS5 tables), as migrated."""
    names = set(sa.inspect(db.engine).get_table_names()) - {"alembic_version"}
    return {name for name in names if described_by_models(name, "table")}


def test_upgrade_to_head_matches_the_models_and_downgrade_empties(empty_app):
    with empty_app.app_context():
        upgrade()
        assert _tables() == set(db.metadata.tables)
        with db.engine.connect() as connection:
            diff = compare_metadata(
                MigrationContext.configure(
                    connection,
                    opts={"compare_type": True, "include_name": described_by_models},
                ),
                db.metadata,
            )
        assert diff == []

        downgrade(revision="base")
        assert _tables() == set()

        upgrade()  # and up again, as a redeploy after a rollback would
        assert _tables() == set(db.metadata.tables)


def test_db_check_is_clean(empty_app, tmp_path):
    """The command a deployer runs, in its own process: ``flask --app wsgi db check``."""
    with empty_app.app_context():
        upgrade()
    env = {
        **os.environ,
        "KPPLAN_DATABASE_URL": empty_app.config["SQLALCHEMY_DATABASE_URI"],
        "KPPLAN_SECRET_KEY": "t",
        "KPPLAN_SQLALCHEMY_ENGINE_OPTIONS": json.dumps(
            empty_app.config["SQLALCHEMY_ENGINE_OPTIONS"]
        ),
    }
    result = subprocess.run(
        [sys.executable, "-m", "flask", "--app", "wsgi", "db", "check"],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert "No new upgrade operations detected" in result.stdout


def test_reference_data_loads_after_migrations(empty_app):
    from kpplan.seed import seed

    with empty_app.app_context():
        upgrade()
        first = seed(demo=True)
        second = seed(demo=True)
    assert first["states"] == 41 and first["organisations"] > 15 and first["accounts"] == 20
    assert first["activities"] == 29 and first["upcoming"] == 3
    assert first["recommendations"] == 8
    assert first["activities"] == 29 and first["chairmanships"] == 5
    assert first["snapshots"] == 1
    assert first["invitations"] == 1
    assert second == {
        "states": 0,
        "organisations": 0,
        "accounts": 0,
        "activities": 0,
        "recommendations": 0,
        "chairmanships": 0,
        "snapshots": 0,
        "invitations": 0,
        "upcoming": 0,
    }


def test_list_indexes_fill_meeting_dates_and_words_on_recorded_data(empty_app):
    """0015 on a database that has recommendations: each gets its activity's start date,
    and their words are found (the FTS5 table rebuilt from them, or the GIN index)."""
    from kpplan.meetings.models import Activity
    from kpplan.recommendations.models import Recommendation
    from kpplan.recommendations.search import with_words
    from kpplan.seed import seed

    def found(words: str) -> set[str]:
        return set(db.session.scalars(with_words(select(Recommendation.code), words)))

    with empty_app.app_context():
        upgrade()
        seed(demo=True)
        some = db.session.scalars(select(Recommendation).order_by(Recommendation.id)).first()
        word = max(some.text.split(), key=len).strip(".,;:()")
        before = found(word)
        assert some.code in before
        db.session.remove()

        downgrade(revision="0014_calendar_token_hashes")
        upgrade()
        assert found(word) == before
        pairs = db.session.execute(
            select(Recommendation.meeting_date, Activity.start_date).join(
                Activity, Recommendation.activity_id == Activity.id
            )
        ).all()
        assert len(pairs) == 8
        assert all(kept == start for kept, start in pairs)
        # The triggers (SQLite) keep the words in step with later changes.
        some = db.session.get(Recommendation, some.id)
        some.text = "Quarterly zebrafinch consultations."
        db.session.commit()
        assert found("zebrafinch") == {some.code}
        assert some.code not in found(word) or word.lower() in some.text.lower()
        db.session.remove()
