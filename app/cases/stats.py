"""Case statistics for supervisors: seizures by commodity area, place and month; offence
decisions; audit yield. Aggregates only over cases the actor may see."""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from sqlalchemy import func, select

from app.cases import catalog
from app.cases.models import Case
from app.extensions import db
from app.security import trail
from app.security.access import Actor, visible_clause


@dataclass
class Bar:
    label: str
    count: int
    value: Decimal
    #: bar length as a share of the longest bar, 0..1
    share: float = 0.0


def _bars(rows, labels=None) -> list[Bar]:
    bars = [
        Bar(str((labels or {}).get(k) or k or "not recorded"), int(c), Decimal(v or 0))
        for k, c, v in rows
    ]
    top = max((b.count for b in bars), default=0) or 1
    for b in bars:
        b.share = b.count / top
    return bars


def _month_key(dt: datetime) -> str:
    return f"{dt.year:04d}-{dt.month:02d}"


def case_statistics(actor: Actor, *, months: int = 12, since=None, until=None) -> dict:
    """Everything the statistics page shows; one trail row records the consultation."""
    actor.require("case.stats")
    now = datetime.now(UTC)
    until = until or now
    since = since or (until.replace(day=1) - timedelta(days=31 * (months - 1))).replace(day=1)
    base = [
        visible_clause(actor, Case),
        Case.merged_into_id.is_(None),
        Case.event_dt >= since,
        Case.event_dt < until + timedelta(days=1),
    ]
    seizures = [*base, Case.kind == "seizure"]

    by_area = db.session.execute(
        select(Case.commodity_area, func.count(), func.sum(Case.total_value))
        .where(*seizures)
        .group_by(Case.commodity_area)
        .order_by(func.count().desc())
    ).all()
    by_place = db.session.execute(
        select(Case.place, func.count(), func.sum(Case.total_value))
        .where(*seizures)
        .group_by(Case.place)
        .order_by(func.count().desc())
        .limit(12)
    ).all()
    # Months are bucketed in Python: date functions differ between SQLite and PostgreSQL.
    month_counts: dict[str, list] = {}
    cursor = since.replace(day=1)
    while cursor <= until:
        month_counts[_month_key(cursor)] = [0, Decimal(0)]
        cursor = (cursor + timedelta(days=32)).replace(day=1)
    for event_dt, value in db.session.execute(
        select(Case.event_dt, Case.total_value).where(*seizures)
    ):
        key = _month_key(event_dt)
        if key in month_counts:
            month_counts[key][0] += 1
            month_counts[key][1] += value or 0
    by_month = _bars([(k, c, v) for k, (c, v) in month_counts.items()])

    decisions = db.session.execute(
        select(
            Case.decision_type, func.count(), func.sum(Case.evaded_duties), func.sum(Case.penalty)
        )
        .where(*base, Case.decision_type.is_not(None))
        .group_by(Case.decision_type)
    ).all()
    offences_open = db.session.scalar(
        select(func.count()).where(*base, Case.kind == "offence", Case.decision_type.is_(None))
    )

    audits = [*base, Case.kind == "audit"]
    audit_total = db.session.scalar(select(func.count()).where(*audits)) or 0
    audit_closed = (
        db.session.scalar(select(func.count()).where(*audits, Case.status == "closed")) or 0
    )
    audit_with_debt = (
        db.session.scalar(
            select(func.count()).where(*audits, Case.status == "closed", Case.assessed_debt > 0)
        )
        or 0
    )
    audit_debt = db.session.scalar(select(func.sum(Case.assessed_debt)).where(*audits)) or 0
    by_audit_type = db.session.execute(
        select(Case.audit_type, func.count(), func.sum(Case.assessed_debt))
        .where(*audits)
        .group_by(Case.audit_type)
    ).all()

    trail.record(actor, "search", "case", None, query=f"statistics {since.date()}..{until.date()}")
    return {
        "since": since,
        "until": until,
        "by_area": _bars(by_area, catalog.COMMODITY_AREAS),
        "by_place": _bars(by_place),
        "by_month": by_month,
        "seizure_total": sum(c for _k, c, _v in by_area),
        "seizure_value": sum((Decimal(v or 0) for _k, _c, v in by_area), Decimal(0)),
        "decisions": {
            kind: {"count": int(c), "evaded": Decimal(e or 0), "penalty": Decimal(p or 0)}
            for kind, c, e, p in decisions
        },
        "offences_pending": offences_open or 0,
        "audit": {
            "total": audit_total,
            "closed": audit_closed,
            "with_debt": audit_with_debt,
            "debt": Decimal(audit_debt),
            "yield_rate": (audit_with_debt / audit_closed) if audit_closed else None,
            "debt_per_audit": (Decimal(audit_debt) / audit_closed) if audit_closed else None,
            "by_type": _bars(by_audit_type, catalog.AUDIT_TYPES),
        },
    }
