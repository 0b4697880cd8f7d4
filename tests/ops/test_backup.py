"""tollgate backup / restore: a populated instance round-trips; a damaged backup is refused."""

import hashlib
import json
import os
import secrets
import sqlite3
import uuid
from pathlib import Path

import pytest
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.engine import make_url

from app import create_app
from app.extensions import db as _db
from app.ops import backup
from app.ops.models import ReviewItem
from app.security import trail
from app.security.access import Actor
from app.security.models import User
from app.security.trail import AccessEvent

EVIDENCE = {"ab/seized-invoice.pdf": b"%PDF-1.7 invoice " * 300, "cd/photo.jpg": os.urandom(5000)}


def _populate(app, make, db):
    unit = make.unit(code="BCP-B")
    users = [make.user(roles=["supervisor"], unit=unit) for _ in range(3)]
    make.api_client(["declarations:write"], unit=unit)
    for n, user in enumerate(users):
        trail.record(make.actor(user), "view", "case", n + 1)
        trail.record(make.actor(user), "search", "case", None, query=f"query {n}")
    db.session.add(
        ReviewItem(record_type="access_event", record_id="seq<=1", due_dt=users[0].created_dt)
    )
    db.session.commit()
    evidence = Path(app.config["TOLLGATE_EVIDENCE_DIR"])
    for rel, data in EVIDENCE.items():
        (evidence / rel).parent.mkdir(parents=True, exist_ok=True)
        (evidence / rel).write_bytes(data)
    search = Path(app.config["TOLLGATE_SEARCH_DIR"])
    search.mkdir(parents=True, exist_ok=True)
    (search / "MAIN_test.toc").write_bytes(b"whoosh toc" * 50)
    return users


