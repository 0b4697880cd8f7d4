"""``tollgate screening ...``: load a list version, list the lists, screen a name."""

import json
import sys
from datetime import date
from pathlib import Path

import click
from flask.cli import with_appcontext

from app.core.errors import ValidationError
from app.extensions import db


@click.group("screening")
def screening_group():
    """Sanctions and watch lists the parties of declarations are screened against."""


def _version_date(_ctx, _param, value):
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise click.BadParameter("a date, YYYY-MM-DD") from None


@screening_group.command("load")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--name", required=True, help="The list's name (a new name makes a new list).")
@click.option("--source", default="", help="Who publishes it.")
@click.option("--version-date", required=True, callback=_version_date, help="YYYY-MM-DD")
@click.option("--sensitivity", type=click.Choice(["P", "C"]), default="P", show_default=True)
@click.option("--threshold", type=float, default=None, help="Score of a hit, 0..1 (new: 0.7).")
@click.option(
    "--mapping",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="JSON mapping of a CSV file's columns (without it the file is FtM JSON lines).",
)
@with_appcontext
def load_command(path, name, source, version_date, sensitivity, threshold, mapping):
    """Load FILE (FtM JSON lines, or CSV with --mapping) as a new version of a list."""
    from app.screening import loader, service
    from app.security.access import Actor

    try:
        spec = json.loads(mapping.read_text(encoding="utf-8")) if mapping else None
        version = loader.load_list(
            path,
            name=name,
            source=source,
            version_date=version_date,
            sensitivity=sensitivity,
            threshold=threshold,
            file_format="csv" if mapping else "ftm",
            mapping=spec,
            actor=Actor.system("screening-load"),
        )
    except (ValidationError, ValueError) as exc:
        db.session.rollback()
        fields = getattr(exc, "fields", None) or {"mapping": f"is not JSON ({exc})"}
        for where, message in fields.items():
            click.echo(f"{where}: {message}", err=True)
        click.echo("Nothing was loaded.", err=True)
        sys.exit(1)
    db.session.commit()
    service.invalidate()
    click.echo(
        f"{name} {version_date}: {version.entry_count} entries "
        f"({version.added} added, {version.removed} removed, {version.changed} changed, "
        f"{version.skipped} other entities skipped)"
    )


@screening_group.command("lists")
@with_appcontext
def lists_command():
    """The lists, their current versions and sizes."""
    from app.screening import admin

    for row in admin.lists():
        state = "active" if row["is_active"] else "inactive"
        click.echo(
            f"{row['id']:4} {row['name']:30} {row['version_date'] or '-':10} "
            f"{row['entries']:9} entries  {row['sensitivity']}  >= {row['threshold']:.2f}  {state}"
        )


@screening_group.command("screen")
@click.argument("name")
@click.option("--schema", default="LegalEntity")
@click.option("--country", default=None)
@click.option("--identifier", "identifiers", multiple=True)
@click.option("--birth-date", default=None)
@with_appcontext
def screen_command(name, schema, country, identifiers, birth_date):
    """Screen one name against the active lists and print the matches with their reasons."""
    from app.screening.service import PartyQuery, screen

    query = PartyQuery(name, schema, country, tuple(identifiers), birth_date)
    for m in screen(query):
        click.echo(f"{m.score:.3f} {m.list_name} {m.entry_id} {m.entry_caption}")
        for reason in m.reasons:
            click.echo(f"       {reason}")
