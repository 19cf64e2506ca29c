from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from kpplan import permissions
from kpplan.audit import queries as audit_queries
from kpplan.core.errors import DomainError
from kpplan.core.extensions import db
from kpplan.core.kept_pages import kept_page
from kpplan.core.links import row_link
from kpplan.core.requests import acting_user, enum_arg, int_arg, page_arg, save_form
from kpplan.directory import queries, services
from kpplan.directory.forms import (
    NewOrganisationForm,
    NewStateForm,
    NewUserForm,
    OrganisationForm,
    StateForm,
    UserForm,
)
from kpplan.directory.models import Organisation, OrganisationKind, Region, Role, State, User

bp = Blueprint("directory", __name__)


@bp.before_request
@login_required
def signed_in_only():
    """Every page of the directory is for signed-in users."""


# States -----------------------------------------------------------------------------


@bp.route("/states/")
@kept_page
def states():
    region = enum_arg(Region, "region")
    rows = queries.states_with_focal_points(region=region)
    return render_template(
        "directory/states.html",
        rows=rows,
        region=region,
        regions=list(Region),
        state_link=row_link("directory.state", "state_id"),
    )


@bp.route("/states/<int:state_id>")
@kept_page
def state(state_id: int):
    state = queries.state_page(state_id)
    if state is None:
        abort(404)
    history = (
        audit_queries.history_of(state, limit=10)
        if permissions.can_view_history(current_user)
        else []
    )
    return render_template(
        "directory/state.html",
        state=state,
        history=history,
        user_link=row_link("directory.user", "user_id"),
    )


@bp.route("/states/new", methods=["GET", "POST"])
def new_state():
    permissions.require(permissions.can_edit_directory(current_user))
    form = NewStateForm()
    status = 200
    if form.validate_on_submit():
        state, status = save_form(
            form, lambda: services.create_state(acting_user(), **form.values())
        )
        if state is not None:
            flash(f"{state.name} has been added.", "success")
            return redirect(url_for("directory.state", state_id=state.id))
    return render_template("directory/state_form.html", form=form, state=None), status


@bp.route("/states/<int:state_id>/edit", methods=["GET", "POST"])
def edit_state(state_id: int):
    permissions.require(permissions.can_edit_directory(current_user))
    state = db.get_or_404(State, state_id)
    form = StateForm.for_record(state)
    status = 200
    if form.validate_on_submit():
        saved, status = save_form(
            form,
            lambda: services.update_state(acting_user(), state, form.version.data, **form.values()),
        )
        if saved is not None:
            flash(f"{state.name} has been saved.", "success")
            return redirect(url_for("directory.state", state_id=state.id))
    return render_template("directory/state_form.html", form=form, state=state), status


# Organisations ---------------------------------------------------------------------


@bp.route("/organisations/")
@kept_page
def organisations():
    kind = enum_arg(OrganisationKind, "kind")
    words = request.args.get("q", "").strip()[:100]
    pagination = queries.organisations_page(
        page_arg(), current_app.config["PAGE_SIZE"], kind=kind, words=words
    )
    return render_template(
        "directory/organisations.html",
        pagination=pagination,
        kind=kind,
        kinds=list(OrganisationKind),
        words=words,
    )


@bp.route("/organisations/new", methods=["GET", "POST"])
def new_organisation():
    permissions.require(permissions.can_edit_directory(current_user))
    form = NewOrganisationForm()
    status = 200
    if form.validate_on_submit():
        org, status = save_form(
            form, lambda: services.create_organisation(acting_user(), **form.values())
        )
        if org is not None:
            flash(f"{org.display_name} has been added.", "success")
            return redirect(url_for("directory.organisations"))
    template = "directory/organisation_form.html"
    return render_template(template, form=form, organisation=None), status


@bp.route("/organisations/<int:organisation_id>/edit", methods=["GET", "POST"])
def edit_organisation(organisation_id: int):
    permissions.require(permissions.can_edit_directory(current_user))
    org = db.get_or_404(Organisation, organisation_id)
    form = OrganisationForm.for_record(org)
    status = 200
    if form.validate_on_submit():
        saved, status = save_form(
            form,
            lambda: services.update_organisation(
                acting_user(), org, form.version.data, **form.values()
            ),
        )
        if saved is not None:
            flash(f"{org.display_name} has been saved.", "success")
            return redirect(url_for("directory.organisations"))
    template = "directory/organisation_form.html"
    return render_template(template, form=form, organisation=org), status


