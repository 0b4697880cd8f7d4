"""Signed checkpoints: the access trail proves its length, not only its order.

The hash chain (``app.security.trail``) shows that no row was altered in place. Someone with
database access can still cut rows from its end, or rewrite rows and recompute every hash
after them, and the chain verifies. A checkpoint pins the chain's head at a moment: an
HMAC-SHA256, keyed outside the database, over the head row (id, seq, hash) and the row count.
Checkpoints are appended to a file outside the database (``TOLLGATE_TRAIL_CHECKPOINT_FILE``;
keep it on another volume, an append-only mount or ``chattr +a``) and, if configured, handed
to an anchor command (``TOLLGATE_TRAIL_CHECKPOINT_ANCHOR``, e.g. ``logger -t tollgate-trail``
for syslog shipped elsewhere), which gets the JSON line on stdin.

The key (``TOLLGATE_TRAIL_CHECKPOINT_KEY``, or the 0600 file ``TOLLGATE_TRAIL_CHECKPOINT_KEY_FILE``
created by ``tollgate init``) is never stored in the database: whoever can rewrite the
database cannot sign a checkpoint for what they wrote.

Each line carries its number and the previous line's MAC, so lines cannot be dropped from the
middle or reordered unnoticed. Three kinds:

- ``checkpoint``: the worker job (every ``TOLLGATE_TRAIL_CHECKPOINT_MINUTES``),
  ``tollgate trail checkpoint`` and ``tollgate init``;
- ``prune``: written by ``tollgate trail archive`` once the rows past the retention period
  are archived; the database administrator may then delete the rows up to its head, and the
  trail may start right after it (its hash is the first remaining row's ``prev_hash``);
- ``restore``: written when a backup replaced the database; the earlier checkpoints beyond
  its head describe a history the restore discarded and are no longer checked.

``app.security.trail_verify.verify_trail`` checks the chain, every checkpoint (its MAC, and
that the row it names still exists with that id and hash and the rows up to it number what it
counted) and the triggers.
Rows written after the newest checkpoint are only as safe as the chain: the interval bounds
what a truncation can remove unnoticed.
"""

import fcntl
import hashlib
import hmac
import json
import logging
import os
import shlex
import subprocess
from dataclasses import dataclass
from pathlib import Path

from flask import current_app
from sqlalchemy import func, select

from app.core.time import now_utc
from app.extensions import db
from app.security import trail
from app.security.trail import AccessEvent

log = logging.getLogger("tollgate.trail")

VERSION = 1
KINDS = ("checkpoint", "prune", "restore")
#: domain separation: this key signs trail checkpoints and nothing else
_MAC_PREFIX = b"tollgate trail checkpoint v1\n"
_KEY_ID_LABEL = b"tollgate trail checkpoint key id"
MIN_KEY_CHARS = 32
ANCHOR_TIMEOUT = 30
JOB_ID = "security.trail-checkpoint"


class CheckpointError(RuntimeError):
    """A checkpoint could not be written (no key, unreadable file, anchor failure)."""


def init_app(app) -> None:
    from app.jobs.registry import JobSpec, add_job

    add_job(
        app,
        JobSpec(
            JOB_ID,
            run_checkpoint_job,
            "interval",
            {"minutes": int(app.config["TOLLGATE_TRAIL_CHECKPOINT_MINUTES"])},
            "Sign the access trail's head and row count (checkpoint outside the database)",
        ),
    )


# --- key and file -------------------------------------------------------------------------


def checkpoint_path() -> Path:
    return Path(current_app.config["TOLLGATE_TRAIL_CHECKPOINT_FILE"])


def key_file() -> Path:
    return Path(current_app.config["TOLLGATE_TRAIL_CHECKPOINT_KEY_FILE"])


def load_key() -> bytes | None:
    """The signing key, or None if none is configured yet; raises on an unusable key."""
    value = current_app.config.get("TOLLGATE_TRAIL_CHECKPOINT_KEY")
    if value:
        if len(value.strip()) < MIN_KEY_CHARS:
            raise CheckpointError(
                f"TOLLGATE_TRAIL_CHECKPOINT_KEY: at least {MIN_KEY_CHARS} characters are needed"
            )
        return value.strip().encode()
    path = key_file()
    if not path.exists():
        return None
    mode = path.stat().st_mode & 0o777
    if mode & 0o077:
        raise CheckpointError(
            f"{path}: the checkpoint key is open to other users (mode {mode:04o}); chmod 600 {path}"
        )
    value = path.read_text().strip()
    if len(value) < MIN_KEY_CHARS:
        raise CheckpointError(f"{path}: the key needs at least {MIN_KEY_CHARS} characters")
    return value.encode()


def ensure_key() -> tuple[Path | None, bool]:
    """Create the key file (mode 0600) unless a key is configured; returns (file, created).

    The file holds the same text an administrator could put in TOLLGATE_TRAIL_CHECKPOINT_KEY,
    so the key can move between the two without invalidating the checkpoints it signed.
    A key is created only while there are no checkpoints: one that went missing after
    checkpoints were signed with it is an error, never silently replaced.
    """
    if current_app.config.get("TOLLGATE_TRAIL_CHECKPOINT_KEY"):
        return None, False
    path = key_file()
    if path.exists():
        return path, False
    signed = checkpoint_path()
    if signed.exists() and signed.stat().st_size:
        raise CheckpointError(
            f"no checkpoint key ({path} is missing and TOLLGATE_TRAIL_CHECKPOINT_KEY is not "
            f"set) but {signed} holds checkpoints: restore the key they were signed with"
        )
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        # O_EXCL: two processes starting together must not write two different keys.
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path, False
    with os.fdopen(fd, "w") as fh:
        fh.write(os.urandom(32).hex() + "\n")
        fh.flush()
        os.fsync(fh.fileno())
    return path, True


