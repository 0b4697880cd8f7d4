"""``tollgate shares add|list|revoke|expire``: record shares from the command line.

``add`` and ``revoke`` act as a named user (``--as``), with that user's permissions and
unit, so the same rules hold as on the record's page; the trail names that user."""

import click
from flask.cli import with_appcontext
from sqlalchemy import select

from app.core.errors import ValidationError
from app.core.params import id_value
from app.extensions import db
from app.security import shares
from app.security.access import AccessDenied, Actor
from app.security.models import Unit, User

shares_group = click.Group("shares", help="Share code-C records with other units or users.")


def _user(username: str) -> User:
    user = db.session.scalar(select(User).where(User.username == username.strip().lower()))
    if user is None or not user.is_active:
        raise click.BadParameter(f"no active user {username}", param_hint="--as/--user")
    return user


def _actor(username: str | None) -> Actor:
    if not username:
        return Actor.system("cli")
    return Actor.for_user(_user(username), client_addr="cli")


def _run(fn):
    try:
        result = fn()
        db.session.commit()
        return result
    except ValidationError as exc:
        db.session.rollback()
        raise click.ClickException(str(exc)) from exc
    except AccessDenied as exc:
        # The refusal's trail row (404: denied) is kept, as the web's error handler does.
        db.session.rollback()
        if exc.trail_event is not None:
            from app.security.trail import copy_event

            db.session.add(copy_event(exc.trail_event))
            db.session.commit()
        raise click.ClickException("not found" if exc.status == 404 else str(exc)) from exc


def _line(share) -> str:
    data = shares.share_json(share)
    who = f"unit {data['unit']}" if data["unit"] else f"user {data['user']}"
    return (
        f"#{data['id']} {data['record_type']}:{data['record_id']} -> {who} "
        f"until {data['expires_dt']} [{data['status']}] by {data['created_by']}: {data['reason']}"
    )


@shares_group.command("add")
@click.option("--as", "as_user", required=True, help="User name of the person sharing.")
@click.option("--type", "record_type", required=True, type=click.Choice(list(shares.SHAREABLE)))
@click.option("--id", "record_id", required=True, help="Record id.")
@click.option("--unit", "unit_code", help="Code of the unit shared with.")
@click.option("--user", "username", help="User name of the one user shared with.")
@click.option("--reason", required=True, help="Why the recipient needs the record.")
@click.option(
    "--until",
    required=True,
    help="End: YYYY-MM-DD (end of that day, UTC) or a date-time with its UTC offset.",
)
@with_appcontext
def shares_add(as_user, record_type, record_id, unit_code, username, reason, until):
    """Share a code-C record of the user's unit with a unit or a user."""
    actor = _actor(as_user)
    unit_id = user_id = None
    if unit_code:
        unit = db.session.scalar(select(Unit).where(Unit.code == unit_code.strip().upper()))
        if unit is None:
            raise click.BadParameter(f"no unit with code {unit_code}", param_hint="--unit")
        unit_id = unit.id
    if username:
        user_id = _user(username).id
    share = _run(
        lambda: shares.create_share(
            record_type,
            id_value(record_id, "id", strict=True),
            actor=actor,
            reason=reason,
            expires=until,
            unit_id=unit_id,
            user_id=user_id,
        )
    )
    click.echo(f"shared: {_line(share)}")


@shares_group.command("list")
@click.option("--type", "record_type", required=True, type=click.Choice(list(shares.SHAREABLE)))
@click.option("--id", "record_id", required=True, help="Record id.")
@click.option("--as", "as_user", help="List as this user (default: the system, every share).")
@with_appcontext
def shares_list(record_type, record_id, as_user):
    """The shares of one record, newest first (current and past)."""
    actor = _actor(as_user)
    rows = _run(
        lambda: shares.list_shares(record_type, id_value(record_id, "id", strict=True), actor=actor)
    )
    for share in rows:
        click.echo(_line(share))
    if not rows:
        click.echo("no shares")


@shares_group.command("revoke")
@click.argument("share_id")
@click.option("--as", "as_user", required=True, help="User name of the person revoking.")
@click.option("--reason", default=None, help="Why the share ends (recorded in the trail).")
@with_appcontext
def shares_revoke(share_id, as_user, reason):
    """End a share now (the row stays as history)."""
    actor = _actor(as_user)
    share = _run(
        lambda: shares.revoke_share(
            id_value(share_id, "share_id", strict=True), actor=actor, reason=reason
        )
    )
    click.echo(f"revoked: {_line(share)}")


@shares_group.command("expire")
@with_appcontext
def shares_expire():
    """Record in the trail the shares that reached their end (the worker does this too)."""
    count = _run(shares.record_expiries)
    click.echo(f"{count} share(s) expired and recorded in the trail")


def init_app(app):
    from app.jobs.registry import JobSpec, add_job

    app.cli.add_command(shares_group)
    add_job(
        app,
        JobSpec(
            "share-expiry",
            shares.run_expiry_job,
            "interval",
            {"minutes": 5},
            "Record in the access trail the record shares that reached their end",
        ),
    )
