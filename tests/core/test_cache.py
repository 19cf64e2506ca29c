"""Change counters per table, and the conditional GET of the pages of figures: a figure is
kept until a table it reads changes (not when anything anywhere does), and a browser that
has the page gets a 304 until then."""

from __future__ import annotations

import sqlalchemy as sa

from kpplan.core.cache import ChangeCounter
from kpplan.core.extensions import db
from kpplan.directory.models import State
from kpplan.recommendations.follow_up_models import FollowUp
from tests.conftest import STATE_A, STATE_B
from tests.recommendations.helpers import form_version, post_update


def _counters(app) -> dict[str, int]:
    with app.app_context():
        return dict(db.session.execute(sa.select(ChangeCounter.name, ChangeCounter.n)).all())


def test_an_edit_of_a_state_leaves_the_follow_up_counters_alone(app, factory):
    recommendation = factory.recommendation(factory.activity().id)
    before = _counters(app)
    with app.app_context():
        state = db.session.scalar(sa.select(State).where(State.name == STATE_B))
        state.name = "Italia"
        db.session.commit()
    after_state = _counters(app)
    assert after_state["follow_ups"] == before["follow_ups"]
    assert after_state["states"] == before.get("states", 0) + 1
    with app.app_context():
        follow_up = db.session.get(FollowUp, recommendation.follow_ups[0].id)
        follow_up.progress = 40
        db.session.commit()
    assert _counters(app)["follow_ups"] == after_state["follow_ups"] + 1


def test_bulk_statements_count_as_changes(app, factory):
    factory.recommendation(factory.activity().id)
    before = _counters(app)["follow_ups"]
    with app.app_context():
        db.session.execute(sa.update(FollowUp).values(progress=10))
        db.session.commit()
    assert _counters(app)["follow_ups"] > before


def test_the_shares_answer_304_until_a_follow_up_changes(client, people, login_as, factory):
    recommendation = factory.recommendation(factory.activity().id)
    kenya = factory.follow_up_of(recommendation, STATE_A)
    login_as(people["fp_a"])
    first = client.get("/recommendations/shares")
    etag = first.headers["ETag"]
    assert first.status_code == 200 and "private" in first.headers["Cache-Control"]
    again = client.get("/recommendations/shares", headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.data == b""
    version = form_version(client, kenya.id)
    assert post_update(client, kenya.id, version, status="in_progress").status_code == 302
    # The update's confirmation is flashed: the page that shows it has no ETag.
    shown = client.get("/recommendations/shares", headers={"If-None-Match": etag})
    assert shown.status_code == 200 and "ETag" not in shown.headers
    changed = client.get("/recommendations/shares", headers={"If-None-Match": etag})
    assert changed.status_code == 200
    assert changed.headers["ETag"] != etag
    assert "In progress" in changed.text
    # Another reader never gets this reader's page.
    login_as(people["fp_b"])
    other = client.get(
        "/recommendations/shares", headers={"If-None-Match": changed.headers["ETag"]}
    )
    assert other.status_code == 200 and other.headers["ETag"] != changed.headers["ETag"]


def test_the_statistics_answer_304_and_not_for_a_wrong_period(client, people, login_as):
    login_as(people["secretariat"])
    first = client.get("/reports/statistics?from=2020-01-01&to=2020-12-31")
    assert first.status_code == 200
    etag = first.headers["ETag"]
    hit = client.get(
        "/reports/statistics?from=2020-01-01&to=2020-12-31", headers={"If-None-Match": etag}
    )
    assert hit.status_code == 304
    other_period = client.get(
        "/reports/statistics?from=2021-01-01&to=2021-12-31", headers={"If-None-Match": etag}
    )
    assert other_period.status_code == 200
    wrong = client.get("/reports/statistics?from=2021-13-01", headers={"If-None-Match": etag})
    assert wrong.status_code == 400 and "ETag" not in wrong.headers
