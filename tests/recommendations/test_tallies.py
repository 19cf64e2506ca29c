"""The follow-up figures kept on write match a full count after any sequence of changes
made through the services people use (and `kpplan recount` says so, or lists what differs)."""

from __future__ import annotations

import random
from collections import Counter
from datetime import UTC, date, datetime, timedelta

import pytest
import sqlalchemy as sa

from kpplan.core.extensions import db
from kpplan.directory.models import Organisation, State
from kpplan.meetings.models import Activity, Status
from kpplan.recommendations import day_figures, services, tallies, tally_check
from kpplan.recommendations.deadlines import Deadlines
from kpplan.recommendations.follow_up_models import FollowUp
from kpplan.recommendations.models import Recommendation
from kpplan.recommendations.statuses import OPEN_STATUSES, FollowUpStatus
from kpplan.recommendations.tallies import FollowUpTally, RecommendationTally
from kpplan.recommendations.themes import THEMES

STATES = ("Kenya", "Italy", "Egypt", "France", "Niger")
# The day the follow-ups are recorded on (their ``created_at``), whatever the day of the
# game's updates (``random_changes``).
RECORDED_ON = datetime.now(UTC).date()


def _draft(rng: random.Random, states: list[State], organisations: list[Organisation]):
    return services.Draft(
        text=f"Strengthen cooperation {rng.randrange(10**6)}.",
        # Reviewed before or within "due soon" of the figures of the day's basis, or after
        # it (not updated for long, and nothing more: "stale_only").
        target_date=rng.choice(
            [
                date(2026, 12, 31),
                RECORDED_ON + timedelta(days=260),
                RECORDED_ON + timedelta(days=400),
            ]
        ),
        themes=rng.sample([t.code for t in THEMES], rng.randrange(0, 3)),
        states=rng.sample(states, rng.randrange(1, len(states))),
        organisations=rng.sample(organisations, rng.randrange(0, 2)),
        for_secretariat=rng.random() < 0.3,
    )


def test_kept_figures_match_a_full_count_after_random_changes(app, factory, random_changes):
    activity = factory.activity(status=Status.HELD)
    rng = random.Random(13)
    # The figures of the day, counted for a day when the follow-ups recorded now are not
    # updated for long and those due before it overdue, with short days of "due soon".
    basis_day = RECORDED_ON + timedelta(days=200)
    with app.app_context():
        day_figures.count_the_day(db.session.connection(), basis_day, Deadlines(150, 60))
        db.session.commit()
        activity = db.session.get(Activity, activity.id)
        states = db.session.scalars(
            sa.select(State).where(State.name.in_(STATES)).order_by(State.name)
        ).all()
        organisations = [
            db.session.get(Organisation, factory.organisation(f"Agency {n}").id) for n in range(2)
        ]
        random_changes(
            rng,
            120,
            ["record", "update", "post", "post", "post", "validate", "edit", "withdraw"],
            lambda rng: _draft(rng, states, organisations),
            lambda rng: activity,
        )
        connection = db.session.connection()
        assert tally_check.differences(connection) == []
        kept = tally_check.kept(connection)
        # The game reached every kind of figure: states, themes, organisations, pending.
        assert any(k[0] == "f" and k[1] for k in kept)
        assert any(k[0] == "f" and k[2] == day_figures.NO_STATE for k in kept)
        assert any(k[0] == "f" and k[-1] for k in kept), "no move to implemented awaited"
        # The figures of the day reached every kind, and match a count at their basis.
        day = {(k[1], k[2]): n for k, n in kept.items() if k[0] == "d"}
        assert {kind for _, kind in day} == set(day_figures.DAY_KINDS)
        assert any(state == day_figures.NO_STATE for state, _ in day)
        live = Counter()
        day_figures.add_day_rows(
            live, connection.execute(day_figures.day_rows(day_figures.day_basis(connection)))
        )
        assert day == {k[1:]: n for k, n in live.items()}
        withdrawn = db.session.scalar(
            sa.select(sa.func.count()).where(Recommendation.withdrawn_at.is_not(None))
        )
        assert withdrawn, "no recommendation was withdrawn"
        # The counts over every theme hold exactly the follow-ups in force.
        in_force = db.session.scalar(
            sa.select(sa.func.count(FollowUp.id))
            .join(Recommendation)
            .where(Recommendation.withdrawn_at.is_(None))
        )
        assert (
            sum(n for k, n in kept.items() if k[0] == "f" and k[1] == tallies.EVERY_THEME)
            == in_force
        )
        # So do the counts per activity (the statistics of a period add them up).
        assert sum(n for k, n in kept.items() if k[0] == "a") == in_force
        # The open recommendations of the Process: in force, an addressee still at work.
        still_open = [
            r
            for r in db.session.scalars(sa.select(Recommendation))
            if r.withdrawn_at is None
            and any(f.status in OPEN_STATUSES or f.pending_update_id for f in r.follow_ups)
        ]
        assert still_open, "no recommendation open"
        assert tallies.open_recommendations(connection) == len(still_open)
        assert len(still_open) < len(db.session.scalars(sa.select(Recommendation.id)).all())
        assert {k[1] for k in kept if k[0] == "a"} == {activity.id}


def test_bulk_statements_are_counted_again(app, factory):
    recommendation = factory.recommendation(factory.activity().id, states=("Kenya", "Italy"))
    with app.app_context():
        db.session.execute(
            sa.update(FollowUp)
            .where(FollowUp.recommendation_id == recommendation.id)
            .values(status=FollowUpStatus.IMPLEMENTED)
        )
        db.session.commit()
        assert tally_check.differences(db.session.connection()) == []
        implemented = db.session.scalar(
            sa.select(sa.func.sum(RecommendationTally.n)).where(
                RecommendationTally.recommendation_id == recommendation.id,
                RecommendationTally.status == FollowUpStatus.IMPLEMENTED.value,
            )
        )
        assert implemented == 2


