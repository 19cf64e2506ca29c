"""The History page reads as sentences: who did what to which record, with names and links,
labels instead of stored values, times in the Process's timezone, and a query count that
does not grow with the entries shown."""

from __future__ import annotations

import re
from datetime import date
from html import unescape

from kpplan.audit import services as audit
from kpplan.core.extensions import db
from kpplan.directory.models import User
from kpplan.meetings import documents
from kpplan.meetings import services as meetings
from kpplan.meetings.models import Activity, ActivityLink, Document, Relation, Status
from kpplan.recommendations import follow_up_services
from kpplan.recommendations.follow_up_models import FollowUp
from kpplan.recommendations.statuses import FollowUpStatus
from tests.conftest import state_named


def _text(html: str) -> str:
    """The page's words, without tags, spaces collapsed."""
    html = re.sub(r"</?(a|strong|time)\b[^>]*>", "", html)
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", html)).split())


def _edit(client, activity: Activity, **changes) -> None:
    data = {
        "kind": activity.kind.value,
        "title": activity.title,
        "start_date": activity.start_date.isoformat(),
        "end_date": activity.end_date.isoformat(),
        "date_precision": "day",
        "format": activity.format.value,
        "city": "Khartoum",
        "country": "0",
        "host": "0",
        "chair": "0",
        "version": str(activity.version),
    }
    data.update(changes)
    assert client.post(f"/activities/{activity.id}/edit", data=data).status_code == 302


def test_an_edit_names_the_fields_in_words_and_links_the_activity_and_the_person(
    app, client, people, login_as, factory
):
    activity = factory.activity(title="Thematic Meeting on Legal Pathways")
    login_as(people["secretariat"])
    with app.app_context():
        uganda = str(state_named("Uganda").id)
    _edit(
        client,
        activity,
        title="Thematic Meeting on Labour Migration",
        start_date="2026-03-11",
        end_date="2026-03-12",
        host=uganda,
    )
    page = client.get("/history/").text
    words = _text(page)
    who = people["secretariat"].name
    assert (
        f"{who} (secretariat) changed the title, dates, city and states of the activity "
        "‘Thematic Meeting on Labour Migration’ in Khartoum." in words
    )
    assert f'<a href="/activities/{activity.id}">‘Thematic Meeting on Labour Migration’' in page
    assert f'<a href="/users/{people["secretariat"].id}">{who}</a>' in page
    # The changed fields, in words and as people read them.
    assert "dates 10–11 Mar 2026 11–12 Mar 2026" in words
    assert "— Uganda (host)" in words
    assert "state_roles" not in page and "start_date" not in page


def _in_progress(app, factory, actor: User, state: str):
    """A follow-up of ``state`` that ``actor`` moved to in progress: its id and code."""
    activity = factory.activity(title="SOM Nairobi", status=Status.HELD, start=date(2026, 1, 20))
    recommendation = factory.recommendation(activity.id, states=(state,))
    follow_up = factory.follow_up_of(recommendation, state)
    with app.app_context():
        found = db.session.get(FollowUp, follow_up.id)
        follow_up_services.post_update(
            db.session.get(User, actor.id),
            found,
            found.version,
            status=FollowUpStatus.IN_PROGRESS,
            narrative="A national referral mechanism is being drafted.",
            today=date(2026, 2, 1),
        )
        db.session.commit()
    return follow_up.id, recommendation.code


def test_a_status_change_of_a_follow_up_reads_with_labels(app, client, people, login_as, factory):
    follow_up_id, code = _in_progress(app, factory, people["fp_a"], "Kenya")
    login_as(people["admin"])
    page = client.get("/history/?type=follow_ups").text
    assert (
        f"{people['fp_a'].name} (national focal point) changed the status of Kenya's follow-up "
        f"of {code} from {FollowUpStatus.NOT_STARTED.label} to In progress."
    ) in _text(page)
    assert f'<a href="/follow-ups/{follow_up_id}">Kenya&#39;s follow-up of' in page
    assert "in_progress" not in page and "not_started" not in page


def test_the_history_names_a_follow_up_as_a_sentence_does(app, client, people, login_as, factory):
    _, code = _in_progress(app, factory, people["secretariat"], "The Netherlands")
    login_as(people["admin"])
    page = client.get("/history/?type=follow_ups").text
    assert (
        "changed the status of the Netherlands' follow-up of "
        f"{code} from {FollowUpStatus.NOT_STARTED.label} to In progress."
    ) in _text(page)


