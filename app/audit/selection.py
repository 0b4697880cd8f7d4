"""Post-clearance audit selection: propose traders within capacity, confirm, open cases."""

import secrets
from datetime import date, timedelta

from sqlalchemy import select

from app.audit.lifecycle import plan_inspections
from app.audit.models import AuditSelection, AuditSelectionLine, TraderRating
from app.audit.service import get_settings
from app.core.database import lock_rows
from app.core.errors import ValidationError
from app.core.time import now_utc
from app.extensions import db
from app.security import trail
from app.security.access import Actor, get_for, visible_clause

MAX_CAPACITY = 500
#: traders shown below the proposal as reserves the auditor may swap in
RESERVES = 10
AUDIT_TYPES = ("desk", "field")


def _recently_audited(months: int) -> tuple[set[int], set[str]]:
    """Entity ids with an audit case opened within ``months`` (read only), and trader codes
    confirmed in a selection within the same window."""
    since = now_utc() - timedelta(days=int(months * 30.44))
    from app.cases.models import Case

    entities = {
        e
        for (e,) in db.session.execute(
            select(Case.trader_entity_id).where(
                Case.kind == "audit", Case.opened_dt >= since, Case.trader_entity_id.is_not(None)
            )
        )
    }
    codes = {
        c
        for (c,) in db.session.execute(
            select(AuditSelectionLine.trader_code)
            .join(AuditSelection, AuditSelection.id == AuditSelectionLine.selection_id)
            .where(
                AuditSelection.status == "confirmed",
                AuditSelection.confirmed_dt >= since,
                AuditSelectionLine.case_id.is_not(None),
            )
        )
    }
    return entities, codes


def _check(capacity, random_share, period_start, period_end, audit_type) -> dict:
    errors = {}
    try:
        capacity = int(capacity)
        if not 1 <= capacity <= MAX_CAPACITY:
            raise ValueError
    except (TypeError, ValueError):
        errors["capacity"] = f"must be a whole number from 1 to {MAX_CAPACITY}"
    try:
        random_share = float(random_share)
        if not 0.0 <= random_share <= 1.0:
            raise ValueError
    except (TypeError, ValueError):
        errors["random_share"] = "must be a share between 0 and 1"
    if not isinstance(period_start, date):
        errors["period_start"] = "is required (a date)"
    if not isinstance(period_end, date):
        errors["period_end"] = "is required (a date)"
    elif isinstance(period_start, date) and period_end < period_start:
        errors["period_end"] = "must not be before the start of the period"
    if audit_type not in AUDIT_TYPES:
        errors["audit_type"] = "must be desk or field"
    if errors:
        raise ValidationError(errors)
    return {"capacity": capacity, "random_share": random_share}


def propose(
    *,
    actor: Actor,
    capacity,
    period_start,
    period_end,
    random_share=None,
    role: str = "importer",
    audit_type: str = "desk",
) -> AuditSelection:
    """Rank the current ratings by score and expected yield, leave out recently audited
    traders, fill ``capacity`` with the top ones plus a random share; store the proposal."""
    actor.require("audit.select")
    settings = get_settings()
    if random_share is None or random_share == "":
        random_share = settings.exploration_share
    checked = _check(capacity, random_share, period_start, period_end, audit_type)
    capacity, random_share = checked["capacity"], checked["random_share"]
    ratings = db.session.scalars(
        select(TraderRating).where(TraderRating.is_current.is_(True), TraderRating.role == role)
    ).all()
    entities, codes = _recently_audited(settings.recent_audit_months)
    eligible = {
        r.trader_code: r
        for r in ratings
        if r.trader_code not in codes and (r.entity_id is None or r.entity_id not in entities)
    }
    if not eligible:
        raise ValidationError(
            {
                "capacity": "no rated traders are eligible (rate traders first, "
                "or every rated trader was audited recently)"
            }
        )
    # Rank by rating first, expected yield second (a tie on risk goes to the bigger stake).
    keyed = {code: (r.score, r.expected_yield) for code, r in eligible.items()}
    seed = secrets.token_hex(8)
    plan = plan_inspections(keyed, capacity, random_share, seed=seed)
    selection = AuditSelection(
        unit_id=actor.unit_id,
        handling_code="P",
        period_start=period_start,
        period_end=period_end,
        capacity=capacity,
        random_share=random_share,
        audit_type=audit_type,
        seed=seed,
        created_by_id=actor.user_id,
        created_by_name=actor.username,
    )
    if selection.unit_id is None:
        raise ValidationError(
            {"unit": "an audit selection belongs to a unit; act as a user of one"}
        )
    picked = set(plan["ranked"]) | set(plan["random"])
    reserves = [
        c for c in sorted(keyed, key=lambda k: (-keyed[k][0], -keyed[k][1], k)) if c not in picked
    ][:RESERVES]
    rank = 0
    for reason, group in (
        ("rating", plan["ranked"]),
        ("random", plan["random"]),
        ("reserve", reserves),
    ):
        for code in group:
            rank += 1
            r = eligible[code]
            selection.lines.append(
                AuditSelectionLine(
                    rank=rank,
                    role=r.role,
                    trader_code=code,
                    entity_id=r.entity_id,
                    rating_id=r.id,
                    score=r.score,
                    expected_yield=r.expected_yield,
                    reason=reason,
                    risk_areas=list(r.risk_areas or []),
                    factors=[f["text"] for f in (r.factors or [])][:4],
                    is_selected=reason != "reserve",
                )
            )
    db.session.add(selection)
    db.session.flush()
    trail.record(
        actor,
        "create",
        "audit_selection",
        selection.id,
        details={"capacity": capacity, "random_share": random_share, "proposed": len(picked)},
    )
    return selection


