"""Simulation of profiles on history, vectorised with numpy/pandas (no loop per declaration).

The history window is loaded once into an item frame (one row per declaration item, the
declaration's fields repeated, text columns as categoricals). A condition tree becomes a
boolean mask over items (``rules.tree_mask``); ``np.logical_or.at`` folds it to declarations.
The figures follow UNECE Recommendation V (Annex A): incoming shipments, inspection rate,
non-compliance rate estimated from the random stratum, inspected non-compliant / compliant,
released non-compliant (estimated) / compliant.
"""

from dataclasses import dataclass
from datetime import date

import numpy as np
import pandas as pd
from sqlalchemy import select

from app.core.errors import ValidationError
from app.extensions import db
from app.risk import providers, rules
from app.risk.derived import cached_peer_medians
from app.risk.fields import PROCEDURE_CODES
from app.risk.models import CHANNEL_RANK, CHANNELS, ControlResult, Declaration, DeclarationItem

#: fewer inspected random-stratum declarations than this: fall back to all inspected ones
MIN_RANDOM_STRATUM = 30
_CATEGORICAL = (
    *PROCEDURE_CODES,
    "dispatch_country",
    "declarant",
    "importer",
    "seller",
    "courier",
    "hs_code",
    "origin",
    "departure",
    "tax_type",
    "origin_indicator",
)


@dataclass
class History:
    """The item frame plus per-declaration arrays, aligned by ``decl_idx``."""

    items: pd.DataFrame
    #: per declaration (index = decl_idx)
    declaration_id: np.ndarray
    inspected: np.ndarray
    noncompliant: np.ndarray
    revenue: np.ndarray
    random: np.ndarray
    window: str

    @property
    def n_declarations(self) -> int:
        return len(self.declaration_id)


def parse_window(date_from, date_to) -> tuple[date | None, date | None]:
    errors = {}
    out = []
    for key, raw in (("date_from", date_from), ("date_to", date_to)):
        if raw in (None, ""):
            out.append(None)
            continue
        if isinstance(raw, date):
            out.append(raw)
            continue
        try:
            out.append(date.fromisoformat(str(raw)))
        except ValueError:
            errors[key] = f"{raw!r} is not a date (YYYY-MM-DD)"
            out.append(None)
    if not errors and out[0] and out[1] and out[0] > out[1]:
        errors["date_to"] = "is before date_from"
    if errors:
        raise ValidationError(errors)
    return out[0], out[1]


def build_frame(rows: pd.DataFrame, medians: dict | None = None) -> pd.DataFrame:
    """Add derived columns and categoricals to a raw item frame (also used by the bench).

    ``medians`` are the stored HS6 peer medians; without them the window's own are used."""
    frame = rows
    mass = frame["mass"].to_numpy(dtype=float, na_value=np.nan)
    value = frame["value"].to_numpy(dtype=float, na_value=np.nan)
    with np.errstate(divide="ignore", invalid="ignore"):
        unit_value = np.where(mass > 0, value / mass, np.nan)
    frame["unit_value"] = unit_value
    hs6 = frame["hs_code"].astype(str).str[:6]
    if medians:
        median = hs6.map(medians).to_numpy(dtype=float, na_value=np.nan)
    else:
        median = pd.Series(unit_value).groupby(hs6.to_numpy()).transform("median").to_numpy()
    with np.errstate(divide="ignore", invalid="ignore"):
        frame["unit_value_deviation"] = 100.0 * (unit_value / median - 1.0)
    # First declaration of the importer for the chapter within the window (by date, then id).
    chapter = frame["hs_code"].astype(str).str[:2]
    order = frame["order"].to_numpy()
    key = frame["importer"].astype(str) + "|" + chapter
    first_order = pd.Series(order).groupby(key.to_numpy()).transform("min").to_numpy()
    frame["first_importer_chapter"] = (order == first_order) & frame["importer"].notna().to_numpy()
    for column in _CATEGORICAL:
        if column in frame.columns:
            frame[column] = frame[column].astype("category")
    return frame


