"""Reminders: rules that find what needs doing, an outbox, mail, digests and the scheduler.

The scheduler runs in its own process (``flask --app wsgi kpplan scheduler``); the web app
only reads what it did and lets people choose how they are reminded.
"""


def init_app(app) -> None:
    """The bell in the header: its unread count comes with the signed-in user's query."""
    from kpplan.auth.loader import add_user_column
    from kpplan.reminders.queries import unread_of

    add_user_column("unread_notifications", unread_of)
