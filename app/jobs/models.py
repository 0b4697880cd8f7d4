"""One row per run of a scheduled job: proves each trigger ran exactly once."""

from sqlalchemy import String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.core.types import UTCDateTime
from app.extensions import db


class JobRun(db.Model):
    __tablename__ = "job_run"
    # A trigger time can be claimed once: a second scheduler could never run it again.
    __table_args__ = (UniqueConstraint("job_id", "scheduled_dt"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    job_id: Mapped[str] = mapped_column(String(80))
    #: the trigger's fire time (from APScheduler), not the time the run started
    scheduled_dt = mapped_column(UTCDateTime, nullable=False)
    started_dt = mapped_column(UTCDateTime, nullable=False)
    finished_dt = mapped_column(UTCDateTime)
    #: running / ok / failed / abandoned (interrupted and its job no longer registered)
    status: Mapped[str] = mapped_column(String(12), default="running")
    pid: Mapped[int | None] = mapped_column()
    #: 1, or more when a worker was killed mid-run and its successor finished the trigger
    attempts: Mapped[int] = mapped_column(default=1)
    error: Mapped[str | None] = mapped_column(Text)

    def __repr__(self):
        return f"<JobRun {self.job_id} {self.scheduled_dt} {self.status}>"
