"""When a recommendation supersedes another, the earlier one's open follow-ups close as
"superseded" (a status update in each timeline, traced), out of open lists, counts and
reminders, unless the secretariat keeps them open. Nobody chooses "superseded" by hand."""

from __future__ import annotations

import html
from datetime import UTC, date, datetime

import sqlalchemy as sa

from kpplan.audit.models import AuditEntry
from kpplan.core.extensions import db
from kpplan.meetings.models import Status
from kpplan.recommendations.follow_up_models import FollowUp, StatusUpdate
from kpplan.recommendations.models import Recommendation
from kpplan.recommendations.statuses import FollowUpStatus
from kpplan.reminders.planner import tick
from tests.conftest import STATE_A, STATE_B
from tests.recommendations.helpers import form_version, post_update


def _earlier(factory):
    """An earlier recommendation to Kenya (not started), Italy (in progress), an
    organisation (implemented) and the secretariat (awaiting validation)."""
    activity = factory.activity(start=date(2019, 5, 1), status=Status.HELD)
    organisation = factory.organisation("Horn of Africa Research Network")
    earlier = factory.recommendation(
        activity.id,
        states=(STATE_A, STATE_B),
        organisations=(organisation.id,),
        secretariat=True,
        target=date(2026, 1, 31),
    )
    italy = factory.follow_up_of(earlier, STATE_B)
    factory.update(italy.id, FollowUpStatus.IN_PROGRESS)
    organisation_follow_up = next(f for f in earlier.follow_ups if f.organisation_id)
    factory.update(organisation_follow_up.id, FollowUpStatus.IMPLEMENTED)
    secretariat_follow_up = next(f for f in earlier.follow_ups if f.for_secretariat)
    factory.update(secretariat_follow_up.id, FollowUpStatus.IMPLEMENTED, pending=True)
    later = factory.activity(start=date(2022, 7, 12), status=Status.HELD)
    return earlier, later


def _record(client, activity_id, earlier_code, lineage="supersedes", keep=False):
    data = {
        "entries-0-text": "A sharper version of the earlier recommendation.",
        "entries-0-priority": "high",
        "entries-0-states": [],
        "entries-0-to_all_members": "y",
        "entries-0-predecessor": earlier_code,
        "entries-0-lineage": lineage,
    }
    if keep:
        data["entries-0-keep_predecessor_open"] = "y"
    return client.post(f"/activities/{activity_id}/recommendations/new", data=data)


def _statuses(app, recommendation_id) -> dict[str, FollowUpStatus]:
    with app.app_context():
        follow_ups = db.session.scalars(
            sa.select(FollowUp).where(FollowUp.recommendation_id == recommendation_id)
        ).all()
        return {f.addressee: f.status for f in follow_ups}


def test_superseding_closes_the_open_follow_ups_traced(app, client, people, login_as, factory):
    earlier, later = _earlier(factory)
    login_as(people["secretariat"])
    done = _record(client, later.id, earlier.code)
    assert done.status_code == 302
    message = html.unescape(client.get(done.headers["Location"]).text)
    assert (
        f"The open follow-ups of {earlier.code} are closed as “superseded”; 1 awaiting "
        "validation stays open until you validate or return them." in message
    )
    statuses = _statuses(app, earlier.id)
    assert statuses == {
        STATE_A: FollowUpStatus.SUPERSEDED,
        STATE_B: FollowUpStatus.SUPERSEDED,
        "Horn of Africa Research Network": FollowUpStatus.IMPLEMENTED,
        "Secretariat": FollowUpStatus.NOT_STARTED,  # its move to implemented awaits validation
    }
    with app.app_context():
        code = db.session.scalar(
            sa.select(Recommendation.code).where(Recommendation.activity_id == later.id)
        )
        updates = db.session.scalars(
            sa.select(StatusUpdate)
            .where(StatusUpdate.status == FollowUpStatus.SUPERSEDED)
            .order_by(StatusUpdate.id)
        ).all()
        assert [(u.follow_up.addressee, u.status_before) for u in updates] == [
            (STATE_A, FollowUpStatus.NOT_STARTED),
            (STATE_B, FollowUpStatus.IN_PROGRESS),
        ]
        assert all(u.author_id == people["secretariat"].id for u in updates)
        assert all(u.narrative.startswith(f"Superseded by {code}") for u in updates)
        traces = db.session.scalars(
            sa.select(AuditEntry).where(AuditEntry.summary.like("%superseded by%"))
        ).all()
        assert sorted(t.summary for t in traces) == sorted(
            f"{earlier.code}, {state}: superseded by {code}" for state in (STATE_A, STATE_B)
        )
        assert {t.before["status"] for t in traces} == {"not_started", "in_progress"}
        assert {t.after["status"] for t in traces} == {"superseded"}
        assert all(t.actor_id == people["secretariat"].id for t in traces)

    # Out of the state's open list, out of reminders; shown with its own badge.
    kenya_follow_up = factory.follow_up_of(earlier, STATE_A)
    page = html.unescape(client.get(f"/follow-ups/{kenya_follow_up.id}").text)
    assert '<span class="fu fu-superseded">Superseded</span>' in page
    assert f"Superseded by {code}" in page
    login_as(people["fp_a"])
    listing = client.get("/follow-ups/").text
    assert earlier.code not in listing
    with app.app_context():
        report = tick(datetime(2026, 3, 10, 10, tzinfo=UTC), dry_run=True)
    reminded = {r.subject_key for r in report.planned if r.rule.startswith("follow_up")}
    assert f"follow_up:{kenya_follow_up.id}" not in reminded


