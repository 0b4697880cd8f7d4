"""Signed checkpoints: the access trail proves its length (issue 16, item 6).

Before them, cutting the last rows or rewriting rows and recomputing every hash after them
left a chain that verified ("chain intact"), and nothing checked that the append-only
triggers still existed. Each attack below is made as someone with database access would make
it: around the triggers, which are put back afterwards.
"""

import hashlib
import json
import os
import stat
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select, text

from app.core.time import now_utc
from app.jobs.registry import registered_jobs
from app.jobs.scheduler import run_job
from app.security import checkpoints, trail
from app.security.access import Actor
from app.security.trail import APPEND_ONLY_DDL, AccessEvent
from app.security.trail_verify import verify_trail


@pytest.fixture
def signed(app, db, tmp_path, monkeypatch):
    """This test's own key file and checkpoint file (the session's instance folder has none)."""
    config = {
        "TOLLGATE_TRAIL_CHECKPOINT_KEY": None,
        "TOLLGATE_TRAIL_CHECKPOINT_KEY_FILE": str(tmp_path / "trail-checkpoint.key"),
        "TOLLGATE_TRAIL_CHECKPOINT_FILE": str(tmp_path / "trail-checkpoints.jsonl"),
        "TOLLGATE_TRAIL_CHECKPOINT_ANCHOR": "",
    }
    for key, value in config.items():
        monkeypatch.setitem(app.config, key, value)
    return tmp_path


def _rows(db, n, *, age=None):
    actor = Actor.system("checkpoint-test")
    for i in range(n):
        row = trail.record(actor, "view", "case", i)
        if age is not None:
            row.occurred_dt = now_utc() - age  # chained at flush, with this date
    db.session.commit()


def _last_seq(db):
    return db.session.scalar(select(AccessEvent.seq).order_by(AccessEvent.seq.desc()).limit(1))


def _checkpoint(runner):
    result = runner.invoke(args=["trail", "checkpoint"])
    assert result.exit_code == 0, result.output
    return result


def _verify(runner, *args):
    return runner.invoke(args=["trail", "verify", *args])


def _attack(db, *statements):
    """Drop the triggers, run ``statements``, recreate the triggers: an attacker's way."""
    db.session.rollback()  # end the test session's snapshot (and its locks)
    engine = db.engine
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            conn.execute(text("DROP TRIGGER access_event_no_change ON access_event"))
        else:
            conn.exec_driver_sql("DROP TRIGGER access_event_no_update")
            conn.exec_driver_sql("DROP TRIGGER access_event_no_delete")
        for statement, params in statements:
            conn.execute(text(statement), params)
        for ddl in APPEND_ONLY_DDL[engine.dialect.name]:
            conn.exec_driver_sql(ddl)


def test_clean_instance_verifies_after_init(app, signed, runner, monkeypatch):
    monkeypatch.setattr("app.cli.upgrade_database", lambda: None)  # the suite built the schema
    result = runner.invoke(args=["init"])
    assert result.exit_code == 0, result.output
    key = signed / "trail-checkpoint.key"
    assert "trail checkpoint key created" in result.output
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    assert len(key.read_text().strip()) == 64
    lines = (signed / "trail-checkpoints.jsonl").read_text().splitlines()
    assert [json.loads(line)["n"] for line in lines] == [1]

    result = _verify(runner)
    assert result.exit_code == 0, result.output
    assert "trail verified" in result.output
    # A second init keeps the key and adds a checkpoint.
    result = runner.invoke(args=["init"])
    assert result.exit_code == 0 and "key created" not in result.output
    assert len((signed / "trail-checkpoints.jsonl").read_text().splitlines()) == 2


