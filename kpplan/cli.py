"""The ``flask --app wsgi kpplan ...`` commands."""

from __future__ import annotations

import sys
from pathlib import Path

import click
from flask.cli import AppGroup
from sqlalchemy import func, select

from kpplan.core.errors import DomainError
from kpplan.core.extensions import db
from kpplan.core.files import readable_size
from kpplan.directory.models import Role, State

kpplan_group = AppGroup("kpplan", help="Manage kpplan: accounts, reference and demo data.")


@kpplan_group.command("create-user")
@click.argument("email")
@click.option(
    "--role",
    required=True,
    type=click.Choice([r.value for r in Role]),
    help="What the person does in the Process.",
)
@click.option("--state", "state_name", help="The state of a focal point or the Chair's delegate.")
@click.option("--name", help="The person's name (defaults to the part of EMAIL before the @).")
@click.option("--alternate", is_flag=True, help="Mark a focal point as their state's alternate.")
@click.option(
    "--password-stdin",
    is_flag=True,
    help="Read the password from standard input instead of asking for it.",
)
def create_user(
    email: str,
    role: str,
    state_name: str | None,
    name: str | None,
    alternate: bool,
    password_stdin: bool,
) -> None:
    """Create an account that signs in with EMAIL.

    Example: flask --app wsgi kpplan create-user ana@example.org --role focal_point --state Kenya
    """
    from kpplan.directory import services

    state = None
    if state_name:
        state = db.session.scalar(
            select(State).where(func.lower(State.name) == state_name.strip().lower())
        )
        if state is None:
            raise click.BadParameter(
                f"No state called {state_name!r}; the names are those on the States page.",
                param_hint="--state",
            )
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    try:
        user = services.create_user(
            None,
            name=name or email.split("@")[0],
            email=email,
            role=Role(role),
            password=password,
            state=state,
            is_alternate=alternate,
        )
    except DomainError as error:
        db.session.rollback()
        raise click.ClickException(error.message) from error
    db.session.commit()
    where = f" for {user.state.name}" if user.state else ""
    click.echo(f"Created {user.email}: {user.role.label}{where}.")


@kpplan_group.command("seed")
@click.option("--demo", is_flag=True, help="Also load the demo accounts and demo records.")
def seed_command(demo: bool) -> None:
    """Load the member states and organisations; with --demo, the demo data as well.

    Safe to run again: what exists already is left as it is.
    """
    from kpplan.seed import DEMO_ACCOUNTS, DEMO_FOCAL_POINTS, DEMO_PASSWORD, seed

    added = seed(demo=demo)
    click.echo(
        f"Reference data: {added['states']} states and {added['organisations']} organisations "
        "added."
    )
    if demo:
        click.echo(f"Demo history: {added['activities']} past activities added.")
        click.echo(
            f"Demo upcoming activities (illustrative): {added['upcoming']} added, dated from today."
        )
        click.echo(
            f"Demo recommendations (illustrative): {added['recommendations']} added, "
            "with their follow-up."
        )
        click.echo(f"Demo chairmanships: {added['chairmanships']} added.")
        click.echo(f"Demo review snapshots (illustrative): {added['snapshots']} taken.")
        click.echo(
            f"Demo invitations: {added['invitations']} upcoming activities invite, with "
            "illustrative nominations."
        )
        click.echo(f"Demo accounts: {added['accounts']} added. Sign in with any of these:")
        for email, _name, role, state, _alt in DEMO_ACCOUNTS:
            where = f" ({state})" if state else ""
            click.echo(f"  {email:<34} {role.label}{where}")
        click.echo(
            f"  and the illustrative focal points of {len(DEMO_FOCAL_POINTS)} more states: "
            "focal.<state>@kpplan.example (e.g. focal.egypt@kpplan.example, "
            "focal.south-sudan@kpplan.example)."
        )
        click.echo(f"  password for all of them: {DEMO_PASSWORD}")


@kpplan_group.command("scheduler")
def scheduler_command() -> None:
    """Run the reminder scheduler in this process, until stopped.

    Only one runs at a time: a second one waits and takes over when the first one stops.
    """
    from flask import current_app

    from kpplan.reminders.scheduler import run_scheduler

    run_scheduler(current_app._get_current_object())


