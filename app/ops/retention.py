"""Retention and review (LED 2016/680 Art. 5; CJIS Security Policy §5.4).

Domains register a ``RetentionSource`` per kind of record that carries a review date. The
scheduled job ``ops.retention-review`` puts overdue records into the review queue; a reviewer
keeps (with a new review date), anonymises or deletes each one, with a reason. The decision is
recorded on the queue item and in the access trail, in the same transaction as its effect.

Sources must not write trail rows themselves: ``decide`` writes exactly one per decision.
"""

import hashlib
import json
import logging
import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from flask import current_app
from sqlalchemy import func, select

from app.core.errors import ValidationError
from app.core.time import now_utc
from app.extensions import db
from app.ops.models import DECISIONS, ReviewItem
from app.security import checkpoints, trail
from app.security.access import Actor
from app.security.trail import AccessEvent

log = logging.getLogger(__name__)

#: CJIS §5.4.7: audit records are kept at least one year; no setting can shorten that.
TRAIL_MINIMUM_DAYS = 365
#: how many overdue records one run of the job queues per source (the rest come next run)
QUEUE_BATCH = 500


@dataclass(frozen=True)
class Overdue:
    """One overdue record as a source reports it."""

    record_id: str
    due_dt: datetime
    summary: str = ""


@dataclass(frozen=True)
class RetentionSource:
    """A kind of record with review dates.

    ``list_overdue(now, limit)`` yields ``Overdue`` records whose review date is before ``now``.
    ``anonymise(record_id, actor)`` / ``delete(record_id, actor)`` apply a decision (flush,
    never commit); None means the decision is not allowed for this kind of record. An
    anonymised record must stop being listed as overdue (clear or move its review date).
    ``set_review_date(record_id, when, actor)`` stores a new review date on the record; when
    None, a "keep" decision holds the record out of the queue until ``when``.
    """

    record_type: str
    label: str
    list_overdue: Callable[[datetime, int], Iterable[Overdue]]
    anonymise: Callable | None = None
    delete: Callable | None = None
    set_review_date: Callable | None = None
    #: shown on the administrator page: how long, and why
    policy: str = ""

    def allows(self, decision: str) -> bool:
        if decision == "keep":
            return True
        return getattr(self, decision) is not None


def add_retention_source(app, source: RetentionSource) -> None:
    app.extensions.setdefault("tollgate_retention", {})[source.record_type] = source


def retention_sources(app) -> list[RetentionSource]:
    return list(app.extensions.get("tollgate_retention", {}).values())


def _source(record_type: str) -> RetentionSource:
    source = current_app.extensions.get("tollgate_retention", {}).get(record_type)
    if source is None:
        raise ValidationError({"record_type": f"no retention source for {record_type!r}"})
    return source


def trail_retention_days(config) -> int:
    """The access trail's retention period: the setting, but never under one year."""
    return max(TRAIL_MINIMUM_DAYS, int(config.get("TOLLGATE_TRAIL_RETENTION_DAYS", 0) or 0))


def queue_overdue(now: datetime | None = None) -> int:
    """Put every overdue record of every source into the review queue (once); returns how many."""
    return sum(queue_overdue_by_type(now).values())


def queue_overdue_by_type(now: datetime | None = None) -> dict[str, int]:
    """``queue_overdue``, counted per record type (every registered type, 0 included)."""
    now = now or now_utc()
    counts: dict[str, int] = {}
    for source in retention_sources(current_app):
        counts[source.record_type] = 0
        pending = set(
            db.session.scalars(
                select(ReviewItem.record_id).where(
                    ReviewItem.record_type == source.record_type,
                    (ReviewItem.status == "pending")
                    | ((ReviewItem.status == "kept") & (ReviewItem.next_review_dt > now)),
                )
            )
        )
        for overdue in source.list_overdue(now, QUEUE_BATCH):
            record_id = str(overdue.record_id)
            if record_id in pending:
                continue
            db.session.add(
                ReviewItem(
                    record_type=source.record_type,
                    record_id=record_id,
                    due_dt=overdue.due_dt,
                    summary=(overdue.summary or "")[:300],
                    queued_dt=now,
                )
            )
            pending.add(record_id)
            counts[source.record_type] += 1
    db.session.flush()
    return counts


