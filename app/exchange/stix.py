"""STIX 2.1 export of an intelligence report (report, identity, location, relationship) and
import of a bundle's identities, locations and relationships as resolution candidates.

The mapping (also in the README's exchange section):

- the report is a ``report`` (name: reference and title; description: the *sanitised* text
  only, the original never leaves; published: when it was filed), created by an
  ``identity`` for the exporter's unit; its entities and the links it asserts are in
  ``object_refs``. Persons are ``identity`` (individual), organisations ``identity``
  (organization), addresses ``location`` (when they have a country: STIX needs one); other
  entity types have no STIX object of their own and are left out, counted.
- links are ``relationship``s: ``lives_at`` / ``registered_at`` as ``located-at``, every other
  kind by its name with hyphens (``director-of``, ``shareholder-of``); dates as start/stop time.
- the 3x5x2 grade: ``confidence`` carries the intelligence assessment on the STIX
  Admiralty scale (the project's 3x5x2 -> Admiralty table, ``grading.to_admiralty``, then
  STIX 2.1 appendix A: 1 -> 100, 2 -> 80, 3 -> 50, 4 -> 30, 5 -> 10, 6 -> not set); the
  whole grade in ``labels`` as ``grade:1A`` (and the report's ``handling:C``), so the source
  reliability, which confidence cannot hold, is not lost.
- handling code P is TLP:GREEN, C is TLP:AMBER (``object_marking_refs``); registry detail
  with no STIX property (aliases, identifiers, attributes, the exact link kind) rides in a
  property extension defined in the bundle (``EXTENSION_ID``).

Import reads each object, checks it with stix2-validator (an object that is not valid STIX
2.1 is refused with its index, id and the reason, and nothing of the bundle is stored),
registers identities and locations as new entities of the importer's unit (never merged:
``propose_candidates`` puts them in the resolution queue beside the entities they resemble),
and their relationships as links graded from the labels (or the confidence).
"""

import json
import uuid
from dataclasses import dataclass, field

import stix2

from app.core.errors import ValidationError
from app.extensions import db
from app.intel import grading, reports, service, subgraph
from app.security import trail
from app.security.access import Actor
from app.security.models import Unit

#: the property extension holding what STIX has no property for (one fixed id: readers
#: recognise it across bundles)
EXTENSION_ID = "extension-definition--5a0b3b7e-9e0e-4c43-a9a4-6f1f0e5d7c21"
EXTENSION_SCHEMA = (
    "Tollgate entity registry: entity_type (Tollgate type), aliases (list of text), "
    "identifiers (scheme -> value), attributes (object), handling_code (P or C); on "
    "relationships link_type (Tollgate link kind) and grade (3x5x2, e.g. 1A)."
)
TLP = {"P": stix2.TLP_GREEN, "C": stix2.TLP_AMBER}
#: STIX 2.1 appendix A, Admiralty credibility -> confidence (6: cannot be judged, not set)
ADMIRALTY_CONFIDENCE = {"1": 100, "2": 80, "3": 50, "4": 30, "5": 10}
IDENTITY_TYPES = {"person": "individual", "organisation": "organization"}
LOCATED = {"lives_at", "registered_at"}
MAX_OBJECTS = 10_000


@dataclass
class StixExport:
    bundle: dict
    entities: list[int] = field(default_factory=list)
    links: list[int] = field(default_factory=list)
    left_out: dict[str, int] = field(default_factory=dict)

    @property
    def body(self) -> bytes:
        return json.dumps(self.bundle, ensure_ascii=False, indent=1).encode("utf-8")


def confidence(grade: str | None) -> int | None:
    """STIX confidence of a 3x5x2 grade ("1A"): its intelligence assessment on the
    Admiralty scale; None when ungraded or 'cannot be judged'."""
    if not grade:
        return None
    return ADMIRALTY_CONFIDENCE.get(grading.to_admiralty(grade[0], grade[1])[1])


def _stamp(value) -> str:
    return value.strftime("%Y-%m-%dT%H:%M:%S.000Z")


def _extension(**values) -> dict:
    # STIX allows no empty list, object or text: an empty value is left out
    kept = {k: v for k, v in values.items() if v not in (None, "", [], {})}
    return {EXTENSION_ID: {"extension_type": "property-extension", **kept}}


def _common(record, author, kind: str) -> dict:
    out = {
        "id": f"{kind}--{uuid.uuid4()}",
        "created_by_ref": author.id,
        "object_marking_refs": [TLP[record.handling_code].id],
    }
    if getattr(record, "created_dt", None):
        out["created"] = out["modified"] = _stamp(record.created_dt)
    return out


def _entity_object(entity, author):
    ext = _extension(
        entity_type=entity.entity_type,
        aliases=list(entity.aliases or []),
        identifiers=dict(entity.identifiers or {}),
        attributes=dict(entity.attributes or {}),
        handling_code=entity.handling_code,
    )
    if entity.entity_type in IDENTITY_TYPES:
        return stix2.Identity(
            name=entity.name,
            identity_class=IDENTITY_TYPES[entity.entity_type],
            extensions=ext,
            **_common(entity, author, "identity"),
        )
    country = str((entity.attributes or {}).get("country") or "").strip().upper()
    if entity.entity_type == "address" and len(country) == 2 and country.isalpha():
        return stix2.Location(
            name=entity.name,
            street_address=entity.name,
            country=country,
            extensions=ext,
            **_common(entity, author, "location"),
        )
    return None


