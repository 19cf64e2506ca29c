from __future__ import annotations

from datetime import timedelta

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from werkzeug.routing import BuildError

from kpplan import permissions
from kpplan.core.db import utcnow
from kpplan.core.errors import DomainError
from kpplan.core.extensions import db
from kpplan.core.forms import attach_error
from kpplan.core.requests import acting_user, enum_arg, int_arg, page_arg
from kpplan.reminders import queries, services
from kpplan.reminders.forms import preferences_form, settings_form
from kpplan.reminders.mail import saved_mail_sender
from kpplan.reminders.models import Delivery, Reminder, ReminderStatus
from kpplan.reminders.rules import RULES
from kpplan.reminders.settings import preferences_of, rule_settings, timezone_name

bp = Blueprint("reminders", __name__, url_prefix="/reminders")


@bp.before_request
@login_required
def signed_in_only():
    """Every reminders page is for signed-in users."""


@bp.app_template_global()
def reminder_url(reminder: Reminder) -> str | None:
    """The page a reminder leads to, or None when it no longer exists in this version."""
    if not reminder.link_endpoint:
        return None
    try:
        return url_for(reminder.link_endpoint, **(reminder.link_values or {}))
    except BuildError:
        return None


@bp.route("/")
def notifications():
    summary_id = int_arg("summary")
    if summary_id is not None:
        # Everything a summary mail held (it lists the first ones): the recipient's only.
        summary = queries.summary_of(current_user.id, summary_id)
        if summary is None:
            abort(404)
        pagination = queries.summary_items_page(
            summary.id, page_arg(), current_app.config["PAGE_SIZE"]
        )
        return render_template(
            "reminders/notifications.html", pagination=pagination, summary=summary
        )
    pagination = queries.notifications_page(
        current_user.id, page_arg(), current_app.config["PAGE_SIZE"]
    )
    return render_template("reminders/notifications.html", pagination=pagination)


@bp.route("/<int:reminder_id>/read", methods=["POST"])
def mark_read(reminder_id: int):
    if not services.mark_read(acting_user(), utcnow(), reminder_id):
        reminder = db.session.get(Reminder, reminder_id)
        if reminder is None or reminder.user_id != current_user.id:
            abort(404)
    db.session.commit()
    return redirect(url_for("reminders.notifications"))


@bp.route("/read", methods=["POST"])
def mark_all_read():
    count = services.mark_read(acting_user(), utcnow())
    db.session.commit()
    flash(f"{count} notification{'s' if count != 1 else ''} marked as read.", "success")
    return redirect(url_for("reminders.notifications"))


@bp.route("/preferences", methods=["GET", "POST"])
def preferences():
    form = preferences_form(preferences_of(current_user.id))
    if form.validate_on_submit():
        choices = {key: Delivery(getattr(form, key).data) for key in RULES}
        try:
            services.save_preferences(acting_user(), choices)
        except DomainError as error:
            db.session.rollback()
            attach_error(form, error)
        else:
            db.session.commit()
            flash("Your reminder choices have been saved.", "success")
            return redirect(url_for("reminders.preferences"))
    return render_template("reminders/preferences.html", form=form, rules=RULES)


@bp.route("/outbox")
def outbox():
    permissions.require(permissions.can_view_reminders(current_user))
    filters = queries.OutboxFilters(
        status=enum_arg(ReminderStatus, "status"),
        rule=request.args.get("rule") if request.args.get("rule") in _rule_names() else None,
        run_id=int_arg("run"),
    )
    pagination = queries.outbox_page(filters, page_arg(), current_app.config["PAGE_SIZE"])
    runs = queries.recent_runs()
    next_run = next((r.next_run_at for r in runs if r.next_run_at), None)
    # Two ticks late: the scheduler is not running (or is stuck).
    late = timedelta(minutes=2 * float(current_app.config["REMINDER_TICK_MINUTES"]))
    return render_template(
        "reminders/outbox.html",
        pagination=pagination,
        filters=filters,
        runs=runs,
        next_run=next_run,
        scheduler_stopped=next_run is not None and next_run + late < utcnow(),
        counts=queries.status_counts(),
        statuses=list(ReminderStatus),
        rule_names=_rule_names(),
        timezone=timezone_name(),
    )


def _rule_names() -> dict[str, str]:
    names = {key: rule.label for key, rule in RULES.items()}
    names.update(
        {
            "daily_digest": "Daily summary",
            "weekly_digest": "Weekly summary",
            "backlog_summary": "Summary of what was late at a first start or after a stop",
            "escalation_summary": "Escalations of one run, together",
        }
    )
    return names


@bp.route("/outbox/<int:reminder_id>/resend", methods=["POST"])
def resend(reminder_id: int):
    permissions.require(permissions.can_manage_reminders(current_user))
    reminder = db.get_or_404(Reminder, reminder_id)
    try:
        services.resend(acting_user(), reminder, utcnow())
    except DomainError as error:
        db.session.rollback()
        flash(error.message, "error")
    else:
        db.session.commit()
        flash("The mail will be sent again at the next run of the reminders.", "success")
    return redirect(url_for("reminders.outbox", status="failed"))


@bp.route("/settings", methods=["GET", "POST"])
def settings():
    permissions.require(permissions.can_manage_reminders(current_user))
    current = rule_settings()
    saved = saved_mail_sender()
    form = settings_form(
        current,
        timezone_name(),
        (saved.name, saved.address) if saved else ("", ""),
        current_app.config["MAIL_FROM"],
    )
    if form.validate_on_submit():
        try:
            services.save_timezone(acting_user(), form.timezone_field.data)
            services.save_mail_sender(
                acting_user(), form.sender_name.data, form.sender_address.data
            )
            for key in RULES:
                days_field = getattr(form, f"{key}_days", None)
                services.save_rule_setting(
                    acting_user(),
                    key,
                    getattr(form, f"{key}_enabled").data,
                    days_field.data if days_field is not None else None,
                )
        except DomainError as error:
            db.session.rollback()
            if error.field == "timezone":
                error.field = "timezone_field"
            elif error.field in RULES:
                error.field = f"{error.field}_days"
            attach_error(form, error)
        else:
            db.session.commit()
            flash("The reminder settings have been saved.", "success")
            return redirect(url_for("reminders.settings"))
    return render_template("reminders/settings.html", form=form, rules=RULES)
