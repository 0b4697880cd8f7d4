"""The ``tollgate`` command group (Flask CLI): init, demo load, users, trail, serve, worker.

Domains add their own sub-groups to ``app.cli`` in their ``init_app``.
"""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import click
from flask import current_app
from flask.cli import FlaskGroup, with_appcontext

from app import create_app
from app.extensions import db


def _create_app():
    return create_app()


@click.group(
    cls=FlaskGroup,
    create_app=_create_app,
    add_default_commands=False,
    add_version_option=False,
    load_dotenv=False,
)
def main():
    """Tollgate: customs risk, case and intelligence platform."""


def upgrade_database() -> None:
    """Create or upgrade the schema with the Alembic migrations (all heads)."""
    from flask_migrate import upgrade

    upgrade(revision="heads")


@click.command("init")
@with_appcontext
def init_command():
    """Create or upgrade the database; create the trail's checkpoint key and sign its head."""
    from app.security import checkpoints

    upgrade_database()
    click.echo(f"database ready: {db.engine.url.render_as_string(hide_password=True)}")
    try:
        key_file, created = checkpoints.ensure_key()
        if created:
            click.echo(f"trail checkpoint key created: {key_file} (keep a copy apart from backups)")
        cp = checkpoints.write("checkpoint")
    except checkpoints.CheckpointError as exc:
        raise click.ClickException(str(exc)) from exc
    finally:
        db.session.rollback()
    click.echo(f"trail checkpoint #{cp['n']} written to {checkpoints.checkpoint_path()}")


@click.group("demo")
def demo_group():
    """Demo data."""


@demo_group.command("load")
@click.option(
    "--kcs",
    "kcs_dir",
    type=click.Path(exists=True, file_okay=False),
    default=None,
    help="Load the KCS declaration files from this folder instead of generated traffic.",
)
@click.option("--small", is_flag=True, help="A smaller data set (tests, quick starts).")
@with_appcontext
def demo_load(kcs_dir, small):
    """Load demo data (idempotent: running it twice changes nothing)."""
    from app.core.registry import demo_loaders

    options = {"kcs_dir": kcs_dir, "small": small}
    began = time.perf_counter()
    for loader in demo_loaders(current_app):
        started = time.perf_counter()
        click.echo(f"demo: {loader.name} ...", nl=False)
        try:
            loader.load(options)
            db.session.commit()
        except Exception:
            db.session.rollback()
            raise
        click.echo(f" {time.perf_counter() - started:.1f} s")
    click.echo(f"demo: loaded in {time.perf_counter() - began:.1f} s")
    from app.security.demo import print_credentials

    print_credentials()


#: gunicorn's settings, read by path: a ``python:`` module name would make the master import
#: the app package (Flask, SQLAlchemy) before forking its workers.
GUNICORN_CONF = str(Path(__file__).with_name("gunicorn_conf.py"))


@click.command("serve")
@click.option("--host", default="127.0.0.1")
@click.option("--port", default=5000, type=int)
@click.option("--workers", default=2, type=int, help="gunicorn web workers")
@click.option(
    "--with-worker/--no-worker",
    default=True,
    help="Also start the one scheduler process (tollgate worker).",
)
def serve_command(host, port, workers, with_worker):
    """Serve the web application with gunicorn (and the scheduler, by default)."""
    children = []
    if with_worker:
        children.append(subprocess.Popen([sys.executable, "-m", "app.cli", "worker"]))  # noqa: S603
    cmd = [
        sys.executable,
        "-m",
        "gunicorn",
        "--config",
        GUNICORN_CONF,
        "--workers",
        str(workers),
        "--bind",
        f"{host}:{port}",
        "--access-logfile",
        "-",
        "app.wsgi:app",
    ]
    web = subprocess.Popen(cmd)  # noqa: S603
    click.echo(f"Tollgate on http://{host}:{port}  (Ctrl-C stops)")

    def _stop(*_):
        for proc in [web, *children]:
            if proc.poll() is None:
                proc.terminate()

    signal.signal(signal.SIGTERM, _stop)
    try:
        web.wait()
    except KeyboardInterrupt:
        pass
    finally:
        _stop()
        for proc in [web, *children]:
            proc.wait(timeout=30)


def register_commands(app) -> None:
    """Core commands live on ``app.cli`` like every domain's, so ``main`` and tests see them."""
    for command in (init_command, demo_group, serve_command):
        app.cli.add_command(command)


if __name__ == "__main__":  # python -m app.cli
    os.environ.setdefault("FLASK_RUN_FROM_CLI", "false")
    main()
