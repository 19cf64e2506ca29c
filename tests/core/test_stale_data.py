"""Two sessions updating the same versioned row: the later write is refused as a stale edit
(409, nothing saved, what the person typed kept), never a 500.

Versioned models (core.db.Versioned) update ``... WHERE id = ? AND version = ?``; when
another session saved the row between this request's read and its write, SQLAlchemy raises
``StaleDataError``. Here another connection really does save the row at that moment.
"""

from __future__ import annotations

import contextlib
import re
from datetime import date

from flask import get_flashed_messages
from sqlalchemy import event
from wtforms import StringField

from kpplan.chair.models import Chairmanship
from kpplan.core.extensions import db
from kpplan.core.forms import VersionedForm
from kpplan.core.requests import save_form
from kpplan.directory.models import State
from kpplan.meetings.models import Activity, Status
from tests.factories import state_named

AT_THE_SAME_MOMENT = "Someone else saved this record at the same moment"


def _version(page: str) -> str:
    return re.search(r'name="version" type="hidden" value="(\d+)"', page).group(1)


def _save_in_another_session(model, row_id: int, **values) -> None:
    """What another request does: change the row, bump its version, commit."""
    table = model.__table__
    with db.engine.connect() as other:
        other.execute(
            table.update().where(table.c.id == row_id).values(version=table.c.version + 1, **values)
        )
        other.commit()


@contextlib.contextmanager
def saved_meanwhile(model, row_id: int, **values):
    """Inside the block, just before this session writes the row, another session saves it."""
    saved = []

    def before_update(mapper, connection, target):
        if target.id == row_id and not saved:
            saved.append(True)
            _save_in_another_session(model, row_id, **values)

    event.listen(model, "before_update", before_update)
    try:
        yield saved
    finally:
        event.remove(model, "before_update", before_update)


def test_a_chairmanship_saved_meanwhile_is_refused_and_the_typing_kept(
    app, client, people, login_as, factory
):
    """The service flushes; the flush finds the row changed: save_form refuses with 409."""
    chair = factory.chairmanship("South Sudan", date(2022, 3, 22))
    with app.app_context():
        form = {"state": state_named("South Sudan").id, "start_date": "2022-03-22"}
    form["handover_activity"] = 0
    login_as(people["secretariat"])
    url = f"/chair/{chair.id}/edit"
    version = _version(client.get(url).text)

    with app.app_context(), saved_meanwhile(Chairmanship, chair.id, note="Theirs") as saved:
        response = client.post(url, data={**form, "note": "Mine", "version": version})
    assert saved, "the other session did not save"
    assert response.status_code == 409
    assert AT_THE_SAME_MOMENT in response.text
    assert "Mine</textarea>" in response.text  # what was typed is kept
    with app.app_context():
        assert db.session.get(Chairmanship, chair.id).note == "Theirs"

    # Sent again, the usual stale-edit refusal gives the current version; then it applies.
    again = client.post(url, data={**form, "note": "Mine", "version": _version(response.text)})
    assert again.status_code == 409
    assert "Someone else changed this record" in again.text
    last = client.post(url, data={**form, "note": "Mine", "version": _version(again.text)})
    assert last.status_code == 302
    with app.app_context():
        assert db.session.get(Chairmanship, chair.id).note == "Mine"


def test_a_state_saved_meanwhile_is_refused_and_the_typing_kept(app, client, people, login_as):
    login_as(people["secretariat"])
    with app.app_context():
        kenya = state_named("Kenya")
    url = f"/states/{kenya.id}/edit"
    fields = {"iso_code": "KE", "region": "africa", "is_member": "y"}
    version = _version(client.get(url).text)

    with app.app_context(), saved_meanwhile(State, kenya.id, name="Kenya (theirs)"):
        response = client.post(
            url, data={**fields, "name": "Republic of Kenya", "version": version}
        )
    assert response.status_code == 409
    assert AT_THE_SAME_MOMENT in response.text
    assert 'value="Republic of Kenya"' in response.text
    with app.app_context():
        assert db.session.get(State, kenya.id).name == "Kenya (theirs)"


class NameForm(VersionedForm):
    name = StringField()


def test_save_form_refuses_a_row_saved_meanwhile_found_at_the_commit(app, people):
    """A service that only changes attributes: the commit's flush finds the row changed."""
    with app.app_context():
        kenya_id = state_named("Kenya").id
    data = {"name": "Republic of Kenya", "version": "1"}
    with app.test_request_context(method="POST", data=data):
        kenya = db.session.get(State, kenya_id)
        form = NameForm()
        _save_in_another_session(State, kenya_id, name="Kenya (theirs)")

        def rename():
            kenya.name = form.name.data
            return kenya

        result, status = save_form(form, rename)
        assert (result, status) == (None, 409)
        assert form.name.data == "Republic of Kenya"
        assert any(AT_THE_SAME_MOMENT in m for m in get_flashed_messages())
        assert db.session.get(State, kenya_id).name == "Kenya (theirs)"


def test_a_move_saved_meanwhile_is_a_409_page_not_a_500(app, client, people, login_as, factory):
    """A button without a form (moving an activity) gets the same refusal as a page."""
    activity = factory.activity(start=date(2026, 9, 1), status=Status.DRAFT)
    login_as(people["secretariat"])
    with app.app_context(), saved_meanwhile(Activity, activity.id, title="Renamed meanwhile"):
        response = client.post(f"/activities/{activity.id}/status", data={"to": "planned"})
    assert response.status_code == 409
    assert AT_THE_SAME_MOMENT in response.text
    with app.app_context():
        saved = db.session.get(Activity, activity.id)
        assert (saved.title, saved.status) == ("Renamed meanwhile", Status.DRAFT)


def test_a_recommendation_saved_meanwhile_is_refused_and_the_wording_kept(
    app, client, people, login_as, factory
):
    """The recommendation's own edit view (not through save_form) refuses the same way."""
    from kpplan.recommendations.models import Recommendation
    from tests.factories import STATE_A

    activity = factory.activity()
    recommendation = factory.recommendation(activity.id, states=(STATE_A,))
    login_as(people["secretariat"])
    url = f"/recommendations/{recommendation.id}/edit"
    form = {
        "version": _version(client.get(url).text),
        "fields-text": "My corrected wording.",
        "fields-priority": "medium",
        "fields-themes": ["RD3"],
        "fields-states": [recommendation.follow_ups[0].state_id],
        "fields-lineage": "",
    }
    with app.app_context(), saved_meanwhile(Recommendation, recommendation.id, text="Theirs"):
        response = client.post(url, data=form)
    assert response.status_code == 409
    assert AT_THE_SAME_MOMENT in response.text
    assert "My corrected wording.</textarea>" in response.text
    with app.app_context():
        assert db.session.get(Recommendation, recommendation.id).text == "Theirs"
