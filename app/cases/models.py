"""Cases (seizure, offence, post-clearance audit, investigation) and what hangs off them."""

from decimal import Decimal

from sqlalchemy import (
    JSON,
    Date,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.core.time import now_utc
from app.core.types import UTCDateTime
from app.extensions import db
from app.security.access import Restricted
from app.security.models import User

Money = Numeric(14, 2)


class Case(Restricted, db.Model):
    """One case file. Kind-specific fields are nullable columns of the same row, so lists
    filter and sort on one indexed table even at hundreds of thousands of cases."""

    __tablename__ = "case_file"
    __record_type__ = "case"
    __table_args__ = (
        Index("ix_case_file_kind_event", "kind", "event_dt"),
        Index("ix_case_file_status_event", "status", "event_dt"),
        Index("ix_case_file_unit_event", "unit_id", "event_dt"),
        Index("ix_case_file_area_event", "commodity_area", "event_dt"),
        Index("ix_case_file_assignee_status", "assignee_id", "status"),
        Index("ix_case_file_value", "total_value"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    #: unit code / year / sequence, e.g. BCP-N/2026/00042
    reference: Mapped[str] = mapped_column(String(40), unique=True)
    kind: Mapped[str] = mapped_column(String(20))
    title: Mapped[str] = mapped_column(String(300))
    summary: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(20), default="open")
    resolution: Mapped[str | None] = mapped_column(String(40))
    priority: Mapped[int] = mapped_column(default=2)
    template: Mapped[str | None] = mapped_column(String(40))
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    created_by_name: Mapped[str] = mapped_column(String(120), default="")
    opened_dt = mapped_column(UTCDateTime, default=now_utc, nullable=False, index=True)
    updated_dt = mapped_column(UTCDateTime, default=now_utc, onupdate=now_utc, nullable=False)
    closed_dt = mapped_column(UTCDateTime)
    #: set when this case was merged into another as a duplicate
    merged_into_id: Mapped[int | None] = mapped_column(ForeignKey("case_file.id"))
    #: reference in a source system (import, declaration system), for duplicate detection
    external_ref: Mapped[str | None] = mapped_column(String(120), index=True)

    # --- seizure: where, when, how (WCO CEN) ---
    #: date and time of the seizure or of the facts (defaults to the opening time)
    event_dt = mapped_column(UTCDateTime, index=True, nullable=False)
    place_type: Mapped[str | None] = mapped_column(String(10))
    #: office or border crossing point (its name as written, or the reference list's label)
    place: Mapped[str | None] = mapped_column(String(120), index=True)
    #: the place on the reference lists, "office:<code>" or "crossing:<code>" (app.reference)
    place_ref: Mapped[str | None] = mapped_column(String(40), index=True)
    direction: Mapped[str | None] = mapped_column(String(10))
    transport_mode: Mapped[str | None] = mapped_column(String(20))
    #: vehicle plate, vessel, flight number ...
    conveyance: Mapped[str | None] = mapped_column(String(200))
    route_origin: Mapped[str | None] = mapped_column(String(80))
    route_transit: Mapped[str | None] = mapped_column(String(200))
    route_destination: Mapped[str | None] = mapped_column(String(80))
    detection_method: Mapped[str | None] = mapped_column(String(20))
    concealment_method: Mapped[str | None] = mapped_column(String(30))
    #: commodity area of the most valuable item (denormalised for list filters and stats)
    commodity_area: Mapped[str | None] = mapped_column(String(20))
    total_value: Mapped[Decimal | None] = mapped_column(Money)
    declaration_number: Mapped[str | None] = mapped_column(String(60), index=True)

    # --- offence ---
    legal_provision: Mapped[str | None] = mapped_column(String(300))
    evaded_duties: Mapped[Decimal | None] = mapped_column(Money)
    penalty: Mapped[Decimal | None] = mapped_column(Money)
    #: "offence_decision" or "criminal_report", set by the threshold rule
    decision_type: Mapped[str | None] = mapped_column(String(20))
    decision_text: Mapped[str | None] = mapped_column(Text)
    #: the evaded-duty threshold in force when the decision was taken
    decision_threshold: Mapped[Decimal | None] = mapped_column(Money)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    decided_by_name: Mapped[str | None] = mapped_column(String(120))
    decided_dt = mapped_column(UTCDateTime)

    # --- post-clearance audit ---
    trader_entity_id: Mapped[int | None] = mapped_column(Integer, index=True)
    trader_name: Mapped[str | None] = mapped_column(String(300))
    audit_type: Mapped[str | None] = mapped_column(String(10))
    risk_areas: Mapped[list | None] = mapped_column(JSON)
    period_start = mapped_column(Date)
    period_end = mapped_column(Date)
    #: [{"item": str, "done": bool}]
    checklist: Mapped[list | None] = mapped_column(JSON)
    audit_plan: Mapped[str | None] = mapped_column(Text)
    findings: Mapped[str | None] = mapped_column(Text)
    assessed_debt: Mapped[Decimal | None] = mapped_column(Money)
    referral: Mapped[str | None] = mapped_column(String(300))

    assignee: Mapped[User | None] = relationship(foreign_keys=[assignee_id])
    unit = relationship("Unit", foreign_keys="Case.unit_id", lazy="joined")
    items: Mapped[list["SeizureItem"]] = relationship(
        back_populates="case", order_by="SeizureItem.position", cascade="all, delete-orphan"
    )
    parties: Mapped[list["CaseParty"]] = relationship(
        back_populates="case", order_by="CaseParty.id", cascade="all, delete-orphan"
    )
    #: in time order (entries copied from a merged duplicate keep their own time)
    journal: Mapped[list["JournalEntry"]] = relationship(
        back_populates="case",
        order_by="[JournalEntry.created_dt, JournalEntry.id]",
        cascade="all, delete-orphan",
    )
    #: every version of the offence decision, oldest first (the case's columns hold the last)
    decisions: Mapped[list["CaseDecision"]] = relationship(
        back_populates="case", order_by="CaseDecision.version", cascade="all, delete-orphan"
    )
    tasks: Mapped[list["CaseTask"]] = relationship(
        back_populates="case", order_by="CaseTask.id", cascade="all, delete-orphan"
    )
    evidence: Mapped[list["Evidence"]] = relationship(
        back_populates="case", order_by="Evidence.id", cascade="all, delete-orphan"
    )
    links: Mapped[list["CaseLink"]] = relationship(
        back_populates="case",
        order_by="CaseLink.id",
        cascade="all, delete-orphan",
        foreign_keys="CaseLink.case_id",
    )

    @property
    def is_closed(self) -> bool:
        return self.status == "closed"

    def __repr__(self):
        return f"<Case {self.reference} {self.kind} {self.status}>"


class CaseSequence(db.Model):
    """Last reference number handed out per unit and year (one row each)."""

    __tablename__ = "case_sequence"
    __table_args__ = (UniqueConstraint("unit_id", "year"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"))
    year: Mapped[int] = mapped_column()
    last_value: Mapped[int] = mapped_column(default=0)


class SeizureItem(db.Model):
    """One seized commodity line (WCO CEN)."""

    __tablename__ = "case_item"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case_file.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(default=1)
    commodity_area: Mapped[str] = mapped_column(String(20))
    hs_code: Mapped[str | None] = mapped_column(String(12))
    description: Mapped[str] = mapped_column(String(500))
    quantity: Mapped[Decimal | None] = mapped_column(Numeric(16, 3))
    quantity_unit: Mapped[str | None] = mapped_column(String(12))
    #: estimated value in EUR
    value: Mapped[Decimal | None] = mapped_column(Money)
    concealment_method: Mapped[str | None] = mapped_column(String(30))
    created_dt = mapped_column(UTCDateTime, default=now_utc, nullable=False)

    case: Mapped[Case] = relationship(back_populates="items")

    def __repr__(self):
        return f"<SeizureItem {self.commodity_area} {self.description[:20]}>"


class CaseParty(db.Model):
    """An entity of the registry (person, company, vehicle, container ...) in a role."""

    __tablename__ = "case_party"
    __table_args__ = (UniqueConstraint("case_id", "entity_id", "role"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case_file.id", ondelete="CASCADE"), index=True)
    entity_id: Mapped[int] = mapped_column(ForeignKey("entity.id"), index=True)
    role: Mapped[str] = mapped_column(String(20))
    #: entity type and name when added (so lists need not read the registry)
    entity_type: Mapped[str] = mapped_column(String(30), default="")
    entity_name: Mapped[str] = mapped_column(String(300), default="")
    created_dt = mapped_column(UTCDateTime, default=now_utc, nullable=False)

    case: Mapped[Case] = relationship(back_populates="parties")

    def __repr__(self):
        return f"<CaseParty {self.role} entity:{self.entity_id}>"


class JournalEntry(db.Model):
    """Who did what, when: written by the services, never edited."""

    __tablename__ = "case_journal"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case_file.id", ondelete="CASCADE"), index=True)
    created_dt = mapped_column(UTCDateTime, default=now_utc, nullable=False)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    author_name: Mapped[str] = mapped_column(String(120))
    #: note, status, item, party, task, evidence, link, merge, decision, edit, system
    kind: Mapped[str] = mapped_column(String(20), default="note")
    text: Mapped[str] = mapped_column(Text)

    case: Mapped[Case] = relationship(back_populates="journal")


class CaseTask(db.Model):
    __tablename__ = "case_task"
    __table_args__ = (Index("ix_case_task_assignee_status", "assignee_id", "status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case_file.id", ondelete="CASCADE"), index=True)
    title: Mapped[str] = mapped_column(String(300))
    description: Mapped[str | None] = mapped_column(Text)
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    due_date = mapped_column(Date)
    #: open, done, cancelled
    status: Mapped[str] = mapped_column(String(12), default="open")
    created_dt = mapped_column(UTCDateTime, default=now_utc, nullable=False)
    completed_dt = mapped_column(UTCDateTime)

    case: Mapped[Case] = relationship(back_populates="tasks")
    assignee: Mapped[User | None] = relationship()


class Evidence(db.Model):
    """An uploaded file, stored outside the web root under a random name."""

    __tablename__ = "case_evidence"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case_file.id", ondelete="CASCADE"), index=True)
    #: random file name inside TOLLGATE_EVIDENCE_DIR (never derived from user input)
    stored_name: Mapped[str] = mapped_column(String(64), unique=True)
    original_name: Mapped[str] = mapped_column(String(255))
    #: type determined from the content, not from the name or the browser
    content_type: Mapped[str] = mapped_column(String(60))
    size: Mapped[int] = mapped_column()
    sha256: Mapped[str] = mapped_column(String(64))
    description: Mapped[str | None] = mapped_column(String(500))
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    uploaded_by_name: Mapped[str] = mapped_column(String(120), default="")
    created_dt = mapped_column(UTCDateTime, default=now_utc, nullable=False)

    case: Mapped[Case] = relationship(back_populates="evidence")


class CaseLink(db.Model):
    """A link from a case to a declaration, an intelligence report or another case."""

    __tablename__ = "case_link"
    __table_args__ = (UniqueConstraint("case_id", "target_type", "target_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case_file.id", ondelete="CASCADE"), index=True)
    target_type: Mapped[str] = mapped_column(String(20))
    target_id: Mapped[str] = mapped_column(String(64))
    label: Mapped[str] = mapped_column(String(300), default="")
    note: Mapped[str | None] = mapped_column(String(500))
    created_by_name: Mapped[str] = mapped_column(String(120), default="")
    created_dt = mapped_column(UTCDateTime, default=now_utc, nullable=False)

    case: Mapped[Case] = relationship(back_populates="links", foreign_keys=[case_id])


class CaseDecision(db.Model):
    """One version of a case's offence decision, never changed: the first decision, each
    re-run of the threshold rule after the evaded duties changed, each correction."""

    __tablename__ = "case_decision"
    __table_args__ = (UniqueConstraint("case_id", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case_file.id", ondelete="CASCADE"), index=True)
    version: Mapped[int] = mapped_column()
    #: decision (the first), threshold (the rule re-ran after an edit), correction (supervisor)
    origin: Mapped[str] = mapped_column(String(20))
    #: why: the supervisor's reason, or what changed for a re-run
    reason: Mapped[str | None] = mapped_column(Text)
    decision_type: Mapped[str] = mapped_column(String(20))
    evaded_duties: Mapped[Decimal] = mapped_column(Money)
    penalty: Mapped[Decimal | None] = mapped_column(Money)
    legal_provision: Mapped[str | None] = mapped_column(String(300))
    decision_text: Mapped[str | None] = mapped_column(Text)
    threshold: Mapped[Decimal] = mapped_column(Money)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    decided_by_name: Mapped[str] = mapped_column(String(120))
    decided_dt = mapped_column(UTCDateTime, default=now_utc, nullable=False)

    case: Mapped[Case] = relationship(back_populates="decisions")