def test_truncation_of_the_last_50_rows_is_detected_and_the_checkpoint_named(db, signed, runner):
    _rows(db, 100)
    _checkpoint(runner)  # checkpoint 1
    _rows(db, 50)
    _checkpoint(runner)  # checkpoint 2
    last = _last_seq(db)
    assert _verify(runner).exit_code == 0

    _attack(db, ("DELETE FROM access_event WHERE seq > :s", {"s": last - 50}))

    # The chain alone cannot tell: what is left is a perfectly good, shorter chain.
    assert trail.verify()[0]
    result = _verify(runner)
    assert result.exit_code == 1, result.output
    failed = [line for line in result.output.splitlines() if line.startswith("FAILED")]
    assert len(failed) == 1, result.output
    assert "checkpoint #2 (" in failed[0]
    assert f"row seq {last} " in failed[0] and "no longer exists" in failed[0]
    assert f"the trail ends at seq {last - 50}" in failed[0]


def test_rewritten_and_rechained_rows_are_detected(db, signed, runner):
    _rows(db, 40)
    _checkpoint(runner)
    db.session.rollback()
    rows = db.session.scalars(select(AccessEvent).order_by(AccessEvent.seq)).all()
    # Rewrite row 10 and recompute every hash after it, as the chain's own code would.
    statements, prev = [], None
    for row in rows:
        if row.seq == 10:
            row.username = "someone-else"
        if row.seq >= 10:
            row.prev_hash = prev
            row.hash = hashlib.sha256(row.canonical()).hexdigest()
            statements.append(
                (
                    "UPDATE access_event SET username = :u, prev_hash = :p, hash = :h "
                    "WHERE seq = :s",
                    {"u": row.username, "p": row.prev_hash, "h": row.hash, "s": row.seq},
                )
            )
        prev = row.hash
    db.session.expunge_all()
    _attack(db, *statements)

    assert trail.verify()[0]  # the chain verifies: that is the attack
    result = _verify(runner)
    assert result.exit_code == 1, result.output
    assert "checkpoint #1 (" in result.output
    assert f"row seq {rows[-1].seq} has hash" in result.output
    assert "were rewritten" in result.output


def _without_triggers(db):
    db.session.rollback()
    with db.engine.begin() as conn:
        if db.engine.dialect.name == "postgresql":
            conn.execute(text("ALTER TABLE access_event DISABLE TRIGGER access_event_no_change"))
        else:
            conn.exec_driver_sql("DROP TRIGGER access_event_no_delete")


def _replace_with_a_no_op(db):
    db.session.rollback()
    with db.engine.begin() as conn:
        if db.engine.dialect.name == "postgresql":
            conn.exec_driver_sql(
                "CREATE OR REPLACE FUNCTION access_event_append_only() RETURNS trigger AS $$ "
                "BEGIN RETURN OLD; END; $$ LANGUAGE plpgsql"
            )
        else:
            conn.exec_driver_sql("DROP TRIGGER access_event_no_update")
            conn.exec_driver_sql(
                "CREATE TRIGGER access_event_no_update BEFORE UPDATE ON access_event "
                "BEGIN SELECT 1; END"
            )


def _restore_triggers(db):
    db.session.rollback()
    with db.engine.begin() as conn:
        if db.engine.dialect.name == "postgresql":
            conn.execute(text("ALTER TABLE access_event ENABLE TRIGGER access_event_no_change"))
            conn.exec_driver_sql(APPEND_ONLY_DDL["postgresql"][0])
        else:
            conn.exec_driver_sql("DROP TRIGGER IF EXISTS access_event_no_update")
            for ddl in APPEND_ONLY_DDL["sqlite"]:
                conn.exec_driver_sql(ddl)


@pytest.mark.parametrize("damage", [_without_triggers, _replace_with_a_no_op])
def test_missing_or_defused_triggers_are_detected(db, signed, runner, damage):
    _rows(db, 3)
    _checkpoint(runner)
    try:
        damage(db)
        result = _verify(runner)
    finally:
        _restore_triggers(db)
    assert result.exit_code == 1, result.output
    problem = next(line for line in result.output.splitlines() if "trigger" in line)
    assert problem.startswith("FAILED: trigger access_event_no_")
    assert any(word in problem for word in ("missing", "disabled", "altered")), problem
    assert _verify(runner).exit_code == 0