def get_selection(selection_id: int, *, actor: Actor, action: str = "view") -> AuditSelection:
    return get_for(actor, AuditSelection, selection_id, permission="audit.select", action=action)


def list_selections(*, actor: Actor, limit: int = 20) -> list[AuditSelection]:
    actor.require("audit.select")
    return list(
        db.session.scalars(
            select(AuditSelection)
            .where(visible_clause(actor, AuditSelection))
            .order_by(AuditSelection.created_dt.desc())
            .limit(limit)
        )
    )


def confirm(selection_id: int, *, actor: Actor, line_ids, risk_areas=None) -> AuditSelection:
    """Open an audit case for each chosen line (risk areas pre-filled from the factors).

    ``line_ids``: the lines the auditor kept or swapped in (at most the capacity);
    ``risk_areas``: optional {line_id: [areas]} overriding the suggestion.
    """
    from app.cases import service as cases
    from app.cases.catalog import RISK_AREAS
    from app.intel import service as intel

    actor.require("case.create")
    # Two confirmations at once (a double click, two auditors) must not open the cases twice.
    lock_rows(AuditSelection, selection_id)
    selection = get_selection(selection_id, actor=actor, action="update")
    if selection.status != "proposed":
        raise ValidationError({"selection": "this selection was already confirmed"})
    try:
        chosen = {int(i) for i in line_ids}
    except (TypeError, ValueError):
        raise ValidationError({"line_ids": "must be line numbers of this selection"}) from None
    lines = {line.id: line for line in selection.lines}
    unknown = chosen - set(lines)
    if unknown:
        raise ValidationError(
            {"line_ids": f"not lines of this selection: {', '.join(map(str, sorted(unknown)))}"}
        )
    if not chosen:
        raise ValidationError({"line_ids": "choose at least one trader"})
    if len(chosen) > selection.capacity:
        raise ValidationError(
            {"line_ids": f"{len(chosen)} traders chosen; the capacity is {selection.capacity}"}
        )
    overrides = risk_areas or {}
    for line in selection.lines:
        line.is_selected = line.id in chosen
        if not line.is_selected:
            continue
        areas = overrides.get(line.id, overrides.get(str(line.id), line.risk_areas)) or []
        bad = [a for a in areas if a not in RISK_AREAS]
        if bad:
            raise ValidationError({f"risk_areas[{line.id}]": f"unknown risk area {bad[0]!r}"})
        line.risk_areas = list(areas)
        if line.entity_id is None:
            # Traders come from declarations: the platform registers them on the auditor's
            # behalf (as the risk engine does), the auditor need not edit the registry.
            agent = Actor.system(f"audit-selection:{actor.username}")
            entity = intel.ensure_organisation(
                "trader_code", line.trader_code, actor=agent, roles=[line.role]
            )
            line.entity_id = entity.id
        case = cases.open_audit_case(
            line.entity_id,
            actor=actor,
            audit_type=selection.audit_type,
            risk_areas=line.risk_areas,
            period_start=selection.period_start,
            period_end=selection.period_end,
            unit_id=selection.unit_id,
            title=f"Post-clearance audit: {line.role} {line.trader_code} (rating {line.score:.0f})",
        )
        line.case_id = case.id
        line.case_reference = case.reference
    selection.status = "confirmed"
    selection.confirmed_dt = now_utc()
    selection.confirmed_by_name = actor.username
    db.session.flush()
    return selection
