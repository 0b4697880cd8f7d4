"""``tollgate intel import-ftm | export-ftm | export-stix | import-stix``: the exchange from
the command line, acting as a named user (``--as``) with that user's permissions and unit."""

import sys

import click
from flask.cli import with_appcontext
from sqlalchemy import select

from app.core.errors import ValidationError
from app.core.params import id_value
from app.extensions import db
from app.security.access import AccessDenied, Actor
from app.security.models import User

intel_group = click.Group("intel", help="Intelligence exchange: FollowTheMoney and STIX 2.1.")


def actor_for(username: str) -> Actor:
    user = db.session.scalar(select(User).where(User.username == username.strip().lower()))
    if user is None or not user.is_active:
        raise click.BadParameter(f"no active user {username}", param_hint="--as")
    return Actor.for_user(user, client_addr="cli")


def run(fn):
    """``fn()`` then commit; a refusal rolls back and is printed (a 404 as 'not found')."""
    try:
        result = fn()
        db.session.commit()
        return result
    except ValidationError as exc:
        db.session.rollback()
        raise click.ClickException(str(exc)) from exc
    except AccessDenied as exc:
        db.session.rollback()
        if exc.trail_event is not None:  # the refusal's trail row is kept
            from app.security.trail import copy_event

            db.session.add(copy_event(exc.trail_event))
            db.session.commit()
        raise click.ClickException("not found" if exc.status == 404 else str(exc)) from exc


@intel_group.command("import-ftm")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
@click.option("--as", "as_user", required=True, help="User name of the importer.")
@click.option(
    "--handling",
    "handling_code",
    type=click.Choice(["P", "C"]),
    required=True,
    help="Handling code of the imported records (a line's own stricter code wins).",
)
@click.option("--batch-size", default=1000, show_default=True, type=click.IntRange(1, 50_000))
@click.option(
    "--skip-unsupported",
    is_flag=True,
    help="Count and skip schemata the registry has no place for instead of refusing them.",
)
@with_appcontext
def import_ftm(path, as_user, handling_code, batch_size, skip_unsupported):
    """Import line-delimited FtM JSON; each batch is stored whole or not at all."""
    from app.exchange.ftm_import import FtmImport

    actor = actor_for(as_user)
    job = run(lambda: FtmImport(actor, handling_code, skip_unsupported=skip_unsupported))
    totals = {"created": 0, "reused": 0, "links": 0, "refused": 0}
    with open(path, "rb") as stream:
        results = job.run(stream, batch_size)
        while True:
            try:
                result = run(lambda: next(results, None))
            except click.ClickException:
                raise
            if result is None:
                break
            span = f"lines {result.first_line}-{result.last_line}"
            if result.waiting:
                span = "links and identifications naming entities never stored"
            if result.ok:
                totals["created"] += len(result.created)
                totals["reused"] += len(result.reused)
                totals["links"] += result.links
                skipped = ", ".join(f"{k} {v}" for k, v in sorted(result.skipped.items()))
                click.echo(
                    f"{span}: stored {len(result.created)} entities, reused "
                    f"{len(result.reused)}, {result.links} links"
                    + (f"; skipped {skipped}" if skipped else "")
                )
            else:
                totals["refused"] += 1
                click.echo(f"{span}: REFUSED, nothing of it stored:", err=True)
                for where, reason in result.errors.items():
                    click.echo(f"  {where}: {reason}", err=True)
    click.echo(
        f"done: {totals['created']} entities created, {totals['reused']} reused, "
        f"{totals['links']} links, {totals['refused']} batch(es) refused"
    )
    if totals["refused"]:
        sys.exit(1)


@intel_group.command("export-ftm")
@click.option("--as", "as_user", required=True, help="User name of the exporter.")
@click.option("--entity", "entity_id", help="Export this entity and its neighbourhood.")
@click.option("--ids", help="Export these entities (a chart), comma-separated ids.")
@click.option("--justification", required=True, help="Why the records leave Tollgate.")
@click.option("-o", "--output", type=click.File("wb"), default="-")
@with_appcontext
def export_ftm(as_user, entity_id, ids, justification, output):
    """Export a chart or an entity's neighbourhood as FtM, as the user may see it."""
    from app.exchange import ftm_export

    actor = actor_for(as_user)
    if bool(entity_id) == bool(ids):
        raise click.UsageError("give --entity or --ids")
    if entity_id:
        number = id_value(entity_id, "entity", strict=True)
        out = run(
            lambda: ftm_export.export_neighbourhood(
                number, actor=actor, justification=justification
            )
        )
    else:
        numbers = [id_value(i, "ids", strict=True) for i in ids.split(",") if i.strip()]
        out = run(
            lambda: ftm_export.export(
                numbers, actor=actor, justification=justification, what="chart"
            )
        )
    output.write(out.body)
    left = ", ".join(f"{k} {v}" for k, v in sorted(out.left_out.items()))
    click.echo(
        f"exported {len(out.entities)} entities and {len(out.links)} links"
        + (f"; left out (no FtM schema): {left}" if left else ""),
        err=True,
    )


@intel_group.command("export-stix")
@click.option("--as", "as_user", required=True, help="User name of the exporter.")
@click.option("--report", "report_id", required=True, help="The intelligence report's id.")
@click.option("--justification", required=True, help="Why the report leaves Tollgate.")
@click.option("-o", "--output", type=click.File("wb"), default="-")
@with_appcontext
def export_stix(as_user, report_id, justification, output):
    """Export an intelligence report, its entities and graded links as a STIX 2.1 bundle."""
    from app.exchange import stix

    actor = actor_for(as_user)
    number = id_value(report_id, "report", strict=True)
    out = run(lambda: stix.export_report(number, actor=actor, justification=justification))
    output.write(out.body)
    left = ", ".join(f"{k} {v}" for k, v in sorted(out.left_out.items()))
    click.echo(
        f"exported {len(out.entities)} entities and {len(out.links)} relationships"
        + (f"; left out (no STIX object): {left}" if left else ""),
        err=True,
    )


@intel_group.command("import-stix")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
@click.option("--as", "as_user", required=True, help="User name of the importer.")
@click.option("--handling", "handling_code", type=click.Choice(["P", "C"]), required=True)
@with_appcontext
def import_stix(path, as_user, handling_code):
    """Register a STIX 2.1 bundle's identities, locations and relationships as resolution
    candidates (new entities beside their look-alikes; nothing is merged)."""
    from app.exchange.stix_import import import_bundle

    actor = actor_for(as_user)
    with open(path, "rb") as fh:
        data = fh.read()
    summary = run(lambda: import_bundle(data, actor=actor, handling_code=handling_code))
    skipped = ", ".join(f"{k} {v}" for k, v in sorted(summary.skipped.items()))
    click.echo(
        f"registered {len(summary.created)} entities and {summary.links} links; "
        f"{summary.candidates} resolution candidate(s) wait in the queue"
        + (f"; skipped {skipped}" if skipped else "")
    )