def test_the_secretariat_may_keep_them_open(app, client, people, login_as, factory):
    earlier, later = _earlier(factory)
    login_as(people["secretariat"])
    done = _record(client, later.id, earlier.code, keep=True)
    assert done.status_code == 302
    assert "stay open, as you chose" in html.unescape(client.get(done.headers["Location"]).text)
    statuses = _statuses(app, earlier.id)
    assert statuses[STATE_A] is FollowUpStatus.NOT_STARTED
    assert statuses[STATE_B] is FollowUpStatus.IN_PROGRESS


def test_re_endorsing_closes_nothing(app, client, people, login_as, factory):
    earlier, later = _earlier(factory)
    login_as(people["secretariat"])
    assert _record(client, later.id, earlier.code, lineage="re_endorses").status_code == 302
    assert FollowUpStatus.SUPERSEDED not in _statuses(app, earlier.id).values()


def test_an_edit_that_makes_it_supersede_closes_them(app, client, people, login_as, factory):
    earlier, later = _earlier(factory)
    successor = factory.recommendation(later.id, states=(STATE_A,))
    login_as(people["secretariat"])
    page = client.get(f"/recommendations/{successor.id}/edit").text
    version = int(page.split('name="version" type="hidden" value="')[1].split('"')[0])
    done = client.post(
        f"/recommendations/{successor.id}/edit",
        data={
            "version": version,
            "fields-text": successor.text,
            "fields-priority": "medium",
            "fields-states": [f.state_id for f in successor.follow_ups],
            "fields-themes": ["RD3"],
            "fields-predecessor": earlier.code,
            "fields-lineage": "supersedes",
        },
    )
    assert done.status_code == 302, done.text
    assert _statuses(app, earlier.id)[STATE_A] is FollowUpStatus.SUPERSEDED


def test_nobody_chooses_superseded_in_an_update(app, client, people, login_as, factory):
    activity = factory.activity(status=Status.HELD)
    recommendation = factory.recommendation(activity.id, states=(STATE_A,))
    follow_up = factory.follow_up_of(recommendation, STATE_A)
    for person in ("fp_a", "secretariat"):
        login_as(people[person])
        page = client.get(f"/follow-ups/{follow_up.id}").text
        assert 'value="superseded"' not in page
        refused = post_update(
            client, follow_up.id, form_version(client, follow_up.id), status="superseded"
        )
        assert refused.status_code == 200
        assert "is set by kpplan when a later recommendation supersedes" in html.unescape(
            refused.text
        )
    assert _statuses(app, recommendation.id)[STATE_A] is FollowUpStatus.NOT_STARTED


def test_superseded_follow_ups_are_left_out_of_the_implemented_share(
    app, client, people, login_as, factory
):
    """Like "not applicable", a superseded follow-up is no addressee the share counts over:
    the earlier recommendation stands at 1 implemented of the 2 it still applies to."""
    from kpplan.recommendations.figures import figures_for, shares_by_state
    from kpplan.recommendations.queries import Scope

    earlier, later = _earlier(factory)
    login_as(people["secretariat"])
    assert _record(client, later.id, earlier.code).status_code == 302
    with app.app_context():
        figures = figures_for([earlier.id], Scope(), date(2026, 11, 26))[earlier.id]
        assert (figures.total, figures.implemented, figures.not_applicable) == (4, 1, 2)
        assert figures.share == 50
        by_state = {row.label: row for row in shares_by_state(Scope())}
        assert by_state[STATE_A].not_applicable == 1
    page = html.unescape(client.get(f"/recommendations/{earlier.id}").text)
    assert "2 not applicable or superseded" in page
