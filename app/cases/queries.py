"""Case lists: filters, sorting and export, all filtered by need-to-know before counting."""

from dataclasses import dataclass

from sqlalchemy import func, or_, select

from app.cases import catalog, fields
from app.cases.models import Case
from app.cases.seizures import MOVEMENT_FIELDS
from app.core.errors import ValidationError
from app.core.pagination import DEFAULT_PER_PAGE, MAX_PER_PAGE, Page, _int_arg, keyset_paginate
from app.core.params import add_days, id_value
from app.extensions import db
from app.security.access import Actor

#: counting stops here: "more than 10,000" is as useful as the exact figure and stays fast
COUNT_CAP = 10_000

SORTS = {
    "event": (Case.event_dt, "Date of facts"),
    "opened": (Case.opened_dt, "Opened"),
    "reference": (Case.reference, "Reference"),
    "priority": (Case.priority, "Priority"),
    "value": (Case.total_value, "Value"),
    "status": (Case.status, "Status"),
}
FILTER_NAMES = (
    "kind",
    "status",
    "unit",
    "assignee",
    "area",
    "place",
    "place_ref",
    "since",
    "until",
    "q",
    "sort",
    "order",
    "merged",
    # the drill-downs of the statistics page (app/cases/stats.py): each figure's cases
    "place_is",
    "decision",
    "audit_type",
    "debt",
)

#: ``decision=``: a decision taken, or an offence case still awaiting one
DECISION_FILTERS = {
    "offence_decision": "Offence decision",
    "criminal_report": "Criminal report",
    "pending": "Awaiting a decision",
}


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def case_query(actor: Actor, args, *, kind=None):
    """SELECT of the cases ``actor`` may see, filtered by ``args`` (request args or a dict).

    Unknown filter values raise ``ValidationError`` naming the filter.
    """
    actor.require("case.view")
    stmt = select(Case).where(case_visible(actor))
    kind = kind or args.get("kind") or None
    if kind:
        stmt = stmt.where(Case.kind == fields.choice(kind, "kind", catalog.KINDS))
    if args.get("status"):
        if args["status"] == "active":
            stmt = stmt.where(Case.status != "closed")
        else:
            stmt = stmt.where(
                Case.status == fields.choice(args["status"], "status", catalog.STATUSES)
            )
    if (unit_id := id_value(args.get("unit"), "unit", strict=True)) is not None:
        stmt = stmt.where(Case.unit_id == unit_id)
    if args.get("assignee"):
        if args["assignee"] == "me":
            stmt = stmt.where(Case.assignee_id == actor.user_id)
        elif args["assignee"] == "none":
            stmt = stmt.where(Case.assignee_id.is_(None))
        elif (assignee_id := id_value(args["assignee"], "assignee", strict=True)) is not None:
            stmt = stmt.where(Case.assignee_id == assignee_id)
    if args.get("area") == "-":  # a statistics bar of seizures with no goods recorded
        stmt = stmt.where(Case.commodity_area.is_(None))
    elif args.get("area"):
        stmt = stmt.where(
            Case.commodity_area == fields.choice(args["area"], "area", catalog.COMMODITY_AREAS)
        )
    # Blank after trimming (place= %20) is no filter, not a 500 on None.
    if place := fields.text(args.get("place"), "place", max_len=120):
        stmt = stmt.where(Case.place.ilike(_escape_like(place) + "%", escape="\\"))
    if place_ref := fields.text(args.get("place_ref"), "place_ref", max_len=40):
        stmt = stmt.where(Case.place_ref == place_ref)
    since = fields.parse_date(args.get("since"), "since")
    until = fields.parse_date(args.get("until"), "until")
    if since:
        stmt = stmt.where(Case.event_dt >= fields.parse_datetime(since, "since"))
    if until:
        stmt = stmt.where(Case.event_dt < fields.parse_datetime(add_days(until, 1), "until"))
    if since and until and until < since:
        raise ValidationError({"until": "must not be before 'since'"})
    stmt = _figure_filters(stmt, args)
    if not args.get("merged"):
        stmt = stmt.where(Case.merged_into_id.is_(None))
    if q := fields.text(args.get("q"), "q", max_len=200):
        pattern = "%" + _escape_like(q) + "%"
        stmt = stmt.where(
            or_(
                Case.reference.ilike(pattern, escape="\\"),
                Case.title.ilike(pattern, escape="\\"),
                Case.conveyance.ilike(pattern, escape="\\"),
            )
        )
    sort = args.get("sort") or "event"
    if sort not in SORTS:
        raise ValidationError({"sort": f"must be one of: {', '.join(SORTS)}"})
    column = SORTS[sort][0]
    if (args.get("order") or "desc") == "asc":
        stmt = stmt.order_by(column.asc(), Case.id.asc())
    else:
        stmt = stmt.order_by(column.desc(), Case.id.desc())
    return stmt


