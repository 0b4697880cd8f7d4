"""``tollgate backup``, ``tollgate restore`` and ``tollgate retention``."""

import click
from flask.cli import with_appcontext

from app.extensions import db


@click.command("backup")
@click.option(
    "--to",
    "to_dir",
    type=click.Path(file_okay=False),
    default=None,
    help="Folder that receives the backup (default: <instance>/backups).",
)
@click.option(
    "--reason",
    default="routine backup",
    show_default=True,
    help="Why (recorded in the access trail: a backup exports every record).",
)
@with_appcontext
def backup_command(to_dir, reason):
    """Back up the database, evidence files and search index with a checksum manifest."""
    from flask import current_app

    from app.ops.backup import BackupError, create_backup

    try:
        report = create_backup(to_dir or f"{current_app.instance_path}/backups", reason=reason)
    except BackupError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"backup written: {report}")
    click.echo(str(report.path))


@click.command("restore")
@click.argument("src", type=click.Path(exists=True, file_okay=False))
@click.option("--force", is_flag=True, help="Replace a database that already holds data.")
@with_appcontext
def restore_command(src, force):
    """Restore a backup folder after checking its manifest; verify what was restored."""
    from app.ops.backup import BackupError, restore_backup

    try:
        report = restore_backup(src, force=force)
    except BackupError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"restored and verified: {report}")


retention = click.Group("retention", help="Retention and review of stored records.")


@retention.command("queue")
@with_appcontext
def retention_queue():
    """Put overdue records into the review queue now (the scheduled job does this daily)."""
    from app.ops.retention import describe_due, queue_overdue_by_type

    counts = queue_overdue_by_type()
    db.session.commit()
    click.echo(f"{sum(counts.values())} records queued for review ({describe_due(counts)})")


def init_app(app):
    for command in (backup_command, restore_command, retention):
        app.cli.add_command(command)
