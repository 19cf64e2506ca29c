"""States, organisations and user administration, through their pages."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from kpplan.audit.models import AuditEntry
from kpplan.core.extensions import db
from kpplan.directory.models import Organisation, Role, State, User
from tests.conftest import signed_in_session, state_named


def _version(text: str) -> str:
    return re.search(r'name="version" type="hidden" value="(\d+)"', text).group(1)


class TestStates:
    def test_states_page_lists_the_40_members_and_flags_those_without_focal_point(
        self, client, people, login_as
    ):
        login_as(people["observer"])
        page = client.get("/states/").text
        for name in ("Austria", "Djibouti", "The Netherlands", "South Sudan", "Uganda"):
            assert f">{name}</a>" in page
        assert page.count('class="row-warning"') == 40 - 2  # Kenya and Italy have one
        kenya_row = page[page.index(">Kenya</a>") :].split("</tr>")[0]
        assert people["fp_a"].name in kenya_row
        assert "No active focal point" not in kenya_row

    def test_region_filter(self, client, people, login_as):
        login_as(people["observer"])
        page = client.get("/states/?region=africa").text
        assert ">Kenya</a>" in page and ">Austria</a>" not in page
        assert client.get("/states/?region=nowhere").status_code == 200

    def test_deactivated_focal_point_leaves_the_state_flagged(
        self, client, people, login_as, factory
    ):
        factory.user(Role.FOCAL_POINT, state="Malta", active=False, name="Former Maltese FP")
        login_as(people["observer"])
        page = client.get("/states/").text
        malta_row = page[page.index(">Malta</a>") :].split("</tr>")[0]
        assert "No active focal point" in malta_row
        assert "Former Maltese FP" not in malta_row

    def test_secretariat_sets_steering_committee_membership_with_a_trace(
        self, app, client, people, login_as
    ):
        login_as(people["secretariat"])
        with app.app_context():
            kenya = state_named("Kenya")
        form = client.get(f"/states/{kenya.id}/edit")
        response = client.post(
            f"/states/{kenya.id}/edit",
            data={
                "version": _version(form.text),
                "name": "Kenya",
                "iso_code": "KE",
                "region": "africa",
                "is_member": "y",
                "on_steering_committee": "y",
            },
        )
        assert response.status_code == 302
        with app.app_context():
            assert state_named("Kenya").on_steering_committee
            entry = db.session.scalars(
                select(AuditEntry).where(AuditEntry.object_type == "states")
            ).one()
            assert entry.actor_id == people["secretariat"].id
            assert entry.before["on_steering_committee"] is False
            assert entry.after["on_steering_committee"] is True
        page = client.get(f"/states/{kenya.id}").text
        assert "Sits on the Steering Committee" in page
        assert "Recent changes" in page

    def test_stale_edit_is_refused_and_shows_what_changed(self, app, client, people, login_as):
        login_as(people["secretariat"])
        with app.app_context():
            kenya = state_named("Kenya")
        stale_version = _version(client.get(f"/states/{kenya.id}/edit").text)
        fields = {"name": "Kenya", "iso_code": "KE", "region": "africa", "is_member": "y"}

        # Someone else saves first.
        other = app.test_client()
        with other.session_transaction() as session:
            session.update(signed_in_session(app, people["admin"]))
        first = other.post(
            f"/states/{kenya.id}/edit",
            data={**fields, "version": stale_version, "on_steering_committee": "y"},
        )
        assert first.status_code == 302

        # The edit from the page loaded before is refused, not applied over the first.
        response = client.post(
            f"/states/{kenya.id}/edit",
            data={**fields, "version": stale_version, "name": "Republic of Kenya"},
        )
        assert response.status_code == 409
        assert "Someone else changed this record" in response.text
        assert "on_steering_committee" in response.text
        assert 'value="Republic of Kenya"' in response.text  # what was typed is kept
        with app.app_context():
            kenya = state_named("Kenya")
            assert kenya.on_steering_committee

        # Sent again on purpose, with the version the refusal gave, it applies.
        response = client.post(
            f"/states/{kenya.id}/edit",
            data={**fields, "version": _version(response.text), "name": "Republic of Kenya"},
        )
        assert response.status_code == 302
        with app.app_context():
            assert db.session.get(State, kenya.id).name == "Republic of Kenya"

    def test_add_a_country_that_is_not_a_member(self, app, client, people, login_as):
        login_as(people["secretariat"])
        response = client.post(
            "/states/new",
            data={"name": "Chad", "iso_code": "td", "region": "africa"},
        )
        assert response.status_code == 302
        with app.app_context():
            chad = state_named("Chad")
            assert chad.iso_code == "TD" and not chad.is_member

    @pytest.mark.parametrize(
        "data,field_error",
        [
            ({"name": "kenya", "region": "africa"}, "Kenya is already in the directory."),
            ({"name": "Narnia", "iso_code": "KE", "region": "other"}, "Kenya already has the code"),
            ({"name": "Narnia", "iso_code": "K3", "region": "other"}, "Two letters"),
            ({"name": "", "region": "other"}, "Give the country&#39;s name."),
            (
                {"name": "Narnia", "region": "other", "on_steering_committee": "y"},
                "Only a member state can sit on the Steering Committee.",
            ),
        ],
    )
    def test_bad_country_gets_a_message_next_to_the_field(
        self, app, client, people, login_as, data, field_error
    ):
        login_as(people["secretariat"])
        with app.app_context():
            before = db.session.scalar(select(func.count(State.id)))
        response = client.post("/states/new", data=data)
        assert response.status_code == 200
        assert field_error in response.text
        assert 'class="error"' in response.text
        with app.app_context():
            assert db.session.scalar(select(func.count(State.id))) == before

    def test_a_state_with_focal_points_stays_a_member(self, app, client, people, login_as):
        login_as(people["secretariat"])
        with app.app_context():
            kenya = state_named("Kenya")
        response = client.post(
            f"/states/{kenya.id}/edit",
            data={"version": 1, "name": "Kenya", "iso_code": "KE", "region": "africa"},
        )
        assert "still has focal points" in response.text
        with app.app_context():
            assert state_named("Kenya").is_member

    def test_states_page_query_count_does_not_grow_with_data(
        self, app, client, people, login_as, factory, count_queries
    ):
        login_as(people["observer"])
        client.get("/states/")
        with count_queries() as few:
            client.get("/states/")
        for n, state in enumerate(["Malta", "Spain", "Sudan", "Uganda", "Egypt", "Kenya"]):
            factory.user(Role.FOCAL_POINT, state=state, email=f"more{n}@kpplan.example")
            factory.user(
                Role.FOCAL_POINT, state=state, email=f"old{n}@kpplan.example", active=False
            )
        for n in range(5):
            factory.country(f"Country {n}")
        client.get("/states/")  # the header's Chair, read again once the states changed
        with count_queries() as many:
            client.get("/states/")
        assert many.count == few.count <= 4


class TestOrganisations:
    def test_reference_organisations_are_listed(self, client, people, login_as):
        login_as(people["fp_b"])
        page = client.get("/organisations/").text
        for acronym in ("ICMPD", "IOM", "UNHCR", "UNODC", "IGAD", "Frontex", "EUROPOL", "ROCK"):
            assert f"<td>{acronym}</td>" in page

    def test_filter_by_kind_and_words(self, client, people, login_as):
        login_as(people["observer"])
        page = client.get("/organisations/?kind=eu_institution&q=europ").text
        assert "EUROPOL" in page and "ICMPD" not in page and "IGAD" not in page

    def test_add_and_edit_an_organisation(self, app, client, people, login_as):
        login_as(people["secretariat"])
        response = client.post(
            "/organisations/new",
            data={"name": "Walk Free", "kind": "ngo", "website": "https://walkfree.example"},
        )
        assert response.status_code == 302
        with app.app_context():
            org = db.session.scalars(
                select(Organisation).where(Organisation.name == "Walk Free")
            ).one()
        response = client.post(
            f"/organisations/{org.id}/edit",
            data={"version": org.version, "name": "Walk Free", "acronym": "WF", "kind": "ngo"},
        )
        assert response.status_code == 302
        with app.app_context():
            assert db.session.get(Organisation, org.id).acronym == "WF"
            assert (
                db.session.scalar(
                    select(func.count(AuditEntry.id)).where(
                        AuditEntry.object_type == "organisations"
                    )
                )
                == 2
            )

    def test_bad_website_and_duplicate_name(self, client, people, login_as):
        login_as(people["secretariat"])
        response = client.post(
            "/organisations/new", data={"name": "IOM x", "kind": "ngo", "website": "not a url"}
        )
        assert "A full address, starting with https://." in response.text
        response = client.post(
            "/organisations/new",
            data={"name": "international organization for migration", "kind": "international"},
        )
        assert "is already in the directory" in response.text

    def test_list_is_paginated(self, app, client, people, login_as, factory):
        app.config["PAGE_SIZE"] = 10
        login_as(people["observer"])
        page = client.get("/organisations/").text
        assert "Page 1 of 3" in page
        assert "Page 3 of 3" in client.get("/organisations/?page=3").text
        assert client.get("/organisations/?page=999").status_code == 200
        assert client.get("/organisations/?page=-4").status_code == 200


class TestUsers:
    def _create(self, client, **overrides):
        data = {
            "name": "Achieng Otieno",
            "email": "Achieng@Example.org",
            "role": "focal_point",
            "state": "0",
            "password": "a first password",
        }
        data.update(overrides)
        return client.post("/users/new", data=data)

    def test_secretariat_creates_a_focal_point(self, app, client, people, login_as):
        login_as(people["secretariat"])
        with app.app_context():
            kenya_id = state_named("Kenya").id
        response = self._create(client, state=str(kenya_id), is_alternate="y")
        assert response.status_code == 302
        with app.app_context():
            user = db.session.scalars(select(User).where(User.name == "Achieng Otieno")).one()
            assert user.email == "achieng@example.org"
            assert user.state_id == kenya_id and user.is_alternate
            assert user.must_change_password
            entry = db.session.scalars(
                select(AuditEntry).where(
                    AuditEntry.object_type == "users", AuditEntry.object_id == user.id
                )
            ).one()
            assert entry.actor_id == people["secretariat"].id
            assert entry.after["role"] == "focal_point"
            assert "password_hash" not in entry.after

    @pytest.mark.parametrize(
        "overrides,message",
        [
            ({"email": "FP.A@kpplan.example", "state": "KENYA"}, "already uses this e-mail"),
            ({"state": "0"}, "belongs to a state: choose one."),
            ({"role": "observer", "state": "KENYA"}, "leave the state empty"),
            ({"role": "admin"}, "Only an administrator can make someone an administrator."),
            ({"email": "not-an-address"}, "does not look like an e-mail address"),
            ({"password": "short"}, "At least 10 characters."),
            ({"role": "observer", "is_alternate": "y"}, "Only a focal point can be an alternate."),
        ],
    )
    def test_bad_account_gets_a_message_and_nothing_is_created(
        self, app, client, people, login_as, overrides, message
    ):
        login_as(people["secretariat"])
        with app.app_context():
            kenya_id = state_named("Kenya").id
            before = db.session.scalar(select(func.count(User.id)))
        if overrides.get("state") == "KENYA":
            overrides["state"] = str(kenya_id)
        response = self._create(client, **overrides)
        assert response.status_code == 200
        assert message in response.text
        with app.app_context():
            assert db.session.scalar(select(func.count(User.id))) == before

    def test_one_alternate_per_state(self, app, client, people, login_as, factory):
        factory.user(Role.FOCAL_POINT, state="Kenya", is_alternate=True, name="First Alternate")
        login_as(people["secretariat"])
        with app.app_context():
            kenya_id = state_named("Kenya").id
        response = self._create(client, state=str(kenya_id), is_alternate="y")
        assert "First Alternate is already Kenya&#39;s alternate focal point." in response.text

    def test_a_state_without_focal_point_is_named_as_a_sentence_does(
        self, app, client, people, login_as
    ):
        login_as(people["secretariat"])
        with app.app_context():
            czech_id = state_named("Czech Republic").id
        page = client.get(f"/states/{czech_id}").text
        assert (
            '<p class="notice notice-warning">The Czech Republic has no active focal point'
        ) in page

    def test_one_alternate_per_state_names_the_state_as_a_sentence_does(
        self, app, client, people, login_as, factory
    ):
        for state in ("The Netherlands", "Czech Republic"):
            factory.user(Role.FOCAL_POINT, state=state, is_alternate=True, name=f"Alt {state}")
        login_as(people["secretariat"])
        with app.app_context():
            ids = {s: state_named(s).id for s in ("The Netherlands", "Czech Republic")}
        dutch = self._create(client, state=str(ids["The Netherlands"]), is_alternate="y")
        assert (
            "Alt The Netherlands is already the Netherlands&#39; alternate focal point."
            in dutch.text
        )
        czech = self._create(client, state=str(ids["Czech Republic"]), is_alternate="y")
        assert (
            "Alt Czech Republic is already the Czech Republic&#39;s alternate focal point."
            in czech.text
        )

    def test_admin_may_create_an_admin(self, client, people, login_as):
        login_as(people["admin"])
        assert self._create(client, role="admin").status_code == 302

    def test_secretariat_cannot_change_an_admin(self, app, client, people, login_as):
        login_as(people["secretariat"])
        admin = people["admin"]
        page = client.get(f"/users/{admin.id}")
        assert "Only an administrator can change an administrator" in page.text
        assert client.post(f"/users/{admin.id}/deactivate").status_code == 403
        assert client.post(f"/users/{admin.id}/reset-password").status_code == 403
        response = client.post(
            f"/users/{admin.id}",
            data={"version": 1, "name": "X", "email": admin.email, "role": "admin", "state": 0},
        )
        assert response.status_code == 403
        with app.app_context():
            assert db.session.get(User, admin.id).active

    def test_change_role_and_state(self, app, client, people, login_as):
        login_as(people["admin"])
        target = people["observer"]
        with app.app_context():
            malta_id = state_named("Malta").id
        response = client.post(
            f"/users/{target.id}",
            data={
                "version": 1,
                "name": target.name,
                "email": target.email,
                "role": "focal_point",
                "state": str(malta_id),
            },
        )
        assert response.status_code == 302
        with app.app_context():
            user = db.session.get(User, target.id)
            assert user.role is Role.FOCAL_POINT and user.state_id == malta_id
            assert user.session_token != target.session_token  # must sign in again

    def test_nobody_changes_their_own_role(self, client, people, login_as):
        me = login_as(people["admin"])
        response = client.post(
            f"/users/{me.id}",
            data={"version": 1, "name": me.name, "email": me.email, "role": "observer", "state": 0},
        )
        assert "You cannot change your own role" in response.text

    def test_deactivate_and_reactivate_keep_the_account(self, app, client, people, login_as):
        login_as(people["secretariat"])
        target = people["fp_b"]
        response = client.post(f"/users/{target.id}/deactivate", follow_redirects=True)
        assert "has been deactivated" in response.text
        assert ">Italy</a>" in client.get("/states/").text
        italy_row = client.get("/states/").text.split(">Italy</a>")[1].split("</tr>")[0]
        assert "No active focal point" in italy_row
        response = client.post(f"/users/{target.id}/reactivate", follow_redirects=True)
        assert "can sign in again" in response.text
        with app.app_context():
            assert db.session.get(User, target.id).active
            actions = db.session.scalars(
                select(AuditEntry.action).where(AuditEntry.object_id == target.id)
            ).all()
            assert actions == ["deactivated", "reactivated"]

    def test_nobody_deactivates_themselves(self, client, people, login_as):
        me = login_as(people["admin"])
        response = client.post(f"/users/{me.id}/deactivate", follow_redirects=True)
        assert "You cannot deactivate your own account." in response.text

    def test_reset_password_shows_a_one_time_password_once(self, app, people, login_as, client):
        login_as(people["secretariat"])
        target = people["fp_a"]
        response = client.post(f"/users/{target.id}/reset-password")
        assert response.status_code == 200
        assert response.headers["Cache-Control"] == "no-store"
        temporary = re.search(r"<code>([^<]+)</code>", response.text).group(1)
        assert temporary not in client.get(f"/users/{target.id}").text

        person = app.test_client()
        signed_in = person.post("/login", data={"email": target.email, "password": temporary})
        assert signed_in.headers["Location"] == "/account"

    def test_users_list_filters(self, client, people, login_as, app):
        login_as(people["secretariat"])
        with app.app_context():
            kenya_id = state_named("Kenya").id
        page = client.get(f"/users/?role=focal_point&state={kenya_id}").text
        assert people["fp_a"].email in page and people["fp_b"].email not in page
        assert '<td data-label="State">Kenya</td>' in page
        page = client.get("/users/?q=observer").text
        assert people["observer"].email in page and people["admin"].email not in page

    def test_users_list_query_count_does_not_grow_with_data(
        self, app, client, people, login_as, factory, count_queries
    ):
        login_as(people["admin"])
        client.get("/users/")
        with count_queries() as few:
            client.get("/users/")
        for n, state in enumerate(["Malta", "Spain", "Sudan", "Uganda", "Egypt"] * 4):
            factory.user(Role.FOCAL_POINT, state=state, email=f"u{n}@kpplan.example")
        with count_queries() as many:
            client.get("/users/")
        assert many.count == few.count <= 5

    def test_users_are_paged_by_key_across_active_and_deactivated_accounts(
        self, app, client, people, login_as, factory, count_queries
    ):
        app.config["PAGE_SIZE"] = 3
        for n in range(4):
            factory.user(Role.OBSERVER, name=f"Zz Paged {n}", email=f"zz{n}@kpplan.example")
            factory.user(
                Role.OBSERVER, name=f"Zz Gone {n}", email=f"zg{n}@kpplan.example", active=False
            )
        login_as(people["admin"])
        with app.app_context():
            expected = [
                u.email
                for u in db.session.scalars(
                    select(User)
                    .where(User.name.like("Zz %"))
                    .order_by(User.active.desc(), User.name, User.id)
                )
            ]
        seen, address, counts = [], "/users/?status=all&q=zz", []
        client.get(address)  # the header's figures, kept from here on (not the list's)
        while address:
            with count_queries() as counted:
                page = client.get(address).text
            counts.append(counted.count)
            assert "page=" not in page
            seen += re.findall(r'class="break">([^<]+)</td>', page)
            found = re.search(r'<a href="([^"]+)" rel="next">', page)
            address = found and found.group(1).replace("&amp;", "&")
            assert not address or ("status=all" in address and "q=zz" in address)
        assert seen == expected and len(counts) == 3
        assert len(set(counts)) == 1
        # The last page leads back to the one before it.
        back = re.search(r'<a href="([^"]+)" rel="prev">', page).group(1).replace("&amp;", "&")
        assert re.findall(r'class="break">([^<]+)</td>', client.get(back).text) == expected[3:6]

    def test_a_tampered_users_cursor_reads_as_the_first_page(self, client, people, login_as):
        login_as(people["admin"])
        first = client.get("/users/?status=all").text
        # Well-formed cursors of the wrong shape: a number for a name, text for a flag.
        for cursor in ("nonsense", "WyJhIiwxLDJd", "WyJhIiwiMSIsIngiLDFd", "W3RydWVd", "x" * 3000):
            response = client.get(f"/users/?status=all&cursor={cursor}")
            assert response.status_code == 200
            assert response.text.split("<tbody>")[1] == first.split("<tbody>")[1]


def test_history_page_shows_who_changed_what(app, client, people, login_as):
    login_as(people["admin"])
    client.post(f"/users/{people['fp_b'].id}/deactivate")
    page = client.get("/history/").text
    assert people["admin"].name in page
    target = people["fp_b"]
    assert f'deactivated the account of <a href="/users/{target.id}">{target.name}</a>' in page
    assert "active" in page
    assert client.get("/history/?type=states").status_code == 200


def _selected(text: str, name: str) -> str:
    """The value of the selected option of the select called ``name``."""
    segment = text.split(f'name="{name}"', 1)[1].split("</select>", 1)[0]
    match = re.search(
        r'<option[^>]*\bselected\b[^>]*value="([^"]*)"|<option[^>]*value="([^"]*)"[^>]*\bselected\b',
        segment,
    )
    return match.group(1) or match.group(2)


def _checked(text: str, name: str) -> bool:
    tag = re.search(rf'<input[^>]*name="{name}"[^>]*>', text).group(0)
    return "checked" in tag


def test_edit_forms_open_on_the_saved_values(app, client, people, login_as):
    """What the form shows is what is saved: the role, the state, the region, the kind."""
    login_as(people["admin"])
    fp = people["fp_a"]
    with app.app_context():
        kenya = state_named("Kenya")
        org = db.session.scalars(select(Organisation).where(Organisation.acronym == "EEAS")).one()
    user_page = client.get(f"/users/{fp.id}").text
    assert _selected(user_page, "role") == "focal_point"
    assert _selected(user_page, "state") == str(kenya.id)
    state_page = client.get(f"/states/{kenya.id}/edit").text
    assert _selected(state_page, "region") == "africa"
    assert _checked(state_page, "is_member")
    assert not _checked(state_page, "on_steering_committee")
    org_page = client.get(f"/organisations/{org.id}/edit").text
    assert _selected(org_page, "kind") == "eu_institution"


def test_tampered_version_is_refused_with_a_message(app, client, people, login_as):
    login_as(people["secretariat"])
    with app.app_context():
        kenya = state_named("Kenya")
    response = client.post(
        f"/states/{kenya.id}/edit",
        data={"version": "abc", "name": "Renamed", "region": "africa", "is_member": "y"},
    )
    assert response.status_code == 200
    assert "This form is out of date" in response.text
    with app.app_context():
        assert db.session.get(State, kenya.id).name == "Kenya"


def test_a_lost_race_on_a_unique_address_is_a_message_not_a_500(app, people, monkeypatch):
    """Two requests pass the uniqueness check at once; the database refuses the second."""
    from kpplan.directory import services

    monkeypatch.setattr(services, "_check_user", lambda *args, **kwargs: None)
    with app.app_context():
        actor = db.session.get(User, people["admin"].id)
        with pytest.raises(services.DomainError, match="at the same moment"):
            services.create_user(
                actor,
                name="Twin",
                email=people["fp_a"].email,
                role=Role.OBSERVER,
                password="long enough password",
            )


def test_home_and_history_query_counts_do_not_grow_with_data(
    app, client, people, login_as, factory, count_queries
):
    login_as(people["admin"])
    client.post(f"/users/{people['observer'].id}/deactivate")  # one entry of history
    pages = ("/", "/history/", f"/states/{people['fp_a'].state_id}", "/organisations/")
    for page in pages:
        client.get(page)
    with count_queries() as few:
        for page in pages:
            client.get(page)
    for n in range(30):
        factory.user(Role.FOCAL_POINT, state="Kenya", email=f"k{n}@kpplan.example")
        factory.organisation()
        client.post(f"/users/{people['observer'].id}/deactivate")
        client.post(f"/users/{people['observer'].id}/reactivate")
    for page in pages:  # as above: the home page's figures are kept once computed
        client.get(page)
    with count_queries() as many:
        for page in pages:
            client.get(page)
    assert many.count == few.count