@pytest.fixture
def target(tmp_path, database_url):
    """A second, empty Tollgate instance to restore into (same backend as the suite)."""
    created = None
    if database_url.startswith("sqlite"):
        url = f"sqlite:///{tmp_path / 'restored.db'}"
    else:
        server = make_url(database_url)
        created = f"tollgate_restore_{uuid.uuid4().hex[:8]}"
        admin = create_engine(server.set(database="postgres"), isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{created}"'))
        url = server.set(database=created).render_as_string(hide_password=False)
    instance = tmp_path / "restored-instance"
    application = create_app(
        {
            "TESTING": True,
            "INSTANCE_PATH": str(instance),
            "SECRET_KEY": secrets.token_hex(8),
            "SQLALCHEMY_DATABASE_URI": url,
            "TOLLGATE_EVIDENCE_DIR": str(instance / "evidence"),
            "TOLLGATE_SEARCH_DIR": str(instance / "search"),
            "TOLLGATE_SQLITE_IMMEDIATE": False,
        }
    )
    yield application
    with application.app_context():
        _db.session.remove()
        _db.engine.dispose()
    if created:
        with admin.connect() as conn:
            conn.execute(
                text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :n"),
                {"n": created},
            )
            conn.execute(text(f'DROP DATABASE IF EXISTS "{created}"'))
        admin.dispose()


def test_round_trip_of_a_populated_instance(app, db, make, target, tmp_path):
    usernames = {u.username for u in _populate(app, make, db)}
    report = backup.create_backup(tmp_path / "backups")
    manifest = json.loads((report.path / backup.MANIFEST).read_text())
    assert manifest["tables"]["user_account"] == 3
    assert manifest["tables"]["access_event"] == report.trail_rows >= 6
    assert {f"evidence/{rel}" for rel in EVIDENCE} <= set(manifest["files"])
    export = db.session.scalar(select(AccessEvent).order_by(AccessEvent.seq.desc()).limit(1))
    assert (export.action, export.record_type, export.justification) == (
        "export",
        "database",
        "routine backup",
    )
    assert export.seq == report.trail_rows + 1  # recorded after the snapshot
    assert trail.verify()[0]

    with target.app_context():
        restored = backup.restore_backup(report.path)
        assert restored.rows == report.rows
        names = set(_db.session.scalars(select(User.username)))
        assert usernames <= names
        assert _db.session.scalar(select(func.count(AccessEvent.id))) == report.trail_rows + 1
        last = _db.session.scalar(select(AccessEvent).order_by(AccessEvent.seq.desc()).limit(1))
        assert (last.action, last.record_type) == ("create", "database")
        assert trail.verify()[0]
        evidence = Path(target.config["TOLLGATE_EVIDENCE_DIR"])
        for rel, data in EVIDENCE.items():
            assert (evidence / rel).read_bytes() == data
        assert (Path(target.config["TOLLGATE_SEARCH_DIR"]) / "MAIN_test.toc").is_file()
        # The append-only triggers came back with the data.
        _db.session.remove()
        with pytest.raises(Exception, match="append-only"), _db.engine.begin() as conn:
            conn.execute(AccessEvent.__table__.update().values(username="mallory"))
        # A second restore over live data needs --force.
        with pytest.raises(backup.BackupError, match="--force"):
            backup.restore_backup(report.path)
        assert backup.restore_backup(report.path, force=True).rows == report.rows


def _reseal(path: Path, manifest: dict, rel: str | None = None) -> None:
    """Rewrite the manifest (and the checksum of ``rel``) as a careless forger would."""
    if rel:
        manifest["files"][rel] = backup._file_entry(path / rel)
    data = json.dumps(manifest, indent=1, sort_keys=True).encode()
    (path / backup.MANIFEST).write_bytes(data)
    (path / backup.MANIFEST_SUM).write_text(f"{hashlib.sha256(data).hexdigest()}  manifest.json\n")


@pytest.fixture
def sqlite_only(database_url):
    if not database_url.startswith("sqlite"):
        pytest.skip("damage to the SQLite file itself; the PostgreSQL dump is checked by sum")


def test_damaged_evidence_file_is_refused_before_anything_is_restored(
    app, db, make, target, tmp_path
):
    _populate(app, make, db)
    path = backup.create_backup(tmp_path / "b").path
    victim = path / "evidence" / "cd" / "photo.jpg"
    data = bytearray(victim.read_bytes())
    data[100] ^= 0xFF
    victim.write_bytes(bytes(data))
    (path / "evidence" / "smuggled.txt").write_text("not from the backup")
    with target.app_context():
        with pytest.raises(backup.BackupError) as err:
            backup.restore_backup(path)
        assert "evidence/cd/photo.jpg: checksum mismatch" in str(err.value)
        assert "evidence/smuggled.txt: not in the manifest" in str(err.value)
        assert not Path(target.config["TOLLGATE_EVIDENCE_DIR"]).exists()


def test_altered_manifest_is_refused(app, db, make, target, tmp_path):
    _populate(app, make, db)
    path = backup.create_backup(tmp_path / "b").path
    manifest = json.loads((path / backup.MANIFEST).read_text())
    manifest["tables"]["user_account"] += 1
    (path / backup.MANIFEST).write_text(json.dumps(manifest))
    with target.app_context(), pytest.raises(backup.BackupError, match="manifest was altered"):
        backup.restore_backup(path)
    (path / backup.MANIFEST_SUM).unlink()
    with target.app_context(), pytest.raises(backup.BackupError, match="sha256 is missing"):
        backup.restore_backup(path)


def test_missing_database_file_is_refused(app, db, make, target, tmp_path):
    _populate(app, make, db)
    path = backup.create_backup(tmp_path / "b").path
    manifest = json.loads((path / backup.MANIFEST).read_text())
    (path / manifest["database_file"]).unlink()
    with target.app_context(), pytest.raises(backup.BackupError, match="database.* missing"):
        backup.restore_backup(path)


def test_row_counts_that_disagree_with_the_copy_are_refused(
    app, db, make, target, tmp_path, sqlite_only
):
    _populate(app, make, db)
    path = backup.create_backup(tmp_path / "b").path
    manifest = json.loads((path / backup.MANIFEST).read_text())
    manifest["tables"]["user_account"] = 7
    _reseal(path, manifest)
    with target.app_context():
        with pytest.raises(backup.BackupError, match="user_account: 3 rows in the file, 7"):
            backup.restore_backup(path)
        assert not _db.inspect(_db.engine).has_table("user_account")


def test_tampered_trail_in_the_backup_fails_verification(
    app, db, make, target, tmp_path, sqlite_only
):
    _populate(app, make, db)
    path = backup.create_backup(tmp_path / "b").path
    copy = path / backup.SQLITE_FILE
    conn = sqlite3.connect(copy)
    conn.execute("DROP TRIGGER access_event_no_update")
    conn.execute("UPDATE access_event SET username = 'nobody' WHERE seq = 2")
    conn.commit()
    conn.close()
    _reseal(path, json.loads((path / backup.MANIFEST).read_text()), backup.SQLITE_FILE)
    with (
        target.app_context(),
        pytest.raises(backup.BackupError, match="hash chain broken: row seq 2"),
    ):
        backup.restore_backup(path)


def test_cli_backup_and_refused_restore(app, db, make, runner, tmp_path):
    _populate(app, make, db)
    result = runner.invoke(args=["backup", "--to", str(tmp_path / "cli")])
    assert result.exit_code == 0, result.output
    path = Path(result.output.strip().splitlines()[-1])
    assert (path / backup.MANIFEST).is_file()
    (path / "search" / "MAIN_test.toc").write_bytes(b"corrupt")
    refused = runner.invoke(args=["restore", str(path), "--force"])
    assert refused.exit_code == 1
    assert "damaged backup, nothing restored" in refused.output
    assert "search/MAIN_test.toc: checksum mismatch" in refused.output
    assert db.session.scalar(select(func.count(User.id))) == 3


def _sign_into(application, monkeypatch, folder: Path, key_file: Path) -> None:
    """Give ``application`` checkpoints in ``folder``, signed with ``key_file``."""
    monkeypatch.setitem(application.config, "TOLLGATE_TRAIL_CHECKPOINT_KEY", None)
    monkeypatch.setitem(application.config, "TOLLGATE_TRAIL_CHECKPOINT_KEY_FILE", str(key_file))
    monkeypatch.setitem(
        application.config, "TOLLGATE_TRAIL_CHECKPOINT_FILE", str(folder / "checkpoints.jsonl")
    )


def test_checkpoints_travel_with_the_backup_and_the_restore_is_signed(
    app, db, make, target, tmp_path, monkeypatch
):
    from app.security import checkpoints
    from app.security.trail_verify import verify_trail

    key = tmp_path / "kept-apart" / "trail.key"
    _sign_into(app, monkeypatch, tmp_path / "live", key)
    _populate(app, make, db)
    checkpoints.write()
    db.session.rollback()
    report = backup.create_backup(tmp_path / "b")
    manifest = json.loads((report.path / backup.MANIFEST).read_text())
    assert backup.CHECKPOINT_FILE in manifest["files"]
    assert not any("key" in name for name in manifest["files"])  # the key never travels

    # A new machine: no checkpoint file yet; without the key the checkpoints cannot be checked.
    _sign_into(target, monkeypatch, tmp_path / "new", tmp_path / "new" / "missing.key")
    with target.app_context(), pytest.raises(backup.BackupError, match="no key is configured"):
        backup.restore_backup(report.path)
    # The administrator brings the key and restores again.
    monkeypatch.setitem(target.config, "TOLLGATE_TRAIL_CHECKPOINT_KEY_FILE", str(key))
    with target.app_context():
        backup.restore_backup(report.path, force=True)
        lines = [
            json.loads(line)
            for line in (tmp_path / "new" / "checkpoints.jsonl").read_text().splitlines()
        ]
        assert [cp["kind"] for cp in lines] == ["checkpoint", "restore"]
        assert lines[-1]["head_seq"] == report.trail_rows
        assert verify_trail().ok

        # Work goes on, is checkpointed, and a restore of the same backup takes it back: the
        # checkpoint beyond the restored head describes discarded history, not a truncation.
        trail.record(Actor.system("after"), "view", "case", 99)
        _db.session.commit()
        checkpoints.write()
        _db.session.rollback()
        backup.restore_backup(report.path, force=True)
        result = verify_trail()
        assert result.ok, result.problems
        assert any("1 discarded by a restore" in note for note in result.notes)
