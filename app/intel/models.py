"""Entity registry, links, mentions, intelligence reports, resolution and saved charts."""

from sqlalchemy import JSON, Date, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.core.time import now_utc
from app.core.types import UTCDateTime
from app.extensions import db
from app.security.access import Restricted

ENTITY_TYPES = {
    "person": "Person",
    "organisation": "Organisation",
    "vehicle": "Vehicle",
    "vessel": "Vessel",
    "aircraft": "Aircraft",
    "container": "Container",
    "address": "Address",
    "phone": "Phone",
    "email": "E-mail",
    "identity_document": "Identity document",
    "bank_account": "Bank account",
}

LINK_TYPES = {
    "director_of": "director of",
    "shareholder_of": "shareholder of",
    "owns": "owns",
    "employs": "employs",
    "drives": "drives",
    "registered_at": "registered at",
    "lives_at": "lives at",
    "uses_phone": "uses phone",
    "uses_email": "uses e-mail",
    "holds_account": "holds account",
    "holds_document": "holds document",
    "ships_with": "ships with",
    "carried_in": "carried in",
    "declarant_for": "declarant for",
    "importer_of": "importer of",
    "seller_to": "seller to",
    "carrier_for": "carrier for",
    "represents": "represents",
    "associate_of": "associate of",
    "family_of": "family of",
    "co_accused": "co-accused with",
    "involved_in": "involved in",
}


