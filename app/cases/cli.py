"""``tollgate cases ...``: bulk import of historical seizures from the command line."""

import click
from flask.cli import with_appcontext
from sqlalchemy import select

from app.core.errors import ValidationError
from app.extensions import db


@click.group("cases")
def cases_group():
    """Cases: import historical seizures."""


@cases_group.command("import")
@click.argument("csv_file", type=click.File("rb"))
@click.option("--unit", "unit_code", required=True, help="Code of the unit owning the cases.")
@click.option(
    "--map",
    "mappings",
    multiple=True,
    metavar="FIELD=COLUMN",
    help="Map an import field to a CSV column (repeatable); the rest is guessed.",
)
@click.option("--dry-run/--commit", default=True, help="Check only (default) or import.")
@click.option("--skip-duplicates", is_flag=True, help="Skip rows imported before.")
@with_appcontext
def import_command(csv_file, unit_code, mappings, dry_run, skip_duplicates):
    """Import historical seizures from CSV_FILE (nothing is written if any row is wrong)."""
    from app.cases.importer import read_header, run_import, suggest_mapping
    from app.security.access import Actor
    from app.security.models import Unit

    unit = db.session.scalar(select(Unit).where(Unit.code == unit_code.upper()))
    if unit is None:
        raise click.BadParameter(f"no unit {unit_code}", param_hint="--unit")
    data = csv_file.read()
    try:
        mapping = suggest_mapping(read_header(data))
        for pair in mappings:
            field, sep, column = pair.partition("=")
            if not sep:
                raise click.BadParameter(f"{pair!r}: write FIELD=COLUMN", param_hint="--map")
            mapping[field.strip()] = column.strip()
        report = run_import(
            data,
            mapping,
            actor=Actor.system("cli:cases-import"),
            dry_run=dry_run,
            skip_duplicates=skip_duplicates,
            unit_id=unit.id,
        )
    except ValidationError as exc:
        db.session.rollback()
        for name, message in exc.fields.items():
            click.echo(f"error: {name}: {message}", err=True)
        raise SystemExit(1) from None
    for name, message in report.errors.items():
        click.echo(f"error: {name}: {message}", err=True)
    for row, ref, why in report.duplicates:
        click.echo(f"duplicate: row {row} {ref} ({why})")
    if report.errors:
        db.session.rollback()
        click.echo(f"{report.rows} rows checked, {len(report.errors)} errors: nothing imported")
        raise SystemExit(1)
    if dry_run:
        db.session.rollback()
        click.echo(
            f"dry run: {report.rows} rows -> {report.cases} seizures with "
            f"{report.items} items would be imported"
        )
        return
    db.session.commit()
    click.echo(f"imported {report.cases} seizures with {report.items} items")
