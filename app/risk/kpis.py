"""Targeting KPIs: per channel, per profile and per period, plus the review list."""

from datetime import UTC, date, datetime, time, timedelta

import pandas as pd
from sqlalchemy import case, exists, func, select

from app.core.errors import ValidationError
from app.core.params import add_days, id_value
from app.core.time import now_utc
from app.extensions import db
from app.risk.models import CHANNELS, ControlResult, Declaration, ProfileHit, RiskProfile
from app.risk.profiles import empty_stats, expiring
from app.risk.service import declarations_dated_after
from app.risk.settings import selectivity_rates
from app.security import trail
from app.security.access import visible_clause

#: an active profile below this hit rate (with enough inspections) is listed for review
LOW_HIT_RATE = 0.05
MIN_INSPECTED = 10


def _frame(actor, since: date, until: date) -> pd.DataFrame:
    stmt = (
        select(
            Declaration.declaration_date,
            Declaration.channel,
            Declaration.is_random_selected,
            ControlResult.is_inspected,
            ControlResult.is_compliant,
            ControlResult.revenue_recovered,
        )
        .outerjoin(ControlResult, ControlResult.declaration_id == Declaration.id)
        .where(
            Declaration.declaration_date >= since,
            Declaration.declaration_date <= until,
            visible_clause(actor, Declaration),
        )
    )
    frame = pd.DataFrame(
        db.session.execute(stmt).all(),
        columns=["date", "channel", "random", "inspected", "compliant", "revenue"],
    )
    frame["inspected"] = frame["inspected"].fillna(False).astype(bool)
    frame["found"] = frame["inspected"] & (frame["compliant"] == False)  # noqa: E712
    frame["revenue"] = frame["revenue"].fillna(0.0).astype(float)
    return frame


def _profile_stats(actor, since: date, until: date) -> dict[int, dict]:
    """profile id -> hits, inspected, found, hit rate, revenue over the declarations the
    reader may open (``profiles.profile_stats`` counts every unit's: not for a reader's
    figures)."""
    found_expr = case(
        (ControlResult.is_inspected & (ControlResult.is_compliant.is_(False)), 1), else_=0
    )
    stmt = (
        select(
            ProfileHit.profile_id,
            func.count(ProfileHit.id),
            func.coalesce(func.sum(case((ControlResult.is_inspected, 1), else_=0)), 0),
            func.coalesce(func.sum(found_expr), 0),
            func.coalesce(
                func.sum(case((found_expr == 1, ControlResult.revenue_recovered), else_=0.0)), 0.0
            ),
        )
        .join(Declaration, Declaration.id == ProfileHit.declaration_id)
        .outerjoin(ControlResult, ControlResult.declaration_id == ProfileHit.declaration_id)
        .where(
            visible_clause(actor, Declaration),
            ProfileHit.hit_dt >= datetime.combine(since, time.min, tzinfo=UTC),
            ProfileHit.hit_dt < datetime.combine(add_days(until, 1), time.min, tzinfo=UTC),
        )
        .group_by(ProfileHit.profile_id)
    )
    return {
        pid: {
            "hits": hits,
            "inspected": int(inspected),
            "found": int(found),
            "hit_rate": (found / inspected) if inspected else None,
            "revenue": float(revenue or 0),
        }
        for pid, hits, inspected, found, revenue in db.session.execute(stmt)
    }


def _channels(frame: pd.DataFrame) -> list[dict]:
    total = len(frame)
    rates = selectivity_rates()
    channels = []
    for channel in CHANNELS:
        part = frame[frame["channel"] == channel]
        inspected = int(part["inspected"].sum())
        found = int(part["found"].sum())
        channels.append(
            {
                "channel": channel,
                "declarations": len(part),
                "share": len(part) / total if total else 0.0,
                "target": rates[channel]["target_rate"],
                "inspected": inspected,
                "found": found,
                "hit_rate": found / inspected if inspected else None,
                "revenue": float(part.loc[part["found"], "revenue"].sum()),
            }
        )
    return channels


def _period_end(start: date, granularity: str) -> date:
    if granularity == "day":
        return start
    if granularity == "month":
        return (start.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)
    return start + timedelta(days=6)


def _periods(frame: pd.DataFrame, granularity: str, since: date, until: date) -> list[dict]:
    if not len(frame):
        return []
    periods = []
    stamps = pd.to_datetime(frame["date"])
    freq = {"day": "D", "week": "W", "month": "M"}.get(granularity, "W")
    key = stamps.dt.to_period(freq).dt.start_time
    grouped = frame.assign(period=key, selected=frame["channel"] != "green").groupby("period")
    for period, part in grouped:
        inspected = int(part["inspected"].sum())
        found = int(part["found"].sum())
        start = period.date()
        periods.append(
            {
                "period": start.isoformat(),
                # the declaration list's dates that hold exactly this period's declarations
                "date_from": max(start, since).isoformat(),
                "date_to": min(_period_end(start, granularity), until).isoformat(),
                "declarations": len(part),
                "selected": int(part["selected"].sum()),
                "inspected": inspected,
                "found": found,
                "hit_rate": found / inspected if inspected else None,
                "revenue": float(part.loc[part["found"], "revenue"].sum()),
            }
        )
    return periods


