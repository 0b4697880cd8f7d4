"""Post-clearance audit selection: propose traders within capacity, confirm, open cases."""

import secrets
from datetime import date, timedelta

from sqlalchemy import select

from app.audit.lifecycle import plan_inspections
from app.audit.models import AuditSelection, AuditSelectionLine
from app.audit.period import period_candidates, period_declarations
from app.audit.service import get_settings
from app.core.database import lock_rows
from app.core.errors import ValidationError
from app.core.time import now_utc
from app.extensions import db
from app.security import trail
from app.security.access import Actor, get_for, visible_clause

MAX_CAPACITY = 500
#: declarations of the audited period linked to one audit case (the rest are named in a note)
MAX_LINKED = 200
#: checklist of an audit case: opening, one block per risk area, closing
CHECKLIST_OPEN = ("Declarations of the period extracted", "Trader notified")
CHECKLIST_AREAS = {
    "valuation": "Valuation: transaction values, adjustments and related-party prices checked",
    "classification": "Classification: HS codes of the period's declarations checked",
    "origin": "Origin: proofs of origin and origin indicators checked",
    "preference": "Preferential treatment: certificates and preference claims checked",
    "quota_licence": "Quotas and licences: licences checked against the quantities",
    "excise": "Excise: excise goods, rates and stamps checked",
    "prohibitions": "Prohibitions and restrictions: permits and restricted goods checked",
    "procedures": "Customs procedures: warehousing and processing accounts checked",
}
CHECKLIST_CLOSE = ("Debts assessed by kind", "Closing meeting held")
#: traders shown below the proposal as reserves the auditor may swap in
RESERVES = 10
AUDIT_TYPES = ("desk", "field")
#: what the proposal ranks by: the chance of findings (hit rate) or the expected revenue
RANK_BY = {"findings": "expected findings", "yield": "expected yield"}


def _recently_audited(months: int) -> tuple[set[int], set[str]]:
    """Entity ids with an audit case opened within ``months`` (read only), and trader codes
    confirmed in a selection within the same window."""
    from app.cases.queries import traders_audited_since

    since = now_utc() - timedelta(days=int(months * 30.44))
    entities = traders_audited_since(since)
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
    elif period_end >= now_utc().date():
        errors["period_end"] = (
            "an audit looks back: the audited period must end before today "
            f"({now_utc().date().isoformat()})"
        )
    if audit_type not in AUDIT_TYPES:
        errors["audit_type"] = "must be desk or field"
    if errors:
        raise ValidationError(errors)
    return {"capacity": capacity, "random_share": random_share}


def _eligible(actor: Actor, role, period_start, period_end, rank_by, settings) -> dict:
    """The period's candidates, best first, without the recently audited traders; each
    carries its ``position`` in that order."""
    ranked = period_candidates(
        actor=actor, role=role, period_start=period_start, period_end=period_end
    )
    if rank_by == "yield":
        ranked.sort(key=lambda c: (-c["expected_yield"], -c["audit_score"], c["trader_code"]))
    entities, codes = _recently_audited(settings.recent_audit_months)
    eligible = {
        c["trader_code"]: c
        for c in ranked
        if c["trader_code"] not in codes
        and (c["entity_id"] is None or c["entity_id"] not in entities)
    }
    if not eligible:
        raise ValidationError(
            {
                "period_start": "no eligible trader declared in this period (no declarations, "
                "or every trader of the period was audited recently)"
            }
        )
    for i, code in enumerate(eligible):
        eligible[code]["position"] = i + 1
    return eligible


def _add_lines(selection: AuditSelection, eligible: dict, plan: dict, rank_by: str) -> set:
    """The proposal's lines: the top-ranked, the random draw, then the reserves; returns the
    traders proposed (reserves are not)."""
    picked = set(plan["ranked"]) | set(plan["random"])
    reserves = [c for c in eligible if c not in picked][:RESERVES]
    rank = 0
    for reason, group in (
        ("expected", plan["ranked"]),
        ("random", plan["random"]),
        ("reserve", reserves),
    ):
        for code in group:
            rank += 1
            selection.lines.append(_line(eligible[code], rank, reason, len(eligible), rank_by))
    return picked


