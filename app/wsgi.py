"""WSGI entry point for gunicorn: ``gunicorn app.wsgi:app``. Never starts a scheduler."""

from app import create_app

app = create_app()
