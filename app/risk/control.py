"""Control results: what the inspection found, fed back into profile statistics and cases."""

import logging
from dataclasses import replace

from sqlalchemy import select

from app.core import signals
from app.core.errors import ValidationError
from app.core.time import now_utc
from app.extensions import db
from app.risk.models import FRAUD_TYPES, ControlResult, Declaration
from app.security.access import Actor, NotFound, get_for

log = logging.getLogger(__name__)

#: UN/ECE Recommendation 19 transport mode codes (first digit; KCS uses 10, 40 ...)
#: declaration party -> case party role
_CASE_ROLES = {
    "declarant": "declarant",
    "importer": "consignee",
    "seller": "consignor",
    "courier": "carrier",
}
_TRANSPORT = {"1": "sea", "2": "rail", "3": "road", "4": "air", "5": "postal"}


def _bool(raw, path, errors, *, required=False):
    if raw is None or raw == "":
        if required:
            errors[path] = "is required (true or false)"
        return None
    if isinstance(raw, bool):
        return raw
    if isinstance(raw, str) and raw.lower() in ("true", "yes", "1", "y", "on"):
        return True
    if isinstance(raw, str) and raw.lower() in ("false", "no", "0", "n", "off"):
        return False
    errors[path] = "must be true or false"
    return None


def parse_result(data: dict) -> dict:
    """Check a control result body; errors name the field."""
    if not isinstance(data, dict):
        raise ValidationError({"body": "must be a JSON object"})
    errors: dict[str, str] = {}
    inspected = _bool(data.get("inspected"), "inspected", errors, required=True)
    compliant = _bool(data.get("compliant"), "compliant", errors, required=bool(inspected))
    fraud_type = data.get("fraud_type") or None
    if fraud_type is not None and fraud_type not in FRAUD_TYPES:
        errors["fraud_type"] = f"must be one of {', '.join(FRAUD_TYPES)}"
    if compliant is False and fraud_type is None and "fraud_type" not in errors:
        errors["fraud_type"] = "say which fraud was found"
    if compliant is not False and fraud_type is not None:
        errors["fraud_type"] = "only a non-compliant result has a fraud type"
    revenue = data.get("revenue_recovered") or 0
    try:
        revenue = float(revenue)
        if revenue < 0 or revenue != revenue or revenue == float("inf"):
            raise ValueError
    except (TypeError, ValueError):
        errors["revenue_recovered"] = "must be a number, zero or more"
        revenue = 0.0
    seized = _bool(data.get("goods_seized"), "goods_seized", errors) or False
    if seized and compliant is not False:
        errors["goods_seized"] = "goods are seized only when the control found a fraud"
    critical = _bool(data.get("critical"), "critical", errors) or False
    findings = data.get("findings") or ""
    if not isinstance(findings, str):
        errors["findings"] = "must be text"
        findings = ""
    if inspected is False and compliant is not None:
        errors["compliant"] = "a declaration that was not inspected has no compliance finding"
    unknown = sorted(
        set(data)
        - {
            "inspected",
            "compliant",
            "fraud_type",
            "revenue_recovered",
            "goods_seized",
            "critical",
            "findings",
        }
    )
    for key in unknown:
        errors[key] = "is not a control result field"
    if errors:
        raise ValidationError(errors)
    return {
        "is_inspected": inspected,
        "is_compliant": compliant if inspected else None,
        "fraud_type": fraud_type,
        "revenue_recovered": revenue,
        "is_goods_seized": seized,
        "is_critical": critical,
        "findings": findings.strip()[:10000] or None,
    }


def find_declaration(number: str, *, actor: Actor) -> Declaration:
    decl_id = db.session.scalar(select(Declaration.id).where(Declaration.number == number))
    if decl_id is None:
        raise NotFound(f"No declaration {number}.")
    return get_for(actor, Declaration, decl_id, permission="risk.declaration.view", action="update")


def record_control_result(
    declaration_id: int,
    data: dict,
    *,
    actor: Actor,
    source: str = "form",
    decl: Declaration | None = None,
) -> ControlResult:
    """Store (or replace) the declaration's control result; statistics follow at once
    because they are computed from results. A seizure opens a prefilled seizure case."""
    actor.require("risk.control.record")
    clean = parse_result(data)
    if decl is None:
        decl = get_for(
            actor, Declaration, declaration_id, permission="risk.control.record", action="update"
        )
    # Two officers (or a retried call of the declaration system) recording at once: the row
    # lock makes the second replace the first's result instead of failing on the
    # one-result-per-declaration key. (On SQLite the locking select takes the one write lock.)
    db.session.execute(select(Declaration.id).where(Declaration.id == decl.id).with_for_update())
    db.session.expire(decl, ["control_result"])
    result = decl.control_result
    if result is None:
        result = ControlResult(declaration=decl)
        db.session.add(result)
    for key, value in clean.items():
        setattr(result, key, value)
    result.source = source
    result.recorded_dt = now_utc()
    result.recorded_by_id = actor.user_id
    db.session.flush()
    signals.control_result_recorded.send(None, declaration=decl, result=result, actor=actor)
    if result.is_goods_seized and result.seizure_case_id is None:
        result.seizure_case_id = _open_seizure(decl, result, actor)
        signals.control_result_seizure.send(None, declaration=decl, result=result, actor=actor)
    db.session.flush()
    return result


def declaration_ref(decl: Declaration) -> dict:
    """What the cases domain needs to prefill a seizure case."""
    mode = decl.transport_mode or ""
    return {
        "declaration_id": decl.id,
        "number": decl.number,
        "office": decl.office,
        "transport_mode": _TRANSPORT.get(mode[:1], mode or None),
        "items": [
            {
                "hs_code": i.hs_code,
                "description": i.description or f"HS {i.hs_code}",
                "quantity": i.quantity if i.quantity is not None else i.mass_kg,
                "unit": i.quantity_unit or ("kg" if i.quantity is None and i.mass_kg else None),
                "value": i.value,
            }
            for i in decl.items
        ],
        "parties": [
            {"entity_id": entity_id, "role": _CASE_ROLES[role]}
            for role, _code, entity_id in decl.parties()
            if entity_id
        ],
    }


def _open_seizure(decl: Declaration, result: ControlResult, actor: Actor) -> int | None:
    try:
        from app.cases.service import open_seizure_from_control
    except ImportError:
        return None
    # The recording officer (or the declaration system) opens the case on the record's behalf.
    agent = replace(
        actor,
        permissions=actor.permissions | {"case.view", "case.create", "case.edit", "entity.view"},
    )
    case = open_seizure_from_control(declaration_ref(decl), actor=agent)
    return getattr(case, "id", None)