@kpplan_group.command("remind")
@click.option(
    "--now",
    "moment",
    help="The moment to run for, such as 2026-12-01T08:00 (in the Process's timezone unless "
    "it says otherwise). Default: now.",
)
@click.option(
    "--dry-run", is_flag=True, help="Show what would be planned and sent; change nothing."
)
def remind_command(moment: str | None, dry_run: bool) -> None:
    """Run the reminder job once and say what it planned and sent.

    Its mails link to kpplan at BASE_URL, as the scheduler's do.
    """
    from datetime import UTC, datetime

    from flask import current_app

    from kpplan.core.db import utcnow
    from kpplan.reminders.planner import tick
    from kpplan.reminders.settings import process_timezone

    if moment:
        try:
            now = datetime.fromisoformat(moment)
        except ValueError:
            raise click.BadParameter(
                "Give a date and time such as 2026-12-01T08:00.", param_hint="--now"
            ) from None
        if now.tzinfo is None:
            now = now.replace(tzinfo=process_timezone())
        now = now.astimezone(UTC)
    else:
        now = utcnow()
    report = tick(now, runner="command", dry_run=dry_run)
    heading = "Dry run, nothing changed" if dry_run else "Reminders"
    click.echo(f"{heading} at {now:%Y-%m-%d %H:%M} UTC:")
    click.echo(f"Links in the mails start with {current_app.config['BASE_URL']} (BASE_URL).")
    click.echo(f"Planned {report.planned_count}:")
    for planned in report.planned:
        click.echo(
            f"  {planned.rule} {planned.subject_key} {planned.period_key} "
            f"to user {planned.user_id}: {planned.title}"
        )
    if report.planned_count > len(report.planned):
        click.echo(f"  and {report.planned_count - len(report.planned)} more (see the outbox)")
    click.echo(f"Summaries {len(report.digests)}:")
    for user_id, period in report.digests:
        click.echo(f"  user {user_id}: {period}")
    verb = "Would send" if dry_run else "Sent"
    click.echo(f"{verb} {len(report.send.sent)}:")
    for row in report.send.sent:
        click.echo(f"  #{row.id} to {row.user.email}: {row.title}")
    if report.send.retried:
        click.echo(f"To retry {len(report.send.retried)}:")
        for row in report.send.retried:
            click.echo(f"  #{row.id} to {row.user.email}: {row.last_error}")
    if report.send.failed:
        click.echo(f"Failed {len(report.send.failed)}:")
        for row in report.send.failed:
            click.echo(f"  #{row.id} to {row.user.email}: {row.last_error}")
    for error in report.errors:
        click.echo(f"Problem: {error}", err=True)


def _count(number: int, thing: str) -> str:
    return f"{number} {thing}{'' if number == 1 else 's'}"


@kpplan_group.command("backup")
@click.argument("destination", type=click.Path(path_type=Path))
def backup_command(destination: Path) -> None:
    """Back up the database, the uploaded files and the secret key into one archive.

    DESTINATION is a folder (made if missing), in which the archive is named
    kpplan-backup-<UTC date and time>.tar.gz, or the archive's own name ending in .tar.gz.
    kpplan may go on working meanwhile.
    """
    from kpplan.operations.backup import make_backup

    try:
        result = make_backup(destination)
    except DomainError as error:
        raise click.ClickException(error.message) from error
    database = result.manifest["database"]
    click.echo(
        f"Backed up into {result.path} ({readable_size(result.size)}, {result.seconds:.1f} s): the "
        f"{database['kind']} database at revision {database['revision']} "
        f"({_count(result.rows, 'row')} in {_count(len(database['tables']), 'table')}), "
        f"{_count(result.uploads, 'uploaded file')} and the secret key."
    )


@kpplan_group.command("restore")
@click.argument("source", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--upgrade",
    is_flag=True,
    help="Accept an archive of an older kpplan and apply the migrations once it is restored.",
)
def restore_command(source: Path, upgrade: bool) -> None:
    """Restore a backup archive into this installation, whose database and upload folder
    must be empty.

    The whole archive is checked first; nothing is changed when it is damaged or does not
    fit this kpplan.
    """
    from kpplan.operations.restore import restore_backup

    try:
        result = restore_backup(source, upgrade=upgrade)
    except DomainError as error:
        raise click.ClickException(error.message) from error
    manifest = result.manifest
    database = manifest["database"]
    uploads = sum(1 for f in manifest["files"] if f["path"].startswith("uploads/"))
    click.echo(
        f"Restored the backup of {manifest['created_at']} (kpplan {manifest['kpplan_version']}): "
        f"the {database['kind']} database at revision {database['revision']} "
        f"({_count(sum(database['tables'].values()), 'row')}, checked), "
        f"{_count(uploads, 'uploaded file')} and the secret key."
    )
    if result.upgraded_to:
        click.echo(f"Upgraded the database to revision {result.upgraded_to}.")
    for note in result.notes:
        click.echo(f"Note: {note}")
    click.echo("Start kpplan (or restart it) to use it.")


