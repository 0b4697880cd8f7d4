"""A seizure case opened from a control result: a declaration whose control found goods to
seize. The case is prefilled from the declaration (items, route, parties, fraud type and the
profile(s) that hit) and opened once per declaration in the acting unit."""

from sqlalchemy import select

from app.cases import catalog, fields, places, seizures
from app.cases.models import Case, CaseLink
from app.cases.service import _new_task, journal, open_with_reserved_ref
from app.core.errors import ValidationError
from app.extensions import db
from app.security.access import Actor, NotFound


def _seizure_for_declaration(ref: str, actor: Actor) -> Case | None:
    """The seizure case already opened from this declaration's control, if it belongs to the
    actor's unit and the actor may see it. A case elsewhere is never returned: its existence,
    and the control result, stay within their units."""
    from app.security.access import visible_clause

    if actor.unit_id is None and not actor.is_system:
        return None
    stmt = select(Case).where(
        Case.external_ref == ref,
        Case.kind == "seizure",
        visible_clause(actor, Case),
    )
    if actor.unit_id is not None:
        stmt = stmt.where(Case.unit_id == actor.unit_id)
    return db.session.scalars(stmt.order_by(Case.id).limit(1)).first()


_HS_CHAPTER_AREAS = {
    "24": "tobacco",
    "22": "alcohol",
    "93": "weapons",
    "97": "cultural",
    "29": "precursors",
    "12": "drugs",
    "13": "drugs",
    "30": "drugs",
}


def _area_from_hs(hs_code) -> str:
    return _HS_CHAPTER_AREAS.get(str(hs_code or "")[:2], "other")


#: a control result's fraud type (app.risk FRAUD_TYPES) -> the case's risk area
_FRAUD_RISK_AREAS = {
    "undervaluation": "valuation",
    "misclassification": "classification",
    "origin": "origin",
    "prohibited": "prohibitions",
}


def _profile_label(profile: dict) -> str | None:
    if not profile.get("code"):
        return None
    label = str(profile["code"])
    if profile.get("version"):
        label += f" v{profile['version']}"
    if profile.get("name"):
        label += f" ({profile['name']})"
    return label


def _control_summary(ref: dict) -> str | None:
    """The fraud type, the profile(s) that hit (with their version) and the findings."""
    lines = []
    if fraud := ref.get("fraud_label") or ref.get("fraud_type"):
        lines.append(f"Fraud type: {fraud}.")
    hits = [_profile_label(p) for p in ref.get("profiles") or () if isinstance(p, dict)]
    hits = [h for h in hits if h]
    if hits:
        lines.append(f"Profile{'s' if len(hits) > 1 else ''} that hit: {'; '.join(hits)}.")
    if ref.get("findings"):
        lines.append(f"Findings of the control: {ref['findings']}")
    return "\n".join(lines)[:20000] or None


def _control_route(ref: dict) -> dict:
    """The route from the declaration (origin, dispatch as transit, the office's country)."""
    route = {}
    for name, max_len in (("route_origin", 80), ("route_transit", 200), ("route_destination", 80)):
        value = ref.get(name)
        if isinstance(value, str) and value.strip():
            route[name] = value.strip()[:max_len]
    return route


