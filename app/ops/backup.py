"""``tollgate backup`` and ``tollgate restore``: database, evidence files and search index in
one folder with a manifest of checksums and row counts.

SQLite is copied with the online backup API (a consistent snapshot while the platform runs);
PostgreSQL with ``pg_dump`` in custom format, inside an exported snapshot so the row counts in
the manifest describe exactly what was dumped. A restore verifies the manifest first and
refuses a damaged backup before touching anything; after restoring it checks the row counts,
the files' checksums and the access trail (chain, signed checkpoints, triggers).

The trail's checkpoint file is copied before the database snapshot, so every checkpoint in
a backup names a row the backup holds; the key that signed them is never in a backup (keep
it apart). A restore keeps the live checkpoint file (append-only: it knows at least as much)
or, on a new machine without one, installs the backup's; then it appends a signed
"restore" checkpoint, after which earlier checkpoints beyond the restored head are history
the restore discarded.
"""

import hashlib
import json
import logging
import os
import shutil
import sqlite3
import subprocess
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from flask import current_app
from sqlalchemy import func, select, text
from sqlalchemy.engine import make_url

from app.core.time import now_utc
from app.extensions import db
from app.security import checkpoints, trail, trail_verify
from app.security.access import Actor
from app.security.trail import AccessEvent

log = logging.getLogger("tollgate.backup")

FORMAT = 1
MANIFEST = "manifest.json"
MANIFEST_SUM = "manifest.sha256"
SQLITE_FILE = "database.sqlite3"
PG_FILE = "database.pgdump"
CHECKPOINT_FILE = "trail-checkpoints.jsonl"
#: folders bundled from the configuration, by their name inside the backup
FOLDERS = {"evidence": "TOLLGATE_EVIDENCE_DIR", "search": "TOLLGATE_SEARCH_DIR"}


class BackupError(Exception):
    """The backup is damaged, incomplete or does not match what was restored."""


@dataclass
class Report:
    path: Path
    tables: int
    rows: int
    files: int
    trail_rows: int

    def __str__(self):
        return (
            f"{self.path}: {self.tables} tables, {self.rows} rows, {self.files} files, "
            f"access trail {self.trail_rows} rows (chain intact)"
        )


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _tables() -> list[str]:
    return [t.name for t in db.metadata.sorted_tables]


def _count_rows(conn) -> dict[str, int]:
    counts = {}
    for name in _tables():
        table = db.metadata.tables[name]
        counts[name] = conn.execute(select(func.count()).select_from(table)).scalar_one()
    return counts


def _trail_head(conn) -> dict:
    row = conn.execute(
        select(AccessEvent.seq, AccessEvent.hash).order_by(AccessEvent.seq.desc()).limit(1)
    ).first()
    return {"last_seq": row.seq if row else 0, "last_hash": row.hash if row else trail.GENESIS}


def _pg_args(url) -> tuple[list[str], dict]:
    """Command-line connection arguments for pg_dump/pg_restore (password via environment)."""
    url = make_url(url)
    args = ["--host", url.host or "127.0.0.1", "--port", str(url.port or 5432)]
    if url.username:
        args += ["--username", url.username]
    env = dict(os.environ)
    if url.password:
        env["PGPASSWORD"] = url.password
    return args + ["--dbname", url.database], env


def _run(cmd: list[str], env: dict) -> None:
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)  # noqa: S603
    if done.returncode != 0:
        raise BackupError(f"{Path(cmd[0]).name} failed: {done.stderr.strip()[-2000:]}")


# --- backup ---------------------------------------------------------------------------


def _dump_sqlite(target: Path) -> tuple[dict, dict]:
    source = db.engine.raw_connection()
    try:
        dest = sqlite3.connect(target)
        try:
            source.driver_connection.backup(dest)
        finally:
            dest.close()
    finally:
        source.close()
    # Count in the copy itself: the manifest describes exactly the bytes in the backup.
    from sqlalchemy import create_engine

    engine = create_engine(f"sqlite:///{target}")
    try:
        with engine.connect() as conn:
            return _count_rows(conn), _trail_head(conn)
    finally:
        engine.dispose()