def _review(table) -> list:
    review = []
    for p, s in table:
        if p.status != "active":
            continue
        if s["hits"] == 0:
            review.append((p, "no hits in the period"))
        elif s["inspected"] >= MIN_INSPECTED and (s["hit_rate"] or 0) < LOW_HIT_RATE:
            review.append(
                (p, f"hit rate {100 * (s['hit_rate'] or 0):.1f}% over {s['inspected']} inspections")
            )
    for p in expiring():
        review.append((p, f"validity ends {p.valid_to_dt:%Y-%m-%d}"))
    return review


def targeting_kpis(
    actor, since: date | None = None, until: date | None = None, granularity: str = "week"
) -> dict:
    """Everything the KPI page shows for the period (default: the last 90 days), over the
    declarations the reader may open. ``drill`` holds the declaration-list filters of the
    period, to which each figure adds its own."""
    actor.require("risk.profile.view")
    # The evaluation date is the user's or the clock's, never the newest declaration's:
    # declarations dated after it are left out and counted (``ignored_after``).
    until = until or now_utc().date()
    since = since or add_days(until, -90)  # held within the calendar: no 500 on 0001-01-01
    frame = _frame(actor, since, until)
    total = len(frame)
    stats = _profile_stats(actor, since, until)
    profiles = list(
        db.session.scalars(
            select(RiskProfile)
            .where(RiskProfile.status.in_(("active", "retired")))
            .order_by(RiskProfile.code)
        )
    )
    table = [(p, stats.get(p.id, empty_stats())) for p in profiles]
    inspected_total = int(frame["inspected"].sum()) if total else 0
    found_total = int(frame["found"].sum()) if total else 0
    return {
        "since": since,
        "until": until,
        "drill": {"date_from": since.isoformat(), "date_to": until.isoformat()},
        "hits_drill": {"hit_from": since.isoformat(), "hit_to": until.isoformat()},
        "granularity": granularity,
        "total": total,
        "selected": int((frame["channel"] != "green").sum()) if total else 0,
        "random": int(frame["random"].fillna(False).astype(bool).sum()) if total else 0,
        "inspected": inspected_total,
        "found": found_total,
        "hit_rate": found_total / inspected_total if inspected_total else None,
        "channels": _channels(frame),
        "periods": _periods(frame, granularity, since, until),
        "profiles": table,
        "review": _review(table),
        "ignored_after": declarations_dated_after(until),
    }


def drill_filters(stmt, filters: dict):
    """The declaration list's filters a KPI links with (``selected``, ``inspected``,
    ``result=found``, ``profile`` with ``hit_from``/``hit_to``), so the list holds exactly
    the declarations behind the figure."""
    if filters.get("selected") == "1":
        stmt = stmt.where(Declaration.channel != "green")
    if filters.get("inspected") == "1":
        stmt = stmt.where(
            exists().where(
                ControlResult.declaration_id == Declaration.id,
                ControlResult.is_inspected.is_(True),
            )
        )
    if filters.get("result") == "found":
        stmt = stmt.where(
            exists().where(
                ControlResult.declaration_id == Declaration.id,
                ControlResult.is_inspected.is_(True),
                ControlResult.is_compliant.is_(False),
            )
        )
    # a number no profile can have (beyond a 64-bit key) finds nothing, not a 500
    profile_id = id_value(filters.get("profile"), "profile")
    if profile_id is not None:
        hit = exists().where(
            ProfileHit.declaration_id == Declaration.id,
            ProfileHit.profile_id == profile_id,
        )
        for key, op, shift in (("hit_from", "__ge__", 0), ("hit_to", "__lt__", 1)):
            try:
                day = date.fromisoformat(filters.get(key) or "")
            except ValueError:
                continue
            bound = datetime.combine(add_days(day, shift), time.min, tzinfo=UTC)
            hit = hit.where(getattr(ProfileHit.hit_dt, op)(bound))
        stmt = stmt.where(hit)
    return stmt


EXPORT_HEADER = (
    "figure",
    "group",
    "declarations",
    "inspected",
    "found",
    "revenue",
    "since",
    "until",
)


def export_rows(actor, k: dict, justification: str) -> list[tuple]:
    """The KPIs as CSV rows (figures only: no declaration named), the export trailed with
    its justification (a ValidationError naming it when none is given)."""
    if not (justification or "").strip():
        raise ValidationError({"justification": "say why the KPIs are exported"})
    p = (k["since"].isoformat(), k["until"].isoformat())
    rows = [("all declarations", "", k["total"], k["inspected"], k["found"], "", *p)]
    rows.append(("selected", "", k["selected"], "", "", "", *p))
    rows.append(("random draw", "", k["random"], "", "", "", *p))
    for c in k["channels"]:
        rows.append(
            (
                "per channel",
                c["channel"],
                c["declarations"],
                c["inspected"],
                c["found"],
                c["revenue"],
                *p,
            )
        )
    for r in k["periods"]:
        rows.append(
            (
                f"per {k['granularity']}",
                r["period"],
                r["declarations"],
                r["inspected"],
                r["found"],
                r["revenue"],
                *p,
            )
        )
    for prof, s in k["profiles"]:
        rows.append(
            (
                "per profile",
                f"{prof.code} {prof.name}",
                s["hits"],
                s["inspected"],
                s["found"],
                s["revenue"],
                *p,
            )
        )
    trail.record(
        actor,
        "export",
        "declaration",
        None,
        justification=justification.strip(),
        query=f"targeting KPIs {p[0]}..{p[1]}",
        details={"rows": len(rows), "unit_id": actor.unit_id},
    )
    return rows