def test_the_worker_job_writes_a_checkpoint(app, db, signed):
    _rows(db, 7)
    spec = {s.id: s for s in registered_jobs(app)}[checkpoints.JOB_ID]
    assert spec.trigger == "interval" and spec.trigger_args == {"minutes": 15}
    assert run_job(app, spec, now_utc()) is True
    lines = (signed / "trail-checkpoints.jsonl").read_text().splitlines()
    assert len(lines) == 1
    cp = json.loads(lines[0])
    assert (cp["n"], cp["kind"], cp["head_seq"], cp["rows"]) == (1, "checkpoint", 7, 7)
    assert cp["head_hash"] == db.session.scalar(
        select(AccessEvent.hash).where(AccessEvent.seq == 7)
    )
    assert verify_trail().ok


def test_a_wrong_key_is_reported_as_such(app, db, signed, runner, monkeypatch):
    _rows(db, 5)
    _checkpoint(runner)
    monkeypatch.setitem(app.config, "TOLLGATE_TRAIL_CHECKPOINT_KEY", "x" * 64)
    result = _verify(runner)
    assert result.exit_code == 1, result.output
    assert "checkpoint #1 (" in result.output
    assert "signed with a different key" in result.output and "wrong key" in result.output


def test_an_altered_or_removed_checkpoint_line_is_detected(db, signed, runner):
    for _ in range(3):
        _rows(db, 2)
        _checkpoint(runner)
    path = signed / "trail-checkpoints.jsonl"
    lines = path.read_text().splitlines()
    forged = json.loads(lines[2])
    forged["rows"] -= 1
    path.write_text("\n".join([lines[0], lines[1], json.dumps(forged)]) + "\n")
    result = _verify(runner)
    assert result.exit_code == 1
    assert "checkpoint #3 (" in result.output and "signature does not match" in result.output

    path.write_text("\n".join([lines[0], lines[2]]) + "\n")
    result = _verify(runner)
    assert result.exit_code == 1
    assert "expected checkpoint #2 here" in result.output


def test_a_write_cut_short_by_a_crash_is_noted_and_a_cut_newest_line_is_not(db, signed, runner):
    _rows(db, 2)
    _checkpoint(runner)
    path = signed / "trail-checkpoints.jsonl"
    whole = path.read_text()
    with open(path, "a") as fh:
        fh.write(whole[:40])  # the worker died in the middle of its write
    result = _verify(runner)
    assert result.exit_code == 1 and "line 2 is not a checkpoint" in result.output
    _checkpoint(runner)  # the next write starts a fresh line, with the number that was lost
    result = _verify(runner)
    assert result.exit_code == 0, result.output
    assert "line 2: a partial line (an interrupted write); checkpoint #2" in result.output


def test_a_key_readable_by_others_is_refused(db, signed, runner):
    _checkpoint(runner)
    os.chmod(signed / "trail-checkpoint.key", 0o644)
    result = runner.invoke(args=["trail", "checkpoint"])
    assert result.exit_code == 1 and "chmod 600" in result.output
    assert _verify(runner).exit_code == 1


def test_a_lost_key_is_never_silently_replaced(db, signed, runner):
    _checkpoint(runner)
    (signed / "trail-checkpoint.key").unlink()
    result = runner.invoke(args=["trail", "checkpoint"])
    assert result.exit_code == 1 and "restore the key" in result.output
    assert not (signed / "trail-checkpoint.key").exists()
    result = _verify(runner)
    assert result.exit_code == 1 and "no key is configured" in result.output


def test_a_deleted_checkpoint_file_is_detected(db, signed, runner):
    _rows(db, 2)
    _checkpoint(runner)
    (signed / "trail-checkpoints.jsonl").unlink()
    result = _verify(runner)
    assert result.exit_code == 1 and "does not exist, but a checkpoint key does" in result.output


