"""``tollgate users``, ``tollgate clients`` and ``tollgate trail`` commands."""

import sys
from datetime import UTC, timedelta
from pathlib import Path

import click
from flask.cli import with_appcontext
from sqlalchemy import select

from app.core.errors import ValidationError
from app.extensions import db
from app.security import service
from app.security.access import Actor
from app.security.models import ApiClient, Unit, User
from app.security.roles import ROLES

users = click.Group("users", help="Manage user accounts.")
clients = click.Group("clients", help="Manage API clients (system tokens).")
units = click.Group("units", help="Manage units.")
trail_group = click.Group("trail", help="The access trail.")


def _cli_actor() -> Actor:
    return Actor.system("cli")


def _unit(code: str) -> Unit:
    unit = db.session.scalar(select(Unit).where(Unit.code == code.upper()))
    if unit is None:
        raise click.BadParameter(f"no unit with code {code}", param_hint="--unit")
    return unit


def _user(username: str) -> User:
    user = db.session.scalar(select(User).where(User.username == username.lower()))
    if user is None:
        raise click.BadParameter(f"no user {username}", param_hint="USERNAME")
    return user


def _commit_or_fail(fn):
    try:
        result = fn()
        db.session.commit()
        return result
    except service.ValidationError as exc:
        db.session.rollback()
        raise click.ClickException(str(exc)) from exc


@units.command("create")
@click.argument("code")
@click.argument("name")
@click.option("--kind", default="office")
@with_appcontext
def units_create(code, name, kind):
    unit = _commit_or_fail(lambda: service.create_unit(code, name, kind, actor=_cli_actor()))
    click.echo(f"unit {unit.code} created")


@units.command("list")
@with_appcontext
def units_list():
    for unit in db.session.scalars(select(Unit).order_by(Unit.code)):
        click.echo(f"{unit.code:12} {unit.kind:14} {unit.name}")


@users.command("create")
@click.argument("username")
@click.option("--name", "full_name", required=True)
@click.option("--unit", "unit_code", required=True)
@click.option("--role", "roles", multiple=True, type=click.Choice(ROLES), required=True)
@click.option("--email", default=None)
@click.password_option(prompt="Password (12+ characters)")
@with_appcontext
def users_create(username, full_name, unit_code, roles, email, password):
    """Create an account."""
    user = _commit_or_fail(
        lambda: service.create_user(
            username,
            password,
            full_name=full_name,
            unit=_unit(unit_code),
            roles=roles,
            email=email,
            actor=_cli_actor(),
        )
    )
    click.echo(f"user {user.username} created with roles {', '.join(user.roles)}")


@users.command("list")
@with_appcontext
def users_list():
    for user in db.session.scalars(select(User).order_by(User.username)):
        state = "active" if user.is_active else "inactive"
        click.echo(f"{user.username:20} {user.unit.code:10} {state:8} {','.join(user.roles)}")


@users.command("set-roles")
@click.argument("username")
@click.option("--role", "roles", multiple=True, type=click.Choice(ROLES), required=True)
@with_appcontext
def users_set_roles(username, roles):
    _commit_or_fail(lambda: service.update_user(_user(username), roles=roles, actor=_cli_actor()))
    click.echo(f"roles of {username}: {', '.join(sorted(roles))}")


@users.command("set-password")
@click.argument("username")
@click.password_option(prompt="New password (12+ characters)")
@with_appcontext
def users_set_password(username, password):
    _commit_or_fail(
        lambda: service.update_user(_user(username), password=password, actor=_cli_actor())
    )
    click.echo(f"password of {username} changed; its sessions were ended")


@users.command("deactivate")
@click.argument("username")
@with_appcontext
def users_deactivate(username):
    _commit_or_fail(
        lambda: service.update_user(_user(username), is_active=False, actor=_cli_actor())
    )
    click.echo(f"{username} deactivated")


