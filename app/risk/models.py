"""Declarations, their items and control results; risk profiles, named lists, selectivity
settings, channel raises and the hits that tie declarations to profiles."""

from sqlalchemy import (
    JSON,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    event,
    false,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.core.time import now_utc
from app.core.types import UTCDateTime
from app.extensions import db
from app.security.access import Restricted

#: lanes in precedence order, lowest first (a higher lane always wins)
CHANNELS = ("green", "blue", "yellow", "orange", "red")
CHANNEL_LABELS = {
    "green": "Green — release",
    "blue": "Blue — post-clearance audit",
    "yellow": "Yellow — documentary check",
    "orange": "Orange — scanning",
    "red": "Red — physical inspection",
}
CHANNEL_RANK = {c: i for i, c in enumerate(CHANNELS)}

FRAUD_TYPES = {
    "undervaluation": "Undervaluation",
    "misclassification": "Misclassification",
    "origin": "Origin (false origin, preference abuse)",
    "prohibited": "Prohibited or restricted goods",
    "ipr": "Intellectual property (counterfeit)",
    "other": "Other",
}

PROFILE_STATUSES = ("draft", "simulated", "active", "retired")


class Declaration(Restricted, db.Model):
    """A goods declaration as the declaration-processing system sent it, with its channel."""

    __tablename__ = "risk_declaration"
    __record_type__ = "declaration"
    __table_args__ = (
        # Partial: only the few declarations whose hits are still to be written are in it,
        # so the other declarations' INSERTs pay no index entry for the flag.
        Index(
            "ix_risk_declaration_screening_pending",
            "id",
            sqlite_where=text("screening_pending = 1"),
            postgresql_where=text("screening_pending"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    #: the declaration system's number (KCS: Declaration ID)
    number: Mapped[str] = mapped_column(String(40), unique=True)
    #: date of the declaration (acceptance date)
    declaration_date = mapped_column(Date, nullable=False, index=True)
    office: Mapped[str] = mapped_column(String(20), index=True)
    #: procedure / process type (KCS Process Type)
    procedure: Mapped[str | None] = mapped_column(String(20))
    import_type: Mapped[str | None] = mapped_column(String(20))
    import_use: Mapped[str | None] = mapped_column(String(20))
    payment_type: Mapped[str | None] = mapped_column(String(20))
    #: mode of transport code (UN/ECE Rec 19: 1 sea, 3 road, 4 air ...; KCS 10/20/.../90)
    transport_mode: Mapped[str | None] = mapped_column(String(20))
    #: country the goods were dispatched from, when the system sends one per declaration
    dispatch_country: Mapped[str | None] = mapped_column(String(2))
    declarant_code: Mapped[str | None] = mapped_column(String(40), index=True)
    importer_code: Mapped[str | None] = mapped_column(String(40), index=True)
    seller_code: Mapped[str | None] = mapped_column(String(40), index=True)
    courier_code: Mapped[str | None] = mapped_column(String(40), index=True)
    #: entity registry ids (app.intel) once the codes are linked; no FK across domains
    declarant_entity_id: Mapped[int | None] = mapped_column(Integer, index=True)
    importer_entity_id: Mapped[int | None] = mapped_column(Integer, index=True)
    seller_entity_id: Mapped[int | None] = mapped_column(Integer, index=True)
    courier_entity_id: Mapped[int | None] = mapped_column(Integer, index=True)
    #: api, csv, demo
    source: Mapped[str] = mapped_column(String(20), default="api")
    #: the traders still have to be registered in the entity registry: done by the worker's
    #: ``risk-link-parties`` job, so the declaration system's request waits only for the channel
    links_pending: Mapped[bool] = mapped_column(default=False, index=True)
    #: the screening found matches that are still to be written as hits (by the worker's
    #: ``risk-screening-hits`` job: the assessment holds them, stored with the declaration)
    screening_pending: Mapped[bool] = mapped_column(default=False, server_default=false())

    #: green, blue, yellow, orange, red (None until assessed)
    channel: Mapped[str | None] = mapped_column(String(10), index=True)
    #: the channel the engine chose, before any approved raise
    engine_channel: Mapped[str | None] = mapped_column(String(10))
    #: the explained assessment: profiles hit, ML score, rating, random draw, rates
    assessment: Mapped[dict | None] = mapped_column(JSON)
    assessed_dt = mapped_column(UTCDateTime)
    #: the seed string the random draw was derived from (reproducible)
    random_seed: Mapped[str | None] = mapped_column(String(120))
    #: the uniform draw in [0, 1) derived from the seed
    random_draw: Mapped[float | None] = mapped_column(Float)
    #: the channel the random draw selected, if any
    random_channel: Mapped[str | None] = mapped_column(String(10))
    is_random_selected: Mapped[bool] = mapped_column(default=False, index=True)
    #: the highest item ML score used, 0..1 (when a scorer is registered)
    ml_score: Mapped[float | None] = mapped_column(Float)
    #: the importer's trader rating used, 0..100 (when a rating provider is registered)
    trader_rating: Mapped[float | None] = mapped_column(Float)
    #: engine version (profile set) the assessment used
    engine_version: Mapped[int | None] = mapped_column(Integer)

    created_dt = mapped_column(UTCDateTime, default=now_utc, nullable=False)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    api_client_id: Mapped[int | None] = mapped_column(ForeignKey("api_client.id"))

    items: Mapped[list["DeclarationItem"]] = relationship(
        back_populates="declaration",
        cascade="all, delete-orphan",
        order_by="DeclarationItem.line_no",
        lazy="selectin",
    )
    control_result: Mapped["ControlResult | None"] = relationship(
        back_populates="declaration",
        cascade="all, delete-orphan",
        uselist=False,
        lazy="selectin",
    )
    #: every recorded version of the control result, oldest first (append-only)
    control_versions: Mapped[list["ControlResultVersion"]] = relationship(
        back_populates="declaration",
        cascade="all, delete-orphan",
        order_by="ControlResultVersion.version",
    )

    @property
    def total_value(self) -> float:
        return sum(i.value or 0 for i in self.items)

    def parties(self) -> list[tuple[str, str | None, int | None]]:
        """(role, code, entity id) for each party named on the declaration."""
        return [
            ("declarant", self.declarant_code, self.declarant_entity_id),
            ("importer", self.importer_code, self.importer_entity_id),
            ("seller", self.seller_code, self.seller_entity_id),
            ("courier", self.courier_code, self.courier_entity_id),
        ]

    def __repr__(self):
        return f"<Declaration {self.number} {self.channel}>"


class DeclarationItem(db.Model):
    """One line of a declaration: the goods, where from, how much, what tax."""

    __tablename__ = "risk_declaration_item"
    __table_args__ = (UniqueConstraint("declaration_id", "line_no"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    declaration_id: Mapped[int] = mapped_column(
        ForeignKey("risk_declaration.id", ondelete="CASCADE"), index=True
    )
    line_no: Mapped[int] = mapped_column(Integer, default=1)
    #: HS code as declared, digits only (6 to 10 digits)
    hs_code: Mapped[str] = mapped_column(String(12), index=True)
    description: Mapped[str | None] = mapped_column(Text)
    #: ISO 3166-1 alpha-2
    origin_country: Mapped[str | None] = mapped_column(String(2), index=True)
    departure_country: Mapped[str | None] = mapped_column(String(2))
    #: customs value (in the national currency; KCS: KRW)
    value: Mapped[float] = mapped_column(Float, default=0.0)
    #: net mass in kg
    mass_kg: Mapped[float | None] = mapped_column(Float)
    quantity: Mapped[float | None] = mapped_column(Float)
    quantity_unit: Mapped[str | None] = mapped_column(String(10))
    #: duty rate in percent
    tax_rate: Mapped[float | None] = mapped_column(Float)
    tax_type: Mapped[str | None] = mapped_column(String(10))
    #: how origin was established (KCS Country of Origin Indicator)
    origin_indicator: Mapped[str | None] = mapped_column(String(4))
    #: ML score 0..1 of this item when a scorer was registered
    ml_score: Mapped[float | None] = mapped_column(Float)
    #: item-level label from a history import (KCS Fraud / Critical Fraud of the row)
    label_fraud: Mapped[bool | None] = mapped_column()
    label_critical: Mapped[int | None] = mapped_column(Integer)

    declaration: Mapped[Declaration] = relationship(back_populates="items")

    @property
    def unit_value(self) -> float | None:
        if not self.mass_kg:
            return None
        return (self.value or 0) / self.mass_kg

    def __repr__(self):
        return f"<DeclarationItem {self.declaration_id}/{self.line_no} {self.hs_code}>"


class ControlResult(db.Model):
    """What the control found, as its latest version says; one per declaration.

    Every result recorded is kept in ``ControlResultVersion`` (append-only); a correction is a
    new version with a reason, and this row follows it, so profile statistics, hit rates, ML
    training and KPIs, which read this row, count the latest version only."""

    __tablename__ = "risk_control_result"

    id: Mapped[int] = mapped_column(primary_key=True)
    declaration_id: Mapped[int] = mapped_column(
        ForeignKey("risk_declaration.id", ondelete="CASCADE"), unique=True
    )
    is_inspected: Mapped[bool] = mapped_column(default=True)
    #: None when not inspected (unknown)
    is_compliant: Mapped[bool | None] = mapped_column()
    #: one of FRAUD_TYPES when not compliant
    fraud_type: Mapped[str | None] = mapped_column(String(30))
    #: the fraud threatens public safety (KCS Critical Fraud = 2)
    is_critical: Mapped[bool] = mapped_column(default=False)
    revenue_recovered: Mapped[float] = mapped_column(Float, default=0.0)
    findings: Mapped[str | None] = mapped_column(Text)
    is_goods_seized: Mapped[bool] = mapped_column(default=False)
    #: the seizure case opened from this result (app.cases), no FK across domains
    seizure_case_id: Mapped[int | None] = mapped_column(Integer)
    #: api, form, csv
    source: Mapped[str] = mapped_column(String(20), default="form")
    recorded_dt = mapped_column(UTCDateTime, default=now_utc, nullable=False, index=True)
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    #: the ControlResultVersion.version this row holds (1 for the first result)
    version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")

    declaration: Mapped[Declaration] = relationship(back_populates="control_result")

    @property
    def is_hit(self) -> bool:
        """Inspected and found non-compliant: what a profile's hit rate counts."""
        return bool(self.is_inspected and self.is_compliant is False)

    def __repr__(self):
        return f"<ControlResult {self.declaration_id} compliant={self.is_compliant}>"


class ControlResultVersion(db.Model):
    """One recorded control result, never changed: the first, then each correction with the
    reason it was corrected (``app.risk.control.record_control_result``)."""

    __tablename__ = "risk_control_result_version"
    __table_args__ = (UniqueConstraint("declaration_id", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    declaration_id: Mapped[int] = mapped_column(
        ForeignKey("risk_declaration.id", ondelete="CASCADE"), index=True
    )
    #: 1, 2, ... in the order recorded
    version: Mapped[int] = mapped_column(Integer)
    is_inspected: Mapped[bool] = mapped_column(default=True)
    is_compliant: Mapped[bool | None] = mapped_column()
    fraud_type: Mapped[str | None] = mapped_column(String(30))
    is_critical: Mapped[bool] = mapped_column(default=False)
    revenue_recovered: Mapped[float] = mapped_column(Float, default=0.0)
    findings: Mapped[str | None] = mapped_column(Text)
    is_goods_seized: Mapped[bool] = mapped_column(default=False)
    #: the seizure case linked when this version was recorded (app.cases), no FK across domains
    seizure_case_id: Mapped[int | None] = mapped_column(Integer)
    #: why the previous version was corrected (required from version 2 on)
    reason: Mapped[str | None] = mapped_column(Text)
    #: api, form, csv, demo
    source: Mapped[str] = mapped_column(String(20), default="form")
    recorded_dt = mapped_column(UTCDateTime, default=now_utc, nullable=False)
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    #: user name or API client name as it was when recorded
    recorded_by_name: Mapped[str] = mapped_column(String(120), default="")

    declaration: Mapped[Declaration] = relationship(back_populates="control_versions")

    def __repr__(self):
        return f"<ControlResultVersion {self.declaration_id} v{self.version}>"


@event.listens_for(ControlResultVersion, "before_update")
def _versions_are_append_only(_mapper, _connection, target):
    raise RuntimeError(f"{target!r} is a recorded version: record a correction instead")


class NamedList(db.Model):
    """A user list the rule editor refers to by name: companies, HS codes, countries."""

    __tablename__ = "risk_named_list"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(80), unique=True)
    #: trader, hs_code, country, office
    kind: Mapped[str] = mapped_column(String(20))
    description: Mapped[str | None] = mapped_column(Text)
    #: the values (trader codes, HS prefixes, ISO country codes)
    values: Mapped[list] = mapped_column(JSON, default=list)
    updated_dt = mapped_column(UTCDateTime, default=now_utc, onupdate=now_utc, nullable=False)
    created_dt = mapped_column(UTCDateTime, default=now_utc, nullable=False)

    def __repr__(self):
        return f"<NamedList {self.name} ({len(self.values or [])})>"


class RiskProfile(db.Model):
    """A targeting rule with its channel, instructions, sensitivity and life cycle."""

    __tablename__ = "risk_profile"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: short reference, e.g. RP-0042
    code: Mapped[str] = mapped_column(String(20), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    #: description of the risk area
    risk_area: Mapped[str] = mapped_column(Text, default="")
    #: the assessment that justifies the profile (likelihood, impact, source)
    assessment: Mapped[str] = mapped_column(Text, default="")
    #: the condition tree (see app.risk.rules)
    conditions: Mapped[dict] = mapped_column(JSON)
    channel: Mapped[str] = mapped_column(String(10))
    #: instructions (counter-measures) to the officer
    instructions: Mapped[str] = mapped_column(Text, default="")
    is_sensitive: Mapped[bool] = mapped_column(default=False)
    #: who is alerted on a sensitive hit: {"users": [ids], "units": [ids], "roles": [names]}
    recipients: Mapped[dict | None] = mapped_column(JSON)
    valid_from_dt = mapped_column(UTCDateTime)
    valid_to_dt = mapped_column(UTCDateTime)
    #: draft, simulated, active, retired
    status: Mapped[str] = mapped_column(String(10), default="draft", index=True)
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    #: who wrote the rule now on this row (four-eyes: someone else activates it)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    #: the version on this row: the one that fires while the profile is active
    version: Mapped[int] = mapped_column(Integer, default=1)
    #: the next version, written while this one stays in production (a RiskProfileVersion
    #: in state draft or simulated); activation swaps it in
    draft_version: Mapped[int | None] = mapped_column(Integer)
    #: summary of the last simulation (figures and window) that allowed activation
    last_simulation: Mapped[dict | None] = mapped_column(JSON)
    created_dt = mapped_column(UTCDateTime, default=now_utc, nullable=False)
    updated_dt = mapped_column(UTCDateTime, default=now_utc, onupdate=now_utc, nullable=False)

    versions: Mapped[list["RiskProfileVersion"]] = relationship(
        back_populates="profile",
        cascade="all, delete-orphan",
        order_by="RiskProfileVersion.version.desc()",
    )

    def __repr__(self):
        return f"<RiskProfile {self.code} {self.status}>"


class RiskProfileVersion(db.Model):
    """One saved state of a profile: what changed, who, when."""

    __tablename__ = "risk_profile_version"
    __table_args__ = (UniqueConstraint("profile_id", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    profile_id: Mapped[int] = mapped_column(
        ForeignKey("risk_profile.id", ondelete="CASCADE"), index=True
    )
    version: Mapped[int] = mapped_column(Integer)
    #: the profile's fields as they were saved
    snapshot: Mapped[dict] = mapped_column(JSON)
    #: readable list of what changed against the previous version
    changes: Mapped[list] = mapped_column(JSON, default=list)
    changed_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    changed_by_name: Mapped[str] = mapped_column(String(120), default="")
    changed_dt = mapped_column(UTCDateTime, default=now_utc, nullable=False)
    #: None for a record of the profile row; for the next version of an active profile:
    #: draft, simulated, active (swapped in) or discarded
    state: Mapped[str | None] = mapped_column(String(12))
    #: the simulation of this version's rule (required before it is swapped in)
    simulation: Mapped[dict | None] = mapped_column(JSON)
    #: who activated (approved) this version, when it went into production
    approved_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    approved_by_name: Mapped[str | None] = mapped_column(String(120))
    approved_dt = mapped_column(UTCDateTime)

    profile: Mapped[RiskProfile] = relationship(back_populates="versions")


class ProfileHit(db.Model):
    """A profile fired on a declaration (the basis of its live statistics)."""

    __tablename__ = "risk_profile_hit"
    __table_args__ = (
        UniqueConstraint("profile_id", "declaration_id"),
        Index("ix_risk_profile_hit_profile_dt", "profile_id", "hit_dt"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    profile_id: Mapped[int] = mapped_column(ForeignKey("risk_profile.id", ondelete="CASCADE"))
    declaration_id: Mapped[int] = mapped_column(
        ForeignKey("risk_declaration.id", ondelete="CASCADE"), index=True
    )
    profile_version: Mapped[int] = mapped_column(Integer, default=1)
    channel: Mapped[str] = mapped_column(String(10))
    #: line numbers of the items that matched
    item_lines: Mapped[list] = mapped_column(JSON, default=list)
    hit_dt = mapped_column(UTCDateTime, default=now_utc, nullable=False)
    # lets a hit be added with the declaration it belongs to, in the same flush
    declaration: Mapped[Declaration] = relationship()


class SelectivityRate(db.Model):
    """Per channel: the expected (target) share of declarations and the minimum random rate."""

    __tablename__ = "risk_selectivity_rate"

    id: Mapped[int] = mapped_column(primary_key=True)
    channel: Mapped[str] = mapped_column(String(10), unique=True)
    #: expected share of declarations in this lane, 0..1 (monitored in the KPIs)
    target_rate: Mapped[float] = mapped_column(Float, default=0.0)
    #: share of declarations randomly sent at least to this lane, 0..1
    min_random_rate: Mapped[float] = mapped_column(Float, default=0.0)
    updated_dt = mapped_column(UTCDateTime, default=now_utc, onupdate=now_utc, nullable=False)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))


class EngineState(db.Model):
    """One row: the version counter every web process compares with its compiled index,
    the random seed, and the ML threshold."""

    __tablename__ = "risk_engine_state"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: bumped by every change to active profiles, lists or rates
    version: Mapped[int] = mapped_column(Integer, default=1)
    #: secret seed from which each declaration's random draw is derived
    random_seed: Mapped[str] = mapped_column(String(64))
    #: item ML score at or above which the declaration goes at least to ml_channel
    ml_threshold: Mapped[float | None] = mapped_column(Float)
    ml_channel: Mapped[str] = mapped_column(String(10), default="yellow")
    updated_dt = mapped_column(UTCDateTime, default=now_utc, onupdate=now_utc, nullable=False)


class SettingsVersion(db.Model):
    """One saved state of the selectivity settings (rates, ML threshold and lane, seed):
    who changed what, when. The latest row is the settings in force."""

    __tablename__ = "risk_settings_version"

    id: Mapped[int] = mapped_column(primary_key=True)
    version: Mapped[int] = mapped_column(Integer, unique=True)
    #: {"rates": {channel: {"target_rate", "min_random_rate"}}, "ml_threshold",
    #: "ml_channel", "seed_fingerprint"} (the seed itself stays secret)
    values: Mapped[dict] = mapped_column(JSON)
    #: readable list of what changed against the previous version
    changes: Mapped[list] = mapped_column(JSON, default=list)
    changed_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    changed_by_name: Mapped[str] = mapped_column(String(120), default="")
    changed_dt = mapped_column(UTCDateTime, default=now_utc, nullable=False)


class ChannelRaise(db.Model):
    """An officer's request to raise a declaration's channel; takes effect when approved."""

    __tablename__ = "risk_channel_raise"

    id: Mapped[int] = mapped_column(primary_key=True)
    declaration_id: Mapped[int] = mapped_column(
        ForeignKey("risk_declaration.id", ondelete="CASCADE"), index=True
    )
    from_channel: Mapped[str] = mapped_column(String(10))
    to_channel: Mapped[str] = mapped_column(String(10))
    reason: Mapped[str] = mapped_column(Text)
    #: pending, approved, rejected
    status: Mapped[str] = mapped_column(String(10), default="pending", index=True)
    requested_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    requested_dt = mapped_column(UTCDateTime, default=now_utc, nullable=False)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    decided_dt = mapped_column(UTCDateTime)
    decision_note: Mapped[str | None] = mapped_column(Text)

    declaration: Mapped[Declaration] = relationship()


class HsPeerMedian(db.Model):
    """Median unit value (value per kg) of each HS6 subheading, for the deviation field."""

    __tablename__ = "risk_hs_peer_median"

    hs6: Mapped[str] = mapped_column(String(6), primary_key=True)
    median_unit_value: Mapped[float] = mapped_column(Float)
    n_items: Mapped[int] = mapped_column(Integer)
    computed_dt = mapped_column(UTCDateTime, default=now_utc, nullable=False)
