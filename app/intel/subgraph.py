"""Part of the registry as the actor may see it, for exports (FtM, STIX) and other domains.

Reads through ``service.entity_query`` and ``service.link_query``: an entity or a link the
actor may not see is not in the answer at all (left out, never renamed), and a link is there
only when the link and both its ends are visible.
"""

from sqlalchemy import or_

from app.extensions import db
from app.intel import service
from app.intel.models import Entity, Link
from app.security.access import Actor

#: the most entities one export reads
MAX_ENTITIES = 5_000
_CHUNK = 900


def visible_subgraph(entity_ids, *, actor: Actor) -> tuple[list[Entity], list[Link]]:
    """The visible, unmerged entities among ``entity_ids`` and the visible links among
    them, in id order."""
    ids = sorted({int(i) for i in entity_ids})[:MAX_ENTITIES]
    entities: dict[int, Entity] = {}
    for start in range(0, len(ids), _CHUNK):
        chunk = ids[start : start + _CHUNK]
        for entity in db.session.scalars(service.entity_query(actor).where(Entity.id.in_(chunk))):
            entities[entity.id] = entity
    present = sorted(entities)
    links: dict[int, Link] = {}
    for start in range(0, len(present), _CHUNK):
        chunk = present[start : start + _CHUNK]
        stmt = service.link_query(actor).where(
            or_(Link.source_id.in_(chunk), Link.target_id.in_(chunk))
        )
        for link in db.session.scalars(stmt):
            if link.source_id in entities and link.target_id in entities:
                links[link.id] = link
    return [entities[i] for i in present], [links[i] for i in sorted(links)]


def neighbourhood_ids(entity_id: int, *, actor: Actor, limit: int = MAX_ENTITIES) -> list[int]:
    """The entity (which the actor must be able to open: 404 otherwise) and its visible
    neighbours, at most ``limit``."""
    entity = service.get_entity(entity_id, actor=actor, log=False)
    stmt = (
        service.link_query(actor)
        .where(or_(Link.source_id == entity.id, Link.target_id == entity.id))
        .with_only_columns(Link.source_id, Link.target_id)
        .order_by(Link.id)
    )
    ids = [entity.id]
    for source_id, target_id in db.session.execute(stmt):
        other = target_id if source_id == entity.id else source_id
        if other not in ids:
            ids.append(other)
        if len(ids) >= limit:
            break
    return ids


def links_asserted_by(provenance_type: str, provenance_id: int, *, actor: Actor) -> list[Link]:
    """The visible links a record (a report) asserts, in id order."""
    stmt = service.link_query(actor).where(
        Link.provenance_type == provenance_type, Link.provenance_id == provenance_id
    )
    return list(db.session.scalars(stmt.order_by(Link.id)))
