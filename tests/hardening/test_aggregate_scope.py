"""A focal point's statistics count their own state's follow-ups only: narrowing the period
to one recommendation's meeting must not reveal how another state stands."""

from __future__ import annotations

import csv
import io
from datetime import date

import pytest

from kpplan.meetings.models import Status
from kpplan.recommendations.statuses import FollowUpStatus
from tests.conftest import STATE_A, STATE_B

ONE_DAY = "from=2021-05-04&to=2021-05-04"


@pytest.fixture
def one_recommendation(factory):
    """One meeting of one day, one recommendation to Kenya (in progress) and Italy
    (implemented)."""
    activity = factory.activity(start=date(2021, 5, 4), days=1, status=Status.HELD)
    recommendation = factory.recommendation(activity.id, states=(STATE_A, STATE_B))
    factory.update(factory.follow_up_of(recommendation, STATE_A).id, FollowUpStatus.IN_PROGRESS)
    factory.update(factory.follow_up_of(recommendation, STATE_B).id, FollowUpStatus.IMPLEMENTED)
    return recommendation


def _csv_rows(response) -> dict[str, str]:
    rows = list(csv.reader(io.StringIO(response.data.decode("utf-8-sig"))))
    return {row[0]: row[1] for row in rows[1:]}


def test_a_focal_point_sees_their_own_states_follow_up_figures_only(
    client, people, login_as, one_recommendation
):
    login_as(people["fp_a"])  # Kenya's focal point
    page = client.get(f"/reports/statistics?{ONE_DAY}").text
    assert "Follow-up figures count your state's follow-ups only" in page
    assert "In progress" in page
    assert "Implemented" not in page  # Italy's status stays Italy's

    figures = _csv_rows(client.get(f"/reports/statistics.csv?{ONE_DAY}"))
    assert figures["Your state's follow-ups: In progress"] == "1"
    assert not any("Implemented" in label for label in figures)
    assert figures["Recommendations recorded"] == "1"


def test_the_secretariat_sees_every_addressee(client, people, login_as, one_recommendation):
    login_as(people["secretariat"])
    page = client.get(f"/reports/statistics?{ONE_DAY}").text
    assert "count your state's follow-ups only" not in page
    figures = _csv_rows(client.get(f"/reports/statistics.csv?{ONE_DAY}"))
    assert figures["Addressees following up: In progress"] == "1"
    assert figures["Addressees following up: Implemented"] == "1"


def test_each_focal_point_gets_their_own_figures_from_the_memo(
    client, people, login_as, one_recommendation
):
    """The figures are kept between requests: one state's must never serve another's."""
    login_as(people["fp_b"])  # Italy's, first: the memo now holds Italy's figures
    italy = _csv_rows(client.get(f"/reports/statistics.csv?{ONE_DAY}"))
    login_as(people["fp_a"])
    kenya = _csv_rows(client.get(f"/reports/statistics.csv?{ONE_DAY}"))
    assert italy["Your state's follow-ups: Implemented"] == "1"
    assert "Your state's follow-ups: Implemented" not in kenya