def _figure_filters(stmt, args):
    """The filters a statistics figure links with, so its list holds exactly its cases."""
    if args.get("place_is"):
        place = fields.text(args["place_is"], "place_is", max_len=120)
        stmt = stmt.where(Case.place.is_(None) if place == "-" else Case.place == place)
    if decision := args.get("decision"):
        decision = fields.choice(decision, "decision", DECISION_FILTERS)
        if decision == "pending":
            stmt = stmt.where(Case.kind == "offence", Case.decision_type.is_(None))
        else:
            stmt = stmt.where(Case.decision_type == decision)
    if args.get("audit_type"):
        audit_type = args["audit_type"]
        if audit_type == "-":
            stmt = stmt.where(Case.audit_type.is_(None))
        else:
            stmt = stmt.where(
                Case.audit_type == fields.choice(audit_type, "audit_type", catalog.AUDIT_TYPES)
            )
    if args.get("debt"):
        stmt = stmt.where(Case.assessed_debt > 0)
    return stmt


def case_visible(actor: Actor):
    """Need-to-know as ``app.security.access.visible_clause``, with the shares as one
    uncorrelated sub-select (evaluated once, not once per row: lists count 100,000s of rows)."""
    if actor.is_system:
        return True
    from app.security.access import share_recipient_clause
    from app.security.models import RecordShare

    shared = select(RecordShare.record_id).where(
        RecordShare.record_type == Case.__record_type__, share_recipient_clause(actor)
    )
    clauses = [Case.handling_code != "C", Case.id.in_(shared)]
    if actor.unit_id is not None:
        clauses.append(Case.unit_id == actor.unit_id)
    return or_(*clauses)


