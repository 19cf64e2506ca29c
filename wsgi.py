"""The web application, for ``flask --app wsgi`` and ``gunicorn wsgi:app``.

It never starts the reminder scheduler: that runs in its own process.
"""

from kpplan import create_app

app = create_app()
