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

``verify_trail`` checks the chain, every checkpoint (its MAC, and that the row it names still
exists with that id and hash and the rows up to it number what it counted) and the triggers.
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
from dataclasses import dataclass, field
from datetime import timedelta
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


def _key_file() -> Path:
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
    path = _key_file()
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
    path = _key_file()
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


# --- reading and verifying ----------------------------------------------------------------


@dataclass(frozen=True)
class Checkpoint:
    """One signed line of the checkpoint file."""

    fields: dict
    #: its line number in the file
    line: int

    n = property(lambda self: self.fields["n"])
    kind = property(lambda self: self.fields["kind"])
    head_seq = property(lambda self: self.fields["head_seq"])
    head_id = property(lambda self: self.fields.get("head_id"))
    head_hash = property(lambda self: self.fields["head_hash"])
    rows = property(lambda self: self.fields["rows"])
    base = property(lambda self: self.fields["base"])
    prev = property(lambda self: self.fields["prev"])
    mac = property(lambda self: self.fields["mac"])

    def __str__(self):
        return f"checkpoint #{self.n} ({self.fields['time']})"


_REQUIRED = {
    "v": int,
    "n": int,
    "kind": str,
    "time": str,
    "head_seq": int,
    "head_hash": str,
    "rows": int,
    "base": int,
    "prev": str,
    "key_id": str,
    "mac": str,
}


def _parse(raw: bytes, number: int) -> tuple[Checkpoint | None, str | None]:
    try:
        fields = json.loads(raw)
    except ValueError:
        return None, None  # a partial line: judged by what follows it (see ``load``)
    if not isinstance(fields, dict):
        return None, f"line {number} is not a checkpoint"
    for name, kind in _REQUIRED.items():
        if not isinstance(fields.get(name), kind) or isinstance(fields.get(name), bool):
            return None, f"line {number}: field {name} is missing or not a {kind.__name__}"
    if fields["kind"] not in KINDS:
        return None, f"line {number}: unknown kind {fields['kind']!r}"
    return Checkpoint(fields, number), None


def load(
    key: bytes | None, path: Path | None = None
) -> tuple[list[Checkpoint], list[str], list[str]]:
    """The checkpoints whose signature holds, the problems of the file, and notes.

    A line that is not JSON is what a write interrupted by a crash leaves; the next write
    starts a fresh line with the same number. Followed by that checkpoint, in order, it is
    only noted; at the end of the file it may be the newest checkpoint cut short: a problem.
    """
    path = path or checkpoint_path()
    problems: list[str] = []
    notes: list[str] = []
    good: list[Checkpoint] = []
    partial: list[int] = []
    expected_n, prev_mac = 1, ""
    with open(path, "rb") as fh:
        for number, raw in enumerate(fh, start=1):
            if not raw.strip():
                continue
            cp, problem = _parse(raw, number)
            if problem:
                problems.append(problem)
                continue
            if cp is None:
                partial.append(number)
                continue
            if cp.n != expected_n:
                problems.append(
                    f"{cp}: expected checkpoint #{expected_n} here (line {number}): "
                    "checkpoints were removed from or added to the file"
                )
            elif cp.prev != prev_mac:
                problems.append(f"{cp}: does not follow checkpoint #{cp.n - 1} (its link differs)")
            else:
                notes += [
                    f"line {n}: a partial line (an interrupted write); {cp} follows in order"
                    for n in partial
                ]
                partial = []
            expected_n, prev_mac = cp.n + 1, cp.mac
            if key is None:
                continue
            if not hmac.compare_digest(sign(cp.fields, key), cp.mac):
                if cp.fields["key_id"] != key_id(key):
                    problems.append(
                        f"{cp}: signed with a different key (key id {cp.fields['key_id']}; the "
                        f"configured key is {key_id(key)}): wrong key, or a forged line"
                    )
                else:
                    problems.append(f"{cp}: its signature does not match: the line was altered")
                continue
            good.append(cp)
    problems += [
        f"line {n} is not a checkpoint (damaged, or the newest checkpoint cut short)"
        for n in partial
    ]
    return good, problems, notes


