"""Verifying the access trail (``tollgate trail verify``, the restore check, the archive):
the hash chain, every signed checkpoint of ``app.security.checkpoints`` (its MAC, its place
in the file, and that the row it names still exists with that id and hash and the rows up to
it number what it counted), and the append-only triggers.

A checkpoint discarded by a later ``restore`` is not checked; a ``prune`` checkpoint lets the
trail start after its head. Rows written after the newest checkpoint are only as safe as the
chain: the notes say how many and since when.
"""

import hmac
import json
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

from sqlalchemy import func, select

from app.core.time import now_utc
from app.extensions import db
from app.security import trail
from app.security.checkpoints import (
    KINDS,
    CheckpointError,
    checkpoint_path,
    key_file,
    key_id,
    load_key,
    sign,
)
from app.security.trail import AccessEvent


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


def _read_checkpoints(report: TrailReport, path: Path) -> list[Checkpoint]:
    """The checkpoints whose signature holds; a missing key or file is a problem when the
    other exists, and a note when neither does."""
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
                f"({key_file()} is missing and TOLLGATE_TRAIL_CHECKPOINT_KEY is not set)"
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
    return checkpoints


def _chain_base(report: TrailReport, checkpoints: list[Checkpoint]) -> tuple[int, str]:
    """Where the chain starts: genesis, or right after a signed prune's head."""
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
    return base_seq, base_hash


def _to_check(checkpoints: list[Checkpoint], base_seq: int) -> tuple[dict, int, int]:
    """The checkpoints to check against the rows, by the seq they name; and how many were
    discarded by a later restore or name pruned rows."""
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
    return expected, superseded, pruned


class _Matcher:
    """Checks each checkpoint against the row it names, as the chain walk meets the rows."""

    def __init__(self, report: TrailReport, expected: dict, base_seq: int):
        self.report, self.expected, self.base_seq = report, expected, base_seq
        self.seen: set[int] = set()
        self.failed: set[int] = set()

    def fail(self, cp: Checkpoint, problem: str) -> None:
        self.failed.add(cp.n)
        self.report.problems.append(problem)

    def visit(self, row, counted) -> None:
        for cp in self.expected.get(row.seq, ()):
            self.seen.add(cp.n)
            if problem := _check_at(cp, row, counted, self.base_seq):
                self.fail(cp, problem)

    def unvisited(self, last_seq: int) -> None:
        """Checkpoints the walk did not reach (beyond a chain break or the trail's end):
        the row itself, without a count."""
        for cp in (cp for cps in self.expected.values() for cp in cps):
            if cp.n in self.seen or cp.head_seq == 0:
                continue
            row = db.session.execute(
                select(AccessEvent.id, AccessEvent.hash).where(AccessEvent.seq == cp.head_seq)
            ).first()
            if row is None:
                self.fail(
                    cp,
                    f"{cp}: row seq {cp.head_seq} (id {cp.head_id}) no longer exists; the trail "
                    f"ends at seq {last_seq}: rows were removed from its end",
                )
            elif problem := _check_at(cp, row, None, self.base_seq):
                self.fail(cp, problem)


def verify_trail(max_unsealed: timedelta | None = None) -> TrailReport:
    """Check the chain, every checkpoint and the triggers (see app.security.checkpoints).

    ``max_unsealed``: also fail if rows older than this are not yet covered by a checkpoint
    (the job has stopped, or the newest checkpoints were removed from the file).
    """
    report = TrailReport()
    path = checkpoint_path()
    checkpoints = _read_checkpoints(report, path)
    report.problems += trail.trigger_problems(db.session.connection())
    base_seq, base_hash = _chain_base(report, checkpoints)
    expected, superseded, pruned = _to_check(checkpoints, base_seq)
    matcher = _Matcher(report, expected, base_seq)
    ok, checked, message = trail.verify(base=(base_seq, base_hash), visit=matcher.visit)
    report.chain_ok, report.rows = ok, checked
    report.chain_message = message if ok else f"hash chain broken: {message}"
    if not ok:
        report.problems.insert(0, f"hash chain broken: {message}")
    last_seq = db.session.scalar(select(func.max(AccessEvent.seq))) or 0
    matcher.unvisited(last_seq)
    if path.exists():
        held = [cp for cps in expected.values() for cp in cps if cp.n not in matcher.failed]
        counts = (superseded, pruned, len(matcher.failed))
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