def _link_object(link, refs, author):
    labels = [f"grade:{link.grade}"] if link.grade else None
    times = {}
    if link.start_date:
        times["start_time"] = f"{link.start_date.isoformat()}T00:00:00Z"
    if link.end_date:
        times["stop_time"] = f"{link.end_date.isoformat()}T23:59:59Z"
    return stix2.Relationship(
        source_ref=refs[link.source_id],
        target_ref=refs[link.target_id],
        relationship_type="located-at"
        if link.link_type in LOCATED
        else link.link_type.replace("_", "-"),
        confidence=confidence(link.grade),
        labels=labels,
        extensions=_extension(link_type=link.link_type, grade=link.grade or ""),
        **times,
        **_common(link, author, "relationship"),
    )


def _author(actor: Actor):
    unit = db.session.get(Unit, actor.unit_id) if actor.unit_id else None
    return stix2.Identity(
        name=f"Tollgate {unit.name}" if unit else "Tollgate",
        identity_class="organization",
        description="The customs unit that exported this report from Tollgate.",
    )


def build_report_bundle(report, *, actor: Actor) -> StixExport:
    """The bundle of a report the actor has opened: what they may see of its entities and
    of the links it asserts."""
    mentioned = [e.id for e, _ in service.entities_mentioned_by("report", report.id, actor=actor)]
    asserted = subgraph.links_asserted_by("report", report.id, actor=actor)
    ends = {i for lk in asserted for i in (lk.source_id, lk.target_id)}
    entities, _ = subgraph.visible_subgraph({*mentioned, *ends}, actor=actor)
    author = _author(actor)
    objects, refs, out = [], {}, StixExport(bundle={})
    for entity in entities:
        obj = _entity_object(entity, author)
        if obj is None:
            out.left_out[entity.entity_type] = out.left_out.get(entity.entity_type, 0) + 1
            continue
        objects.append(obj)
        refs[entity.id] = obj.id
        out.entities.append(entity.id)
    for link in asserted:
        if link.source_id in refs and link.target_id in refs:
            objects.append(_link_object(link, refs, author))
            out.links.append(link.id)
    grade = f"{report.source_grade}{report.intel_grade}"
    stix_report = stix2.Report(
        name=f"{report.reference} {report.title}",
        description=report.sanitised_body or None,
        published=_stamp(report.created_dt),
        report_types=["threat-report"],
        object_refs=[o.id for o in objects] or [author.id],
        confidence=confidence(grade),
        labels=[f"grade:{grade}", f"handling:{report.handling_code}"],
        external_references=[{"source_name": "tollgate", "external_id": report.reference}],
        **_common(report, author, "report"),
    )
    definition = stix2.ExtensionDefinition(
        id=EXTENSION_ID,
        created_by_ref=author.id,
        name="Tollgate registry properties",
        description="Entity and link detail of the Tollgate registry that STIX has no "
        "property for.",
        schema=EXTENSION_SCHEMA,
        version="1.0.0",
        extension_types=["property-extension"],
    )
    markings = [
        TLP[c] for c in sorted({report.handling_code, *(o.handling_code for o in entities)})
    ]
    bundle = stix2.Bundle(objects=[author, definition, *markings, *objects, stix_report])
    out.bundle = json.loads(bundle.serialize())
    return out


def export_report(report_id, *, actor: Actor, justification) -> StixExport:
    """A report as a STIX 2.1 bundle, as ``actor`` may see it; one export trail row."""
    actor.require("entity.view")
    report = reports.get_report(report_id, actor=actor, log=False)
    justification = " ".join(str(justification or "").split())
    if not justification:
        raise ValidationError({"justification": "say why the report leaves Tollgate"})
    out = build_report_bundle(report, actor=actor)
    trail.record(
        actor,
        "export",
        "report",
        report.id,
        justification=justification[:2000],
        details={
            "format": "stix-2.1",
            "entities": out.entities[:500],
            "links": len(out.links),
            "left_out": out.left_out or None,
        },
    )
    return out


def check_object(obj, index: int) -> None:
    """Refuse an object that is not valid STIX 2.1, naming its place, id and the reason."""
    from stix2validator import ValidationOptions, validate_parsed_json  # slow to load: on use

    where = f"objects[{index}]"
    if not isinstance(obj, dict):
        raise ValidationError({where: "is not a STIX object (a JSON object)"})
    if isinstance(obj.get("id"), str):
        where = f"{where} {obj['id']}"
    try:
        result = validate_parsed_json(obj, ValidationOptions(version="2.1"))
    except Exception as exc:  # the validator itself trips over some hostile shapes
        raise ValidationError({where: f"is not valid STIX 2.1 ({type(exc).__name__})"}) from None
    if not result.is_valid:
        reason = "; ".join(str(getattr(e, "message", e)) for e in result.errors[:3])
        raise ValidationError({where: f"is not valid STIX 2.1: {reason}"})
