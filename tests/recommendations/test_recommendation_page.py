"""A recommendation's page: its queries do not grow with its addressees and their
histories, and the timelines it keeps written follow every value they show."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from kpplan.core.extensions import db
from kpplan.directory.models import User
from kpplan.recommendations import follow_up_services
from kpplan.recommendations.follow_up_models import StatusUpdate
from kpplan.recommendations.models import Lineage, Recommendation, WordingRevision
from kpplan.recommendations.statuses import FollowUpStatus
from kpplan.reminders.services import save_timezone
from tests.factories.directory import STATE_A


def test_the_page_reads_as_many_queries_however_many_addressees_and_updates(
    app, client, factory, people, login_as, count_queries
):
    """Four queries (the user with the change counters, the recommendation with its
    activity, predecessor and themes, its follow-ups, their updates with people and
    evidence), with one addressee and one update as with six addressees and thirty updates,
    some with evidence; one more each for earlier wordings and successors, when it has any."""
    login_as(people["secretariat"])
    activity = factory.activity()
    small = factory.recommendation(activity.id, states=("Kenya",))
    factory.update(small.follow_ups[0].id)
    large = factory.recommendation(
        activity.id, states=("Kenya", "Italy", "Egypt", "Ethiopia", "Sudan"), secretariat=True
    )
    for n in range(30):
        follow_up = large.follow_ups[n % len(large.follow_ups)]
        factory.update(follow_up.id, with_file=b"%PDF-1.4\n" if n % 4 == 0 else None)
    client.get(f"/recommendations/{small.id}")
    with count_queries(header_kept=True) as few:
        assert client.get(f"/recommendations/{small.id}").status_code == 200
    with count_queries(header_kept=True) as many:
        text = client.get(f"/recommendations/{large.id}").text
    assert text.count('<details class="state-timeline">') == 6
    assert text.count('<ul class="evidence">') == 8
    assert few.count == many.count == 4, many.statements
    later = factory.recommendation(activity.id, states=("Kenya",))
    with app.app_context():
        found = db.session.get(Recommendation, later.id)
        found.predecessor_id, found.lineage = large.id, Lineage.SUPERSEDES
        db.session.add(
            WordingRevision(
                recommendation_id=large.id, text="The first wording.", reason="Clearer."
            )
        )
        db.session.commit()
    with count_queries(header_kept=True) as more:
        text = client.get(f"/recommendations/{large.id}").text
    assert "The first wording." in text and f">{later.code}</a>" in text
    assert more.count == 6, more.statements


def test_the_kept_timelines_follow_updates_names_and_the_timezone(
    app, client, factory, people, login_as
):
    """Each addressee's timeline is written once for the values it shows: a new update,
    an author's new name, a validation and the Process's timezone show at once."""
    activity = factory.activity()
    recommendation = factory.recommendation(activity.id, states=("Kenya", "Italy"))
    kenya, italy = recommendation.follow_ups
    first = factory.update(kenya.id)
    factory.update(italy.id)
    with app.app_context():
        author = db.session.get(User, people["fp_a"].id)
        db.session.get(StatusUpdate, first.id).author = author
        db.session.commit()
    login_as(people["secretariat"])
    page = f"/recommendations/{recommendation.id}"
    text = client.get(page).text
    assert text.count("Done some work.") == 2 and people["fp_a"].name in text
    pending = factory.update(kenya.id, status=FollowUpStatus.IMPLEMENTED, pending=True)
    text = client.get(page).text
    assert text.count("Done some work.") == 3
    assert "Implemented — awaiting validation" in text and "1 awaiting validation" in text
    with app.app_context():
        db.session.get(User, people["fp_a"].id).name = "Amina Renamed"
        db.session.commit()
    text = client.get(page).text
    assert "Amina Renamed" in text and people["fp_a"].name not in text
    with app.app_context():
        follow_up_services.validate(
            db.session.get(User, people["secretariat"].id),
            db.session.get(StatusUpdate, pending.id),
            False,
            "Send the decree, please.",
        )
        db.session.commit()
    text = client.get(page).text
    assert "Send the decree, please." in text and "awaiting validation" not in text
    # A timezone on the same day as the Process's, so that only the moments change.
    here = datetime.now(UTC).astimezone(ZoneInfo(app.config["TIMEZONE"])).date()
    zone, abbreviation = next(
        (ZoneInfo(name), short)
        for name, short in (("Asia/Tokyo", "JST"), ("America/Argentina/Buenos_Aires", "UTC-03"))
        if datetime.now(UTC).astimezone(ZoneInfo(name)).date() == here
    )
    with app.app_context():
        posted = db.session.get(StatusUpdate, first.id).posted_at
        save_timezone(db.session.get(User, people["admin"].id), zone.key)
        db.session.commit()
    text = client.get(page).text
    assert f"{posted.astimezone(zone):%H:%M} {abbreviation}" in text


def test_the_figures_count_the_follow_ups_shown(client, factory, people, login_as):
    """The "Implemented" line counts the addressees the reader sees: all of them for the
    secretariat, their own state's for a focal point."""
    activity = factory.activity()
    recommendation = factory.recommendation(
        activity.id, states=(STATE_A, "Italy", "Egypt"), target=date(2020, 1, 1)
    )
    done, not_applicable, _ = recommendation.follow_ups
    factory.update(done.id, status=FollowUpStatus.IMPLEMENTED)
    factory.update(not_applicable.id, status=FollowUpStatus.NOT_APPLICABLE)
    login_as(people["secretariat"])
    text = client.get(f"/recommendations/{recommendation.id}").text
    assert "(1 of 3, 1 not applicable or superseded)" in text and "50 %" in text
    assert text.count('<span class="fu fu-overdue">Overdue</span>') == 1
    login_as(people["fp_a"])
    text = client.get(f"/recommendations/{recommendation.id}").text
    assert "(1 of 1)" in text and "100 %" in text and "Overdue" not in text