@dataclass
class TrailReport:
    """What ``verify_trail`` found. ``problems`` make it fail; ``notes`` inform."""

    chain_ok: bool = True
    chain_message: str = ""
    rows: int = 0
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def lines(self, limit: int = 25) -> list[str]:
        """What to print; past ``limit`` problems (a deep cut fails every later checkpoint)
        only their number: the first ones say where the trail went wrong."""
        out = [self.chain_message, *self.notes]
        out += [f"FAILED: {p}" for p in self.problems[:limit]]
        if len(self.problems) > limit:
            out.append(f"FAILED: ... and {len(self.problems) - limit} more")
        if self.ok:
            out.append("trail verified")
        else:
            out.append(f"TRAIL NOT VERIFIED: {len(self.problems)} problem(s)")
        return out


def _superseded(cp: Checkpoint, restores: list[Checkpoint]) -> Checkpoint | None:
    """The later restore that discarded the rows ``cp`` names, if any."""
    for later in restores:
        if later.n > cp.n and later.head_seq < cp.head_seq:
            return later
    return None


def _first_row():
    return db.session.execute(
        select(AccessEvent.seq, AccessEvent.prev_hash).order_by(AccessEvent.seq).limit(1)
    ).first()


def _check_at(cp: Checkpoint, row, counted: int | None, base: int) -> str | None:
    """Why the row at ``cp``'s head does not match it (None if it does)."""
    if row.hash != cp.head_hash:
        return (
            f"{cp}: row seq {cp.head_seq} has hash {row.hash[:16]}..., the checkpoint signed "
            f"{cp.head_hash[:16]}...: the rows up to seq {cp.head_seq} were rewritten"
        )
    if cp.head_id is not None and row.id != cp.head_id:
        return (
            f"{cp}: row seq {cp.head_seq} is now id {row.id}, the checkpoint signed id {cp.head_id}"
        )
    expected = cp.rows + cp.base - base
    if counted is not None and counted != expected:
        return (
            f"{cp}: {counted} rows up to seq {cp.head_seq}, the checkpoint counted {expected}"
            + (f" (after the prune up to seq {base})" if base else "")
        )
    return None


