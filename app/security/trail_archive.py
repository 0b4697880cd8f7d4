"""Archiving the access trail for deletion (``tollgate trail archive``).

The trail is the security core's record; its retention period and the signed prune point
that lets the database administrator delete old rows belong here, beside ``checkpoints``.
(It lived in ``app.ops.retention``; the core imports no domain.)
"""

import hashlib
import json
import os
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from flask import current_app
from sqlalchemy import func, select

from app.core.errors import ValidationError
from app.core.time import now_utc
from app.extensions import db
from app.security import checkpoints, trail, trail_verify
from app.security.access import Actor
from app.security.trail import AccessEvent

#: CJIS §5.4.7: audit records are kept at least one year; no setting can shorten that.
TRAIL_MINIMUM_DAYS = 365


def trail_retention_days(config) -> int:
    """The access trail's retention period: the setting, but never under one year."""
    return max(TRAIL_MINIMUM_DAYS, int(config["TOLLGATE_TRAIL_RETENTION_DAYS"] or 0))


@dataclass(frozen=True)
class TrailArchive:
    through_seq: int
    rows: int
    archive: Path | None = None
    archive_sha256: str | None = None
    checkpoint: int | None = None

    def __str__(self):
        if not self.rows:
            return "nothing to archive: no trail row is older than the date given"
        return (
            f"{self.rows} trail rows up to seq {self.through_seq} archived to {self.archive} "
            f"(sha256 {self.archive_sha256}); signed prune checkpoint #{self.checkpoint}: the "
            f"database administrator may now delete the access_event rows with seq <= "
            f"{self.through_seq} (tollgate trail verify accepts a trail that starts after it)"
        )


def archive_trail(before: datetime, archive: Path, *, reason: str, actor: Actor) -> TrailArchive:
    """Archive the access-trail rows older than ``before`` and sign a prune checkpoint that
    lets them be deleted (``tollgate trail archive``); commits.

    The application never deletes trail rows: the database administrator does, offline, with
    the database's own privileges. What the application adds is the proof that the deletion
    was legitimate: a signed "prune" checkpoint naming the last row that may go, so
    ``verify_trail`` accepts a trail starting right after it and still refuses one cut
    anywhere else. Only past the retention period; only a trail that verifies (archiving
    must not bless tampering); only a prefix of the chain, up to the first row still within
    the period. The archive holds every column, so its own chain can be re-verified against
    the checkpoint's head hash; the export is recorded in the trail, after the archived rows.
    """
    actor.require("admin.reference")
    days = trail_retention_days(current_app.config)
    latest = now_utc() - timedelta(days=days)
    errors = {}
    if not (reason or "").strip():
        errors["reason"] = "a reason is required"
    if before > latest:
        errors["before"] = (
            f"access-trail rows are kept at least {days} days: the latest date allowed is "
            f"{latest.date().isoformat()}"
        )
    if archive.exists():
        errors["archive"] = f"{archive} already exists"
    if errors:
        raise ValidationError(errors)
    report = trail_verify.verify_trail()
    if not report.ok:
        raise ValidationError(
            {"trail": f"the trail does not verify, nothing was archived: {report.problems[0]}"}
        )
    oldest, last = db.session.execute(
        select(func.min(AccessEvent.seq), func.max(AccessEvent.seq))
    ).one()
    first_kept = db.session.scalar(
        select(func.min(AccessEvent.seq)).where(AccessEvent.occurred_dt >= before)
    )
    through = last if first_kept is None else first_kept - 1
    if last is None or through < oldest:
        return TrailArchive(0, 0)
    # O_EXCL: never overwrite a file; 0600: the rows hold personal data.
    fd = os.open(archive, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "wb") as fh:
            sha256, count = _write_archive(fh, through)
        head = checkpoints.read_head(through=through)
        # Recorded first, so the trail never empties, whatever the administrator deletes.
        trail.record(
            actor,
            "export",
            "access_event",
            f"seq<={through}",
            justification=reason,
            details={
                "before": before.isoformat(),
                "rows": count,
                "archive": archive.name,
                "archive_sha256": sha256,
                "prune_through_seq": through,
            },
        )
        db.session.commit()
    except BaseException:
        db.session.rollback()
        archive.unlink(missing_ok=True)
        raise
    signed = checkpoints.write(
        "prune",
        head=head,
        extra={"archive_sha256": sha256, "archived_rows": count, "before": before.isoformat()},
    )
    db.session.rollback()
    return TrailArchive(through, count, archive, sha256, signed["n"])


def _write_archive(fh, through: int, batch: int = 5000) -> tuple[str, int]:
    """Write the rows up to seq ``through`` to ``fh`` as JSON lines; (sha256, rows)."""
    columns = [c.name for c in AccessEvent.__table__.columns]
    digest = hashlib.sha256()
    count, after = 0, 0
    while True:
        rows = db.session.execute(
            select(AccessEvent.__table__)
            .where(AccessEvent.seq > after, AccessEvent.seq <= through)
            .order_by(AccessEvent.seq)
            .limit(batch)
        ).all()
        if not rows:
            break
        for row in rows:
            record = {
                name: value.isoformat() if isinstance(value, datetime) else value
                for name, value in zip(columns, row, strict=True)
            }
            line = json.dumps(record, ensure_ascii=False, sort_keys=True).encode() + b"\n"
            digest.update(line)
            fh.write(line)
        count += len(rows)
        after = rows[-1].seq
    fh.flush()
    os.fsync(fh.fileno())
    return digest.hexdigest(), count