#: the history frame's columns: (name in the frame, what is read)
_HISTORY_COLUMNS = (
    ("declaration_id", Declaration.id),
    ("date", Declaration.declaration_date),
    ("office", Declaration.office),
    ("procedure", Declaration.procedure),
    ("import_type", Declaration.import_type),
    ("import_use", Declaration.import_use),
    ("payment_type", Declaration.payment_type),
    ("transport_mode", Declaration.transport_mode),
    ("dispatch_country", Declaration.dispatch_country),
    ("declarant", Declaration.declarant_code),
    ("importer", Declaration.importer_code),
    ("seller", Declaration.seller_code),
    ("courier", Declaration.courier_code),
    ("is_random", Declaration.is_random_selected),
    ("hs_code", DeclarationItem.hs_code),
    ("origin", DeclarationItem.origin_country),
    ("departure", DeclarationItem.departure_country),
    ("value", DeclarationItem.value),
    ("mass", DeclarationItem.mass_kg),
    ("tax_rate", DeclarationItem.tax_rate),
    ("tax_type", DeclarationItem.tax_type),
    ("origin_indicator", DeclarationItem.origin_indicator),
    ("ml_score", DeclarationItem.ml_score),
    ("inspected", ControlResult.is_inspected),
    ("compliant", ControlResult.is_compliant),
    ("revenue", ControlResult.revenue_recovered),
)


def _history_rows(actor, date_from, date_to) -> pd.DataFrame:
    """The window's declaration items (need-to-know applies), in declaration order."""
    from app.security.access import visible_clause

    stmt = (
        select(*(column for _name, column in _HISTORY_COLUMNS))
        .join(DeclarationItem, DeclarationItem.declaration_id == Declaration.id)
        .outerjoin(ControlResult, ControlResult.declaration_id == Declaration.id)
        .where(visible_clause(actor, Declaration))
        .order_by(Declaration.declaration_date, Declaration.id, DeclarationItem.line_no)
    )
    if date_from:
        stmt = stmt.where(Declaration.declaration_date >= date_from)
    if date_to:
        stmt = stmt.where(Declaration.declaration_date <= date_to)
    columns = [name for name, _column in _HISTORY_COLUMNS]
    return pd.DataFrame(db.session.execute(stmt).all(), columns=columns)


def load_history(date_from=None, date_to=None, *, actor) -> History:
    """Declarations of the window (need-to-know applies) as an item frame."""
    actor.require("risk.profile.view")
    date_from, date_to = parse_window(date_from, date_to)
    raw = _history_rows(actor, date_from, date_to)
    window = f"{date_from or 'start'} – {date_to or 'today'}"
    if raw.empty:
        raise ValidationError({"date_from": f"no declarations in the window {window}"})
    codes, uniques = pd.factorize(raw["declaration_id"], sort=False)
    raw["decl_idx"] = codes
    raw["order"] = codes
    if providers.has_rating_provider():
        ratings = providers.ratings_for(sorted(raw["importer"].dropna().unique().tolist()))
        raw["trader_rating"] = raw["importer"].map(ratings).astype(float)
    per_decl = raw.drop_duplicates("decl_idx").sort_values("decl_idx")
    inspected = per_decl["inspected"].fillna(False).astype(bool).to_numpy()
    compliant = per_decl["compliant"]
    noncompliant = inspected & (compliant == False).to_numpy()  # noqa: E712
    revenue = per_decl["revenue"].fillna(0.0).to_numpy(dtype=float)
    frame = build_frame(raw, cached_peer_medians())
    return History(
        items=frame,
        declaration_id=np.asarray(uniques),
        inspected=inspected,
        noncompliant=noncompliant,
        revenue=revenue,
        random=per_decl["is_random"].fillna(False).astype(bool).to_numpy(),
        window=window,
    )


def declaration_mask(tree: dict, history: History, lists_values: dict) -> np.ndarray:
    """Per-declaration selection of one tree (any item matches)."""
    item_mask = rules.tree_mask(tree, history.items, lists_values)
    selected = np.zeros(history.n_declarations, dtype=bool)
    selected[history.items["decl_idx"].to_numpy()[item_mask]] = True
    return selected


