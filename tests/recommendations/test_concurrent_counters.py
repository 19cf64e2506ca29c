"""Focal points of one state posting updates at the same moment: each write keeps the
figures (tallies, change counters) in step and none of them deadlocks on those rows."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest

from kpplan.core.extensions import db
from kpplan.meetings.models import Status
from kpplan.recommendations import tally_check
from tests.conftest import STATE_A, signed_in_session
from tests.recommendations.helpers import form_version, post_update, process_today


def test_concurrent_updates_of_one_state_never_deadlock(app, backend, people, factory):
    if backend != "postgres":
        pytest.skip("concurrency is what PostgreSQL is for")
    today = process_today(app)
    activity = factory.activity(status=Status.HELD)
    follow_ups = [
        factory.follow_up_of(
            factory.recommendation(activity.id, target=today + timedelta(days=n - 6)), STATE_A
        )
        for n in range(12)
    ]
    barrier = threading.Barrier(len(follow_ups))
    outcomes: list[int] = []
    lock = threading.Lock()

    def post(n, follow_up):
        client = app.test_client()
        with client.session_transaction() as session:
            session.update(signed_in_session(app, people["fp_a"]))
        version = form_version(client, follow_up.id)
        barrier.wait()
        status = "implemented" if n % 2 else "in_progress"
        response = post_update(client, follow_up.id, version, status=status)
        with lock:
            outcomes.append(response.status_code)

    threads = [threading.Thread(target=post, args=(n, f)) for n, f in enumerate(follow_ups)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert outcomes.count(302) == len(follow_ups), outcomes
    with app.app_context():
        assert tally_check.differences(db.session.connection()) == []
