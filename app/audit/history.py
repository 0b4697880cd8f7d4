"""Declaration history, read through the risk domain (``app.risk.outcomes``), as one pandas
frame (read only)."""

from datetime import date

import numpy as np
import pandas as pd

from app.audit import ml

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
    from app.risk.outcomes import item_rows

    rows = item_rows(start, end)
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