@kpplan_group.command("forget-participants")
@click.option(
    "--before",
    "before",
    help="Erase the delegates of activities that ended before this day (YYYY-MM-DD). "
    "Default: PARTICIPANT_RETENTION_MONTHS months before today.",
)
@click.option("--dry-run", is_flag=True, help="Say whose details would be erased; erase nothing.")
def forget_participants_command(before: str | None, dry_run: bool) -> None:
    """Erase the personal details of past activities' delegates; only the counts remain.

    The scheduler does it every day for the activities past their retention period.
    """
    from datetime import date

    from flask import current_app

    from kpplan.core.clock import today
    from kpplan.core.db import utcnow
    from kpplan.participants import retention

    if before:
        try:
            cutoff = date.fromisoformat(before)
        except ValueError:
            raise click.BadParameter(
                "Give a day such as 2025-01-31.", param_hint="--before"
            ) from None
        if cutoff > today():
            raise click.BadParameter(
                "The day is after today: only activities that are over can be forgotten.",
                param_hint="--before",
            )
    else:
        months = int(current_app.config["PARTICIPANT_RETENTION_MONTHS"])
        cutoff = retention.retention_cutoff(today(), months)
    if dry_run:
        lists = retention.lists_to_forget(cutoff)
        click.echo(f"Dry run, nothing erased: activities that ended before {cutoff}:")
        for invitation_list in lists:
            click.echo(f"  {invitation_list.activity.title} ({invitation_list.activity.end_date})")
        if not lists:
            click.echo("  none with delegates on record.")
        return
    report = retention.forget_before(None, cutoff, utcnow())
    db.session.commit()
    click.echo(
        f"Erased the personal details of {report.delegates} delegates of "
        f"{len(report.activities)} activities that ended before {cutoff}; their counts remain."
    )
    for title, count in report.activities:
        click.echo(f"  {title}: {count}")


@kpplan_group.command("recount")
@click.option(
    "--check",
    is_flag=True,
    help="Only compare the kept figures with a full count; list the differences and exit "
    "with status 1 when there are any. Changes nothing.",
)
def recount_command(check: bool) -> None:
    """Count the follow-up figures again from every follow-up.

    The figures of the shares, the home page, the statistics and the Chair's review are
    kept up to date on every change made through kpplan; a change made to the database by
    hand (SQL) is not counted until this command runs. The figures of the day (overdue, due
    soon, not updated, awaiting validation) are counted for today and the days in force;
    --check compares them with a count at the day they were counted for. It also counts
    what changed between review snapshots where that is not kept yet (after an upgrade, or
    after a snapshot was removed with its meeting).
    """
    from kpplan.core.clock import today
    from kpplan.recommendations import day_figures, deadlines, tallies, tally_check
    from kpplan.review import services as review_services

    connection = db.session.connection()
    if check:
        found = tally_check.differences(connection)
        db.session.rollback()
        if not found:
            click.echo("The kept follow-up figures match a full count.")
            return
        for key, have, want in found[:200]:
            click.echo(f"  {tally_check.describe(key)}: kept {have}, counted {want}")
        more = " (the first 200 listed)" if len(found) > 200 else ""
        click.echo(
            f"{len(found)} kept follow-up figures differ from a full count{more}; "
            "run `flask --app wsgi kpplan recount` to put them right.",
            err=True,
        )
        sys.exit(1)
    tallies.recount(connection)
    day_figures.count_the_day(connection, today(), deadlines.current())
    compared = review_services.compare_all()
    db.session.commit()
    click.echo("The follow-up figures were counted again from every follow-up.")
    if compared:
        click.echo(f"What changed between review snapshots was counted for {compared} of them.")
