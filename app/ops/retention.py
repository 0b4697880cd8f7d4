"""Retention and review (LED 2016/680 Art. 5; CJIS Security Policy §5.4).

Domains register a ``RetentionSource`` per kind of record that carries a review date
(``app.core.retention``, from their own ``retention.py``; operations imports no domain). The
scheduled job ``ops.retention-review`` puts overdue records into the review queue; a reviewer
keeps (with a new review date), anonymises or deletes each one, with a reason. The decision is
recorded on the queue item and in the access trail, in the same transaction as its effect.

Sources must not write trail rows themselves: ``decide`` writes exactly one per decision.
"""

import logging
from collections.abc import Iterable
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import String, cast, func, select

from app.core import signals
from app.core.errors import ValidationError
from app.core.retention import (  # noqa: F401  (the extension point, re-exported)
    Overdue,
    RetentionSource,
    add_retention_source,
    retention_sources,
    set_decided_filter,
)
from app.core.time import now_utc
from app.extensions import db
from app.ops.models import DECISIONS, ReviewItem
from app.security import trail
from app.security.access import Actor
from app.security.trail import AccessEvent
from app.security.trail_archive import TRAIL_MINIMUM_DAYS, trail_retention_days  # noqa: F401

log = logging.getLogger(__name__)

#: how many overdue records one run of the job queues per source (the rest come next run)
QUEUE_BATCH = 500


def _not_decided(record_type: str, id_column):
    """Records not already anonymised or deleted by a review decision (``not_decided`` of
    app.core.retention: a source lists such a record no more)."""
    done = select(ReviewItem.record_id).where(
        ReviewItem.record_type == record_type,
        ReviewItem.status.in_(("anonymised", "deleted")),
    )
    return cast(id_column, String).not_in(done)


def init_sources(app) -> None:
    """The decided-records filter and the access trail's own source (listed first)."""
    set_decided_filter(app, _not_decided)
    add_retention_source(app, trail_source(app.config))


def _source(record_type: str) -> RetentionSource:
    source = current_app.extensions.get("tollgate_retention", {}).get(record_type)
    if source is None:
        raise ValidationError({"record_type": f"no retention source for {record_type!r}"})
    return source


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
    if decision != "keep":
        signals.record_forgotten.send(
            None,
            record_type=item.record_type,
            record_id=item.record_id,
            decision=decision,
            actor=actor,
        )
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
        order=0,
        policy=(
            f"Kept at least {days} days (CJIS §5.4: at least one year); append-only, "
            "hash-chained and checkpointed. The application never edits or deletes trail rows; "
            "rows past the period are archived with `tollgate trail archive` (which signs a "
            "prune checkpoint) and then deleted offline by the database administrator."
        ),
    )


# --- archiving the access trail for deletion ---------------------------------------------
