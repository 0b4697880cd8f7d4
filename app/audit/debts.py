"""Audit cases seen from the audit domain: the list with debts by kind, and recording debts.

The cases themselves belong to ``app.cases`` and are read through its services (need-to-know
included); the debts by kind live here, append-only, and their total is written to the
case's assessed debt through ``cases.service.update_case``.
"""

from decimal import Decimal, InvalidOperation

from sqlalchemy import func, select

from app.audit.models import DEBT_KINDS, AuditDebt
from app.core.errors import ValidationError
from app.extensions import db
from app.security import trail
from app.security.access import Actor

#: the largest single amount accepted (a typo of many zeros is refused, not stored)
MAX_AMOUNT = Decimal("1e13")


def _amount(value) -> Decimal:
    try:
        amount = Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        raise ValidationError({"amount": "must be an amount such as 1250.50"}) from None
    if not amount.is_finite() or amount == 0 or abs(amount) >= MAX_AMOUNT:
        raise ValidationError(
            {"amount": f"must be a non-zero amount below {MAX_AMOUNT:,.0f} (in absolute value)"}
        )
    if amount != amount.quantize(Decimal("0.01")):
        raise ValidationError({"amount": "at most two decimals"})
    return amount


def audit_case(case_id, *, actor: Actor, action: str = "view"):
    """The audit case within need-to-know (cases service; trailed there)."""
    from app.cases import service as cases

    case = cases.get_case(case_id, actor=actor, action=action)
    if case.kind != "audit":
        raise ValidationError({"case": f"{case.reference} is not a post-clearance audit"})
    return case


def record_debt(case_id, *, actor: Actor, kind, amount, note=None) -> AuditDebt:
    """Add one assessed debt of a kind; a negative amount corrects and needs its reason."""
    from app.cases import service as cases

    actor.require("case.edit")
    case = audit_case(case_id, actor=actor, action="update")
    errors = {}
    if kind not in DEBT_KINDS:
        errors["kind"] = f"must be one of: {', '.join(DEBT_KINDS.values())}"
    try:
        value = _amount(amount)
    except ValidationError as exc:
        errors.update(exc.fields)
        value = None
    note = (note or "").strip()[:500] or None
    if value is not None and value < 0 and not note:
        errors["note"] = "a correction (negative amount) needs its reason"
    if errors:
        raise ValidationError(errors)
    debt = AuditDebt(
        case_id=case.id,
        kind=kind,
        amount=value,
        note=note,
        recorded_by_id=actor.user_id,
        recorded_by_name=actor.username,
    )
    db.session.add(debt)
    db.session.flush()
    total = debts_by_case([case.id]).get(case.id, {}).get("total", Decimal("0"))
    cases.update_case(case.id, actor=actor, assessed_debt=str(total))
    cases.add_journal_entry(
        case.id,
        f"Debt recorded: {DEBT_KINDS[kind]} {value:,.2f}"
        + (f" ({note})" if note else "")
        + f"; assessed debt now {total:,.2f}.",
        actor=actor,
    )
    return debt


def debts_by_case(case_ids) -> dict[int, dict]:
    """case id -> {kind: sum, ..., "total": sum} for the given cases."""
    ids = [int(i) for i in case_ids]
    if not ids:
        return {}
    rows = db.session.execute(
        select(AuditDebt.case_id, AuditDebt.kind, func.sum(AuditDebt.amount))
        .where(AuditDebt.case_id.in_(ids))
        .group_by(AuditDebt.case_id, AuditDebt.kind)
    ).all()
    out: dict[int, dict] = {}
    for case_id, kind, amount in rows:
        entry = out.setdefault(case_id, {"total": Decimal("0")})
        entry[kind] = Decimal(amount)
        entry["total"] += Decimal(amount)
    return out


def debt_lines(case_id: int) -> list[AuditDebt]:
    return list(
        db.session.scalars(
            select(AuditDebt).where(AuditDebt.case_id == case_id).order_by(AuditDebt.id)
        )
    )


def audit_cases(*, actor: Actor, args):
    """A page of the audit cases the actor may see, newest first, with debts by kind."""
    from app.cases.queries import case_query, paginate_cases

    stmt = case_query(actor, {}, kind="audit")
    entity = stmt.column_descriptions[0]["entity"]
    page = paginate_cases(stmt, args, keys=[(entity.opened_dt, True), (entity.id, True)])
    trail.record(
        actor, "search", "case", None, query="audit cases", details={"rows": len(page.items)}
    )
    debts = debts_by_case([c.id for c in page.items])
    totals = {"total": Decimal("0")}
    for entry in debts.values():
        for kind, amount in entry.items():
            totals[kind] = totals.get(kind, Decimal("0")) + amount
    return page, debts, totals