def test_a_move_of_an_activity_and_a_record_deleted_since(app, client, people, login_as, factory):
    sc = factory.activity(title="SC Meeting Brussels", host="Belgium")
    som = factory.activity(title="SOM Rome", start=date(2026, 6, 1))
    with app.app_context():
        actor = db.session.get(User, people["secretariat"].id)
        meetings.move(actor, db.session.get(Activity, sc.id), Status.CONFIRMED, date(2026, 1, 1))
        link = meetings.link_activities(
            actor,
            db.session.get(Activity, som.id),
            db.session.get(Activity, sc.id),
            Relation.BUILDS_ON,
        )
        db.session.commit()
        meetings.unlink_activities(actor, db.session.get(ActivityLink, link.id))
        db.session.commit()
    login_as(people["secretariat"])
    page = client.get("/history/").text
    words = _text(page)
    assert (
        "changed the status of the activity ‘SC Meeting Brussels’ from Planned to Confirmed."
        in words
    )
    # A record deleted since: named as its entry described it, without a link.
    assert (
        "created the link between activities “SOM Rome builds on SC Meeting Brussels” "
        "(deleted since)." in words
    )
    assert (
        "deleted the link between activities “SOM Rome no longer builds on SC Meeting Brussels”."
        in words
    )
    assert page.count(f'href="/activities/{som.id}"') == 0  # no link to what is gone


def test_times_show_the_process_timezone(app, client, people, login_as, factory):
    factory.activity(title="Workshop")
    with app.app_context():
        actor = db.session.get(User, people["admin"].id)
        meetings.create_activity(
            actor,
            title="Webinar on the 4Ps",
            kind=db.session.get(Activity, 1).kind,
            format=db.session.get(Activity, 1).format,
            start_date=date(2026, 4, 2),
            end_date=date(2026, 4, 2),
        )
        db.session.commit()
    login_as(people["admin"])
    page = client.get("/history/").text
    # The default timezone is Europe/Brussels: CET or CEST, never a bare "UTC".
    assert re.search(r"<time datetime=\"[^\"]+\">\d{1,2} \w{3} \d{4}, \d\d:\d\d CES?T</time>", page)
    assert "created the activity ‘Webinar on the 4Ps’." in _text(page)


def test_the_page_loads_its_names_in_bulk(app, client, people, login_as, factory, count_queries):
    login_as(people["secretariat"])

    def edit_some(n: int) -> None:
        for i in range(n):
            activity = factory.activity(title=f"Workshop {i}")
            _edit(client, activity, title=f"Workshop {i} renamed")

    edit_some(2)
    with count_queries(header_kept=True) as few:
        assert client.get("/history/").status_code == 200
    edit_some(8)
    with count_queries() as many:
        page = client.get("/history/").text
    assert "‘Workshop 7 renamed’" in page
    assert many.count == few.count


def test_a_deleted_document_keeps_its_last_known_name_without_a_link(
    app, client, people, login_as, factory
):
    activity = factory.activity(title="Regional Training Addis Ababa")
    document = factory.document(activity.id)
    with app.app_context():
        actor = db.session.get(User, people["secretariat"].id)
        documents.remove_document(actor, db.session.get(Document, document.id))
        db.session.commit()
    login_as(people["secretariat"])
    page = client.get("/history/?type=documents").text
    assert f"(secretariat) deleted the document ‘{document.title}’." in _text(page)
    assert "<a href" not in page.split("deleted the document", 1)[1].split("</p>", 1)[0]


def test_every_page_the_history_links_to_exists_with_that_argument(app):
    """A model's ``__audit_link__`` names an endpoint whose address takes just that id."""
    with app.app_context():
        linked = [
            mapper.class_
            for mapper in db.Model.registry.mappers
            if getattr(mapper.class_, "__audit_link__", None)
        ]
        rules = {rule.endpoint: rule for rule in app.url_map.iter_rules()}
    assert len(linked) >= 8
    for model in linked:
        endpoint, argument = model.__audit_link__
        assert endpoint in rules, model
        assert rules[endpoint].arguments == {argument}, model


def test_a_stale_edit_lists_the_changes_meanwhile_in_words(app, client, people, login_as, factory):
    activity = factory.activity(title="Webinar on Smuggling")
    login_as(people["secretariat"])
    _edit(client, activity, start_date="2026-03-12", end_date="2026-03-12")
    stale = client.post(
        f"/activities/{activity.id}/edit",
        data={
            "kind": activity.kind.value,
            "title": "Webinar on Smuggling of Migrants",
            "start_date": "2026-03-10",
            "end_date": "2026-03-11",
            "format": activity.format.value,
            "country": "0",
            "host": "0",
            "chair": "0",
            "version": str(activity.version),
        },
    )
    assert stale.status_code == 409
    words = _text(stale.text)
    who = people["secretariat"].name
    assert f"dates (by {who}) 10–11 Mar 2026 12 Mar 2026" in words
    assert "start_date (by" not in words


