"""Declaration history read from the risk domain's tables as one pandas frame (read only)."""

from datetime import date

import numpy as np
import pandas as pd
from sqlalchemy import select

from app.audit import ml
from app.extensions import db

_EXTRA = (
    "declaration_id",
    "importer_entity_id",
    "declarant_entity_id",
    "courier_entity_id",
    "decl_ml_score",
    "is_random_selected",
    "is_inspected",
    "is_compliant",
    "fraud_type",
    "is_critical",
    "is_goods_seized",
    "label_fraud",
    "result_source",
)


def item_frame(start: date | None = None, end: date | None = None) -> pd.DataFrame:
    """One row per declaration item in [start, end] with the control result's outcome.

    ``label`` is the item's own label when the control result came from an imported history
    that carried one per item (KCS Fraud), otherwise the declaration's control result
    (1 non-compliant, 0 compliant); NaN where nobody looked. A result recorded later (form,
    API) replaces the imported label, as it replaced the imported result.
    """
    from app.risk.models import ControlResult, Declaration, DeclarationItem

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
    rows = db.session.execute(stmt).all()
    raw = pd.DataFrame(rows, columns=list(ml.COLUMNS) + list(_EXTRA))
    frame = ml.normalise_frame(raw)
    for col in _EXTRA:
        frame[col] = raw[col].to_numpy()
    inspected = raw["is_inspected"].fillna(False).astype(bool).to_numpy()
    compliant = raw["is_compliant"]
    decl_label = np.where(
        inspected & compliant.notna().to_numpy(),
        np.where(compliant.fillna(True).astype(bool), 0.0, 1.0),
        np.nan,
    )
    item_label = pd.to_numeric(raw["label_fraud"], errors="coerce").to_numpy(dtype=float)
    from_csv = (raw["result_source"] == "csv").to_numpy()
    frame["label"] = np.where(~np.isnan(item_label) & inspected & from_csv, item_label, decl_label)
    frame["is_inspected"] = inspected
    frame["is_noncompliant"] = inspected & (compliant.fillna(True) == False).to_numpy()  # noqa: E712
    return frame
