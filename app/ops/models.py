"""Tables of the operations domain: the retention review queue and the scheduler heartbeat."""

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.core.time import now_utc
from app.core.types import UTCDateTime
from app.extensions import db

DECISIONS = {
    "keep": "Keep, with a new review date",
    "anonymise": "Anonymise",
    "delete": "Delete",
}


class ReviewItem(db.Model):
    """A record whose review date has passed, waiting for (or carrying) a reviewer's decision.

    LED 2016/680 Art. 5: personal data are kept only as long as needed, with periodic review.
    """

    __tablename__ = "retention_review"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: the retention source's record type (also the record type in the access trail)
    record_type: Mapped[str] = mapped_column(String(40), index=True)
    record_id: Mapped[str] = mapped_column(String(64))
    #: the review date that had passed when the record was queued
    due_dt = mapped_column(UTCDateTime, nullable=False)
    #: a short, non-sensitive description supplied by the source
    summary: Mapped[str] = mapped_column(String(300), default="")
    queued_dt = mapped_column(UTCDateTime, nullable=False, default=now_utc)
    #: pending / kept / anonymised / deleted
    status: Mapped[str] = mapped_column(String(12), default="pending", index=True)
    decision: Mapped[str | None] = mapped_column(String(12))
    reason: Mapped[str | None] = mapped_column(Text)
    #: for "keep": the next review date
    next_review_dt = mapped_column(UTCDateTime)
    decided_dt = mapped_column(UTCDateTime)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    decided_by: Mapped[str | None] = mapped_column(String(120))

    __table_args__ = (db.Index("ix_retention_review_record", "record_type", "record_id"),)

    @property
    def is_pending(self) -> bool:
        return self.status == "pending"

    def __repr__(self):
        return f"<ReviewItem {self.record_type}:{self.record_id} {self.status}>"


class SchedulerHeartbeat(db.Model):
    """One row per trigger of the heartbeat job: the scheduler's liveness, and the witness
    the exactly-once tests count (written in the same transaction as its job_run status)."""

    __tablename__ = "scheduler_heartbeat"
    __table_args__ = (UniqueConstraint("scheduled_dt"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    scheduled_dt = mapped_column(UTCDateTime, nullable=False)
    written_dt = mapped_column(UTCDateTime, nullable=False, default=now_utc)
    pid: Mapped[int | None] = mapped_column()
    attempt: Mapped[int] = mapped_column(default=1)

    def __repr__(self):
        return f"<SchedulerHeartbeat {self.scheduled_dt}>"
