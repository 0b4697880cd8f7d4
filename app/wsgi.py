"""WSGI entry point for gunicorn: ``gunicorn app.wsgi:app``. Never starts a scheduler."""

from app import create_app
from app.core.registry import run_warm_ups

app = create_app()
# Each gunicorn worker imports this before it accepts a connection: the domains' caches
# (the risk engine, the ML model ...) are ready for the first request.
run_warm_ups(app)
