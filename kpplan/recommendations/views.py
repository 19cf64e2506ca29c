"""Recommendations: the list and its export, the shares, one recommendation's page, its
edit and withdrawal, one activity's recommendations and the form that records them.

The blueprint is in ``blueprint``; the follow-up views and the imports register their
routes on it from ``follow_up_views`` and ``import_views``, imported here.
"""

from __future__ import annotations

from collections.abc import Callable

from flask import (
    abort,
    current_app,
    flash,
    get_template_attribute,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user
from markupsafe import Markup
from sqlalchemy.orm.exc import StaleDataError

# The follow-up views and the imports add their routes to ``bp`` when imported.
import kpplan.recommendations.follow_up_views  # noqa: F401
import kpplan.recommendations.import_views  # noqa: F401
from kpplan import permissions
from kpplan.core import spreadsheets
from kpplan.core.cache import kept_fragment, memoised, watch
from kpplan.core.clock import timezone_name, today
from kpplan.core.errors import DomainError, StaleEdit
from kpplan.core.etags import page_etag, unchanged, with_etag
from kpplan.core.extensions import db
from kpplan.core.forms import attach_error
from kpplan.core.kept_pages import kept_page
from kpplan.core.links import row_link
from kpplan.core.requests import acting_user, enum_arg, int_arg, save_form
from kpplan.directory.models import State
from kpplan.meetings.models import Activity
from kpplan.recommendations import figures, lists, queries, recommendation_page, services
from kpplan.recommendations.blueprint import bp, current_scope, download
from kpplan.recommendations.exports import RECOMMENDATION_COLUMNS, recommendation_row
from kpplan.recommendations.follow_up_models import FollowUp
from kpplan.recommendations.forms import RecommendationForm, RecordForm, WithdrawForm
from kpplan.recommendations.models import Lineage, Recommendation, RecommendationTheme
from kpplan.recommendations.search import search_words
from kpplan.recommendations.statuses import FollowUpStatus
from kpplan.recommendations.themes import BY_CODE, THEMES

__all__ = ["bp"]


def _predecessor(code: str | None) -> tuple[Recommendation | None, str | None]:
    code = (code or "").strip()
    if not code:
        return None, None
    found = queries.recommendation_by_code(code)
    if found is None:
        return None, f"No recommendation has the code {code}."
    return found, None


def _superseding_note(drafts: list[services.Draft]) -> str:
    """What recording or saving ``drafts`` did to the follow-ups of those they supersede."""
    notes = []
    for draft in drafts:
        if draft.lineage is not Lineage.SUPERSEDES or draft.predecessor is None:
            continue
        earlier = draft.predecessor
        if draft.keep_predecessor_open:
            notes.append(f" The follow-ups of {earlier.code} stay open, as you chose.")
            continue
        waiting = sum(1 for f in earlier.follow_ups if f.pending_update_id is not None)
        notes.append(
            f" The open follow-ups of {earlier.code} are closed as “superseded”"
            + (
                f"; {waiting} awaiting validation stay{'s' if waiting == 1 else ''} open "
                "until you validate or return them."
                if waiting
                else "."
            )
        )
    return "".join(notes)


# --- All recommendations ------------------------------------------------------------


def _filters() -> lists.Filters:
    theme = request.args.get("theme", "").upper()
    show = request.args.get("show", "open")
    return lists.Filters(
        status=enum_arg(FollowUpStatus, "status"),
        state_id=int_arg("state"),
        theme=theme if theme in BY_CODE else None,
        activity_id=int_arg("activity"),
        year=int_arg("year", 1, 9999),
        overdue=request.args.get("overdue") == "1",
        words=request.args.get("q", "").strip()[:100],
        show=show if show in ("open", "withdrawn", "all") else "open",
    )


def _activity_options(chosen: int | None) -> Markup:
    """The options of the list's activity filter, written once until an activity or a
    recommendation changes: the latest 150 activities at scale, more of the page than its
    rows, the same for every reader and every other filter."""

    def write() -> Markup:
        html = render_template(
            "recommendations/_activity_options.html",
            activities=lists.activities_with_recommendations(chosen),
            chosen=chosen,
        )
        # The output of an autoescaped template: every value in it is escaped already.
        return Markup(html)  # noqa: S704

    return memoised("recommendation-list:activity-options", (chosen,), lists.ACTIVITIES_READ, write)


@bp.route("/recommendations/")
@kept_page
def index():
    filters = _filters()
    page, page_figures = lists.recommendations_page(
        filters,
        current_scope(),
        today(),
        request.args.get("cursor"),
        current_app.config["PAGE_SIZE"],
    )
    return render_template(
        "recommendations/index.html",
        page=page,
        list_row=_list_rows(page_figures),
        filters=filters,
        # Matches come in the index's order, the most recently recorded first.
        by_words=bool(search_words(filters.words)),
        statuses=list(FollowUpStatus),
        themes=THEMES,
        years=lists.recommendation_years(),
        states=lists.member_state_choices() if current_scope().everything else [],
        activity_options=_activity_options(filters.activity_id),
    )


def _list_rows(
    page_figures: dict[int, figures.Figures],
) -> Callable[[lists.ListedRecommendation], Markup]:
    """A row of the recommendation list (``recommendations/_list_row.html``), kept for the
    values it shows (``kept_fragment``): a list read again after a status update writes again
    only the rows whose figures changed, and a page of fifty rows costs little more to write
    than a page of one."""
    write = get_template_attribute("recommendations/_list_row.html", "list_row")
    link = row_link("recommendations.recommendation", "recommendation_id")
    root = request.script_root

    def row(r: lists.ListedRecommendation) -> Markup:
        f = page_figures.get(r.id)
        shown = (
            *(r.id, r.code, r.text, r.target_date, r.is_withdrawn, r.illustrative),
            *(r.activity_title, tuple(r.theme_codes)),
        )
        counted = (f.total, f.implemented, f.overdue, f.pending, f.not_applicable) if f else None
        key = (root, shown, counted)
        return kept_fragment("recommendation_list_row", key, lambda: write(r, f, link))

    return row


@bp.route("/recommendations/export.<any(csv, xlsx):fmt>")
def export(fmt: str):
    """The recommendations the filters find, in the columns the import reads."""
    rows = [recommendation_row(r) for r in lists.export_rows(_filters(), current_scope(), today())]
    if fmt == "xlsx":
        body = spreadsheets.write_xlsx("Recommendations", RECOMMENDATION_COLUMNS, rows)
    else:
        body = spreadsheets.write_csv(RECOMMENDATION_COLUMNS, rows)
    return download(body, f"kpplan-recommendations-{today():%Y-%m-%d}", fmt)


# What the shares page shows (besides the layout): its ETag's stamps.
_SHARES_READ = watch(FollowUp, Recommendation, RecommendationTheme, State)


@bp.route("/recommendations/shares")
@kept_page
def shares():
    etag = page_etag(*_SHARES_READ)
    if etag and (answer := unchanged(etag)) is not None:
        return answer
    scope = current_scope()
    response = make_response(
        render_template(
            "recommendations/shares.html",
            by_state=figures.shares_by_state(scope),
            by_theme=figures.shares_by_theme(scope),
            totals=figures.status_totals(scope),
            statuses=list(FollowUpStatus),
        )
    )
    return with_etag(response, etag) if etag else response


@bp.route("/recommendations/<int:recommendation_id>")
@kept_page
def recommendation(recommendation_id: int):
    found = recommendation_page.recommendation_shown(recommendation_id)
    if found is None:
        abort(404)
    day = today()
    addressees = recommendation_page.addressees_of(found.id, current_scope())
    withdraw_form = None
    if permissions.can_record_recommendations(current_user) and not found.is_withdrawn:
        withdraw_form = WithdrawForm(data={"version": found.version})
    return render_template(
        "recommendations/recommendation.html",
        recommendation=found,
        follow_ups=addressees,
        follow_up_link=row_link("recommendations.follow_up", "follow_up_id"),
        timelines=_timelines(addressees, day),
        successors=found.successors,
        figures=recommendation_page.figures_of(addressees, day),
        withdraw_form=withdraw_form,
        today=day,
    )


def _timelines(addressees: list[recommendation_page.AddresseeShown], day) -> list[Markup]:
    """The timeline of each addressee that reported, each kept for the values it shows
    (``kept_fragment``): the follow-up and its updates (values only), the day (its
    "Overdue"), the Process's timezone (the moments), whether it is the page's only
    addressee (shown open) and the address's root. After a status update only the
    timeline it changed is written again."""
    write = get_template_attribute("recommendations/_timeline.html", "state_timeline")
    key = (request.script_root, timezone_name(), day, len(addressees) == 1)
    return [
        kept_fragment("recommendation_timeline", (*key, a), lambda a=a: write(a, day, key[-1]))
        for a in addressees
        if a.updates
    ]


def _recommendation_or_404(recommendation_id: int) -> Recommendation:
    return db.get_or_404(Recommendation, recommendation_id)


@bp.route("/recommendations/<int:recommendation_id>/edit", methods=["GET", "POST"])
def edit(recommendation_id: int):
    permissions.require(permissions.can_record_recommendations(current_user))
    found = _recommendation_or_404(recommendation_id)
    if found.is_withdrawn:
        flash("This recommendation has been withdrawn; it is kept as it was.", "error")
        return redirect(url_for(".recommendation", recommendation_id=found.id))
    form = RecommendationForm()
    choices = form.set_choices()
    if request.method == "GET":
        form.version.data = found.version
        form.fields.form.fill_from(found)
    status = 200
    if form.validate_on_submit():
        predecessor, error = _predecessor(form.fields.form.predecessor.data)
        if error:
            form.fields.form.predecessor.errors.append(error)
        else:
            draft = form.fields.form.draft(choices, predecessor)
            superseding = draft.lineage is Lineage.SUPERSEDES and (
                found.lineage is not Lineage.SUPERSEDES
                or found.predecessor_id != (predecessor.id if predecessor else None)
            )
            try:
                try:
                    saved = services.update_recommendation(
                        acting_user(), found, form.version.data, draft, form.revision_reason.data
                    )
                    db.session.commit()
                except StaleDataError:  # saved by someone else between our read and write
                    raise StaleEdit.at_the_same_moment() from None
            except DomainError as error:
                db.session.rollback()
                status = 409 if isinstance(error, StaleEdit) else 200
                # The service names the recommendation's fields: show its message there.
                inner = getattr(form.fields.form, error.field or "", None)
                if inner is not None:
                    inner.errors = [*inner.errors, error.message]
                else:
                    attach_error(form, error)
            else:
                flash(
                    f"{saved.code} has been saved."
                    + (_superseding_note([draft]) if superseding else ""),
                    "success",
                )
                return redirect(url_for(".recommendation", recommendation_id=saved.id))
    return render_template(
        "recommendations/edit.html",
        form=form,
        recommendation=found,
        has_reports=services.has_reports(found),
    ), status


@bp.route("/recommendations/<int:recommendation_id>/withdraw", methods=["POST"])
def withdraw(recommendation_id: int):
    permissions.require(permissions.can_record_recommendations(current_user))
    found = _recommendation_or_404(recommendation_id)
    form = WithdrawForm()
    if not form.validate():
        flash("Say why the recommendation is withdrawn.", "error")
        return redirect(url_for(".recommendation", recommendation_id=found.id))
    try:
        services.withdraw(acting_user(), found, form.version.data, form.reason.data)
    except DomainError as error:
        db.session.rollback()
        flash(error.message, "error")
    else:
        db.session.commit()
        flash(f"{found.code} has been withdrawn; it stays on record.", "success")
    return redirect(url_for(".recommendation", recommendation_id=recommendation_id))


# --- One activity's recommendations -------------------------------------------------


@bp.route("/activities/<int:activity_id>/recommendations")
@kept_page
def activity_matrix(activity_id: int):
    activity = db.get_or_404(Activity, activity_id)
    return render_template(
        "recommendations/activity.html",
        activity=activity,
        matrix=queries.activity_matrix(activity, current_scope()),
        today=today(),
    )


@bp.route("/activities/<int:activity_id>/recommendations/new", methods=["GET", "POST"])
def record(activity_id: int):
    """Several recommendations of one meeting in one form."""
    permissions.require(permissions.can_record_recommendations(current_user))
    activity = db.get_or_404(Activity, activity_id)
    not_held = services.not_held_problem(activity)
    if not_held is not None:
        # Refused before any form is read: nothing is recorded for what has not taken place.
        flash(not_held.message, "error")
        return redirect(url_for("meetings.activity", activity_id=activity.id))
    rows = min(int_arg("rows", 1, 1_000_000) or 3, 30)
    form = RecordForm()
    while request.method == "GET" and len(form.entries) < rows:
        form.entries.append_entry()
    choices = form.set_choices()
    status = 200
    if form.validate_on_submit():
        # Every block is checked before anything is recorded, so that each shows its
        # message at once; then all are recorded together, or none.
        drafts, failed = [], False
        for entry in form.entries:
            if entry.form.is_blank:
                continue
            predecessor, error = _predecessor(entry.form.predecessor.data)
            if error:
                entry.form.predecessor.errors.append(error)
                failed = True
                continue
            draft = entry.form.draft(choices, predecessor)
            try:
                services.check_draft(draft)
            except DomainError as problem:
                field = getattr(entry.form, problem.field or "text", entry.form.text)
                field.errors.append(problem.message)
                failed = True
            else:
                drafts.append(draft)
        if not drafts and not failed:
            form.entries[0].form.text.errors.append("Write at least one recommendation.")
            failed = True
        if not failed:
            created, status = save_form(
                form,
                lambda: services.record_recommendations(acting_user(), activity, drafts),
            )
            if created is not None:
                flash(
                    f"{len(created)} recommendation{'s' if len(created) != 1 else ''} recorded: "
                    + ", ".join(r.code for r in created)
                    + "."
                    + _superseding_note(drafts),
                    "success",
                )
                return redirect(url_for(".activity_matrix", activity_id=activity.id))
    return render_template(
        "recommendations/record.html", form=form, activity=activity, rows=rows
    ), status