def propose(
    *,
    actor: Actor,
    capacity,
    period_start,
    period_end,
    random_share=None,
    role: str = "importer",
    audit_type: str = "desk",
    rank_by: str = "findings",
) -> AuditSelection:
    """Rank the traders who declared in the past period by the audit-candidate score
    (expected findings of auditing the period) or, with ``rank_by="yield"``, by the expected
    yield; leave out recently audited traders, fill ``capacity`` with the top ones plus a
    random share; store the proposal."""
    actor.require("audit.select")
    settings = get_settings()
    if random_share is None or random_share == "":
        random_share = settings.exploration_share
    checked = _check(capacity, random_share, period_start, period_end, audit_type)
    capacity, random_share = checked["capacity"], checked["random_share"]
    if rank_by not in RANK_BY:
        raise ValidationError({"rank_by": f"must be one of: {', '.join(RANK_BY)}"})
    eligible = _eligible(actor, role, period_start, period_end, rank_by, settings)
    seed = secrets.token_hex(8)
    order = {code: -i for i, code in enumerate(eligible)}  # best first, as ranked
    plan = plan_inspections(order, capacity, random_share, seed=seed)
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
    picked = _add_lines(selection, eligible, plan, rank_by)
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


def _why(c: dict, reason: str, position: int, population: int, rank_by: str) -> str:
    if reason == "random":
        return "drawn at random (exploration: unbiased results for the model)"
    where = f"rank {position} of {population} by {RANK_BY[rank_by]}"
    if reason == "reserve":
        return f"reserve: {where}, next best below the capacity"
    return where


def _line(c: dict, rank: int, reason: str, population: int, rank_by: str) -> AuditSelectionLine:
    position = c["position"]
    factors = [f["text"] for f in sorted(c["factors"], key=lambda f: -abs(f["points"]))]
    return AuditSelectionLine(
        rank=rank,
        role=c["role"],
        trader_code=c["trader_code"],
        entity_id=c["entity_id"],
        score=c["audit_score"],
        p_finding=c["p_finding"],
        expected_findings=c["expected_findings"],
        expected_yield=c["expected_yield"],
        duty_at_stake=c["duty_at_stake"],
        n_declarations=c["n_declarations"],
        rating_score=c["rating"],
        reason=reason,
        risk_areas=list(c["risk_areas"]),
        factors=[_why(c, reason, position, population, rank_by), *factors],
        is_selected=reason != "reserve",
    )


def checklist_for(risk_areas) -> list[str]:
    """The audit checklist for the risk areas, in the catalogue's order."""
    areas = [CHECKLIST_AREAS[a] for a in CHECKLIST_AREAS if a in (risk_areas or ())]
    return [*CHECKLIST_OPEN, *areas, *CHECKLIST_CLOSE]


def _link_declarations(case_id: int, numbers: list[str], actor: Actor) -> None:
    """Link the audited period's declarations to the audit case (the first MAX_LINKED)."""
    from app.cases import service as cases

    for number in numbers[:MAX_LINKED]:
        cases.add_link(case_id, "declaration", number, actor=actor, note="audited period")
    if len(numbers) > MAX_LINKED:
        cases.add_journal_entry(
            case_id,
            f"{len(numbers)} declarations in the audited period; the first {MAX_LINKED} are "
            "linked, the rest are listed by the desk review's extraction.",
            actor=actor,
        )


def trader_names(selection: AuditSelection, *, actor: Actor) -> dict[int, str]:
    """Entity id -> registry name for the selection's traders the actor may see."""
    from app.audit.service import trader_names as names

    return names([line.entity_id for line in selection.lines if line.entity_id], actor=actor)


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
    numbers = period_declarations(
        actor=actor,
        role=selection.lines[0].role,
        codes=[lines[i].trader_code for i in chosen],
        period_start=selection.period_start,
        period_end=selection.period_end,
    )
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
            title=f"Post-clearance audit: {line.role} {line.trader_code}, declarations of "
            f"{selection.period_start} to {selection.period_end}",
        )
        # The checklist follows the risk areas chosen for this audit.
        case.checklist = [{"item": text, "done": False} for text in checklist_for(line.risk_areas)]
        _link_declarations(case.id, numbers.get(line.trader_code, []), actor)
        line.case_id = case.id
        line.case_reference = case.reference
    selection.status = "confirmed"
    selection.confirmed_dt = now_utc()
    selection.confirmed_by_name = actor.username
    db.session.flush()
    return selection