def test_a_postponement_names_the_new_status_and_the_dates(app, client, people, login_as, factory):
    activity = factory.activity(title="TM Cairo", host="Egypt", start=date(2026, 5, 10))
    with app.app_context():
        actor = db.session.get(User, people["secretariat"].id)
        found = db.session.get(Activity, activity.id)
        meetings.move(
            actor,
            found,
            Status.POSTPONED,
            date(2026, 1, 1),
            new_start=date(2026, 9, 1),
            new_end=date(2026, 9, 2),
            reason="Elections",
        )
        db.session.commit()
        # An entry of a move that left the status as it was, as older trails may hold.
        audit.record(
            actor,
            "status:postponed",
            found,
            "TM Cairo: postponed → postponed",
            {"status": "postponed", "start_date": "2026-09-01", "end_date": "2026-09-02"},
            {"status": "postponed", "start_date": "2026-10-01", "end_date": "2026-10-01"},
        )
        db.session.commit()
    login_as(people["secretariat"])
    words = _text(client.get("/history/").text)
    assert (
        "changed the status of the activity ‘TM Cairo’ from Planned to Postponed, and its dates "
        "and reason." in words
    )
    assert "dates 10–11 May 2026 1–2 Sep 2026" in words
    assert "marked the activity ‘TM Cairo’ postponed again, changing its dates." in words


def _entries(app, people, n: int, prefix: str = "Meeting") -> None:
    """``n`` entries about the secretariat's account, written through the audit service."""
    with app.app_context():
        actor = db.session.get(User, people["secretariat"].id)
        for i in range(n):
            audit.record(actor, "sent", actor, f"{prefix} {i}")
        db.session.commit()


def _links(page: str) -> dict[str, str]:
    return {
        rel: unescape(href)
        for href, rel in re.findall(r'<a href="([^"]+)" rel="(next|prev)"', page)
    }


def test_the_history_is_paged_by_key_with_its_filters(app, client, people, login_as, count_queries):
    app.config["PAGE_SIZE"] = 4
    _entries(app, people, 10)
    login_as(people["secretariat"])
    with count_queries(header_kept=True) as first_count:
        first = client.get("/history/?type=users").text
    assert "?page=" not in first and "in all" not in first
    links = _links(first)
    assert set(links) == {"next"} and "type=users" in links["next"]
    with count_queries() as second_count:
        second = client.get(links["next"]).text
    assert second_count.count == first_count.count
    back = _links(second)
    assert set(back) == {"next", "prev"} and "type=users" in back["prev"]
    # Walking on to the end and back shows each entry once, newest first.
    seen, page = [], first
    while True:
        seen += re.findall(r"<time datetime=\"([^\"]+)\"", page)
        nxt = _links(page).get("next")
        if not nxt:
            break
        page = client.get(nxt).text
    assert len(seen) == 10
    assert _text(client.get(back["prev"]).text) == _text(first)


def test_a_tampered_history_cursor_reads_as_the_first_page(app, client, people, login_as):
    _entries(app, people, 3)
    login_as(people["secretariat"])
    first = client.get("/history/").text
    for cursor in ("garbage", "WyJhIiwiMSJd", "WyJ6Il0", "eyJhIjogMX0", "W10", "x" * 3000):
        response = client.get(f"/history/?cursor={cursor}")
        assert response.status_code == 200
        assert _text(response.text) == _text(first)


def test_a_kind_of_record_costs_one_query_whatever_its_name_reads(
    app, client, people, login_as, factory, count_queries
):
    """A follow-up's name reads its recommendation and its state: joined to it, so a
    page of follow-ups costs what a page of accounts does (one query for the records)."""
    activity = factory.activity(title="SOM Nairobi", status=Status.HELD, start=date(2026, 1, 20))
    recommendation = factory.recommendation(activity.id, states=("Kenya", "Italy"))
    with app.app_context():
        actor = db.session.get(User, people["secretariat"].id)
        for state in ("Kenya", "Italy"):
            found = db.session.get(FollowUp, factory.follow_up_of(recommendation, state).id)
            audit.record(actor, "sent", found, "A reminder")
        audit.record(actor, "sent", actor, "A note")
        db.session.commit()
    login_as(people["admin"])
    client.get("/history/?type=users")
    with count_queries() as accounts:
        client.get("/history/?type=users")
    with count_queries() as follow_ups:
        page = client.get("/history/?type=follow_ups").text
    assert f"Kenya's follow-up of {recommendation.code}" in unescape(page)
    assert follow_ups.count == accounts.count