def key_id(key: bytes) -> str:
    """A short public name of the key: tells "signed with another key" from "altered"."""
    return hmac.new(key, _KEY_ID_LABEL, hashlib.sha256).hexdigest()[:16]


def _canonical(fields: dict) -> bytes:
    unsigned = {k: v for k, v in fields.items() if k != "mac"}
    return _MAC_PREFIX + json.dumps(unsigned, sort_keys=True, separators=(",", ":")).encode()


def sign(fields: dict, key: bytes) -> str:
    return hmac.new(key, _canonical(fields), hashlib.sha256).hexdigest()


# --- the head of the trail ----------------------------------------------------------------


@dataclass(frozen=True)
class Head:
    seq: int
    id: int | None
    hash: str
    #: rows in the table with seq <= this head
    rows: int
    #: the seq the table starts after (0, or the head of the last prune)
    base: int


def read_head(through: int | None = None) -> Head:
    """The trail's head (or the row ``through``) with the count of rows up to it."""
    stmt = select(func.max(AccessEvent.seq), func.min(AccessEvent.seq), func.count())
    if through is not None:
        stmt = stmt.where(AccessEvent.seq <= through)
    # One statement: the count and the head come from the same snapshot on both backends.
    top, bottom, rows = db.session.execute(stmt).one()
    if top is None:
        return Head(0, None, trail.GENESIS, 0, 0)
    row = db.session.execute(
        select(AccessEvent.id, AccessEvent.hash).where(AccessEvent.seq == top)
    ).one()
    return Head(top, row.id, row.hash, rows, bottom - 1)


# --- writing ------------------------------------------------------------------------------


def _last_line(fd: int) -> tuple[dict | None, bool]:
    """The file's last complete checkpoint (or None) and whether the file ends mid-line."""
    size = os.fstat(fd).st_size
    if size == 0:
        return None, False
    window = 1 << 16
    while True:
        start = max(0, size - window)
        data = os.pread(fd, size - start, start)
        lines = data.split(b"\n")
        torn = not data.endswith(b"\n")
        complete = lines[1:-1] if start else lines[:-1]
        for raw in reversed(complete):
            try:
                record = json.loads(raw)
            except ValueError:
                continue
            if isinstance(record, dict) and isinstance(record.get("n"), int):
                return record, torn
        if start == 0:
            return None, torn
        window *= 4


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


def write(kind: str = "checkpoint", *, head: Head | None = None, extra: dict | None = None) -> dict:
    """Sign the trail's head (or ``head``) and append it to the checkpoint file; return it.

    Without a key yet (an instance from before ``tollgate init`` made one) the first
    checkpoint creates it, as ``tollgate init`` would.
    """
    if kind not in KINDS:
        raise ValueError(f"unknown checkpoint kind {kind!r}")
    path = checkpoint_path()
    key = load_key()
    if key is None:
        ensure_key()
        key = load_key()
    path.parent.mkdir(parents=True, exist_ok=True)
    created = not path.exists()
    fd = os.open(path, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o640)
    try:
        # One writer at a time (the worker's job, the CLI): numbers and links stay a chain.
        fcntl.flock(fd, fcntl.LOCK_EX)
        last, torn = _last_line(fd)
        head = head or read_head()
        fields = {
            "v": VERSION,
            "n": (last["n"] + 1) if last else 1,
            "kind": kind,
            "time": now_utc().isoformat(),
            "head_seq": head.seq,
            "head_id": head.id,
            "head_hash": head.hash,
            "rows": head.rows,
            "base": head.base,
            "prev": (last.get("mac") or "") if last else "",
            "key_id": key_id(key),
            **(extra or {}),
        }
        fields["mac"] = sign(fields, key)
        line = json.dumps(fields, sort_keys=True, separators=(",", ":")) + "\n"
        # A crash mid-write left a partial line: start on a fresh one (verify reports it).
        _write_all(fd, (b"\n" if torn else b"") + line.encode())
        os.fsync(fd)
    finally:
        os.close(fd)
    if created:
        _fsync_dir(path.parent)
    _anchor(line)
    log.info("trail checkpoint #%s (%s): seq %s, %s rows", fields["n"], kind, head.seq, head.rows)
    return fields


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _anchor(line: str) -> None:
    """Hand the line to the administrator's anchor command, if any (after the file has it)."""
    command = (current_app.config.get("TOLLGATE_TRAIL_CHECKPOINT_ANCHOR") or "").strip()
    if not command:
        return
    try:
        done = subprocess.run(  # noqa: S603 - the administrator's own command line
            shlex.split(command),
            input=line,
            text=True,
            capture_output=True,
            timeout=ANCHOR_TIMEOUT,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise CheckpointError(f"checkpoint written; anchor command failed: {exc}") from exc
    if done.returncode != 0:
        raise CheckpointError(
            f"checkpoint written; anchor command exited {done.returncode}: "
            f"{done.stderr.strip()[-500:]}"
        )


def run_checkpoint_job() -> None:
    """Scheduled job: one checkpoint (a failure marks the run failed, with the reason)."""
    write("checkpoint")


def copy_file(target: Path) -> bool:
    """Copy the checkpoint file whole (under its lock: never half a line); False if none."""
    path = checkpoint_path()
    if not path.exists():
        return False
    fd = os.open(path, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_SH)
        with open(target, "wb") as out:
            while block := os.read(fd, 1 << 20):
                out.write(block)
    finally:
        os.close(fd)
    return True
