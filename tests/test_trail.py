"""The access trail: one row per sensitive action, hash-chained, append-only, verifiable."""

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import DatabaseError

from app.security import trail
from app.security.access import Actor
from app.security.trail import AccessEvent


def _count(db, **where):
    stmt = select(func.count()).select_from(AccessEvent)
    for key, value in where.items():
        stmt = stmt.where(getattr(AccessEvent, key) == value)
    return db.session.scalar(stmt)


def test_each_action_writes_exactly_one_row(db, make):
    actor = make.actor(make.user(roles=["supervisor"]))
    before = _count(db)
    trail.record(actor, "view", "case", 7)
    db.session.commit()
    assert _count(db) == before + 1
    row = db.session.scalars(select(AccessEvent).order_by(AccessEvent.seq.desc())).first()
    assert (row.username, row.action, row.record_type, row.record_id, row.outcome) == (
        actor.username,
        "view",
        "case",
        "7",
        "allowed",
    )
    assert row.roles == "supervisor"
    assert row.client_addr == "127.0.0.1"
    assert row.occurred_dt.tzinfo is not None


def test_export_and_disclosure_need_a_justification(db, make):
    actor = make.actor(make.user(roles=["supervisor"]))
    with pytest.raises(trail.JustificationRequired):
        trail.record(actor, "export", "case", None)
    with pytest.raises(trail.JustificationRequired):
        trail.record(actor, "disclose", "report", 3, justification="   ")
    trail.record(actor, "disclose", "report", 3, justification="MoU with border police")
    db.session.commit()
    assert _count(db, action="disclose") == 1


def test_chain_verifies_and_detects_modified_row(db, make, runner):
    actor = make.actor(make.user())
    for i in range(5):
        trail.record(actor, "view", "entity", i)
    db.session.commit()
    result = runner.invoke(args=["trail", "verify"])
    assert result.exit_code == 0, result.output
    assert "chain intact" in result.output

    # Tamper as an attacker with database access would: around the append-only trigger.
    _tamper(db, "UPDATE access_event SET username = 'someone-else' WHERE seq = 3")
    result = runner.invoke(args=["trail", "verify"])
    assert result.exit_code == 1
    assert "seq 3" in result.output


def test_chain_detects_deleted_row(db, make):
    actor = make.actor(make.user())
    for i in range(4):
        trail.record(actor, "view", "entity", i)
    db.session.commit()
    _tamper(db, "DELETE FROM access_event WHERE seq = 2")
    ok, _, message = trail.verify()
    assert not ok
    assert "seq 2" in message


def _tamper(db, statement):
    db.session.rollback()  # end the test session's snapshot so it sees the tampering
    engine = db.engine
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            conn.execute(text("ALTER TABLE access_event DISABLE TRIGGER access_event_no_change"))
            conn.execute(text(statement))
            conn.execute(text("ALTER TABLE access_event ENABLE TRIGGER access_event_no_change"))
        else:
            conn.exec_driver_sql("DROP TRIGGER access_event_no_update")
            conn.exec_driver_sql("DROP TRIGGER access_event_no_delete")
            conn.exec_driver_sql(statement)
            from app.security.trail import _SQLITE_TRIGGERS

            for ddl in _SQLITE_TRIGGERS:
                conn.exec_driver_sql(ddl)


def test_rows_cannot_be_updated_or_deleted(db, make):
    trail.record(make.actor(make.user()), "view", "case", 1)
    db.session.commit()
    for statement in ("UPDATE access_event SET outcome = 'denied'", "DELETE FROM access_event"):
        with pytest.raises(DatabaseError, match="append-only"):
            db.session.execute(text(statement))
        db.session.rollback()
    assert _count(db) == 1


def test_chain_continues_across_transactions(db, make):
    actor = make.actor(make.user())
    trail.record(actor, "view", "case", 1)
    db.session.commit()
    trail.record(actor, "view", "case", 2)
    trail.record(actor, "view", "case", 3)
    db.session.commit()
    rows = db.session.scalars(select(AccessEvent).order_by(AccessEvent.seq)).all()
    assert [r.seq for r in rows] == [1, 2, 3]
    assert rows[1].prev_hash == rows[0].hash and rows[2].prev_hash == rows[1].hash
    assert trail.verify()[0]


def test_trail_page_and_export(client, db, make, login_as):
    supervisor = login_as("supervisor")
    trail.record(make.actor(supervisor), "view", "case", 42)
    db.session.commit()
    page = client.get("/trail?record_type=case&record_id=42")
    assert page.status_code == 200
    assert b"case:42" in page.data
    # The query itself is a consultation of the trail and is recorded.
    assert _count(db, action="search", record_type="access_event") == 1
    refused = client.post("/trail/export", data={})
    assert refused.status_code == 302
    assert _count(db, action="export") == 0
    export = client.post("/trail/export?record_type=case", data={"justification": "audit"})
    assert export.status_code == 200
    assert export.mimetype == "text/csv"
    assert b"case,42" in export.data
    assert _count(db, action="export") == 1


def test_system_actor_is_named(db):
    actor = Actor.system("retention-job")
    trail.record(actor, "delete", "report", 5)
    db.session.commit()
    row = db.session.scalars(select(AccessEvent)).one()
    assert row.username == "retention-job" and row.user_id is None
