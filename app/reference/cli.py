"""``tollgate reference ...``: list, load and seed the reference lists."""

import sys
from pathlib import Path

import click
from flask.cli import with_appcontext

from app.core.errors import ValidationError
from app.extensions import db


@click.group("reference")
def reference_group():
    """Reference lists: offices, crossing points, countries, currencies, codes."""


@reference_group.command("list")
@click.argument("list_name", required=False)
@click.option("--all", "show_all", is_flag=True, help="Include deactivated entries.")
@with_appcontext
def list_command(list_name, show_all):
    """Without LIST_NAME: the lists and their sizes; with it: its entries."""
    from app.reference import service

    if not list_name:
        for name, spec in service.LISTS.items():
            click.echo(f"{name:15} {len(service.entries(name)):5} active  {spec.label}")
        return
    try:
        rows = service.entries(list_name, active_only=not show_all)
    except ValidationError as exc:
        raise click.ClickException(str(exc.fields)) from None
    for e in rows:
        place = f" {e.latitude},{e.longitude}" if e.latitude is not None else ""
        rate = f" max {e.max_rate:g} %" if e.max_rate is not None else ""
        state = "" if e.is_active else " (inactive)"
        click.echo(f"{e.code}\t{e.label}{place}{rate}{state}")


@reference_group.command("load")
@click.argument("list_name")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@with_appcontext
def load_command(list_name, path):
    """Load a CSV (code,label[,kind,country,latitude,longitude][,max_rate]) into a list."""
    from app.reference import service
    from app.security.access import Actor

    try:
        report = service.load_rows(
            list_name, path.read_text(encoding="utf-8"), actor=Actor.system("reference-load")
        )
    except (ValidationError, UnicodeDecodeError) as exc:
        db.session.rollback()
        fields = getattr(exc, "fields", {"file": "is not UTF-8 text"})
        for where, message in fields.items():
            click.echo(f"{where}: {message}", err=True)
        sys.exit(1)
    db.session.commit()
    click.echo(f"{report['list']}: {report['added']} added, {report['updated']} updated")


@reference_group.command("seed")
@click.argument("set_names", nargs=-1, required=True)
@with_appcontext
def seed_command(set_names):
    """Add the missing entries of shipped sets (standard, demo, kcs)."""
    from app.reference import service

    try:
        added = service.ensure(*set_names)
    except ValidationError as exc:
        raise click.ClickException(str(exc.fields)) from None
    db.session.commit()
    click.echo(f"{added} entries added")
