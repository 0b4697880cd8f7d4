"""Alerts, their recipients and history, the delivery queue, watches, saved searches,
notification preferences and webhook endpoints."""

from sqlalchemy import JSON, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.core.time import now_utc
from app.core.types import UTCDateTime
from app.extensions import db

SEVERITIES = ("low", "medium", "high", "critical")
SEVERITY_RANK = {s: i for i, s in enumerate(SEVERITIES)}
STATUSES = ("new", "acknowledged", "actioned", "closed")
OPEN_STATUSES = ("new", "acknowledged", "actioned")
SOURCE_KINDS = {
    "profile": "Sensitive risk profile",
    "watch": "Watched entity",
    "term": "Watched term",
    "saved_search": "Saved search",
    "task": "Task assigned",
    "screening": "Screening of a new registry entity",
}
EMAIL_MODES = {
    "immediate": "Immediately, one e-mail per alert",
    "daily": "Daily digest",
    "weekly": "Weekly digest",
    "off": "No e-mail (inbox only)",
}


class Alert(db.Model):
    """One thing that fired about one subject; repeats within the fold window add to ``count``."""

    __tablename__ = "alert"
    __record_type__ = "alert"
    __table_args__ = (
        Index("ix_alert_fold", "fold_key", "status"),
        Index("ix_alert_subject", "subject_type", "subject_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    #: source and subject in one string; open alerts with the same key are folded together
    fold_key: Mapped[str] = mapped_column(String(200))
    #: what fired: profile, watch, term, saved_search, task
    source_kind: Mapped[str] = mapped_column(String(20), index=True)
    source_id: Mapped[int | None] = mapped_column()
    source_label: Mapped[str] = mapped_column(String(200))
    #: what it is about: declaration, case, entity, report, article ...
    subject_type: Mapped[str] = mapped_column(String(40))
    subject_id: Mapped[int] = mapped_column()
    subject_label: Mapped[str] = mapped_column(String(200))
    #: title, source and subject labels and reasons as stored: safe for anyone (every
    #: handling-code-C record described, never named; ``app.security.seams.render(None, ...)``)
    title: Mapped[str] = mapped_column(String(300))
    #: why it fired: the matched conditions, one string each
    reasons: Mapped[list] = mapped_column(JSON, default=list)
    #: the same texts as phrases naming records by reference ({"title", "source", "subject",
    #: "reasons"}): each recipient's text is rendered from these at delivery (None: old rows)
    text: Mapped[dict | None] = mapped_column(JSON)
    #: what the recipient must do (the profile's counter-measures)
    instructions: Mapped[str | None] = mapped_column(Text)
    severity: Mapped[str] = mapped_column(String(10), default="medium")
    status: Mapped[str] = mapped_column(String(15), default="new", index=True)
    #: how many times it fired inside the fold window
    count: Mapped[int] = mapped_column(default=1)
    created_dt = mapped_column(UTCDateTime, default=now_utc, nullable=False, index=True)
    last_fired_dt = mapped_column(UTCDateTime, default=now_utc, nullable=False)
    #: unacknowledged past this moment, the alert escalates to the recipients' supervisors
    deadline_dt = mapped_column(UTCDateTime, nullable=False)
    escalation_level: Mapped[int] = mapped_column(default=0)
    acknowledged_dt = mapped_column(UTCDateTime)
    acknowledged_by: Mapped[str | None] = mapped_column(String(120))
    actioned_dt = mapped_column(UTCDateTime)
    actioned_by: Mapped[str | None] = mapped_column(String(120))
    closed_dt = mapped_column(UTCDateTime)
    closed_by: Mapped[str | None] = mapped_column(String(120))
    #: feedback: was the alert useful? (None until someone says)
    is_useful: Mapped[bool | None] = mapped_column()
    #: the case created from or attached to this alert
    case_id: Mapped[int | None] = mapped_column()

    recipients: Mapped[list["AlertRecipient"]] = relationship(
        back_populates="alert",
        cascade="all, delete-orphan",
        lazy="selectin",
        order_by="AlertRecipient.id",
    )
    events: Mapped[list["AlertEvent"]] = relationship(
        back_populates="alert",
        cascade="all, delete-orphan",
        order_by="AlertEvent.id",
    )

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    def __repr__(self):
        return f"<Alert {self.id} {self.source_kind}:{self.source_id} {self.status}>"


class AlertRecipient(db.Model):
    """A user who receives an alert, and how (named, via unit, via role, by escalation)."""

    __tablename__ = "alert_recipient"
    __table_args__ = (UniqueConstraint("alert_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    alert_id: Mapped[int] = mapped_column(ForeignKey("alert.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    #: user, unit, role, watch, escalation
    via: Mapped[str] = mapped_column(String(20))
    is_read: Mapped[bool] = mapped_column(default=False)
    read_dt = mapped_column(UTCDateTime)
    #: when this recipient's supervisor was alerted for them (escalation happens once each)
    escalated_dt = mapped_column(UTCDateTime)
    created_dt = mapped_column(UTCDateTime, default=now_utc, nullable=False)

    alert: Mapped[Alert] = relationship(back_populates="recipients")
    user = relationship("User", lazy="joined")


class AlertEvent(db.Model):
    """History of an alert: fired again, acknowledged, actioned, closed, escalated, feedback."""

    __tablename__ = "alert_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    alert_id: Mapped[int] = mapped_column(ForeignKey("alert.id", ondelete="CASCADE"), index=True)
    action: Mapped[str] = mapped_column(String(20))
    user_id: Mapped[int | None] = mapped_column()
    username: Mapped[str] = mapped_column(String(120))
    note: Mapped[str | None] = mapped_column(Text)
    created_dt = mapped_column(UTCDateTime, default=now_utc, nullable=False)

    alert: Mapped[Alert] = relationship(back_populates="events")


class Delivery(db.Model):
    """One queued notification (e-mail or webhook) and its delivery state."""

    __tablename__ = "alert_delivery"
    __table_args__ = (Index("ix_alert_delivery_due", "status", "next_attempt_dt"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    #: email or webhook
    channel: Mapped[str] = mapped_column(String(10))
    #: alert, escalation or digest
    kind: Mapped[str] = mapped_column(String(12), default="alert")
    alert_id: Mapped[int | None] = mapped_column(
        ForeignKey("alert.id", ondelete="CASCADE"), index=True
    )
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    webhook_id: Mapped[int | None] = mapped_column(ForeignKey("alert_webhook.id"))
    #: e-mail address or webhook URL, frozen when queued
    target: Mapped[str] = mapped_column(String(500))
    subject: Mapped[str] = mapped_column(String(300))
    #: e-mail text, or the JSON document a webhook posts
    body: Mapped[str] = mapped_column(Text)
    #: pending, sending, sent, failed (gave up)
    status: Mapped[str] = mapped_column(String(10), default="pending")
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_dt = mapped_column(UTCDateTime, default=now_utc, nullable=False)
    claimed_dt = mapped_column(UTCDateTime)
    sent_dt = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_dt = mapped_column(UTCDateTime, default=now_utc, nullable=False)

    attempt_rows: Mapped[list["DeliveryAttempt"]] = relationship(
        cascade="all, delete-orphan",
        order_by="DeliveryAttempt.id",
    )

    def __repr__(self):
        return f"<Delivery {self.id} {self.channel} {self.status} x{self.attempts}>"


class DeliveryAttempt(db.Model):
    __tablename__ = "alert_delivery_attempt"

    id: Mapped[int] = mapped_column(primary_key=True)
    delivery_id: Mapped[int] = mapped_column(
        ForeignKey("alert_delivery.id", ondelete="CASCADE"), index=True
    )
    attempted_dt = mapped_column(UTCDateTime, default=now_utc, nullable=False)
    is_ok: Mapped[bool] = mapped_column()
    #: SMTP reply or HTTP status, or the exception
    detail: Mapped[str | None] = mapped_column(Text)
    duration_ms: Mapped[int] = mapped_column(default=0)


class Watch(db.Model):
    """Follow one entity (any record mentioning it, any new link) or one news term."""

    __tablename__ = "alert_watch"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: entity or term
    kind: Mapped[str] = mapped_column(String(10))
    entity_id: Mapped[int | None] = mapped_column(index=True)
    #: lower-cased term for kind=term
    term: Mapped[str | None] = mapped_column(String(200))
    label: Mapped[str] = mapped_column(String(200))
    severity: Mapped[str] = mapped_column(String(10), default="medium")
    #: who else is alerted: {"users": [ids], "units": [ids], "roles": [names]}
    recipients: Mapped[dict] = mapped_column(JSON, default=dict)
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"), index=True)
    #: API client that created it (watches created over the API have no owner)
    client_id: Mapped[int | None] = mapped_column(ForeignKey("api_client.id"))
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("unit.id"))
    is_active: Mapped[bool] = mapped_column(default=True)
    created_dt = mapped_column(UTCDateTime, default=now_utc, nullable=False)

    owner = relationship("User")

    def __repr__(self):
        return f"<Watch {self.id} {self.kind} {self.entity_id or self.term}>"


class SavedSearch(db.Model):
    """A query re-run on a schedule over what changed since it last ran."""

    __tablename__ = "alert_saved_search"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    query: Mapped[str] = mapped_column(String(500))
    #: restrict to these record types (empty: all)
    record_types: Mapped[list] = mapped_column(JSON, default=list)
    severity: Mapped[str] = mapped_column(String(10), default="low")
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"), index=True)
    client_id: Mapped[int | None] = mapped_column(ForeignKey("api_client.id"))
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("unit.id"))
    recipients: Mapped[dict] = mapped_column(JSON, default=dict)
    is_active: Mapped[bool] = mapped_column(default=True)
    #: results older than this were already considered
    last_run_dt = mapped_column(UTCDateTime)
    last_notified_dt = mapped_column(UTCDateTime)
    #: "record_type:id" keys already alerted (bounded), so a re-indexed record is not re-sent
    seen: Mapped[list] = mapped_column(JSON, default=list)
    created_dt = mapped_column(UTCDateTime, default=now_utc, nullable=False)

    owner = relationship("User")


class Preference(db.Model):
    """How a user wants alert e-mail: at once, as a daily or weekly digest, or not at all."""

    __tablename__ = "alert_preference"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), unique=True)
    email_mode: Mapped[str] = mapped_column(String(10), default="immediate")
    #: lowest severity that is e-mailed (the inbox always shows everything)
    min_severity: Mapped[str] = mapped_column(String(10), default="low")
    last_digest_dt = mapped_column(UTCDateTime)


class Webhook(db.Model):
    """An endpoint (chat room, SMS gateway, SOAR) receiving a unit's alerts as signed POSTs."""

    __tablename__ = "alert_webhook"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    url: Mapped[str] = mapped_column(String(500))
    #: HMAC-SHA256 key; the receiver holds the same value
    secret: Mapped[str] = mapped_column(String(128))
    #: alerts with a recipient in this unit are posted
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"), index=True)
    min_severity: Mapped[str] = mapped_column(String(10), default="high")
    is_active: Mapped[bool] = mapped_column(default=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    created_dt = mapped_column(UTCDateTime, default=now_utc, nullable=False)

    unit = relationship("Unit")


class ChangedRecord(db.Model):
    """A record that was created or changed (from ``search_index_requested``): saved
    searches re-run only over these, not over everything."""

    __tablename__ = "alert_changed_record"
    __table_args__ = (Index("ix_alert_changed_record_dt", "changed_dt"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    record_type: Mapped[str] = mapped_column(String(40))
    record_id: Mapped[int] = mapped_column()
    changed_dt = mapped_column(UTCDateTime, default=now_utc, nullable=False)
