"""Declaration outcomes read by the audit domain (learning history and drift checks): the
queries over the risk tables live here, so no other domain imports ``app.risk.models``.
Read only; no access check (the callers are audit jobs and administrators' pages whose own
permission is checked by the audit service)."""

from datetime import date, datetime

from sqlalchemy import case, func, select

from app.extensions import db
from app.risk.models import ControlResult, Declaration, DeclarationItem, EngineState


def item_rows(start: date | None = None, end: date | None = None) -> list:
    """One row per declaration item in [start, end] with its declaration's control result
    (the columns of ``app.audit.ml.COLUMNS`` then ``app.audit.history._EXTRA``)."""
    d, i, c = Declaration, DeclarationItem, ControlResult
    stmt = (
        select(
            d.number,
            d.declaration_date,
            d.office,
            d.procedure,
            d.import_type,
            d.import_use,
            d.payment_type,
            d.transport_mode,
            d.declarant_code,
            d.importer_code,
            d.seller_code,
            d.courier_code,
            i.hs_code,
            i.departure_country,
            i.origin_country,
            i.tax_rate,
            i.tax_type,
            i.origin_indicator,
            i.mass_kg,
            i.value,
            d.id,
            d.importer_entity_id,
            d.declarant_entity_id,
            d.courier_entity_id,
            d.ml_score,
            d.is_random_selected,
            c.is_inspected,
            c.is_compliant,
            c.fraud_type,
            c.is_critical,
            c.is_goods_seized,
            i.label_fraud,
            c.source,
        )
        .join(d, d.id == i.declaration_id)
        .outerjoin(c, c.declaration_id == d.id)
        .order_by(d.declaration_date, d.id, i.line_no)
    )
    if start is not None:
        stmt = stmt.where(d.declaration_date >= start)
    if end is not None:
        stmt = stmt.where(d.declaration_date <= end)
    return db.session.execute(stmt).all()


def ml_threshold() -> float | None:
    """The engine's current ML selection threshold."""
    return db.session.scalar(select(EngineState.ml_threshold).limit(1))


def _live(since: datetime):
    return (Declaration.ml_score.is_not(None), Declaration.assessed_dt >= since)


def live_scores(since: datetime, as_of: date) -> tuple[list[float], int]:
    """ML scores of declarations assessed since ``since`` and dated up to ``as_of``, and how
    many later-dated ones were left out."""
    live = _live(since)
    scores = [
        s
        for (s,) in db.session.execute(
            select(Declaration.ml_score).where(*live, Declaration.declaration_date <= as_of)
        )
    ]
    ignored = db.session.scalar(
        select(func.count())
        .select_from(Declaration)
        .where(*live, Declaration.declaration_date > as_of)
    )
    return scores, ignored or 0


def inspected_hits(
    since: datetime, as_of: date, *, min_score: float | None = None, random_only: bool = False
) -> tuple[int, int]:
    """(inspected, found non-compliant) among declarations assessed since ``since`` and dated
    up to ``as_of``: those scored at least ``min_score``, or the random selection."""
    hit = case((ControlResult.is_compliant.is_(False), 1), else_=0)
    stmt = (
        select(func.count(), func.sum(hit))
        .select_from(Declaration)
        .join(ControlResult, ControlResult.declaration_id == Declaration.id)
        .where(
            ControlResult.is_inspected.is_(True),
            Declaration.assessed_dt >= since,
            Declaration.declaration_date <= as_of,
        )
    )
    if min_score is not None:
        stmt = stmt.where(Declaration.ml_score >= min_score)
    if random_only:
        stmt = stmt.where(Declaration.is_random_selected.is_(True))
    n, hits = db.session.execute(stmt).one()
    return n or 0, hits or 0