@dataclass
class CappedPage(Page):
    #: False when counting stopped at the cap ("more than ...")
    exact: bool = True

    @property
    def pages(self) -> int:
        counted = max(1, -(-self.total // self.per_page))
        if self.exact:
            return counted
        # a deep page reached by cursor counts only to the cap: there is more while pages fill
        return max(counted, self.page + (1 if len(self.items) == self.per_page else 0))

    @property
    def has_next(self) -> bool:
        return self.page < self.pages


def sort_keys(args) -> list:
    """The list's order as keyset paging keys: the sort column, then the id."""
    column = SORTS[args.get("sort") or "event"][0]
    descending = (args.get("order") or "desc") != "asc"
    return [(column, descending), (Case.id, descending)]


def paginate_cases(stmt, args, *, per_page=DEFAULT_PER_PAGE, keys=None, strict=False) -> CappedPage:
    """A page of ``stmt`` by cursor (``after``/``before``: one index seek however deep) or
    by number; the total is counted up to COUNT_CAP (by number: or the page asked for).
    ``keys``: the order (default: the list's ``sort``/``order`` arguments)."""
    per_page = _int_arg(args, "per_page", per_page, 1, MAX_PER_PAGE)
    page = _int_arg(args, "page", 1, 1, 1_000_000)
    by_key = any(args.get(name) for name in ("after", "before"))
    limit = (COUNT_CAP if by_key else max(COUNT_CAP, page * per_page)) + 1
    counted = []

    def count(query):
        counted.append(
            db.session.scalar(
                select(func.count()).select_from(query.order_by(None).limit(limit).subquery())
            )
        )
        return min(counted[0], limit - 1)

    found = keyset_paginate(
        stmt,
        {**{k: args.get(k) for k in args}, "per_page": per_page},
        keys or sort_keys(args),
        count=count,
        strict=strict,
    )
    return CappedPage(
        items=found.items,
        page=found.page,
        per_page=per_page,
        total=found.total,
        after=found.after,
        before=found.before,
        exact=counted[0] < limit,
    )


def describe_filters(args, kind=None) -> str:
    """The filters as text, for the access trail's query column."""
    kind = kind or args.get("kind")
    parts = [f"kind={kind}"] if kind else []
    parts += [f"{k}={args.get(k)}" for k in FILTER_NAMES if args.get(k) and k != "kind"]
    return " ".join(parts) or "all"


EXPORT_HEADER = [
    "reference",
    "kind",
    "status",
    "resolution",
    "priority",
    "unit",
    "title",
    "event_utc",
    "opened_utc",
    "place_type",
    "place",
    *MOVEMENT_FIELDS,
    "commodity_area",
    "total_value_eur",
    "declaration_number",
    "legal_provision",
    "evaded_duties",
    "penalty",
    "decision_type",
    "audit_type",
    "assessed_debt",
    "handling_code",
    "assignee",
]


def export_row(case: Case) -> list:
    return [
        case.reference,
        case.kind,
        case.status,
        case.resolution,
        case.priority,
        case.unit.code if case.unit else "",
        case.title,
        case.event_dt.isoformat() if case.event_dt else "",
        case.opened_dt.isoformat(),
        case.place_type,
        case.place,
        case.direction,
        case.transport_mode,
        case.conveyance,
        case.route_origin,
        case.route_transit,
        case.route_destination,
        case.detection_method,
        case.concealment_method,
        case.commodity_area,
        case.total_value,
        case.declaration_number,
        case.legal_provision,
        case.evaded_duties,
        case.penalty,
        case.decision_type,
        case.audit_type,
        case.assessed_debt,
        case.handling_code,
        case.assignee.username if case.assignee else "",
    ]


# --- read functions for the audit domain (issue 21: no reads of cases.models from outside) --


def audit_findings_by_trader() -> dict[int, str]:
    """Trader entity id -> reference of an audit case with findings or an assessed debt
    (read only, for the trader ratings' history term)."""
    rows = db.session.execute(
        select(Case.trader_entity_id, Case.reference).where(
            Case.kind == "audit",
            Case.trader_entity_id.is_not(None),
            or_(Case.assessed_debt > 0, func.length(func.coalesce(Case.findings, "")) > 0),
        )
    ).all()
    return {entity_id: ref for entity_id, ref in rows}


def audit_cases_of_trader(entity_id: int) -> list[dict]:
    """Audit cases of a trader entity, newest first: id, reference, status, opened_dt,
    assessed_debt, findings, risk_areas (read only, for the trader assessment report)."""
    rows = db.session.execute(
        select(
            Case.id,
            Case.reference,
            Case.status,
            Case.opened_dt,
            Case.assessed_debt,
            Case.findings,
            Case.risk_areas,
        )
        .where(Case.kind == "audit", Case.trader_entity_id == entity_id)
        .order_by(Case.opened_dt.desc())
    ).all()
    return [r._asdict() for r in rows]


def traders_audited_since(since) -> set[int]:
    """Trader entity ids with an audit case opened at or after ``since`` (read only)."""
    return set(
        db.session.scalars(
            select(Case.trader_entity_id).where(
                Case.kind == "audit", Case.opened_dt >= since, Case.trader_entity_id.is_not(None)
            )
        )
    )