def test_recount_check_lists_what_differs_and_recount_puts_it_right(app, factory, runner):
    factory.recommendation(factory.activity().id, states=("Kenya", "Italy"), themes=("RD3",))
    result = runner.invoke(args=["kpplan", "recount", "--check"])
    assert result.exit_code == 0, result.output
    assert "match a full count" in result.output
    with app.app_context():
        # A change made by hand, behind kpplan's back.
        db.session.connection().execute(
            sa.text("UPDATE follow_ups SET status = 'implemented' WHERE state_id = :s"),
            {"s": db.session.scalar(sa.select(State.id).where(State.name == "Kenya"))},
        )
        db.session.commit()
    result = runner.invoke(args=["kpplan", "recount", "--check"])
    assert result.exit_code == 1
    assert "kept 1, counted 0" in result.output
    assert "theme RD3" in result.output
    assert "differ from a full count" in result.output
    result = runner.invoke(args=["kpplan", "recount"])
    assert result.exit_code == 0, result.output
    result = runner.invoke(args=["kpplan", "recount", "--check"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        rows = db.session.execute(
            sa.select(FollowUpTally.status, FollowUpTally.n).where(
                FollowUpTally.theme == "RD3", FollowUpTally.n > 0
            )
        ).all()
        assert sorted(rows) == [
            (FollowUpStatus.IMPLEMENTED.value, 1),
            (FollowUpStatus.NOT_STARTED.value, 1),
        ]
        # Italy's too, by hand: the recommendation is open no longer.
        db.session.connection().execute(sa.text("UPDATE follow_ups SET status = 'implemented'"))
        db.session.commit()
    result = runner.invoke(args=["kpplan", "recount", "--check"])
    assert "open recommendations of the Process: kept 1, counted 0" in result.output
    assert runner.invoke(args=["kpplan", "recount"]).exit_code == 0
    with app.app_context():
        assert tallies.open_recommendations(db.session.connection()) == 0


@pytest.mark.parametrize("status", list(FollowUpStatus))
def test_every_status_is_counted(app, factory, status):
    recommendation = factory.recommendation(factory.activity().id, states=("Kenya",))
    with app.app_context():
        follow_up = db.session.get(FollowUp, recommendation.follow_ups[0].id)
        follow_up.status = status
        db.session.commit()
        assert (
            tally_check.kept(db.session.connection())[
                ("f", tallies.EVERY_THEME, follow_up.state_id, status.value, False)
            ]
            == 1
        )


def test_the_migration_counts_the_follow_ups_already_there(empty_app):
    from flask_migrate import downgrade, upgrade

    with empty_app.app_context():
        upgrade(revision="0014_calendar_token_hashes")
        kenya, italy = 1, 2
        connection = db.session.connection()
        # Rows as the installation held them before 0015, written without kpplan's hooks.
        for ident, name in ((kenya, "Kenya"), (italy, "Italy")):
            connection.execute(
                sa.text(
                    "INSERT INTO states (id, name, region, is_member, on_steering_committee,"
                    " version, created_at, updated_at) VALUES (:id, :name, 'africa', true,"
                    " false, 1, '2024-01-01', '2024-01-01')"
                ),
                {"id": ident, "name": name},
            )
        connection.execute(
            sa.text(
                "INSERT INTO activities (id, kind, title, start_date, end_date, format, status,"
                " version, created_at, updated_at) VALUES (1, 'thematic_meeting', 'TM',"
                " '2024-03-01', '2024-03-02', 'in_person', 'held', 1, '2024-03-01',"
                " '2024-03-01')"
            )
        )
        for rid, withdrawn in ((1, None), (2, "2025-01-01")):
            connection.execute(
                sa.text(
                    "INSERT INTO recommendations (id, activity_id, number, code, text, priority,"
                    " to_all_members, illustrative, withdrawn_at, version, created_at,"
                    " updated_at) VALUES (:id, 1, :id, :code, 'Text', 'medium', false, false,"
                    " :w, 1, '2024-03-01', '2024-03-01')"
                ),
                {"id": rid, "code": f"TM-2024-03/R{rid}", "w": withdrawn},
            )
            connection.execute(
                sa.text("INSERT INTO recommendation_themes VALUES (:id, 'RD3')"), {"id": rid}
            )
            for state, status in ((kenya, "implemented"), (italy, "in_progress")):
                connection.execute(
                    sa.text(
                        "INSERT INTO follow_ups (recommendation_id, state_id, for_secretariat,"
                        " status, version, created_at) VALUES (:r, :s, false, :st, 1,"
                        " '2024-03-01')"
                    ),
                    {"r": rid, "s": state, "st": status},
                )
        db.session.commit()
        upgrade()
        connection = db.session.connection()
        assert tally_check.differences(connection) == []
        kept = tally_check.kept(connection)
        assert kept[("f", "RD3", kenya, "implemented", False)] == 1  # the withdrawn one left out
        assert kept[("r", 2, "in_progress", False)] == 1
        # Per activity (0026): the withdrawn recommendation left out too.
        assert kept[("a", 1, "implemented")] == kept[("a", 1, "in_progress")] == 1
        # The open recommendations (0032): the one in force, Italy still at work on it.
        assert tallies.open_recommendations(connection) == 1
        db.session.commit()
        downgrade(revision="0014_calendar_token_hashes")
        assert "follow_up_tallies" not in sa.inspect(db.engine).get_table_names()
