"""Targeting KPIs: per channel, per profile and per period, plus the review list."""

from datetime import date

import pandas as pd
from sqlalchemy import select

from app.core.params import add_days
from app.core.time import now_utc
from app.extensions import db
from app.risk.models import CHANNELS, ControlResult, Declaration, RiskProfile
from app.risk.profiles import empty_stats, expiring, profile_stats
from app.risk.service import declarations_dated_after
from app.risk.settings import selectivity_rates
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


def targeting_kpis(
    actor, since: date | None = None, until: date | None = None, granularity: str = "week"
) -> dict:
    """Everything the KPI page shows for the period (default: the last 90 days)."""
    actor.require("risk.profile.view")
    # The evaluation date is the user's or the clock's, never the newest declaration's:
    # declarations dated after it are left out and counted (``ignored_after``).
    until = until or now_utc().date()
    since = since or add_days(until, -90)  # held within the calendar: no 500 on 0001-01-01
    frame = _frame(actor, since, until)
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
    periods = []
    if total:
        stamps = pd.to_datetime(frame["date"])
        freq = {"day": "D", "week": "W", "month": "M"}.get(granularity, "W")
        key = stamps.dt.to_period(freq).dt.start_time
        grouped = frame.assign(period=key, selected=frame["channel"] != "green").groupby("period")
        for period, part in grouped:
            inspected = int(part["inspected"].sum())
            found = int(part["found"].sum())
            periods.append(
                {
                    "period": period.date().isoformat(),
                    "declarations": len(part),
                    "selected": int(part["selected"].sum()),
                    "inspected": inspected,
                    "found": found,
                    "hit_rate": found / inspected if inspected else None,
                    "revenue": float(part.loc[part["found"], "revenue"].sum()),
                }
            )
    from datetime import UTC, datetime, time

    since_dt = datetime.combine(since, time.min, tzinfo=UTC)
    until_dt = datetime.combine(add_days(until, 1), time.min, tzinfo=UTC)
    stats = profile_stats(since=since_dt, until=until_dt)
    profiles = list(
        db.session.scalars(
            select(RiskProfile)
            .where(RiskProfile.status.in_(("active", "retired")))
            .order_by(RiskProfile.code)
        )
    )
    table = [(p, stats.get(p.id, empty_stats())) for p in profiles]
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
    inspected_total = int(frame["inspected"].sum()) if total else 0
    found_total = int(frame["found"].sum()) if total else 0
    return {
        "since": since,
        "until": until,
        "granularity": granularity,
        "total": total,
        "selected": int((frame["channel"] != "green").sum()) if total else 0,
        "random": int(frame["random"].fillna(False).astype(bool).sum()) if total else 0,
        "inspected": inspected_total,
        "found": found_total,
        "hit_rate": found_total / inspected_total if inspected_total else None,
        "channels": channels,
        "periods": periods,
        "profiles": table,
        "review": review,
        "ignored_after": declarations_dated_after(until),
    }
