"""One source for validating an entity or a link before it is stored.

``service.create_entity``, ``bulk.EntityBatch`` and the FollowTheMoney import
(``app.exchange``) all build their records with ``new_entity`` / ``new_link_values`` (on
``clean_entity`` / ``clean_link``), so a rule (a scheme that does not apply to a type, the
name's length, code C needing a unit, the owner defaulting to the actor's unit) is written
once and holds for every way into the registry.
"""

from datetime import date

from app.core.errors import ValidationError
from app.intel import grading, identifiers
from app.intel.fingerprints import fingerprint
from app.intel.models import ENTITY_TYPES, LINK_TYPES, Entity

#: identifier schemes that make sense per entity type (others are refused)
SCHEMES_BY_TYPE = {
    "person": {"passport", "id_card", "national_id", "tin", "eori", "phone", "email"},
    "organisation": {"eori", "tin", "trader_code", "company_reg", "phone", "email"},
    "vehicle": {"plate", "vin"},
    "vessel": {"imo", "mmsi"},
    "aircraft": {"aircraft_reg"},
    "container": {"container"},
    "address": set(),
    "phone": {"phone"},
    "email": {"email"},
    "identity_document": {"passport", "id_card", "national_id"},
    "bank_account": {"iban"},
}
MAX_NAME = 300


def clean_text_list(values, field) -> list[str]:
    if values is not None and not isinstance(values, list | tuple | set | frozenset):
        # A lone string would otherwise become one alias per character.
        raise ValidationError({field: "must be a list of texts"})
    out = []
    for i, value in enumerate(values or ()):
        if not isinstance(value, str):
            raise ValidationError({f"{field}[{i}]": "must be text"})
        value = " ".join(value.split())
        if value and value not in out:
            out.append(value[:MAX_NAME])
    return out


def check_type(entity_type) -> str:
    if not isinstance(entity_type, str) or entity_type not in ENTITY_TYPES:
        raise ValidationError({"entity_type": f"must be one of {', '.join(ENTITY_TYPES)}"})
    return entity_type


def check_identifiers(entity_type, raw) -> dict:
    if raw is not None and not isinstance(raw, dict):
        raise ValidationError({"identifiers": "must map a scheme to a value"})
    clean = identifiers.normalise_all(raw)
    allowed = SCHEMES_BY_TYPE[entity_type]
    wrong = {
        f"identifiers.{s}": f"does not apply to a {entity_type}" for s in clean if s not in allowed
    }
    if wrong:
        raise ValidationError(wrong)
    return clean


def check_handling(handling_code, unit_id) -> str:
    if handling_code not in ("P", "C"):
        raise ValidationError({"handling_code": "must be P or C"})
    if handling_code == "C" and unit_id is None:
        raise ValidationError({"handling_code": "a code C record needs an owning unit"})
    return handling_code


def check_date(value, field):
    if value is None or value == "":
        return None
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        raise ValidationError({field: "must be a date (YYYY-MM-DD)"}) from None


def check_link_type(link_type) -> str:
    if not isinstance(link_type, str) or link_type not in LINK_TYPES:
        raise ValidationError({"link_type": f"must be one of {', '.join(LINK_TYPES)}"})
    return link_type


def clean_name(name) -> str:
    return " ".join(str(name or "").split())


def clean_entity(
    entity_type,
    name,
    *,
    default_unit_id,
    aliases=(),
    identifiers=None,
    attributes=None,
    unit_id=None,
    handling_code="P",
    handling_conditions=None,
    roles=None,
) -> dict:
    """The validated column values of a new entity (``Entity(**values)``); every problem
    of name and identifiers is reported at once, not the first only."""
    entity_type = check_type(entity_type)
    name = clean_name(name)
    errors = {}
    if not name:
        errors["name"] = "is required"
    elif len(name) > MAX_NAME:
        errors["name"] = f"at most {MAX_NAME} characters"
    clean_ids = {}
    try:
        clean_ids = check_identifiers(entity_type, identifiers)
    except ValidationError as exc:
        errors.update(exc.fields)
    if errors:
        raise ValidationError(errors)
    if attributes is not None and not isinstance(attributes, dict):
        raise ValidationError({"attributes": "must be an object of name -> value"})
    unit_id = unit_id if unit_id is not None else default_unit_id
    return {
        "entity_type": entity_type,
        "name": name,
        "aliases": clean_text_list(aliases, "aliases"),
        "identifiers": clean_ids,
        "attributes": dict(attributes or {}),
        "roles": clean_text_list(roles, "roles"),
        "unit_id": unit_id,
        "handling_code": check_handling(handling_code, unit_id),
        "handling_conditions": handling_conditions or None,
    }


def clean_link(
    link_type,
    *,
    default_unit_id,
    start_date=None,
    end_date=None,
    grade=None,
    unit_id=None,
    handling_code="P",
) -> dict:
    """The validated values of a new link other than its ends: type, dates, grade, and the
    owning unit (``unit_id``, else ``default_unit_id``) and handling code."""
    link_type = check_link_type(link_type)
    start = check_date(start_date, "start_date")
    end = check_date(end_date, "end_date")
    if start and end and end < start:
        raise ValidationError({"end_date": "is before the start date"})
    unit_id = unit_id if unit_id is not None else default_unit_id
    return {
        "link_type": link_type,
        "start_date": start,
        "end_date": end,
        "grade": grading.parse_link_grade(grade),
        "unit_id": unit_id,
        "handling_code": check_handling(handling_code, unit_id),
    }


def new_entity(entity_type, name, *, actor, provenance=None, **fields) -> Entity:
    """A validated entity, not yet added to the session: owned by ``fields["unit_id"]`` or
    the actor's unit, created by the actor, from ``provenance`` ((record type, id) or None).
    ``fields``: those of ``clean_entity``."""
    values = clean_entity(entity_type, name, default_unit_id=actor.unit_id, **fields)
    prov_type, prov_id = provenance if provenance else (None, None)
    return Entity(
        **values,
        fingerprint=fingerprint(values["name"]),
        provenance_type=prov_type,
        provenance_id=prov_id,
        created_by_id=actor.user_id,
    )


def new_link_values(
    link_type, *, actor, provenance_type=None, provenance_id=None, **fields
) -> dict:
    """The column values of a new link but its ends (``Link(source_id=..., target_id=...,
    **values)``): ``clean_link``'s, the provenance and the creator."""
    values = clean_link(link_type, default_unit_id=actor.unit_id, **fields)
    return {
        **values,
        "provenance_type": provenance_type,
        "provenance_id": provenance_id,
        "created_by_id": actor.user_id,
    }
