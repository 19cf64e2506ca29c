from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, session, url_for
from flask_login import current_user, login_required, login_user, logout_user

from kpplan.auth import services
from kpplan.auth.forms import CalendarLinkForm, ChangePasswordForm, SignInForm
from kpplan.auth.redirects import safe_next
from kpplan.core.db import utcnow
from kpplan.core.extensions import db
from kpplan.core.requests import acting_user, save_form
from kpplan.directory import queries as directory_queries

bp = Blueprint("auth", __name__)

#: The Flask session's key for a calendar token just made, until the page shows it.
NEW_CALENDAR_LINK = "new_calendar_link"
#: The member state the new link is narrowed to, if any.
NEW_CALENDAR_STATE = "new_calendar_state"


@bp.route("/login", methods=["GET", "POST"])
def login():
    target = safe_next(request.values.get("next"))
    if current_user.is_authenticated:
        return redirect(target or url_for("home.home"))
    form = SignInForm()
    status = 200
    if form.validate_on_submit():
        try:
            user = services.authenticate(
                form.email.data, form.password.data, request.remote_addr, utcnow()
            )
        except services.SignInThrottled as error:
            db.session.commit()
            flash(error.message, "error")
            status = error.status_code
        except services.SignInRefused as error:
            db.session.commit()  # keep the failure count
            flash(error.message, "error")
        else:
            secret = services.open_session(user, utcnow())
            db.session.commit()
            session.clear()  # a fresh session: nothing carried over from before sign-in
            login_user(user)
            session[services.SESSION_KEY] = secret
            if user.must_change_password:
                flash("Please choose a new password before you go on.", "info")
                return redirect(url_for("auth.account"))
            return redirect(target or url_for("home.home"))
    form.next.data = target or ""
    return render_template("auth/login.html", form=form), status


@bp.route("/logout", methods=["POST"])
@login_required
def logout():
    # Ended on the server too: a copy of the cookie signs nobody in afterwards.
    services.end_session(session.get(services.SESSION_KEY))
    db.session.commit()
    logout_user()
    session.clear()
    flash("You have signed out.", "info")
    return redirect(url_for("auth.login"))


@bp.route("/account", methods=["GET", "POST"])
@login_required
def account():
    form = ChangePasswordForm()
    status = 200
    if form.validate_on_submit():
        me = acting_user()
        changed, status = save_form(
            form,
            lambda: services.change_password(
                me, form.current_password.data, form.new_password.data
            ),
        )
        if changed is not None:
            # The session token changed: keep this session, end all others.
            login_user(me)
            flash("Your password has been changed. Other sessions have been signed out.", "success")
            return redirect(url_for("auth.account"))
    new_token = session.pop(NEW_CALENDAR_LINK, None)
    states = directory_queries.member_state_choices()
    calendar_form = CalendarLinkForm(prefix="calendar")
    calendar_form.set_choices(states)
    chosen = session.pop(NEW_CALENDAR_STATE, None) if new_token else None
    return render_template(
        "auth/account.html",
        form=form,
        calendar_form=calendar_form,
        new_token=new_token,
        feed_state=next((s for s in states if s.id == chosen), None),
    ), status


@bp.route("/account/calendar-link", methods=["POST"])
@login_required
def reset_calendar_link():
    form = CalendarLinkForm(prefix="calendar")
    form.set_choices(directory_queries.member_state_choices())
    if not form.validate_on_submit():
        for message in form.state.errors or ["The form had expired; make the link again."]:
            flash(f"No new calendar link: {message}", "error")
        return redirect(url_for("auth.account") + "#calendar")
    token = services.reset_calendar_token(acting_user())
    db.session.commit()
    # Shown once, on the next page: kpplan keeps only the token's digest.
    session[NEW_CALENDAR_LINK] = token
    session[NEW_CALENDAR_STATE] = form.state.data or None
    flash("Your calendar link is ready. Any older link no longer works.", "success")
    return redirect(url_for("auth.account") + "#calendar")