def test_rows_not_yet_covered_fail_only_past_the_limit_given(db, signed, runner):
    _rows(db, 2)
    _checkpoint(runner)
    _rows(db, 3, age=timedelta(hours=2))
    result = _verify(runner)
    assert result.exit_code == 0, result.output
    assert "3 rows since seq 3" in result.output and "not yet covered" in result.output
    result = _verify(runner, "--max-unsealed", "60")
    assert result.exit_code == 1 and "older than 60 minutes" in result.output
    _checkpoint(runner)
    assert _verify(runner, "--max-unsealed", "60").exit_code == 0


def test_the_anchor_command_receives_each_checkpoint(app, db, signed, runner, monkeypatch):
    sink = signed / "anchor.jsonl"
    monkeypatch.setitem(app.config, "TOLLGATE_TRAIL_CHECKPOINT_ANCHOR", f"sh -c 'cat >> {sink}'")
    _rows(db, 2)
    _checkpoint(runner)
    local = (signed / "trail-checkpoints.jsonl").read_text()
    assert sink.read_text() == local
    monkeypatch.setitem(app.config, "TOLLGATE_TRAIL_CHECKPOINT_ANCHOR", "sh -c 'exit 3'")
    result = runner.invoke(args=["trail", "checkpoint"])
    assert result.exit_code == 1 and "anchor command exited 3" in result.output
    # The file has it all the same: the anchor is a second copy, not a gate.
    assert len((signed / "trail-checkpoints.jsonl").read_text().splitlines()) == 2


def test_archived_rows_may_be_deleted_and_no_others(db, signed, runner):
    _rows(db, 12, age=timedelta(days=400))
    _rows(db, 5)
    _checkpoint(runner)
    archive = signed / "trail-2024.jsonl"
    too_soon = now_utc().date().isoformat()
    result = runner.invoke(
        args=["trail", "archive", "--before", too_soon, "--to", str(archive), "--reason", "x"]
    )
    assert result.exit_code == 1 and "kept at least 365 days" in result.output
    assert not archive.exists()

    before = (now_utc() - timedelta(days=380)).date().isoformat()
    result = runner.invoke(
        args=[
            "trail",
            "archive",
            "--before",
            before,
            "--to",
            str(archive),
            "--reason",
            "retention period over",
        ]
    )
    assert result.exit_code == 0, result.output
    assert "12 trail rows up to seq 12" in result.output
    assert stat.S_IMODE(archive.stat().st_mode) == 0o600
    archived = [json.loads(line) for line in archive.read_text().splitlines()]
    assert [r["seq"] for r in archived] == list(range(1, 13))
    export = db.session.scalars(select(AccessEvent).order_by(AccessEvent.seq.desc())).first()
    assert (export.action, export.record_type, export.record_id) == (
        "export",
        "access_event",
        "seq<=12",
    )
    assert _verify(runner).exit_code == 0  # the rows are still there: allowed, not required

    # The database administrator deletes the archived rows offline.
    _attack(db, ("DELETE FROM access_event WHERE seq <= 12", {}))
    result = _verify(runner)
    assert result.exit_code == 0, result.output
    assert "rows up to seq 12 were pruned" in result.output
    assert archived[-1]["hash"] == db.session.scalar(
        select(AccessEvent.prev_hash).where(AccessEvent.seq == 13)
    )
    _rows(db, 2)
    _checkpoint(runner)
    assert _verify(runner).exit_code == 0

    # One row more than was archived is a cut, whoever made it.
    _attack(db, ("DELETE FROM access_event WHERE seq = 13", {}))
    result = _verify(runner)
    assert result.exit_code == 1
    assert "rows seq 1 to 13 are missing" in result.output
    assert "no signed prune checkpoint" in result.output


def test_without_any_key_only_the_chain_and_triggers_are_checked(db, signed, runner):
    _rows(db, 2)
    result = _verify(runner)
    assert result.exit_code == 0, result.output
    assert "the trail's length is not proven" in result.output
    assert not Path(signed / "trail-checkpoint.key").exists()
