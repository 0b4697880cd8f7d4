"""Case statistics for supervisors: seizures by commodity area, place and month; offence
decisions; audit yield. Aggregates only over cases the actor may see.

Each figure carries the case-list filters (``app.cases.queries.case_query``) that select
exactly its cases, so the page links every number to the list behind it; the period is whole
days (UTC), bounded as the list bounds ``since`` and ``until``."""

from calendar import monthrange
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

from sqlalchemy import func, select

from app.cases import catalog
from app.cases.models import Case
from app.cases.queries import case_visible
from app.core.errors import ValidationError
from app.extensions import db
from app.security import trail
from app.security.access import Actor


@dataclass
class Bar:
    label: str
    count: int
    value: Decimal
    #: bar length as a share of the longest bar, 0..1
    share: float = 0.0
    #: the case-list filters that select this bar's cases
    filters: dict = field(default_factory=dict)


def _bars(rows, labels=None, name=None) -> list[Bar]:
    bars = []
    for k, c, v in rows:
        label = str((labels or {}).get(k) or k or "not recorded")
        filters = {name: k if k is not None else "-"} if name else {}
        bars.append(Bar(label, int(c), Decimal(v or 0), filters=filters))
    top = max((b.count for b in bars), default=0) or 1
    for b in bars:
        b.share = b.count / top
    return bars


def _month_key(dt: datetime) -> str:
    return f"{dt.year:04d}-{dt.month:02d}"


def period(months: int, today: date | None = None) -> tuple[date, date]:
    """The first day of the month ``months - 1`` months back, and today."""
    until = today or datetime.now(UTC).date()
    since = until.replace(day=1)
    for _ in range(months - 1):
        since = (since - timedelta(days=1)).replace(day=1)
    return since, until


def _by_month(seizures, since: date, until: date) -> list[Bar]:
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
    bars = _bars([(k, c, v) for k, (c, v) in month_counts.items()])
    for bar in bars:
        year, month = map(int, bar.label.split("-"))
        first, last = date(year, month, 1), date(year, month, monthrange(year, month)[1])
        bar.filters = {
            "since": max(first, since).isoformat(),
            "until": min(last, until).isoformat(),
        }
    return bars


def _audit(audits) -> dict:
    total = db.session.scalar(select(func.count()).where(*audits)) or 0
    closed = db.session.scalar(select(func.count()).where(*audits, Case.status == "closed")) or 0
    with_debt = (
        db.session.scalar(
            select(func.count()).where(*audits, Case.status == "closed", Case.assessed_debt > 0)
        )
        or 0
    )
    debt = db.session.scalar(select(func.sum(Case.assessed_debt)).where(*audits)) or 0
    by_type = db.session.execute(
        select(Case.audit_type, func.count(), func.sum(Case.assessed_debt))
        .where(*audits)
        .group_by(Case.audit_type)
    ).all()
    return {
        "total": total,
        "closed": closed,
        "with_debt": with_debt,
        "debt": Decimal(debt),
        "yield_rate": (with_debt / closed) if closed else None,
        "debt_per_audit": (Decimal(debt) / closed) if closed else None,
        "by_type": _bars(by_type, catalog.AUDIT_TYPES, "audit_type"),
    }


def case_statistics(actor: Actor, *, months: int = 12, since=None, until=None) -> dict:
    """Everything the statistics page shows; one trail row records the consultation."""
    actor.require("case.stats")
    default_since, default_until = period(months)
    until = until or default_until
    since = since or default_since
    if until < since:
        raise ValidationError({"until": "must not be before 'since'"})
    base = [
        case_visible(actor),
        Case.merged_into_id.is_(None),
        Case.event_dt >= datetime.combine(since, time(0), tzinfo=UTC),
        Case.event_dt < datetime.combine(until + timedelta(days=1), time(0), tzinfo=UTC),
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
    trail.record(actor, "search", "case", None, query=f"statistics {since}..{until}")
    return {
        "since": since,
        "until": until,
        "period": {"since": since.isoformat(), "until": until.isoformat()},
        "by_area": _bars(by_area, catalog.COMMODITY_AREAS, "area"),
        "by_place": _bars(by_place, name="place_is"),
        "by_month": _by_month(seizures, since, until),
        "seizure_total": sum(c for _k, c, _v in by_area),
        "seizure_value": sum((Decimal(v or 0) for _k, _c, v in by_area), Decimal(0)),
        "decisions": {
            kind: {"count": int(c), "evaded": Decimal(e or 0), "penalty": Decimal(p or 0)}
            for kind, c, e, p in decisions
        },
        "offences_pending": offences_open or 0,
        "audit": _audit([*base, Case.kind == "audit"]),
    }


EXPORT_HEADER = ("figure", "group", "cases", "value_eur", "since", "until")


def export_rows(actor: Actor, s: dict, justification: str) -> list[tuple]:
    """The statistics as CSV rows (figures and counts only: no case is named), the export
    trailed with its justification (a ValidationError naming it when none is given)."""
    if not (justification or "").strip():
        raise ValidationError({"justification": "say why the statistics are exported"})
    p = (s["since"].isoformat(), s["until"].isoformat())
    rows = [("seizures", "", s["seizure_total"], s["seizure_value"], *p)]
    for figure, bars in (
        ("seizures by commodity area", s["by_area"]),
        ("seizures by place", s["by_place"]),
        ("seizures by month", s["by_month"]),
        ("audit cases by type", s["audit"]["by_type"]),
    ):
        rows += [(figure, b.label, b.count, b.value, *p) for b in bars]
    for kind, d in s["decisions"].items():
        rows.append(("decisions", kind, d["count"], d["evaded"], *p))
        rows.append(("penalties", kind, d["count"], d["penalty"], *p))
    rows.append(("offence cases awaiting a decision", "", s["offences_pending"], "", *p))
    a = s["audit"]
    rows += [
        ("audit cases", "", a["total"], "", *p),
        ("audit cases closed", "", a["closed"], "", *p),
        ("audit cases closed with a debt", "", a["with_debt"], a["debt"], *p),
    ]
    trail.record(
        actor,
        "export",
        "case",
        None,
        justification=justification.strip(),
        query=f"case statistics {p[0]}..{p[1]}",
        details={"rows": len(rows), "unit_id": actor.unit_id},
    )
    return rows