def open_seizure_from_control(declaration_ref: dict, *, actor: Actor) -> Case:
    """Open a seizure case prefilled from a declaration whose control found goods to seize:
    its items, route, parties (registry entities), fraud type and the profile(s) that hit.

    The case opens in the acting unit (the risk domain acts in the unit of the declaration's
    office). Calling it twice for one declaration returns the case already opened.
    """
    actor.require("case.create")
    if not isinstance(declaration_ref, dict):
        raise ValidationError({"declaration_ref": "must be a dict"})
    decl_id = declaration_ref.get("declaration_id")
    number = fields.text(declaration_ref.get("number"), "number", max_len=60)
    ref = f"declaration:{decl_id}" if decl_id is not None else None
    if ref and (existing := _seizure_for_declaration(ref, actor)) is not None:
        return existing
    items = [_control_item(dict(raw or {})) for raw in declaration_ref.get("items") or ()]
    mode = declaration_ref.get("transport_mode")
    try:
        mode = fields.choice(mode, "transport_mode", catalog.TRANSPORT_MODES)
    except ValidationError:
        mode = "other"
    summary = _control_summary(declaration_ref)
    area = _FRAUD_RISK_AREAS.get(declaration_ref.get("fraud_type"))
    case = open_with_reserved_ref(
        ref,
        "seizure",
        actor=actor,
        title=f"Seizure from control of declaration {number or decl_id}",
        summary=summary,
        place_type="office",
        place=declaration_ref.get("office"),
        place_ref=_office_ref(declaration_ref.get("office")),
        transport_mode=mode,
        **_control_route(declaration_ref),
        risk_areas=[area] if area else None,
        declaration_number=number,
        detection_method="risk_profile",
        items=items,
        journal_text=f"Seizure case opened from the control result of declaration "
        f"{number or decl_id}." + (f" {summary}" if summary else ""),
    )
    if decl_id is not None:
        db.session.add(
            CaseLink(
                case=case,
                target_type="declaration",
                target_id=str(decl_id),
                label=number or str(decl_id),
                created_by_name=actor.username,
            )
        )
    from app.cases.parties import add_party

    for i, party in enumerate(declaration_ref.get("parties") or ()):
        role = party.get("role") if party.get("role") in catalog.PARTY_ROLES else "other"
        try:
            # A savepoint: a party that cannot be added must not undo the control result.
            with db.session.begin_nested():
                add_party(
                    case.id,
                    actor=actor,
                    entity_id=party.get("entity_id"),
                    role=role,
                    _name=f"parties[{i}]",
                    _log=False,
                )
        except (ValidationError, NotFound):
            journal(
                case,
                actor,
                "party",
                f"Party {party.get('entity_id')} ({role}) of the "
                "declaration could not be added: not in the registry or not visible.",
            )
    _ask_for_the_minimum(case, actor)
    db.session.flush()
    return case


def _office_ref(office) -> str | None:
    """The declaration's office as a place of the reference list, when it is listed."""
    try:
        return places.parse(f"office:{office}", "place_ref") if office else None
    except ValidationError:
        return None  # not on the list: the case asks for the place (_ask_for_the_minimum)


def _ask_for_the_minimum(case: Case, actor: Actor) -> None:
    """A control result is a fact and opens its case even when the declaration lacks part of
    the minimum seizure record; the journal and a task name what is missing."""
    missing = seizures.case_missing(case)
    if not missing:
        return
    what = seizures.describe(missing)
    journal(case, actor, "system", f"The minimum seizure record is incomplete: {what}.")
    _new_task(case, actor, f"Complete the seizure record: {what}"[:300])


#: UN/ECE Recommendation 20 unit codes used by declaration systems -> case units
_REC20_UNITS = {
    "kgm": "kg",
    "grm": "g",
    "ltr": "l",
    "nar": "pcs",
    "pce": "pcs",
    "c62": "pcs",
    "h87": "pcs",
    "mtq": "m3",
    "pk": "packs",
    "pa": "packs",
    "eur": "eur",
}


def _control_item(raw: dict) -> dict:
    """A seizure item from a declaration item; never fails on the declaration's own codes
    (an unknown unit or HS code is kept in the description instead)."""
    hs = str(raw.get("hs_code") or "").replace(" ", "").replace(".", "") or None
    if hs and not (hs.isdigit() and 4 <= len(hs) <= 10):
        hs = None
    description = str(raw.get("description") or "Goods from declaration")[:400]
    quantity, unit = raw.get("quantity"), str(raw.get("unit") or "").strip().lower() or None
    unit = _REC20_UNITS.get(unit, unit)
    try:
        quantity = fields.decimal(quantity, "quantity", places=3)
    except ValidationError:
        quantity = None
    if quantity is not None and unit not in catalog.QUANTITY_UNITS:
        description += f" ({quantity} {raw.get('unit') or 'units'})"
        quantity, unit = None, None
    try:
        value = fields.decimal(raw.get("value"), "value")
    except ValidationError:
        value = None
    return {
        "commodity_area": raw.get("commodity_area")
        if raw.get("commodity_area") in catalog.COMMODITY_AREAS
        else _area_from_hs(hs),
        "hs_code": hs,
        "description": description,
        "quantity": quantity,
        "quantity_unit": unit if quantity is not None else None,
        "value": value,
    }
