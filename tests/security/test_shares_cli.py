"""``tollgate shares add|list|revoke|expire``: the same rules as the page, acting as a user."""

import json
from datetime import date, timedelta

from sqlalchemy import select

from app.core.time import now_utc
from app.extensions import db as _db
from app.intel import reports
from app.security.access import can_see
from app.security.models import RecordShare
from app.security.trail import AccessEvent


def _until(days=30):
    return (date.today() + timedelta(days=days)).isoformat()


def _world(make):
    unit_a, unit_b = make.unit(code="CLI-A"), make.unit(code="CLI-B")
    owner = make.user(roles=["intelligence_officer"], unit=unit_a, username="cli.owner")
    reader = make.user(roles=["intelligence_officer"], unit=unit_b, username="cli.reader")
    report = reports.create_report(
        "Courier network", "text", "2", "B", actor=make.actor(owner), handling_code="C"
    )
    _db.session.commit()
    return owner, reader, report


def test_add_list_revoke(runner, make):
    owner, reader, report = _world(make)
    add = [
        "shares", "add", "--as", "cli.owner", "--type", "report", "--id", str(report.id),
        "--unit", "cli-b", "--reason", "Joint operation", "--until", _until(),
    ]  # fmt: skip
    result = runner.invoke(args=add)
    assert result.exit_code == 0, result.output
    assert "-> unit CLI-B" in result.output and "[active]" in result.output
    _db.session.rollback()
    share = _db.session.scalars(select(RecordShare)).one()
    assert share.created_by == "cli.owner" and share.reason == "Joint operation"
    assert can_see(make.actor(reader), report)

    # The same share twice is refused, naming why.
    again = runner.invoke(args=add)
    assert again.exit_code != 0 and "already shared" in again.output

    listed = runner.invoke(args=["shares", "list", "--type", "report", "--id", str(report.id)])
    assert f"#{share.id} report:{report.id} -> unit CLI-B" in listed.output

    result = runner.invoke(
        args=["shares", "revoke", str(share.id), "--as", "cli.owner", "--reason", "done"]
    )
    assert result.exit_code == 0, result.output
    assert "[revoked]" in result.output
    _db.session.rollback()
    assert not can_see(make.actor(reader), report)


def test_cli_applies_the_rules_of_the_user(runner, make):
    owner, reader, report = _world(make)
    # A user of another unit: the record does not exist for them (and the refusal is trailed).
    result = runner.invoke(
        args=[
            "shares",
            "add",
            "--as",
            "cli.reader",
            "--type",
            "report",
            "--id",
            str(report.id),
            "--unit",
            "CLI-A",
            "--reason",
            "x",
            "--until",
            _until(),
        ]  # fmt: skip
    )
    assert result.exit_code != 0 and "not found" in result.output
    _db.session.rollback()
    denied = _db.session.scalars(
        select(AccessEvent).where(AccessEvent.outcome == "denied", AccessEvent.user_id == reader.id)
    ).all()
    assert len(denied) == 1 and denied[0].record_id == str(report.id)
    # A time without its UTC offset is refused, not guessed.
    result = runner.invoke(
        args=[
            "shares",
            "add",
            "--as",
            "cli.owner",
            "--type",
            "report",
            "--id",
            str(report.id),
            "--unit",
            "CLI-B",
            "--reason",
            "x",
            "--until",
            "2027-01-31T10:00",
        ]  # fmt: skip
    )
    assert result.exit_code != 0 and "expires_dt" in result.output
    assert _db.session.scalars(select(RecordShare)).all() == []


def test_expire_records_ended_shares_in_the_trail(runner, make):
    owner, reader, report = _world(make)
    from app.security import shares

    share = shares.create_share(
        "report",
        report.id,
        actor=make.actor(owner),
        reason="Short loan",
        expires=_until(1),
        unit_id=reader.unit_id,
    )
    share.expires_dt = now_utc() - timedelta(minutes=1)
    _db.session.commit()
    result = runner.invoke(args=["shares", "expire"])
    assert result.exit_code == 0 and "1 share(s) expired" in result.output
    result = runner.invoke(args=["shares", "expire"])
    assert "0 share(s) expired" in result.output
    _db.session.rollback()
    row = _db.session.scalars(
        select(AccessEvent).where(AccessEvent.username == "share-expiry")
    ).one()
    assert row.record_id == str(report.id) and row.justification == "Short loan"
    assert json.loads(row.details)["share_id"] == share.id
