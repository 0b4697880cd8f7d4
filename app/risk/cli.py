"""``tollgate risk ...``: import history, refresh derived data, benchmark."""

import json
import sys
from pathlib import Path

import click
from flask.cli import with_appcontext

from app.core.errors import ValidationError
from app.extensions import db


@click.group("risk")
def risk_group():
    """Risk targeting: declarations, profiles, selectivity."""


@risk_group.command("import")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
@click.option("--mapping", help='JSON: {"field": "Column name", ...}')
@click.option("--dry-run", is_flag=True, help="Only check the file.")
@click.option("--skip-existing", is_flag=True, help="Skip declarations already present.")
@with_appcontext
def import_command(path, mapping, dry_run, skip_existing):
    """Import declaration history from a CSV file (KCS files as they are)."""
    from app.risk.importer import import_declarations
    from app.security.access import Actor

    try:
        report = import_declarations(
            path,
            mapping=json.loads(mapping) if mapping else None,
            actor=Actor.system("risk-import"),
            dry_run=dry_run,
            on_duplicate="skip" if skip_existing else "error",
        )
    except ValidationError as exc:
        db.session.rollback()
        for where, message in exc.fields.items():
            click.echo(f"{where}: {message}", err=True)
        sys.exit(1)
    db.session.commit()
    click.echo(json.dumps(report.as_dict()))


@risk_group.command("refresh-peers")
@with_appcontext
def refresh_peers_command():
    """Recompute the HS6 peer median unit values."""
    from app.risk.derived import refresh_peer_medians

    count = refresh_peer_medians()
    db.session.commit()
    click.echo(f"{count} HS6 peer medians")


@risk_group.command("bench")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@click.option("--skip-http", is_flag=True, help="Leave out the HTTP load test.")
@click.option("--quick", is_flag=True, help="Smaller workloads (a smoke run).")
@click.option("--only-http", is_flag=True, help="Only the HTTP load test.")
def bench_command(as_json, skip_http, quick, only_http):
    """Engine, HTTP and simulation benchmarks (see bench/README.md)."""
    root = Path(__file__).resolve().parent.parent.parent
    sys.path.insert(0, str(root))
    from bench.bench_risk import main as bench_main

    bench_main(as_json=as_json, skip_http=skip_http, quick=quick, only_http=only_http)