def verify_trail(max_unsealed: timedelta | None = None) -> TrailReport:
    """Check the chain, every checkpoint and the triggers (see the module docstring).

    ``max_unsealed``: also fail if rows older than this are not yet covered by a checkpoint
    (the job has stopped, or the newest checkpoints were removed from the file).
    """
    report = TrailReport()
    path = checkpoint_path()
    try:
        key = load_key()
    except CheckpointError as exc:
        report.problems.append(str(exc))
        key = None
    checkpoints: list[Checkpoint] = []
    if path.exists():
        if key is None and not report.problems:
            report.problems.append(
                f"{path} holds checkpoints but no key is configured to check them "
                f"({_key_file()} is missing and TOLLGATE_TRAIL_CHECKPOINT_KEY is not set)"
            )
        try:
            checkpoints, file_problems, file_notes = load(key, path)
        except OSError as exc:
            file_problems, file_notes = [f"{path}: {exc.strerror}"], []
        report.problems += file_problems
        report.notes += file_notes
    elif key is not None:
        report.problems.append(
            f"{path} does not exist, but a checkpoint key does: the checkpoints were deleted "
            "or TOLLGATE_TRAIL_CHECKPOINT_FILE points elsewhere (tollgate init writes the first)"
        )
    else:
        report.notes.append(
            "checkpoints: none (no key configured; run tollgate init): only the chain and the "
            "triggers were checked, the trail's length is not proven"
        )

    report.problems += trail.trigger_problems(db.session.connection())

    # Where the chain starts: genesis, or right after a signed prune's head.
    first = _first_row()
    base_seq, base_hash = 0, trail.GENESIS
    if first is not None and first.seq > 1:
        base_seq, base_hash = first.seq - 1, first.prev_hash
        prune = next(
            (
                cp
                for cp in checkpoints
                if cp.kind == "prune" and cp.head_seq == base_seq and cp.head_hash == base_hash
            ),
            None,
        )
        if prune is None:
            report.problems.append(
                f"rows seq 1 to {base_seq} are missing (the oldest row is seq {first.seq}) and "
                "no signed prune checkpoint covers them: the start of the trail was cut"
            )
        else:
            report.notes.append(f"rows up to seq {base_seq} were pruned ({prune})")

    # Checkpoints to check against the rows, by the seq they name.
    expected: dict[int, list[Checkpoint]] = {}
    superseded = pruned = 0
    restores = [cp for cp in checkpoints if cp.kind == "restore"]
    for cp in checkpoints:
        if _superseded(cp, restores) is not None:
            superseded += 1
        elif cp.head_seq <= base_seq and cp.head_seq:
            pruned += 1
        else:
            expected.setdefault(cp.head_seq, []).append(cp)
    seen: set[int] = set()
    failed: set[int] = set()

    def fail(cp, problem):
        failed.add(cp.n)
        report.problems.append(problem)

    def visit(row, counted):
        for cp in expected.get(row.seq, ()):
            seen.add(cp.n)
            if problem := _check_at(cp, row, counted, base_seq):
                fail(cp, problem)

    ok, checked, message = trail.verify(base=(base_seq, base_hash), visit=visit)
    report.chain_ok, report.rows = ok, checked
    report.chain_message = message if ok else f"hash chain broken: {message}"
    if not ok:
        report.problems.insert(0, f"hash chain broken: {message}")
    last_seq = db.session.scalar(select(func.max(AccessEvent.seq))) or 0
    for cp in (cp for cps in expected.values() for cp in cps):
        if cp.n in seen or cp.head_seq == 0:
            continue
        row = db.session.execute(
            select(AccessEvent.id, AccessEvent.hash).where(AccessEvent.seq == cp.head_seq)
        ).first()
        if row is None:
            fail(
                cp,
                f"{cp}: row seq {cp.head_seq} (id {cp.head_id}) no longer exists; the trail "
                f"ends at seq {last_seq}: rows were removed from its end",
            )
        elif problem := _check_at(cp, row, None, base_seq):
            fail(cp, problem)  # beyond a chain break: the row itself, no count
    if path.exists():
        held = [cp for cps in expected.values() for cp in cps if cp.n not in failed]
        counts = (superseded, pruned, len(failed))
        _describe(report, checkpoints, held, counts, base_seq, last_seq, max_unsealed)
    return report


def _describe(report, checkpoints, held, counts, base_seq, last_seq, max_unsealed):
    """Notes on what was checked and what is not yet covered."""
    superseded, pruned, failed = counts
    extra = [f"{failed} failed"] * bool(failed)
    extra += [f"{superseded} discarded by a restore"] * bool(superseded)
    extra += [f"{pruned} of pruned rows"] * bool(pruned)
    newest = max(held, key=lambda c: c.head_seq, default=None)
    report.notes.append(
        f"checkpoints: {len(checkpoints)} signed, {len(held)} match the rows"
        + (f" ({', '.join(extra)})" if extra else "")
        + (f"; the furthest that holds, {newest}, covers seq {newest.head_seq}" if newest else "")
    )
    covered = max(newest.head_seq if newest else 0, base_seq)
    if last_seq <= covered:
        return
    oldest = db.session.scalar(
        select(AccessEvent.occurred_dt).where(AccessEvent.seq == covered + 1)
    )
    since = oldest.isoformat() if oldest else "?"
    report.notes.append(
        f"{last_seq - covered} rows since seq {covered + 1} ({since}) are not yet covered by a "
        "checkpoint"
    )
    if max_unsealed is not None and oldest is not None and now_utc() - oldest > max_unsealed:
        report.problems.append(
            f"rows since {oldest.isoformat()} are older than {_minutes(max_unsealed)} minutes and "
            "not covered by a checkpoint: is the worker running? (tollgate trail checkpoint "
            "writes one now)"
        )


def _minutes(delta: timedelta) -> int:
    return int(delta.total_seconds() // 60)
