"""Each family of server errors the generated requests found, answered as it should be on
SQLite and PostgreSQL alike (the requests are listed in ``regressions.py``)."""

from __future__ import annotations

import html

import pytest
import sqlalchemy as sa

from kpplan.auth.models import SignInThrottle
from kpplan.core.extensions import db
from tests.hardening.regressions import LONG_ADDRESS, REGRESSIONS
from tests.hardening.test_generated_requests import as_sent, send
from tests.hardening.world import build_world


@pytest.mark.parametrize(
    "regression",
    REGRESSIONS,
    ids=[f"{r.family}-{r.method}-{r.path.split('?')[0]}-{n}" for n, r in enumerate(REGRESSIONS)],
)
def test_each_family_has_its_answer(app, client, factory, people, regression):
    objects = build_world(app, factory, people)
    response = send(app, client, people, as_sent(regression, objects))
    page = html.unescape(response.get_data(as_text=True))
    response.close()
    assert response.status_code == regression.status, page[:2000]
    for words in regression.says:
        assert words in page


def test_a_long_sign_in_address_is_counted_as_a_failure(app, client, factory):
    """The throttle key of an address longer than its column is its digest: the failure is
    counted, and the sign-in answers before anything breaks."""
    for _ in range(2):
        response = client.post("/login", data={"email": LONG_ADDRESS, "password": "x" * 12})
        assert "do not match an active account" in response.text
    with app.app_context():
        row = db.session.scalars(
            sa.select(SignInThrottle).where(SignInThrottle.scope == "account")
        ).one()
    assert row.key.startswith("sha256:") and row.failures == 2
