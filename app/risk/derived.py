"""Derived fields that need history: HS6 peer median unit values, first declarations."""

import time

import pandas as pd
from sqlalchemy import delete, exists, insert, select

from app.core.time import now_utc
from app.extensions import db
from app.risk.models import Declaration, DeclarationItem, HsPeerMedian

#: items with a mass below this (kg) do not enter the peer medians (unit value noise)
MIN_MASS_KG = 0.001


def refresh_peer_medians() -> int:
    """Recompute the median value per kg of every HS6 subheading; returns how many."""
    rows = db.session.execute(
        select(DeclarationItem.hs_code, DeclarationItem.value, DeclarationItem.mass_kg).where(
            DeclarationItem.mass_kg > MIN_MASS_KG
        )
    ).all()
    db.session.execute(delete(HsPeerMedian))
    if not rows:
        return 0
    frame = pd.DataFrame(rows, columns=["hs", "value", "mass"])
    frame["hs6"] = frame["hs"].str[:6]
    frame["uv"] = frame["value"] / frame["mass"]
    stats = frame.groupby("hs6")["uv"].agg(["median", "size"]).reset_index()
    now = now_utc()
    db.session.execute(
        insert(HsPeerMedian),
        [
            {
                "hs6": r.hs6,
                "median_unit_value": float(r.median),
                "n_items": int(r.size),
                "computed_dt": now,
            }
            for r in stats.itertuples(index=False)
        ],
    )
    invalidate_peer_medians()
    return len(stats)


def peer_medians() -> dict[str, float]:
    return dict(db.session.execute(select(HsPeerMedian.hs6, HsPeerMedian.median_unit_value)).all())


# Per-process cache; other processes pick up new medians within PEER_TTL seconds.
PEER_TTL = 300.0
_peer_cache: dict = {"loaded": None, "data": {}}


def invalidate_peer_medians() -> None:
    _peer_cache["loaded"] = None


def cached_peer_medians() -> dict[str, float]:
    loaded = _peer_cache["loaded"]
    if loaded is None or time.monotonic() - loaded > PEER_TTL:
        _peer_cache["data"] = peer_medians()
        _peer_cache["loaded"] = time.monotonic()
    return _peer_cache["data"]


def is_first_for_chapter(importer_code: str | None, hs_code: str, before_id: int | None) -> bool:
    """True when the importer has no earlier declaration with an item in this HS chapter."""
    if not importer_code:
        return False
    stmt = (
        select(DeclarationItem.id)
        .join(Declaration, Declaration.id == DeclarationItem.declaration_id)
        .where(
            Declaration.importer_code == importer_code,
            DeclarationItem.hs_code.like(f"{hs_code[:2]}%"),
        )
    )
    if before_id is not None:
        stmt = stmt.where(Declaration.id < before_id)
    return not db.session.scalar(select(exists(stmt)))
