"""Control results: what the inspection found, fed back into profile statistics and cases."""

import logging

from flask import current_app
from sqlalchemy import select

from app.core import signals
from app.core.errors import ValidationError
from app.core.time import now_utc
from app.extensions import db
from app.risk.models import FRAUD_TYPES, ControlResult, ControlResultVersion, Declaration
from app.security import trail
from app.security.access import Actor, NotFound, get_for
from app.security.models import Unit

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
    reason = data.get("reason") or ""
    if not isinstance(reason, str):
        errors["reason"] = "must be text"
        reason = ""
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
            "reason",
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
        "reason": reason.strip()[:2000] or None,
    }


def find_declaration(number: str, *, actor: Actor) -> Declaration:
    decl_id = db.session.scalar(select(Declaration.id).where(Declaration.number == number))
    if decl_id is None:
        raise NotFound(f"No declaration {number}.")
    # No trail row here: record_control_result writes the one row of the request.
    return get_for(
        actor,
        Declaration,
        decl_id,
        permission="risk.declaration.view",
        action="update",
        log=False,
    )


#: the fields of a recorded version (ControlResult and ControlResultVersion share them)
_FIELDS = (
    "is_inspected",
    "is_compliant",
    "fraud_type",
    "revenue_recovered",
    "is_goods_seized",
    "is_critical",
    "findings",
)


def _write_result(decl, result, clean: dict, source: str, actor: Actor) -> ControlResult:
    """The new version's values on the declaration's one result row (an earlier result
    recorded before versions existed is kept as a version first)."""
    if result is None:
        result = ControlResult(declaration=decl, version=0)
        db.session.add(result)
    elif not decl.control_versions:
        _keep_unversioned(decl, result)
    for key, value in clean.items():
        setattr(result, key, value)
    result.version = (result.version or 0) + 1
    result.source = source
    result.recorded_dt = now_utc()
    result.recorded_by_id = actor.user_id
    db.session.flush()
    return result


def _announce(decl, result, was_seized: bool, reason, actor: Actor) -> None:
    """The cases domain answers both signals (app/cases/receivers.py): it opens the seizure
    case (returning its id, kept on the result) and notes a correction of the finding on it."""
    units = _units(decl, actor)
    had_case = result.seizure_case_id is not None
    if result.is_goods_seized and result.seizure_case_id is None:
        replies = signals.control_result_seizure.send(
            None,
            declaration=decl,
            result=result,
            declaration_ref=declaration_ref(decl, result),
            unit_ids=units,
            actor=actor,
        )
        result.seizure_case_id = next((rv for _r, rv in replies if rv is not None), None)
    signals.control_result_recorded.send(
        None,
        declaration=decl,
        result=result,
        seizure_changed=had_case and was_seized != bool(result.is_goods_seized),
        reason=reason,
        unit_ids=units,
        actor=actor,
    )


def record_control_result(
    declaration_id: int,
    data: dict,
    *,
    actor: Actor,
    source: str = "form",
    decl: Declaration | None = None,
) -> ControlResult:
    """Record the declaration's control result as a new version; statistics follow at once
    because they are computed from the latest version. A seizure opens a prefilled seizure
    case.

    The first result is version 1; a different result later is a correction: version 2, 3 ...
    with a required reason, and every earlier version stays. The same result sent again (a
    retried call) records nothing. One trail row per version recorded."""
    actor.require("risk.control.record")
    clean = parse_result(data)
    reason = clean.pop("reason")
    if decl is None:
        decl = get_for(
            actor,
            Declaration,
            declaration_id,
            permission="risk.control.record",
            action="update",
            log=False,
        )
    # Two officers (or a retried call of the declaration system) recording at once: the row
    # lock orders them, so the second sees the first's version and is a correction (or the
    # same result). (On SQLite the locking select takes the one write lock.)
    db.session.execute(select(Declaration.id).where(Declaration.id == decl.id).with_for_update())
    db.session.expire(decl, ["control_result", "control_versions"])
    result = decl.control_result
    if result is not None and all(getattr(result, k) == v for k, v in clean.items()):
        details = {"control_result_version": result.version, "unchanged": True}
        trail.record(actor, "update", "declaration", decl.id, details=details)
        return result
    if result is not None and not reason:
        raise ValidationError(
            {
                "reason": f"this corrects version {result.version or 1} of the control result: "
                "say why it was wrong (the earlier version is kept)"
            }
        )
    was_seized = bool(result and result.is_goods_seized)
    result = _write_result(decl, result, clean, source, actor)
    _announce(decl, result, was_seized, reason, actor)
    version = _add_version(decl, result, reason, actor)
    trail.record(
        actor,
        "update",
        "declaration",
        decl.id,
        details={"control_result_version": version.version, "reason": reason},
    )
    db.session.flush()
    return result


