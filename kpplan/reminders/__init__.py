"""Reminders: rules that find what needs doing, an outbox, mail, digests and the scheduler.

The scheduler runs in its own process (``flask --app wsgi kpplan scheduler``); the web app
only reads what it did and lets people choose how they are reminded.
"""