class Entity(Restricted, db.Model):
    """Anything that can be linked: person, organisation, vehicle, container, phone ..."""

    __tablename__ = "entity"
    __record_type__ = "entity"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: owning unit; None for entities the system registers from declarations (code P)
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("unit.id"), index=True)
    #: one of ENTITY_TYPES
    entity_type: Mapped[str] = mapped_column(String(30), index=True)
    name: Mapped[str] = mapped_column(String(300))
    #: other names, spellings, transliterations (list of str)
    aliases: Mapped[list] = mapped_column(JSON, default=list)
    #: validated identifiers, scheme -> normalised value (also indexed in entity_identifier)
    identifiers: Mapped[dict] = mapped_column(JSON, default=dict)
    #: free attributes (nationality, date of birth, flag, make/model ...)
    attributes: Mapped[dict] = mapped_column(JSON, default=dict)
    #: roles an organisation plays (trader, carrier, broker, forwarder ...)
    roles: Mapped[list] = mapped_column(JSON, default=list)
    #: normalised, transliterated, token-sorted name used to find resolution candidates
    fingerprint: Mapped[str] = mapped_column(String(300), default="", index=True)
    #: the record that first asserted this entity, e.g. ("case", 12)
    provenance_type: Mapped[str | None] = mapped_column(String(40))
    provenance_id: Mapped[int | None] = mapped_column()
    #: set when this entity was merged into another (the survivor); undo clears it
    merged_into_id: Mapped[int | None] = mapped_column(ForeignKey("entity.id"), index=True)
    is_active: Mapped[bool] = mapped_column(default=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    created_dt = mapped_column(UTCDateTime, default=now_utc, nullable=False)
    updated_dt = mapped_column(UTCDateTime, default=now_utc, onupdate=now_utc, nullable=False)

    @property
    def type_label(self) -> str:
        return ENTITY_TYPES.get(self.entity_type, self.entity_type)

    def __repr__(self):
        return f"<Entity {self.id} {self.entity_type} {self.name!r}>"


class EntityIdentifier(db.Model):
    """Index of identifiers: the cheap look-up behind deterministic identity."""

    __tablename__ = "entity_identifier"
    __table_args__ = (
        UniqueConstraint("entity_id", "scheme"),
        Index("ix_entity_identifier_scheme_value", "scheme", "value"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    entity_id: Mapped[int] = mapped_column(ForeignKey("entity.id", ondelete="CASCADE"))
    #: eori, tin, trader_code, container, imo, iban, passport, plate, phone, email ...
    scheme: Mapped[str] = mapped_column(String(30))
    #: normalised value (upper case, no spaces)
    value: Mapped[str] = mapped_column(String(120))


class EntityToken(db.Model):
    """Name tokens (of name and aliases) for blocking resolution candidates and pickers."""

    __tablename__ = "entity_token"
    __table_args__ = (
        UniqueConstraint("entity_id", "token"),
        Index("ix_entity_token_token", "token"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    entity_id: Mapped[int] = mapped_column(ForeignKey("entity.id", ondelete="CASCADE"))
    token: Mapped[str] = mapped_column(String(60))


class Link(Restricted, db.Model):
    """A typed, dated, graded relation between two entities, with its provenance."""

    __tablename__ = "entity_link"
    __record_type__ = "link"
    __table_args__ = (
        Index("ix_entity_link_source_type", "source_id", "link_type"),
        Index("ix_entity_link_target_type", "target_id", "link_type"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("unit.id"), index=True)
    source_id: Mapped[int] = mapped_column(ForeignKey("entity.id"))
    target_id: Mapped[int] = mapped_column(ForeignKey("entity.id"))
    #: one of LINK_TYPES
    link_type: Mapped[str] = mapped_column(String(40))
    start_date = mapped_column(Date)
    end_date = mapped_column(Date)
    #: 3x5x2 grade of the assertion, e.g. "1A" (source reliability + intelligence assessment)
    grade: Mapped[str | None] = mapped_column(String(4))
    #: the record asserting the link ("case", "report", "declaration", "article", "import")
    provenance_type: Mapped[str | None] = mapped_column(String(40))
    provenance_id: Mapped[int | None] = mapped_column()
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    created_dt = mapped_column(UTCDateTime, default=now_utc, nullable=False)

    source: Mapped[Entity] = relationship(foreign_keys=[source_id])
    target: Mapped[Entity] = relationship(foreign_keys=[target_id])

    @property
    def type_label(self) -> str:
        return LINK_TYPES.get(self.link_type, self.link_type.replace("_", " "))

    def __repr__(self):
        return f"<Link {self.id} {self.source_id} {self.link_type} {self.target_id}>"


class LinkVersion(db.Model):
    """A link as it read before a correction or its end (corrections are new versions)."""

    __tablename__ = "entity_link_version"

    id: Mapped[int] = mapped_column(primary_key=True)
    link_id: Mapped[int] = mapped_column(
        ForeignKey("entity_link.id", ondelete="CASCADE"), index=True
    )
    #: 1 for the link as first asserted, then one more per change
    version: Mapped[int] = mapped_column()
    link_type: Mapped[str] = mapped_column(String(40))
    start_date = mapped_column(Date)
    end_date = mapped_column(Date)
    grade: Mapped[str | None] = mapped_column(String(4))
    #: why the link was changed from this version (the analyst's words)
    reason: Mapped[str] = mapped_column(Text, default="")
    changed_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    changed_dt = mapped_column(UTCDateTime, default=now_utc, nullable=False)


class ReportVersion(db.Model):
    """A filed report as it read before an edit (corrections are new versions). Erased with
    the report's text when it is disposed of (app.intel.report_versions)."""

    __tablename__ = "intel_report_version"

    id: Mapped[int] = mapped_column(primary_key=True)
    report_id: Mapped[int] = mapped_column(
        ForeignKey("intel_report.id", ondelete="CASCADE"), index=True
    )
    #: 1 for the report as filed, then one more per edit
    version: Mapped[int] = mapped_column()
    title: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text, default="")
    source_grade: Mapped[str] = mapped_column(String(1))
    intel_grade: Mapped[str] = mapped_column(String(1))
    sanitised_body: Mapped[str | None] = mapped_column(Text)
    #: why the report was changed from this version
    reason: Mapped[str] = mapped_column(Text, default="")
    changed_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    changed_dt = mapped_column(UTCDateTime, default=now_utc, nullable=False)


class EntityMention(db.Model):
    """A record of another domain (case, declaration, report, article) mentions an entity."""

    __tablename__ = "entity_mention"
    __table_args__ = (
        UniqueConstraint("entity_id", "record_type", "record_id", "role"),
        Index("ix_entity_mention_record", "record_type", "record_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    entity_id: Mapped[int] = mapped_column(ForeignKey("entity.id"), index=True)
    record_type: Mapped[str] = mapped_column(String(40))
    record_id: Mapped[int] = mapped_column()
    #: suspect, owner, driver, consignee, declarant, importer, subject ...
    role: Mapped[str] = mapped_column(String(40), default="")
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    created_dt = mapped_column(UTCDateTime, default=now_utc, nullable=False)


class IntelReport(Restricted, db.Model):
    """An intelligence report graded on the UK 3x5x2 scale."""

    __tablename__ = "intel_report"
    __record_type__ = "report"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: e.g. "IR-2026-000042"
    reference: Mapped[str] = mapped_column(String(30), unique=True)
    title: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text, default="")
    #: 1 reliable / 2 untested / 3 not reliable
    source_grade: Mapped[str] = mapped_column(String(1))
    #: A known directly ... E suspected to be false
    intel_grade: Mapped[str] = mapped_column(String(1))
    #: text cleared for wider dissemination (no source-revealing detail)
    sanitised_body: Mapped[str | None] = mapped_column(Text)
    review_date = mapped_column(Date, nullable=False)
    #: draft / final / reviewed / disposed
    status: Mapped[str] = mapped_column(String(12), default="final")
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    created_dt = mapped_column(UTCDateTime, default=now_utc, nullable=False)
    updated_dt = mapped_column(UTCDateTime, default=now_utc, onupdate=now_utc, nullable=False)
    reviewed_dt = mapped_column(UTCDateTime)

    @property
    def grade(self) -> str:
        return f"{self.source_grade}{self.intel_grade}{self.handling_code}"

    def __repr__(self):
        return f"<IntelReport {self.reference} {self.grade}>"


class ReportDissemination(db.Model):
    """Who received a report, why, and whether it was the sanitised version."""

    __tablename__ = "intel_dissemination"

    id: Mapped[int] = mapped_column(primary_key=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("intel_report.id"), index=True)
    recipient: Mapped[str] = mapped_column(String(200))
    purpose: Mapped[str] = mapped_column(Text)
    is_sanitised: Mapped[bool] = mapped_column(default=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    created_dt = mapped_column(UTCDateTime, default=now_utc, nullable=False)


class EntityMatch(db.Model):
    """A resolution candidate pair and the analyst's judgement (kept and respected later)."""

    __tablename__ = "entity_match"
    __table_args__ = (UniqueConstraint("entity_a_id", "entity_b_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    #: the lower id of the pair
    entity_a_id: Mapped[int] = mapped_column(ForeignKey("entity.id"), index=True)
    #: the higher id of the pair
    entity_b_id: Mapped[int] = mapped_column(ForeignKey("entity.id"), index=True)
    #: 0..100
    score: Mapped[float] = mapped_column(default=0.0)
    #: why they look alike, e.g. ["shared eori GB123", "name 96"]
    reasons: Mapped[list] = mapped_column(JSON, default=list)
    #: None (pending) / merge / not_same / unsure
    judgement: Mapped[str | None] = mapped_column(String(10), index=True)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    decided_dt = mapped_column(UTCDateTime)
    created_dt = mapped_column(UTCDateTime, default=now_utc, nullable=False)

    entity_a: Mapped[Entity] = relationship(foreign_keys=[entity_a_id])
    entity_b: Mapped[Entity] = relationship(foreign_keys=[entity_b_id])


class EntityMerge(db.Model):
    """One merge, with everything it moved so that it can be undone exactly."""

    __tablename__ = "entity_merge"

    id: Mapped[int] = mapped_column(primary_key=True)
    survivor_id: Mapped[int] = mapped_column(ForeignKey("entity.id"), index=True)
    merged_id: Mapped[int] = mapped_column(ForeignKey("entity.id"), index=True)
    #: {"links": {link_id: [old_source, old_target]}, "mentions": [...], "aliases": [...],
    #:  "identifiers": {...}, "attributes": {...}}
    moved: Mapped[dict] = mapped_column(JSON, default=dict)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    created_dt = mapped_column(UTCDateTime, default=now_utc, nullable=False)
    undone_dt = mapped_column(UTCDateTime)


class SavedChart(db.Model):
    """A link chart saved in a case (case ids belong to app.cases; no foreign key)."""

    __tablename__ = "intel_saved_chart"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(index=True)
    title: Mapped[str] = mapped_column(String(200))
    #: entity ids and link ids shown, plus node positions {"nodes": [...], "links": [...]}
    elements: Mapped[dict] = mapped_column(JSON, default=dict)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    created_dt = mapped_column(UTCDateTime, default=now_utc, nullable=False)