def figures(selected: np.ndarray, history: History, overlap_with: np.ndarray | None = None):
    """The targeting figures and UNECE parameters of one selection."""
    n = history.n_declarations
    insp, nc = history.inspected, history.noncompliant
    n_selected = int(selected.sum())
    labelled = selected & insp
    hits = selected & nc
    released = ~selected
    # Non-compliance among released declarations, estimated from the random stratum (an
    # unbiased sample); without enough random controls, from every inspected declaration.
    stratum = history.random & insp
    basis = "random stratum"
    if stratum.sum() < MIN_RANDOM_STRATUM:
        stratum = insp
        basis = "all inspected declarations (targeted history: likely an over-estimate)"
    released_stratum = stratum & released
    rate_released = nc[released_stratum].mean() if released_stratum.any() else 0.0
    ncr = nc[stratum].mean() if stratum.any() else 0.0
    n_released = int(released.sum())
    released_nc = float(rate_released * n_released)
    out = {
        "incoming": n,
        "selected": n_selected,
        "inspection_rate": n_selected / n if n else 0.0,
        "labelled": int(labelled.sum()),
        "hits": int(hits.sum()),
        "hit_rate": (hits.sum() / labelled.sum()) if labelled.any() else None,
        "revenue": float(history.revenue[hits].sum()),
        "noncompliance_rate": float(ncr),
        "noncompliance_basis": basis,
        "stratum_size": int(stratum.sum()),
        "inspected_noncompliant": int(hits.sum()),
        "inspected_compliant": int((labelled & ~nc).sum()),
        "selected_not_inspected": int((selected & ~insp).sum()),
        "released": n_released,
        "released_noncompliant_est": round(released_nc, 1),
        "released_compliant_est": round(n_released - released_nc, 1),
        "window": history.window,
    }
    if out["hit_rate"] is not None:
        out["hit_rate"] = float(out["hit_rate"])
    if overlap_with is not None:
        both = int((selected & overlap_with).sum())
        out["overlap_active"] = both
        out["overlap_share"] = both / n_selected if n_selected else 0.0
        out["new_selected"] = n_selected - both
    return out


def simulate(
    trees: list[tuple[object, str, dict]],
    history: History,
    lists_values: dict,
    active: list[tuple[object, str, dict]] = (),
) -> dict:
    """Simulate a set of (key, channel, tree); returns per-profile and combined figures."""
    active_masks = {
        key: declaration_mask(tree, history, lists_values) for key, _channel, tree in active
    }
    per_profile = {}
    rank = np.full(history.n_declarations, -1, dtype=np.int8)
    union = np.zeros(history.n_declarations, dtype=bool)
    for key, channel, tree in trees:
        mask = declaration_mask(tree, history, lists_values)
        others = np.zeros(history.n_declarations, dtype=bool)
        for other_key, other in active_masks.items():
            if other_key != key:
                others |= other
        per_profile[key] = figures(mask, history, overlap_with=others)
        union |= mask
        np.maximum(rank, np.where(mask, CHANNEL_RANK[channel], -1).astype(np.int8), out=rank)
    combined = figures(union, history)
    combined["by_channel"] = {
        c: int((rank == CHANNEL_RANK[c]).sum()) for c in CHANNELS if c != "green"
    }
    combined["by_channel"]["green"] = int((rank < 0).sum())
    return {"profiles": per_profile, "combined": combined}


def run_simulation(
    profile_ids: list[int],
    date_from=None,
    date_to=None,
    *,
    actor,
    record: bool = True,
    drafts: bool = False,
) -> dict:
    """Simulate saved profiles on a window; each draft simulated becomes 'simulated'.

    ``drafts``: an active profile with a next version written is simulated with that
    version's rule (which must be simulated before it replaces the active one)."""
    from app.risk import profile_versions
    from app.risk import profiles as profile_service
    from app.risk.models import NamedList, RiskProfile

    actor.require("risk.profile.view")
    if not profile_ids:
        raise ValidationError({"profiles": "choose at least one profile"})
    rows = []
    for pid in profile_ids:
        row = db.session.get(RiskProfile, pid)
        if row is None:
            raise ValidationError({"profiles": f"no profile with id {pid}"})
        rows.append(row)
    history = load_history(date_from, date_to, actor=actor)
    lists_values = {nl.name: list(nl.values or []) for nl in db.session.scalars(select(NamedList))}
    active = [
        (r.id, r.channel, r.conditions)
        for r in db.session.scalars(select(RiskProfile).where(RiskProfile.status == "active"))
    ]
    trees = []
    for r in rows:
        draft = profile_versions.pending_draft(r) if drafts else None
        if draft is not None:
            trees.append((r.id, draft.snapshot["channel"], draft.snapshot["conditions"]))
        else:
            trees.append((r.id, r.channel, r.conditions))
    result = simulate(trees, history, lists_values, active=active)
    if record and actor.can("risk.profile.edit"):
        for row in rows:
            summary = {k: v for k, v in result["profiles"][row.id].items()}
            drafted = drafts and row.draft_version is not None
            if row.status in ("draft", "simulated") or drafted:
                profile_service.mark_simulated(row, summary, actor=actor)
    result["rows"] = rows
    return result
