"""Seizures per place for the map: counted from the same filtered, need-to-know query as the
list, so a place's count is the number of seizures the user may open there."""

from decimal import Decimal

from sqlalchemy import func, select

from app.cases import places
from app.cases.models import Case
from app.extensions import db


def points(stmt) -> dict:
    """``stmt``: the list's SELECT of cases (already filtered by ``visible_clause``).

    Returns ``{"points": [{ref, label, lat, lon, count, value}], "elsewhere": [{label,
    count}], "total": n}``; places without coordinates (free text from before the reference
    lists, or an entry without them) are counted under ``elsewhere``."""
    ids = stmt.order_by(None).with_only_columns(Case.id).subquery()
    rows = db.session.execute(
        select(Case.place_ref, Case.place, func.count(Case.id), func.sum(Case.total_value))
        .where(Case.id.in_(select(ids.c.id)))
        .group_by(Case.place_ref, Case.place)
    ).all()
    where = places.coordinates({r[0] for r in rows if r[0]})
    merged: dict = {}
    elsewhere: dict = {}
    total = 0
    for ref, place, count, value in rows:
        total += count
        if ref in where:
            label, lat, lon = where[ref]
            point = merged.setdefault(
                ref,
                {"ref": ref, "label": label, "lat": lat, "lon": lon, "count": 0, "value": 0.0},
            )
            point["count"] += count
            point["value"] += float(value or Decimal(0))
        else:
            key = place or "no place given"
            elsewhere[key] = elsewhere.get(key, 0) + count
    return {
        "points": sorted(merged.values(), key=lambda p: (-p["count"], p["label"])),
        "elsewhere": [{"label": k, "count": v} for k, v in sorted(elsewhere.items())],
        "total": total,
    }