def _dump_postgres(target: Path) -> tuple[dict, dict]:
    with db.engine.connect() as conn:
        conn.exec_driver_sql("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        snapshot = conn.execute(text("SELECT pg_export_snapshot()")).scalar_one()
        counts, head = _count_rows(conn), _trail_head(conn)
        args, env = _pg_args(db.engine.url)
        _run(
            [
                shutil.which("pg_dump") or "pg_dump",
                "--format=custom",
                "--no-owner",
                "--no-privileges",
                f"--snapshot={snapshot}",
                "--file",
                str(target),
                *args,
            ],
            env,
        )
        conn.rollback()
    return counts, head


def create_backup(to_dir: str | Path, *, reason: str = "routine backup", actor=None) -> Report:
    """Write a new backup folder under ``to_dir`` and return what it holds.

    A backup copies every record: it is an export in the access trail, recorded once the
    folder is complete (after the snapshot, so the backup does not contain its own row).
    """
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    base = Path(to_dir).resolve()
    base.mkdir(parents=True, exist_ok=True)
    final = base / f"tollgate-backup-{stamp}"
    n = 1
    while final.exists():
        n += 1
        final = base / f"tollgate-backup-{stamp}-{n}"
    work = Path(tempfile.mkdtemp(prefix=".partial-", dir=base))
    try:
        dialect = db.engine.dialect.name
        db_file = SQLITE_FILE if dialect == "sqlite" else PG_FILE
        # Before the snapshot: every checkpoint copied names a row the snapshot holds.
        has_checkpoints = checkpoints.copy_file(work / CHECKPOINT_FILE)
        if dialect == "sqlite":
            counts, head = _dump_sqlite(work / db_file)
        elif dialect == "postgresql":
            counts, head = _dump_postgres(work / db_file)
        else:
            raise BackupError(f"backups of {dialect} databases are not supported")
        files = {db_file: _file_entry(work / db_file)}
        if has_checkpoints:
            files[CHECKPOINT_FILE] = _file_entry(work / CHECKPOINT_FILE)
        for name, key in FOLDERS.items():
            src = Path(current_app.config[key])
            dst = work / name
            if src.is_dir():
                shutil.copytree(src, dst, ignore=shutil.ignore_patterns("*.lock", "*.tmp"))
            else:
                dst.mkdir()
            for path in sorted(p for p in dst.rglob("*") if p.is_file()):
                files[path.relative_to(work).as_posix()] = _file_entry(path)
        manifest = {
            "format": FORMAT,
            "created_utc": now_utc().isoformat(),
            "dialect": dialect,
            "database_file": db_file,
            "tables": counts,
            "trail": head,
            "files": files,
        }
        data = json.dumps(manifest, indent=1, sort_keys=True).encode()
        (work / MANIFEST).write_bytes(data)
        (work / MANIFEST_SUM).write_text(f"{hashlib.sha256(data).hexdigest()}  {MANIFEST}\n")
        os.replace(work, final)  # a backup folder exists only once it is complete
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    report = Report(final, len(counts), sum(counts.values()), len(files), head["last_seq"])
    trail.record(
        actor or Actor.system("backup"),
        "export",
        "database",
        None,
        justification=reason,
        details={"backup": final.name, "rows": report.rows, "files": report.files},
    )
    db.session.commit()
    return report


def _file_entry(path: Path) -> dict:
    return {"sha256": sha256_file(path), "bytes": path.stat().st_size}


# --- restore --------------------------------------------------------------------------


def read_manifest(src: Path) -> dict:
    """Load and check the manifest and every file it lists; raise BackupError on damage."""
    manifest_path = src / MANIFEST
    if not manifest_path.is_file():
        raise BackupError(f"{src} is not a Tollgate backup: {MANIFEST} is missing")
    data = manifest_path.read_bytes()
    sum_path = src / MANIFEST_SUM
    if not sum_path.is_file():
        raise BackupError(f"{MANIFEST_SUM} is missing")
    if sum_path.read_text().split()[0] != hashlib.sha256(data).hexdigest():
        raise BackupError(f"{MANIFEST} does not match {MANIFEST_SUM}: the manifest was altered")
    try:
        manifest = json.loads(data)
    except ValueError as exc:
        raise BackupError(f"{MANIFEST} is not valid JSON: {exc}") from exc
    if manifest.get("format") != FORMAT:
        raise BackupError(f"unsupported backup format {manifest.get('format')!r}")
    problems = []
    for rel, entry in sorted(manifest["files"].items()):
        path = (src / rel).resolve()
        if src.resolve() not in path.parents:
            problems.append(f"{rel}: path outside the backup")
        elif not path.is_file():
            problems.append(f"{rel}: missing")
        elif path.stat().st_size != entry["bytes"] or sha256_file(path) != entry["sha256"]:
            problems.append(f"{rel}: checksum mismatch (file damaged or altered)")
    listed = set(manifest["files"])
    for folder in FOLDERS:
        for path in (src / folder).rglob("*") if (src / folder).is_dir() else ():
            if path.is_file() and path.relative_to(src).as_posix() not in listed:
                problems.append(f"{path.relative_to(src).as_posix()}: not in the manifest")
    if problems:
        raise BackupError("damaged backup, nothing restored:\n  " + "\n  ".join(problems))
    return manifest


def _target_is_empty() -> bool:
    with db.engine.connect() as conn:
        for name in _tables():
            table = db.metadata.tables[name]
            try:
                if conn.execute(select(table).limit(1)).first() is not None:
                    return False
            except Exception:  # noqa: BLE001 - a missing table is an empty one
                conn.rollback()
    return True


def _restore_sqlite(src_file: Path) -> None:
    db.session.remove()
    db.engine.dispose()
    url = make_url(current_app.config["SQLALCHEMY_DATABASE_URI"])
    target = Path(url.database)
    target.parent.mkdir(parents=True, exist_ok=True)
    source = sqlite3.connect(f"file:{src_file}?mode=ro", uri=True)
    try:
        dest = sqlite3.connect(target)
        try:
            source.backup(dest)  # page by page, under the destination's write lock
        finally:
            dest.close()
    finally:
        source.close()


def _restore_postgres(src_file: Path) -> None:
    db.session.remove()
    db.engine.dispose()
    args, env = _pg_args(db.engine.url)
    _run(
        [
            shutil.which("pg_restore") or "pg_restore",
            "--clean",
            "--if-exists",
            "--no-owner",
            "--no-privileges",
            "--single-transaction",
            "--exit-on-error",
            *args,
            str(src_file),
        ],
        env,
    )


def _restore_folder(src: Path, key: str) -> None:
    """Replace the configured folder with the backup's copy (swapped in with renames)."""
    dst = Path(current_app.config[key])
    dst.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{dst.name}-restore-", dir=dst.parent))
    shutil.rmtree(staging)
    shutil.copytree(src, staging)
    old = None
    if dst.exists():
        old = dst.with_name(f".{dst.name}-before-restore-{os.getpid()}")
        os.replace(dst, old)
    os.replace(staging, dst)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def verify_restored(manifest: dict) -> list[str]:
    """Compare the live database and folders with ``manifest``; return the problems found."""
    problems = []
    db.session.remove()
    with db.engine.connect() as conn:
        counts = _count_rows(conn)
        head = _trail_head(conn)
    for name, expected in sorted(manifest["tables"].items()):
        got = counts.get(name)
        if got != expected:
            problems.append(f"table {name}: {got} rows restored, {expected} in the backup")
    if head != manifest["trail"]:
        problems.append(
            f"access trail ends at seq {head['last_seq']}, the backup at "
            f"{manifest['trail']['last_seq']}"
        )
    report = trail_verify.verify_trail()
    db.session.remove()
    if not report.chain_ok:
        problems.append(f"access trail {report.chain_message}")
    problems += [
        f"access trail: {p}" for p in report.problems if not p.startswith("hash chain broken")
    ]
    for rel, entry in sorted(manifest["files"].items()):
        folder, _, inner = rel.partition("/")
        if folder not in FOLDERS:
            continue
        path = Path(current_app.config[FOLDERS[folder]]) / inner
        if not path.is_file() or sha256_file(path) != entry["sha256"]:
            problems.append(f"{rel}: not restored intact")
    return problems


def restore_backup(src: str | Path, *, force: bool = False, actor=None) -> Report:
    """Restore the backup folder ``src`` over the configured database and folders."""
    src = Path(src).resolve()
    manifest = read_manifest(src)
    dialect = db.engine.dialect.name
    if manifest["dialect"] != dialect:
        raise BackupError(
            f"this is a {manifest['dialect']} backup; the configured database is {dialect}"
        )
    if not force and not _target_is_empty():
        raise BackupError(
            "the configured database already holds data; stop Tollgate and pass --force "
            "to replace it"
        )
    db_file = src / manifest["database_file"]
    if dialect == "sqlite":
        _check_sqlite_copy(db_file, manifest)
        _restore_sqlite(db_file)
    else:
        _restore_postgres(db_file)
    for name, key in FOLDERS.items():
        _restore_folder(src / name, key)
    _restore_checkpoints(src, manifest)
    problems = verify_restored(manifest)
    if problems:
        raise BackupError("restore verification failed:\n  " + "\n  ".join(problems))
    # Recorded after the verification, which compares the trail with the manifest.
    trail.record(
        actor or Actor.system("restore"),
        "create",
        "database",
        None,
        details={"restored_from": src.name, "created_utc": manifest["created_utc"]},
    )
    db.session.commit()
    rows = sum(manifest["tables"].values())
    return Report(
        src, len(manifest["tables"]), rows, len(manifest["files"]), manifest["trail"]["last_seq"]
    )


def _restore_checkpoints(src: Path, manifest: dict) -> None:
    """Install the backup's checkpoint file where there is none; sign the restored head.

    A live checkpoint file is kept: it is append-only and knows at least what the backup's
    copy knows. The "restore" checkpoint is written whatever comes next (the database was
    replaced); without the key that signed the installed file it cannot be, and the
    verification that follows says so.
    """
    live = checkpoints.checkpoint_path()
    if CHECKPOINT_FILE in manifest["files"] and not (live.exists() and live.stat().st_size):
        live.parent.mkdir(parents=True, exist_ok=True)
        staging = live.with_name(f".{live.name}.restore-{os.getpid()}")
        shutil.copyfile(src / CHECKPOINT_FILE, staging)
        os.chmod(staging, 0o640)
        os.replace(staging, live)
    try:
        checkpoints.write(
            "restore",
            extra={"restored_from": src.name, "backup_created_utc": manifest["created_utc"]},
        )
    except checkpoints.CheckpointError as exc:
        log.warning("restore not recorded in the trail checkpoints: %s", exc)
    finally:
        db.session.remove()


def _check_sqlite_copy(db_file: Path, manifest: dict) -> None:
    """Check a SQLite backup's row counts before it replaces anything."""
    from sqlalchemy import create_engine

    engine = create_engine(f"sqlite:///file:{db_file}?mode=ro&uri=true")
    try:
        with engine.connect() as conn:
            counts = _count_rows(conn)
            integrity = conn.exec_driver_sql("PRAGMA integrity_check").scalar()
    except Exception as exc:
        raise BackupError(f"{db_file.name} is not a readable SQLite database: {exc}") from exc
    finally:
        engine.dispose()
    if integrity != "ok":
        raise BackupError(f"{db_file.name} fails SQLite's integrity check: {integrity}")
    wrong = [
        f"table {name}: {counts.get(name)} rows in the file, {n} in the manifest"
        for name, n in sorted(manifest["tables"].items())
        if counts.get(name) != n
    ]
    if wrong:
        raise BackupError("damaged backup, nothing restored:\n  " + "\n  ".join(wrong))