@users.command("unlock")
@click.argument("username")
@with_appcontext
def users_unlock(username):
    _commit_or_fail(lambda: service.unlock_user(_user(username), actor=_cli_actor()))
    click.echo(f"{username} unlocked")


@clients.command("create")
@click.argument("name")
@click.option("--unit", "unit_code", required=True)
@click.option("--scope", "scopes", multiple=True, required=True)
@with_appcontext
def clients_create(name, unit_code, scopes):
    """Create an API client and print its token once."""
    client, token = _commit_or_fail(
        lambda: service.create_api_client(name, _unit(unit_code), scopes, actor=_cli_actor())
    )
    click.echo(f"client {client.name} (id {client.id}); token, shown only now:\n{token}")


@clients.command("revoke")
@click.argument("client_id", type=int)
@with_appcontext
def clients_revoke(client_id):
    client = db.session.get(ApiClient, client_id)
    if client is None:
        raise click.BadParameter(f"no client {client_id}")
    _commit_or_fail(lambda: service.revoke_api_client(client, actor=_cli_actor()))
    click.echo(f"client {client.name} revoked")


@trail_group.command("verify")
@click.option(
    "--max-unsealed",
    type=click.IntRange(min=1),
    default=None,
    metavar="MINUTES",
    help="Also fail if rows older than this are not yet covered by a checkpoint "
    "(for monitoring: the checkpoint job stopped, or checkpoints were removed).",
)
@with_appcontext
def trail_verify(max_unsealed):
    """Check the hash chain, every signed checkpoint and the append-only triggers.

    Exits 1 if a row was altered, removed or reordered, if the trail was cut short or
    rewritten since a checkpoint (naming the checkpoint), or if a trigger is missing.
    """
    from app.security.trail_verify import verify_trail

    limit = timedelta(minutes=max_unsealed) if max_unsealed else None
    try:
        report = verify_trail(max_unsealed=limit)
    finally:
        db.session.rollback()
    for line in report.lines():
        click.echo(line)
    if not report.ok:
        sys.exit(1)


@trail_group.command("checkpoint")
@with_appcontext
def trail_checkpoint():
    """Sign the trail's head and row count now (the worker does it periodically)."""
    from app.security import checkpoints

    try:
        cp = checkpoints.write("checkpoint")
    except checkpoints.CheckpointError as exc:
        raise click.ClickException(str(exc)) from exc
    finally:
        db.session.rollback()
    click.echo(
        f"checkpoint #{cp['n']}: seq {cp['head_seq']}, {cp['rows']} rows, written to "
        f"{checkpoints.checkpoint_path()}"
    )


@trail_group.command("archive")
@click.option(
    "--before",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    required=True,
    help="Archive the rows older than this date (UTC); refused inside the retention period.",
)
@click.option(
    "--to",
    "archive",
    type=click.Path(dir_okay=False),
    required=True,
    help="New file that receives the rows (JSON lines, mode 0600).",
)
@click.option("--reason", required=True, help="Why (recorded in the access trail).")
@with_appcontext
def trail_archive(before, archive, reason):
    """Archive the rows past the retention period and sign a prune checkpoint for them.

    The database administrator then deletes those rows offline; `tollgate trail verify`
    accepts a trail that starts right after the signed point, and no other cut.
    """
    from app.security import checkpoints
    from app.security.trail_archive import archive_trail

    try:
        result = archive_trail(
            before.replace(tzinfo=UTC), Path(archive), reason=reason, actor=_cli_actor()
        )
    except (ValidationError, checkpoints.CheckpointError) as exc:
        db.session.rollback()
        raise click.ClickException(str(exc)) from exc
    click.echo(str(result))


def init_app(app):
    from app.security import checkpoints

    for group in (users, clients, units, trail_group):
        app.cli.add_command(group)
    # The trail commands' settings and the job that writes checkpoints between them.
    checkpoints.init_app(app)
