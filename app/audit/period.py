"""Audit candidates of a past period on the platform's own data (the selection's input)."""

from datetime import date, timedelta

import numpy as np
import pandas as pd

from app.audit import candidates
from app.audit.models import TRADER_ROLES
from app.audit.service import FRAUD_AREAS, MIN_PRIOR, _audit_findings, current_ratings_for
from app.core.errors import ValidationError
from app.security.access import Actor

#: the history before the audited period that counts (control results, findings)
HISTORY_DAYS = 730


def _scored_items(start: date, end: date) -> pd.DataFrame:
    """The period's items with an ML score: the stored declaration score (the riskiest item's,
    set at assessment) or, for declarations never scored, the active model's item score."""
    from app.audit.history import item_frame
    from app.audit.lifecycle import _cache

    items = item_frame(start, end)
    if items.empty:
        return items
    items["score"] = pd.to_numeric(items["decl_ml_score"], errors="coerce")
    missing = items["score"].isna().to_numpy()
    if missing.any():
        _version, model = _cache.get()
        if model is not None:
            items.loc[missing, "score"] = model.score_frame(items[missing])
    return items


def _history(role: str, start: date, end: date) -> tuple[dict, float]:
    """code -> control results, fraud-type areas and entity id from ``start`` to ``end``."""
    from app.audit.history import item_frame

    items = item_frame(start, end)
    if items.empty:
        return {}, 0.1
    code_col, entity_col = f"{role}_code", f"{role}_entity_id"
    items = items[items[code_col].fillna("") != ""]
    decl = items.groupby("declaration_id", sort=False).agg(
        code=(code_col, "first"),
        entity=(entity_col, "first"),
        inspected=("is_inspected", "first"),
        label=("label", "max"),
        fraud_type=("fraud_type", "first"),
    )
    decl["nc"] = decl["inspected"].astype(bool) & (decl["label"] == 1)
    inspected = decl[decl["inspected"].astype(bool)]
    prior = max(MIN_PRIOR, float(inspected["nc"].mean()) if len(inspected) else 0.1)
    out = {}
    for code, part in decl.groupby("code", sort=False):
        types = part.loc[part["nc"] & part["fraud_type"].notna(), "fraud_type"]
        areas = [FRAUD_AREAS[t] for t in dict.fromkeys(types) if t in FRAUD_AREAS]
        entity = part["entity"].dropna()
        out[code] = {
            "inspected": int(part["inspected"].astype(bool).sum()),
            "noncompliant": int(part["nc"].sum()),
            "areas": list(dict.fromkeys(areas)),
            "entity_id": int(entity.iloc[-1]) if len(entity) else None,
        }
    return out, prior


def period_candidates(
    *, actor: Actor, role: str, period_start: date, period_end: date
) -> list[dict]:
    """Audit candidates for ``role`` over the past period, best first."""
    if role not in TRADER_ROLES:
        raise ValidationError({"role": f"unknown trader role {role!r}"})
    from app.risk.service import visible_declaration_ids

    items = _scored_items(period_start, period_end)
    if not items.empty and not actor.is_system:
        # Only declarations the auditor may see name a trader (code-C ones of another unit
        # stay out of the proposal, as they stay out of every list).
        visible = visible_declaration_ids(actor, period_start, period_end)
        items = items[items["declaration_id"].isin(visible)]
    code_col = f"{role}_code"
    if items.empty or not (items[code_col].fillna("") != "").any():
        return []
    decl = candidates.declaration_scores(items, code_col)
    history, prior = _history(role, period_start - timedelta(days=HISTORY_DAYS), period_end)
    _add_registry_facts(history, actor)
    codes = list(decl["code"].unique())
    ranked = candidates.score_candidates(
        decl, history=history, prior=prior, ratings=current_ratings_for(codes)
    )
    entity_col = f"{role}_entity_id"
    entities = items.dropna(subset=[entity_col]).groupby(code_col)[entity_col].last()
    for c in ranked:
        entity = entities.get(c["trader_code"])
        c["entity_id"] = int(entity) if entity is not None and not np.isnan(entity) else None
        c["role"] = role
    return ranked


def _add_registry_facts(history: dict, actor: Actor) -> None:
    """Audit findings, cases and intelligence links of the traders that have an entity."""
    from app.intel import service as intel

    by_entity = {h["entity_id"]: h for h in history.values() if h.get("entity_id")}
    if not by_entity:
        return
    findings = _audit_findings()
    facts = intel.trader_facts(list(by_entity), actor=actor)
    for entity_id, h in by_entity.items():
        h["findings"] = findings.get(entity_id)
        fact = facts.get(entity_id) or {}
        h["cases"] = fact.get("cases", 0)
        h["intel_links"] = fact.get("links", 0)


def period_declarations(
    *, actor: Actor, role: str, codes: list[str], period_start: date, period_end: date
) -> dict[str, list[str]]:
    """Trader code -> numbers of its declarations dated in the period that the actor may
    see, in date order."""
    from app.audit.history import item_frame
    from app.risk.service import visible_declaration_ids

    items = item_frame(period_start, period_end)
    if items.empty:
        return {}
    if not actor.is_system:
        visible = visible_declaration_ids(actor, period_start, period_end)
        items = items[items["declaration_id"].isin(visible)]
    code_col = f"{role}_code"
    items = items[items[code_col].isin(set(codes))]
    return {
        code: list(dict.fromkeys(part["number"]))
        for code, part in items.groupby(code_col, sort=False)
    }
