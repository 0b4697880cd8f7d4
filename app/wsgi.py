"""WSGI entry point for gunicorn: ``gunicorn app.wsgi:app``. Never starts a scheduler."""

import sys

from app import create_app
from app.core.registry import ready_worker

app = create_app()
# Each gunicorn worker imports this before it accepts a connection: the domains' caches
# (the risk engine, the ML model ...) are ready for the first request, then frozen out of
# the garbage collector's sight (app.core.registry.ready_worker). Not for a command
# that only names this module (``flask --app app.wsgi db upgrade``): it may run before the
# tables exist, and needs none of it.
if "gunicorn" in sys.modules:
    ready_worker(app)
