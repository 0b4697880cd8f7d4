"""Import of a STIX 2.1 bundle's identities, locations and relationships (see ``stix``).

All or nothing: every object is checked first (stix2-validator, then Tollgate's rules); one
bad object refuses the bundle naming its index, id and reason, and nothing is stored. The
entities are new records of the importer's unit, proposed as resolution candidates beside
the registry's look-alikes (an analyst decides; nothing is merged here), and a relationship
between two of them is a link with its grade.
"""

from dataclasses import dataclass, field

from app.core import json_input
from app.core.errors import ValidationError
from app.exchange.stix import EXTENSION_ID, IDENTITY_TYPES, MAX_OBJECTS, check_object
from app.extensions import db
from app.intel import grading, resolution, service, validation
from app.security.access import Actor

_IDENTITY_CLASSES = {v: k for k, v in IDENTITY_TYPES.items()}
#: objects that are neither identities, locations nor relationships: counted and skipped
_IGNORED = "skipped"
#: confidence (0-100) -> intelligence grade, for relationships without a grade label
_CONFIDENCE_GRADES = ((90, "B"), (65, "A"), (40, "C"), (20, "D"), (0, "E"))


@dataclass
class StixImport:
    created: list[int] = field(default_factory=list)
    links: int = 0
    candidates: int = 0
    skipped: dict[str, int] = field(default_factory=dict)


def read_bundle(data: bytes) -> list:
    """The objects of a bundle, refused whole when it is not one."""
    bundle = json_input.loads(data, "bundle")
    if not isinstance(bundle, dict) or bundle.get("type") != "bundle":
        raise ValidationError({"bundle": "is not a STIX bundle (type 'bundle')"})
    objects = bundle.get("objects")
    if not isinstance(objects, list):
        raise ValidationError({"bundle.objects": "must be a list of STIX objects"})
    if len(objects) > MAX_OBJECTS:
        raise ValidationError({"bundle.objects": f"more than {MAX_OBJECTS:,} objects"})
    return objects


def _ext(obj) -> dict:
    ext = (obj.get("extensions") or {}).get(EXTENSION_ID)
    return ext if isinstance(ext, dict) else {}


def _entity_values(obj) -> dict | None:
    ext = _ext(obj)
    if obj["type"] == "identity":
        entity_type = _IDENTITY_CLASSES.get(obj.get("identity_class", ""))
        if entity_type is None:
            return None
        name = obj.get("name")
    else:
        entity_type = "address"
        name = obj.get("name") or obj.get("street_address") or obj.get("city")
    attributes = ext.get("attributes") if isinstance(ext.get("attributes"), dict) else {}
    if obj["type"] == "location" and obj.get("country"):
        attributes = {**attributes, "country": str(obj["country"]).upper()}
    return {
        "entity_type": ext.get("entity_type")
        if ext.get("entity_type") == entity_type
        else entity_type,
        "name": name,
        "aliases": ext.get("aliases") or (),
        "identifiers": ext.get("identifiers") or None,
        "attributes": attributes,
    }


def _grade(obj) -> str | None:
    for label in obj.get("labels") or ():
        if isinstance(label, str) and label.startswith("grade:"):
            return grading.parse_link_grade(label[6:8], field="labels")
    if isinstance(obj.get("confidence"), int):
        # no grade label: the confidence is the assessment; the source is untested (2)
        return "2" + next(g for floor, g in _CONFIDENCE_GRADES if obj["confidence"] >= floor)
    return None


def _link_type(obj, ends) -> str:
    kind = _ext(obj).get("link_type") or obj["relationship_type"].replace("-", "_")
    if obj["relationship_type"] == "located-at" and kind not in ("lives_at", "registered_at"):
        kind = "lives_at" if ends[0].entity_type == "person" else "registered_at"
    if kind == "related_to":
        kind = "associate_of"
    return validation.check_link_type(kind)


def _time(obj, key):
    value = obj.get(key)
    return value[:10] if isinstance(value, str) else None


def import_bundle(data: bytes, *, actor: Actor, handling_code: str) -> StixImport:
    """Register a bundle's identities, locations and relationships; ValidationError naming
    each bad object (nothing stored)."""
    actor.require("entity.edit")
    validation.check_handling(handling_code, actor.unit_id)
    objects = read_bundle(data)
    for index, obj in enumerate(objects):
        check_object(obj, index)
    summary = StixImport()
    savepoint = db.session.begin_nested()
    try:
        _store(objects, summary, actor=actor, handling_code=handling_code)
    except BaseException:
        savepoint.rollback()  # nothing of a refused bundle remains
        raise
    savepoint.commit()
    return summary


def _authors_only(objects) -> set[str]:
    """Identities that only sign other objects (``created_by_ref``): the bundle's producers,
    not entities it reports on."""
    authors = {o.get("created_by_ref") for o in objects}
    named = set()
    for obj in objects:
        named.update(obj.get("object_refs") or ())
        named.update(obj.get(k) for k in ("source_ref", "target_ref"))
    return authors - named


def _store(objects, summary: StixImport, *, actor, handling_code) -> None:
    made, errors = {}, {}
    authors = _authors_only(objects)
    for index, obj in enumerate(objects):
        if obj["type"] not in ("identity", "location"):
            continue
        if obj["id"] in authors:
            summary.skipped["author identity"] = summary.skipped.get("author identity", 0) + 1
            continue
        values = _entity_values(obj)
        if values is None or not values["name"]:
            summary.skipped[obj["type"]] = summary.skipped.get(obj["type"], 0) + 1
            continue
        try:
            made[obj["id"]] = service.create_entity(
                **values,
                actor=actor,
                handling_code=handling_code,
                provenance=("import", None),
                duplicate_reason=f"STIX import of {obj['id']}: a resolution candidate",
            )
        except ValidationError as exc:
            for key, message in exc.fields.items():
                errors[f"objects[{index}] {obj['id']} {key}"] = message
    for index, obj in enumerate(objects):
        if obj["type"] == "relationship":
            _relationship(index, obj, made, summary, errors, actor=actor, handling=handling_code)
        elif obj["type"] not in ("identity", "location"):
            summary.skipped[obj["type"]] = summary.skipped.get(obj["type"], 0) + 1
    if errors:
        raise ValidationError(errors)
    summary.created = [e.id for e in made.values()]
    new = set(summary.created)
    summary.candidates = sum(
        1
        for m in resolution.pending_matches(actor, limit=10_000)
        if m.entity_a_id in new or m.entity_b_id in new
    )


def _relationship(index, obj, made, summary, errors, *, actor, handling) -> None:
    ends = [made.get(obj["source_ref"]), made.get(obj["target_ref"])]
    if None in ends:
        summary.skipped["relationship"] = summary.skipped.get("relationship", 0) + 1
        return
    try:
        service.add_link(
            ends[0].id,
            ends[1].id,
            _link_type(obj, ends),
            actor=actor,
            provenance_type="import",
            start_date=_time(obj, "start_time"),
            end_date=_time(obj, "stop_time"),
            grade=_grade(obj),
            handling_code=handling,
        )
        summary.links += 1
    except ValidationError as exc:
        for key, message in exc.fields.items():
            errors[f"objects[{index}] {obj['id']} {key}"] = message