def describe_due(counts: dict[str, int]) -> str:
    """What came due, per record type ("Cases: 2, Declarations: 1"), or that nothing did."""
    labels = {s.record_type: s.label for s in retention_sources(current_app)}
    due = [f"{labels.get(t, t)}: {n}" for t, n in counts.items() if n]
    return ("came due for review: " + ", ".join(due)) if due else "nothing came due for review"


def run_review_job() -> dict[str, int]:
    """Scheduled job: queue overdue records and log what came due, per record type (the job
    runner commits with its job_run row)."""
    counts = queue_overdue_by_type()
    log.info("retention review: %s", describe_due(counts))
    return counts


def decide(
    item: ReviewItem,
    decision: str,
    reason: str,
    *,
    actor: Actor,
    next_review_dt: datetime | None = None,
) -> ReviewItem:
    """Record and apply a reviewer's decision on one queued record (one trail row)."""
    actor.require("admin.reference")
    errors = {}
    if decision not in DECISIONS:
        errors["decision"] = f"must be one of {', '.join(DECISIONS)}"
    if not (reason or "").strip():
        errors["reason"] = "a reason is required"
    if not item.is_pending:
        errors["decision"] = f"this record was already decided ({item.status})"
    now = now_utc()
    if decision == "keep" and (next_review_dt is None or next_review_dt <= now):
        errors["next_review_dt"] = "keeping a record needs a review date in the future"
    if errors:
        raise ValidationError(errors)
    source = _source(item.record_type)
    if not source.allows(decision):
        raise ValidationError(
            {"decision": f"{source.label}: {DECISIONS[decision].lower()} is not allowed"}
        )
    if decision == "keep":
        if source.set_review_date is not None:
            source.set_review_date(item.record_id, next_review_dt, actor)
        item.status, item.next_review_dt = "kept", next_review_dt
    elif decision == "anonymise":
        source.anonymise(item.record_id, actor)
        item.status = "anonymised"
    else:
        source.delete(item.record_id, actor)
        item.status = "deleted"
    item.decision = decision
    item.reason = reason.strip()
    item.decided_dt = now
    item.decided_by_id = actor.user_id
    item.decided_by = actor.username
    trail.record(
        actor,
        "delete" if decision == "delete" else "update",
        item.record_type,
        item.record_id,
        details={
            "retention_review": item.id,
            "decision": decision,
            "reason": item.reason,
            "next_review": next_review_dt.isoformat() if next_review_dt else None,
        },
    )
    db.session.flush()
    return item


# --- the access trail as a retention source ---------------------------------------------


def _trail_overdue(now: datetime, limit: int) -> Iterable[Overdue]:
    """One queue entry summarising trail rows past the retention period (at least a year).

    The application never edits or deletes trail rows (database triggers refuse it); a reviewer
    notes them here for ``tollgate trail archive`` (archive, signed prune checkpoint) and the
    database administrator's offline deletion, and sets the next review.
    """
    days = trail_retention_days(current_app.config)
    cutoff = now - timedelta(days=days)
    count, last_seq, oldest = db.session.execute(
        select(
            func.count(AccessEvent.id), func.max(AccessEvent.seq), func.min(AccessEvent.occurred_dt)
        ).where(AccessEvent.occurred_dt < cutoff)
    ).one()
    if count:
        yield Overdue(
            record_id=f"seq<={last_seq}",
            due_dt=oldest + timedelta(days=days),
            summary=f"{count} access-trail rows older than {days} days (seq ≤ {last_seq})",
        )


def trail_source(config) -> RetentionSource:
    days = trail_retention_days(config)
    return RetentionSource(
        record_type="access_event",
        label="Access trail",
        list_overdue=_trail_overdue,
        policy=(
            f"Kept at least {days} days (CJIS §5.4: at least one year); append-only, "
            "hash-chained and checkpointed. The application never edits or deletes trail rows; "
            "rows past the period are archived with `tollgate trail archive` (which signs a "
            "prune checkpoint) and then deleted offline by the database administrator."
        ),
    )


# --- archiving the access trail for deletion ---------------------------------------------


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
    report = checkpoints.verify_trail()
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
