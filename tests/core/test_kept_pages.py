"""Pages kept as rendered for their reader until a table they read changes
(``kpplan.core.kept_pages``): served again with the one query that signs the reader in, and
rendered again after any change they depend on, made by this worker or another."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from kpplan import create_app
from kpplan.core import cache, etags
from kpplan.core.cache import ChangeCounter
from kpplan.core.extensions import db
from kpplan.core.kept_pages import KeptPages
from kpplan.directory.models import Organisation
from kpplan.recommendations.follow_up_models import FollowUp
from tests.conftest import STATE_A
from tests.querycount import without_form_token
from tests.recommendations.helpers import form_version, post_update


def _kept(client) -> KeptPages:
    return client.application.extensions.get("kpplan_kept_pages") or KeptPages()


def _warm(client, url: str):
    """The page, and again: the first visit of a session makes its form token."""
    client.get(url)
    return client.get(url)


def _queries_of(count_queries, client, url: str):
    with count_queries(keep_pages=True) as counter:
        page = client.get(url)
    return page, counter


def test_a_kept_page_is_served_again_without_rendering(
    client, people, login_as, factory, count_queries
):
    factory.organisation(name="Sahel Mobility Observatory")
    login_as(people["secretariat"])
    first = _warm(client, "/organisations/")
    assert first.status_code == 200 and "Sahel Mobility Observatory" in first.text
    assert len(_kept(client).pages) == 1
    again, counter = _queries_of(count_queries, client, "/organisations/")
    # One query signs the reader in and reads the change counters: nothing of the page.
    assert again.status_code == 200 and again.data == first.data
    assert len(counter.statements) == 1, counter.statements
    # The headers of the app are added to a kept page as to any other.
    assert again.headers["X-Content-Type-Options"] == "nosniff"


def test_a_change_to_what_a_page_read_renders_it_again(client, people, login_as, factory):
    organisation = factory.organisation(name="Sahel Mobility Observatory")
    login_as(people["secretariat"])
    _warm(client, "/organisations/")
    with client.application.app_context():
        db.session.get(Organisation, organisation.id).name = "Observatory of Mobility in the Sahel"
        db.session.commit()
    page = client.get("/organisations/")
    assert "Observatory of Mobility in the Sahel" in page.text
    assert "Sahel Mobility Observatory" not in page.text


def test_a_change_elsewhere_keeps_the_page(client, people, login_as, factory, count_queries):
    factory.organisation(name="Sahel Mobility Observatory")
    recommendation = factory.recommendation(factory.activity().id)
    login_as(people["secretariat"])
    first = _warm(client, "/organisations/")
    with client.application.app_context():
        db.session.execute(
            sa.update(FollowUp)
            .where(FollowUp.recommendation_id == recommendation.id)
            .values(progress=30)
        )
        db.session.commit()
    again, counter = _queries_of(count_queries, client, "/organisations/")
    assert again.data == first.data and len(counter.statements) <= 3, counter.statements


def test_a_change_made_by_another_worker_is_seen(
    client, people, login_as, factory, app_config, database_url
):
    organisation = factory.organisation(name="Sahel Mobility Observatory")
    login_as(people["secretariat"])
    _warm(client, "/organisations/")
    other_worker = create_app(
        {**client.application.config, "SQLALCHEMY_DATABASE_URI": database_url}
    )
    with other_worker.app_context():
        db.session.get(Organisation, organisation.id).name = "SMO"
        db.session.commit()
        db.session.remove()
        db.engine.dispose()  # this worker ends here: its connections with it
    page = client.get("/organisations/")
    assert "Sahel Mobility Observatory" not in page.text and "SMO" in page.text


def test_each_reader_has_their_own_page(client, people, login_as, factory):
    recommendation = factory.recommendation(factory.activity().id)
    kenya = factory.follow_up_of(recommendation, STATE_A)
    login_as(people["fp_a"])
    mine = _warm(client, "/follow-ups/")
    update_link = f'href="/follow-ups/{kenya.id}#update"'
    assert mine.status_code == 200 and update_link in mine.text
    login_as(people["fp_b"])
    theirs = _warm(client, "/follow-ups/")
    assert theirs.status_code == 200 and update_link not in theirs.text
    login_as(people["fp_a"])
    _warm(client, "/follow-ups/")
    # A focal point's update: the confirmation is flashed once, then the list shows it.
    version = form_version(client, kenya.id)
    assert post_update(client, kenya.id, version, status="implemented").status_code == 302
    shown = client.get("/follow-ups/")
    assert "Your update has been posted" in shown.text
    after = client.get("/follow-ups/")
    assert after.data != mine.data


def test_a_new_day_renders_the_page_again(client, people, login_as, factory, monkeypatch):
    factory.organisation(name="Sahel Mobility Observatory")
    login_as(people["secretariat"])
    first = _warm(client, "/organisations/")
    key = next(iter(_kept(client).pages))
    with client.application.app_context():
        tomorrow = etags.today() + timedelta(days=1)
    monkeypatch.setattr(etags, "today", lambda: tomorrow)
    # The same page, but for the form token's signature, which holds the second it was
    # rendered in (the machine may have passed into the next one).
    assert without_form_token(client.get("/organisations/").text) == without_form_token(first.text)
    assert len(_kept(client).pages) == 2 and key in _kept(client).pages


def test_core_statements_count_as_changes(app, factory):
    """The kept figures are written by Core statements on the session's connection: their
    tables' counters move with the follow-ups'."""
    recommendation = factory.recommendation(factory.activity().id)

    def counters():
        with app.app_context():
            return dict(db.session.execute(sa.select(ChangeCounter.name, ChangeCounter.n)).all())

    before = counters()
    with app.app_context():
        follow_up = db.session.get(FollowUp, recommendation.follow_ups[0].id)
        follow_up.status = "in_progress"
        db.session.commit()
    after = counters()
    assert after["follow_ups"] == before["follow_ups"] + 1
    assert after["follow_up_tallies"] == before.get("follow_up_tallies", 0) + 1
    # A rolled back change counts nothing.
    with app.app_context():
        db.session.get(FollowUp, recommendation.follow_ups[0].id).progress = 90
        db.session.flush()
        db.session.rollback()
    assert counters() == after


def test_a_page_reading_sql_text_is_not_kept(app, client, people, login_as):
    @app.get("/test-text")
    def text_page():
        return str(db.session.execute(sa.text("SELECT 1")).scalar())

    from kpplan.core.kept_pages import kept_page

    app.view_functions["text_page"] = kept_page(app.view_functions["text_page"])
    login_as(people["secretariat"])
    assert _warm(client, "/test-text").text == "1"
    assert not _kept(client).pages


def test_a_request_that_writes_reads_the_counters_after_its_change(
    client, people, login_as, factory
):
    # The sign-in's query reads the counters for a page that only reads; a form that
    # writes and then shows figures must not take them from before its own change.
    login_as(people["secretariat"])
    client.get("/organisations/")
    with client.application.test_request_context("/organisations/", method="POST"):
        cache.take_stamps("organisations:1")
        from flask import g

        assert "change_stamps" not in g
    with client.application.test_request_context("/organisations/"):
        cache.take_stamps("organisations:7,states:2")
        assert cache.change_stamps() == {"organisations": 7, "states": 2}


def test_sql_text_that_says_what_it_reads_is_kept_until_that_changes(
    app, client, people, login_as, factory
):
    """``cache.text_reading``: the page is kept, and rendered again when a table the text
    names changes; plain SQL text beside it still keeps the page from being kept."""
    organisation = factory.organisation(name="Sahel Mobility Observatory")
    from kpplan.core.kept_pages import kept_page

    @app.get("/test-declared-text")
    def declared_text_page():
        query = cache.text_reading("SELECT name FROM organisations WHERE id = :id", Organisation)
        return db.session.execute(query.bindparams(id=organisation.id)).scalar()

    @app.get("/test-mixed-text")
    def mixed_text_page():
        named = cache.text_reading("SELECT count(*) FROM organisations", Organisation)
        plain = sa.text("SELECT 1")
        return f"{db.session.execute(named).scalar()} {db.session.execute(plain).scalar()}"

    for name in ("declared_text_page", "mixed_text_page"):
        app.view_functions[name] = kept_page(app.view_functions[name])
    login_as(people["secretariat"])
    assert _warm(client, "/test-declared-text").text == "Sahel Mobility Observatory"
    assert [page.tables for page in _kept(client).pages.values()] == [("organisations",)]
    _warm(client, "/test-mixed-text")
    assert len(_kept(client).pages) == 1
    with app.app_context():
        db.session.get(Organisation, organisation.id).name = "SMO"
        db.session.commit()
    assert client.get("/test-declared-text").text == "SMO"


def test_text_reading_refuses_a_table_whose_changes_are_not_counted():
    from kpplan.auth.models import SignedInSession

    with pytest.raises(RuntimeError, match="not counted"):
        cache.text_reading("SELECT count(*) FROM signed_in_sessions", SignedInSession)


def test_a_table_kept_in_step_by_the_database_is_read_as_its_base_table(app):
    """The search's FTS5 table (filled by triggers) is recorded as ``recommendations``:
    its own counter would never move."""
    from kpplan.recommendations.models import Recommendation
    from kpplan.recommendations.search import with_words

    with app.app_context(), cache.reading_tables() as tables:
        db.session.execute(with_words(sa.select(Recommendation.id), "smuggling")).all()
    assert tables == {"recommendations"}


def test_the_tables_of_a_statement_are_recorded_on_every_run(app):
    """The tables are found once per compiled form of a statement, and recorded on every
    run of it; a statement of another shape built from it records its own."""
    from kpplan.recommendations.follow_up_models import FollowUp
    from kpplan.recommendations.models import Recommendation

    walk = sa.select(FollowUp.id).where(FollowUp.id > sa.bindparam("after"))
    with app.app_context():
        for after in (0, 1):
            with cache.reading_tables() as tables:
                db.session.execute(walk, {"after": after}).all()
            assert tables == {"follow_ups"}
        joined = walk.join(Recommendation, Recommendation.id == FollowUp.recommendation_id)
        with cache.reading_tables() as tables:
            db.session.execute(joined, {"after": 0}).all()
        assert tables == {"follow_ups", "recommendations"}
        with cache.reading_tables() as tables:
            db.session.connection().exec_driver_sql("SELECT 1").all()
        assert tables == {cache.UNKNOWN}
