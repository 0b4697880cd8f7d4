"""Trader ratings (kept as history), ML model versions, audit settings and selections."""

from sqlalchemy import JSON, Date, Float, ForeignKey, Index, Integer, Numeric, String, Text
from sqlalchemy.orm import Mapped, deferred, mapped_column, relationship

from app.core.time import now_utc
from app.core.types import UTCDateTime
from app.extensions import db
from app.security.access import Restricted

BANDS = {"low": "Low", "medium": "Medium", "high": "High"}
#: trader roles a rating is computed for (declaration party columns)
TRADER_ROLES = {"importer": "Importer", "declarant": "Declarant", "courier": "Courier"}
MODEL_STATUSES = {"trained": "Trained", "active": "Active", "retired": "Retired"}


class TraderRating(db.Model):
    """One computed rating of a trader; the newest row per trader has ``is_current``."""

    __tablename__ = "audit_trader_rating"
    __table_args__ = (
        Index("ix_audit_trader_rating_trader", "role", "trader_code", "computed_dt"),
        Index("ix_audit_trader_rating_current", "is_current", "score"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    #: importer, declarant, courier
    role: Mapped[str] = mapped_column(String(20))
    #: the trader's code on declarations (KCS Importer ID ...)
    trader_code: Mapped[str] = mapped_column(String(40), index=True)
    #: entity registry id (app.intel) when the declarations carry one; no FK across domains
    entity_id: Mapped[int | None] = mapped_column(Integer, index=True)
    #: 0 (no sign of risk) .. 100 (highest risk)
    score: Mapped[float] = mapped_column(Float)
    #: low, medium, high
    band: Mapped[str] = mapped_column(String(10))
    #: [{"text": plain words, "points": contribution in log-odds, "area": audit risk area}]
    factors: Mapped[list] = mapped_column(JSON, default=list)
    #: audit risk areas suggested by the factors (app.cases.catalog.RISK_AREAS keys)
    risk_areas: Mapped[list] = mapped_column(JSON, default=list)
    n_declarations: Mapped[int] = mapped_column(Integer, default=0)
    n_inspected: Mapped[int] = mapped_column(Integer, default=0)
    n_noncompliant: Mapped[int] = mapped_column(Integer, default=0)
    #: declared value in the rating window (basis of the expected audit yield)
    declared_value: Mapped[float] = mapped_column(Float, default=0.0)
    #: expected duty at risk: P(non-compliant) x declared value x mean tax rate
    expected_yield: Mapped[float] = mapped_column(Float, default=0.0)
    #: rating method and the ML model version active when computed, e.g. "behaviour-1/ml-3"
    model_version: Mapped[str] = mapped_column(String(40))
    #: the last day of the declaration history the rating used
    as_of = mapped_column(Date, nullable=False)
    computed_dt = mapped_column(UTCDateTime, default=now_utc, nullable=False)
    is_current: Mapped[bool] = mapped_column(default=True)

    def __repr__(self):
        return f"<TraderRating {self.role}:{self.trader_code} {self.score:.0f} {self.band}>"


class RiskModel(db.Model):
    """One trained version of the item-level ML model, its metrics and its life cycle."""

    __tablename__ = "audit_risk_model"

    id: Mapped[int] = mapped_column(primary_key=True)
    version: Mapped[int] = mapped_column(Integer, unique=True)
    #: trained, active, retired (exactly one active at most)
    status: Mapped[str] = mapped_column(String(10), default="trained", index=True)
    train_start = mapped_column(Date)
    train_end = mapped_column(Date)
    test_start = mapped_column(Date)
    test_end = mapped_column(Date)
    n_train: Mapped[int] = mapped_column(Integer, default=0)
    n_test: Mapped[int] = mapped_column(Integer, default=0)
    #: held-out (later period) figures: precision/recall at 1/2/5/10%, auc, base_rate
    metrics: Mapped[dict] = mapped_column(JSON, default=dict)
    params: Mapped[dict] = mapped_column(JSON, default=dict)
    #: deciles of the held-out scores: the reference for the drift watch
    score_deciles: Mapped[list] = mapped_column(JSON, default=list)
    train_seconds: Mapped[float] = mapped_column(Float, default=0.0)
    #: ml.TrainedModel.to_json(): encoders and the LightGBM text model (no pickle)
    artifact: Mapped[str] = deferred(mapped_column(Text))
    trained_dt = mapped_column(UTCDateTime, default=now_utc, nullable=False)
    trained_by_name: Mapped[str] = mapped_column(String(120), default="")
    activated_dt = mapped_column(UTCDateTime)
    activated_by_name: Mapped[str | None] = mapped_column(String(120))
    note: Mapped[str | None] = mapped_column(Text)

    def __repr__(self):
        return f"<RiskModel v{self.version} {self.status}>"


class AuditSettings(db.Model):
    """One row: exploration share and the audit selection defaults."""

    __tablename__ = "audit_settings"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: share of every selection (audit proposals, ML-led inspection plans) drawn at random
    exploration_share: Mapped[float] = mapped_column(Float, default=0.10)
    #: traders audited (audit case opened) within this many months are not proposed again
    recent_audit_months: Mapped[int] = mapped_column(Integer, default=24)
    #: rating window in months
    rating_window_months: Mapped[int] = mapped_column(Integer, default=12)
    updated_dt = mapped_column(UTCDateTime, default=now_utc, onupdate=now_utc, nullable=False)


class AuditSelection(Restricted, db.Model):
    """An audit selection for a unit and period: the proposal, then what was confirmed."""

    __tablename__ = "audit_selection"
    __record_type__ = "audit_selection"

    id: Mapped[int] = mapped_column(primary_key=True)
    period_start = mapped_column(Date, nullable=False)
    period_end = mapped_column(Date, nullable=False)
    #: how many audits the unit can run in the period
    capacity: Mapped[int] = mapped_column(Integer)
    random_share: Mapped[float] = mapped_column(Float)
    audit_type: Mapped[str] = mapped_column(String(10), default="desk")
    #: proposed, confirmed
    status: Mapped[str] = mapped_column(String(10), default="proposed", index=True)
    #: seed of the random share's draw (the proposal can be reproduced)
    seed: Mapped[str] = mapped_column(String(40))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    created_by_name: Mapped[str] = mapped_column(String(120), default="")
    created_dt = mapped_column(UTCDateTime, default=now_utc, nullable=False)
    confirmed_dt = mapped_column(UTCDateTime)
    confirmed_by_name: Mapped[str | None] = mapped_column(String(120))

    lines: Mapped[list["AuditSelectionLine"]] = relationship(
        back_populates="selection",
        cascade="all, delete-orphan",
        order_by="AuditSelectionLine.rank",
    )

    def __repr__(self):
        return f"<AuditSelection {self.id} {self.status} {self.capacity}>"


class AuditSelectionLine(db.Model):
    """A trader proposed in a selection, why, and the audit case opened for it."""

    __tablename__ = "audit_selection_line"

    id: Mapped[int] = mapped_column(primary_key=True)
    selection_id: Mapped[int] = mapped_column(
        ForeignKey("audit_selection.id", ondelete="CASCADE"), index=True
    )
    rank: Mapped[int] = mapped_column(Integer)
    role: Mapped[str] = mapped_column(String(20))
    trader_code: Mapped[str] = mapped_column(String(40), index=True)
    entity_id: Mapped[int | None] = mapped_column(Integer)
    rating_id: Mapped[int | None] = mapped_column(ForeignKey("audit_trader_rating.id"))
    score: Mapped[float] = mapped_column(Float)
    expected_yield: Mapped[float] = mapped_column(Float, default=0.0)
    #: P(the audit finds at least one non-compliant declaration in the period), 0..1
    p_finding: Mapped[float | None] = mapped_column(Float)
    #: expected number of non-compliant declarations (sum of their ML scores)
    expected_findings: Mapped[float | None] = mapped_column(Float)
    #: duty at stake in the period: declared value x duty rate
    duty_at_stake: Mapped[float | None] = mapped_column(Float)
    n_declarations: Mapped[int | None] = mapped_column(Integer)
    #: the behavioural rating (0..100) at proposal time, shown on its own
    rating_score: Mapped[float | None] = mapped_column(Float)
    #: expected (ranked pick by expected findings), random (exploration draw),
    #: reserve (next best, not proposed); "rating" on proposals made before issue 18
    reason: Mapped[str] = mapped_column(String(10))
    risk_areas: Mapped[list] = mapped_column(JSON, default=list)
    #: plain-words factors of the audit-candidate score
    factors: Mapped[list] = mapped_column(JSON, default=list)
    is_selected: Mapped[bool] = mapped_column(default=True)
    #: the audit case opened on confirmation (app.cases), no FK across domains
    case_id: Mapped[int | None] = mapped_column(Integer)
    case_reference: Mapped[str | None] = mapped_column(String(40))

    selection: Mapped[AuditSelection] = relationship(back_populates="lines")


#: kinds of debt an audit assesses
DEBT_KINDS = {
    "customs_duty": "Customs duty",
    "vat": "VAT",
    "excise": "Excise",
    "interest": "Interest",
    "penalty": "Penalty",
}


class AuditDebt(db.Model):
    """One debt assessed in an audit case, by kind; append-only (a correction is a new row
    with a negative amount and its reason)."""

    __tablename__ = "audit_debt"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: the audit case (app.cases), no FK across domains
    case_id: Mapped[int] = mapped_column(Integer, index=True)
    #: customs_duty, vat, excise, interest, penalty
    kind: Mapped[str] = mapped_column(String(20))
    amount = mapped_column(Numeric(18, 2), nullable=False)
    note: Mapped[str | None] = mapped_column(String(500))
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    recorded_by_name: Mapped[str] = mapped_column(String(120), default="")
    recorded_dt = mapped_column(UTCDateTime, default=now_utc, nullable=False)