def _add_version(decl, result, reason, actor, *, name=None) -> ControlResultVersion:
    version = ControlResultVersion(
        declaration=decl,
        version=result.version,
        reason=reason,
        source=result.source,
        recorded_dt=result.recorded_dt,
        recorded_by_id=result.recorded_by_id,
        recorded_by_name=name if name is not None else actor.username,
        seizure_case_id=result.seizure_case_id,
        **{k: getattr(result, k) for k in _FIELDS},
    )
    db.session.add(version)
    db.session.flush()
    return version


def _keep_unversioned(decl, result) -> None:
    """A result recorded before versions existed (or by a bulk import) becomes version 1
    before it is corrected, so the correction never erases it."""
    result.version = 1
    _add_version(decl, result, None, None, name="")


def history(decl: Declaration) -> list[ControlResultVersion]:
    """Every recorded version of the control result, newest first."""
    return sorted(decl.control_versions, key=lambda v: v.version, reverse=True)


def office_unit_id(office: str | None) -> int | None:
    """The unit a declaration's customs office belongs to: ``TOLLGATE_OFFICE_UNITS`` (office
    code -> unit code, app/config.py) first, else the unit whose code is the office code (the
    demo's BCP-N and PORT-S); None if neither (the case then opens in the recorder's unit)."""
    if not office:
        return None
    mapping = current_app.config.get("TOLLGATE_OFFICE_UNITS") or {}
    code = mapping.get(office, office)
    return db.session.scalar(select(Unit.id).where(Unit.code == code, Unit.is_active.is_(True)))


def _office_country(office: str | None) -> str | None:
    """The country of the declaration's office, from the reference list of offices."""
    from app.reference import service as reference

    entry = reference.lookup("office", office) if office else None
    return entry.country if entry is not None else None


def _route(decl: Declaration) -> dict:
    """Origin (of the most valuable item, else the dispatch country), the dispatch country as
    transit when it differs, and the country of the declaring office as destination."""
    items = sorted(decl.items, key=lambda i: i.value or 0, reverse=True)
    origin = next((i.origin_country for i in items if i.origin_country), None)
    dispatch = decl.dispatch_country or next(
        (i.departure_country for i in items if i.departure_country), None
    )
    origin = origin or dispatch
    return {
        "route_origin": origin,
        "route_transit": dispatch if dispatch and dispatch != origin else None,
        "route_destination": _office_country(decl.office),
    }


def declaration_ref(decl: Declaration, result: ControlResult | None = None) -> dict:
    """What the cases domain needs to prefill a seizure case."""
    mode = decl.transport_mode or ""
    fraud = result.fraud_type if result is not None else None
    return {
        "declaration_id": decl.id,
        "number": decl.number,
        "office": decl.office,
        "transport_mode": _TRANSPORT.get(mode[:1], mode or None),
        **_route(decl),
        "fraud_type": fraud,
        "fraud_label": FRAUD_TYPES.get(fraud) if fraud else None,
        "findings": result.findings if result is not None else None,
        "profiles": [
            {"code": p.get("code"), "name": p.get("name"), "version": p.get("version")}
            for p in (decl.assessment or {}).get("profiles", [])
        ],
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


def _units(decl: Declaration, actor: Actor) -> list[int]:
    """Where a seizure case belongs: the unit of the declaration's office when it has one,
    then the recorder's own unit (the cases domain tries them in this order)."""
    office_unit = office_unit_id(decl.office)
    return list(dict.fromkeys(u for u in (office_unit, actor.unit_id) if u is not None))