# Users -----------------------------------------------------------------------------


@bp.route("/users/")
@kept_page
def users():
    permissions.require(permissions.can_manage_users(current_user))
    role = enum_arg(Role, "role")
    status = request.args.get("status", "active")
    if status not in ("active", "deactivated", "all"):
        status = "active"
    state_id = int_arg("state")
    words = request.args.get("q", "").strip()[:100]
    page = queries.users_page(
        queries.UserFilters(role=role, state_id=state_id, status=status, words=words),
        request.args.get("cursor"),
        current_app.config["PAGE_SIZE"],
    )
    return render_template(
        "directory/users.html",
        page=page,
        user_link=row_link("directory.user", "user_id"),
        role=role,
        roles=list(Role),
        status=status,
        state_id=state_id,
        states=queries.member_state_choices(),
        words=words,
    )


@bp.route("/users/new", methods=["GET", "POST"])
def new_user():
    permissions.require(permissions.can_manage_users(current_user))
    form = NewUserForm()
    form.set_state_choices(queries.member_state_choices())
    if request.method == "GET" and int_arg("state"):
        form.state.data = int_arg("state")
        form.role.data = Role.FOCAL_POINT.value
    status = 200
    if form.validate_on_submit():
        user, status = save_form(
            form,
            lambda: services.create_user(
                acting_user(),
                password=form.password.data,
                must_change_password=True,
                **form.values(),
            ),
        )
        if user is not None:
            flash(f"The account of {user.name} has been created.", "success")
            return redirect(url_for("directory.user", user_id=user.id))
    return render_template("directory/user_form.html", form=form, user=None), status


@bp.route("/users/<int:user_id>", methods=["GET", "POST"])
@kept_page
def user(user_id: int):
    permissions.require(permissions.can_manage_users(current_user))
    target = queries.user_with_state(user_id)
    if target is None:
        abort(404)
    may_edit = permissions.can_manage_user(current_user, target)
    form = UserForm.for_record(target)
    form.set_state_choices(queries.member_state_choices())
    status = 200
    if request.method == "POST":
        permissions.require(may_edit)
        if form.validate_on_submit():
            saved, status = save_form(
                form,
                lambda: services.update_user(
                    acting_user(), target, form.version.data, **form.values()
                ),
            )
            if saved is not None:
                flash(f"The account of {target.name} has been saved.", "success")
                return redirect(url_for("directory.user", user_id=target.id))
    history = audit_queries.history_of(target, limit=20)
    return render_template(
        "directory/user_form.html", form=form, user=target, may_edit=may_edit, history=history
    ), status


def _account_action(user_id: int, action):
    permissions.require(permissions.can_manage_users(current_user))
    target = db.get_or_404(User, user_id)
    permissions.require(permissions.can_manage_user(current_user, target))
    try:
        message = action(target)
    except DomainError as error:
        db.session.rollback()
        flash(error.message, "error")
    else:
        db.session.commit()
        flash(message, "success")
    return redirect(url_for("directory.user", user_id=target.id))


@bp.route("/users/<int:user_id>/deactivate", methods=["POST"])
def deactivate_user(user_id: int):
    def action(target: User) -> str:
        services.set_active(acting_user(), target, False)
        return f"{target.name} has been deactivated and signed out everywhere."

    return _account_action(user_id, action)


@bp.route("/users/<int:user_id>/reactivate", methods=["POST"])
def reactivate_user(user_id: int):
    def action(target: User) -> str:
        services.set_active(acting_user(), target, True)
        return f"{target.name} can sign in again."

    return _account_action(user_id, action)


@bp.route("/users/<int:user_id>/reset-password", methods=["POST"])
def reset_password(user_id: int):
    permissions.require(permissions.can_manage_users(current_user))
    target = db.get_or_404(User, user_id)
    permissions.require(permissions.can_manage_user(current_user, target))
    temporary = services.reset_password(acting_user(), target)
    db.session.commit()
    # Shown once in this response, never put in the session cookie or a log.
    response = current_app.make_response(
        render_template("directory/password_reset.html", user=target, temporary=temporary)
    )
    response.headers["Cache-Control"] = "no-store"
    return response
