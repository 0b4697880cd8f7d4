"""Export of a chart or of an entity's neighbourhood as FollowTheMoney line-delimited JSON.

Only what the exporter may see leaves: the entities and links come from
``app.intel.subgraph`` (need-to-know applied in the query, so a restricted neighbour is left
out, not renamed), every export needs a justification and writes one ``export`` trail row
naming what it carried. Each line carries the record's handling code (``handling_code``) and
a link's grade (``grade``); the mapping is ``app.exchange.ftm_map``.
"""

from dataclasses import dataclass, field

from app.core.errors import ValidationError
from app.core.ftm import model
from app.exchange import ftm
from app.exchange.ftm_map import (
    ATTRIBUTE_PROPS,
    IDENTIFIER_PROPS,
    TYPE_SCHEMATA,
    link_schema,
)
from app.intel import subgraph
from app.security import trail
from app.security.access import Actor


@dataclass
class FtmExport:
    lines: list[str] = field(default_factory=list)
    entities: list[int] = field(default_factory=list)
    links: list[int] = field(default_factory=list)
    #: entity type -> how many were left out (no FtM schema)
    left_out: dict[str, int] = field(default_factory=dict)

    @property
    def body(self) -> bytes:
        return "".join(line + "\n" for line in self.lines).encode("utf-8")


def entity_ftm_id(entity_id: int) -> str:
    return f"tollgate-entity-{entity_id}"


def _add(proxy, prop: str, values) -> None:
    values = values if isinstance(values, list | tuple) else [values]
    for value in values:
        if value not in (None, ""):
            # cleaned by the property's type (dates, countries); a value it refuses is dropped
            proxy.add(prop, str(value), quiet=True)


def entity_proxy(entity):
    """The FtM proxy of an entity, and Identification proxies for identifiers of schemes
    its schema has no property for."""
    schema = TYPE_SCHEMATA[entity.entity_type]
    proxy = model.make_entity(schema)
    proxy.id = entity_ftm_id(entity.id)
    _add(proxy, "full" if schema == "Address" else "name", entity.name)
    if schema == "Address":
        _add(proxy, "name", entity.name)
    _add(proxy, "alias", list(entity.aliases or []))
    props = IDENTIFIER_PROPS.get(entity.entity_type, {})
    extra = []
    for scheme, value in sorted((entity.identifiers or {}).items()):
        if scheme in props:
            _add(proxy, props[scheme], value)
        else:
            ident = model.make_entity("Identification")
            ident.id = f"{proxy.id}-{scheme}"
            ident.add("holder", proxy.id)
            ident.add("type", scheme)
            ident.add("number", value)
            extra.append(ident)
    notes = []
    for key, value in sorted((entity.attributes or {}).items()):
        prop = ATTRIBUTE_PROPS.get(key, key)
        if prop in proxy.schema.properties and not proxy.schema.properties[prop].stub:
            _add(proxy, prop, value)
        else:
            notes.append(f"{key}: {value}")
    _add(proxy, "notes", notes)
    return proxy, extra


def link_proxy(link):
    schema, source, target, extra = link_schema(link.link_type)
    proxy = model.make_entity(schema)
    proxy.id = f"tollgate-link-{link.id}"
    proxy.add(source, entity_ftm_id(link.source_id))
    proxy.add(target, entity_ftm_id(link.target_id))
    for prop, values in extra.items():
        proxy.add(prop, values)
    if link.start_date:
        proxy.add("startDate", link.start_date.isoformat())
    if link.end_date:
        proxy.add("endDate", link.end_date.isoformat())
    return proxy


def build(entity_ids, *, actor: Actor) -> FtmExport:
    """The FtM lines of the visible part of ``entity_ids`` (no trail row: ``export`` writes
    it)."""
    entities, links = subgraph.visible_subgraph(entity_ids, actor=actor)
    out = FtmExport()
    written = set()
    for entity in entities:
        if entity.entity_type not in TYPE_SCHEMATA:
            out.left_out[entity.entity_type] = out.left_out.get(entity.entity_type, 0) + 1
            continue
        proxy, extra = entity_proxy(entity)
        out.lines.append(ftm.dumps(proxy, handling_code=entity.handling_code))
        out.lines.extend(ftm.dumps(e, handling_code=entity.handling_code) for e in extra)
        out.entities.append(entity.id)
        written.add(entity.id)
    for link in links:
        if link.source_id in written and link.target_id in written:
            out.lines.append(
                ftm.dumps(link_proxy(link), handling_code=link.handling_code, grade=link.grade)
            )
            out.links.append(link.id)
    return out


def export(entity_ids, *, actor: Actor, justification, what: str) -> FtmExport:
    """Export entities and the links among them, as ``actor`` may see them; ``what`` says
    what was exported ("chart", "neighbourhood of entity 12") in the trail."""
    actor.require("entity.view")
    justification = " ".join(str(justification or "").split())
    if not justification:
        raise ValidationError({"justification": "say why these records leave Tollgate"})
    out = build(entity_ids, actor=actor)
    if not out.entities:
        raise ValidationError({"nodes": "nothing you may export: no entity you may see"})
    trail.record(
        actor,
        "export",
        "entity",
        None,
        justification=justification[:2000],
        details={
            "format": "ftm",
            "what": what,
            "entities": out.entities[:500],
            "count": len(out.entities),
            "links": len(out.links),
            "left_out": out.left_out or None,
        },
    )
    return out


def export_neighbourhood(entity_id, *, actor: Actor, justification) -> FtmExport:
    """An entity and its visible neighbours, with the visible links among them."""
    actor.require("entity.view")
    ids = subgraph.neighbourhood_ids(entity_id, actor=actor)
    return export(ids, actor=actor, justification=justification, what=f"neighbourhood:{ids[0]}")
