"""The web application, for ``flask --app wsgi`` and ``gunicorn wsgi:app``.

It never starts the reminder scheduler: that runs in its own process. What the app is built
of is set aside from the garbage collector (``settled``), in each gunicorn worker as it
imports this module (or in the master, before it forks, with ``--preload``).
"""

from kpplan import create_app, settled

app = settled(create_app())
