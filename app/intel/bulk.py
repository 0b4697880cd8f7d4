"""Bulk registration of entities and links for loaders (demo data, large imports).

The same validation, index rows (identifiers, name tokens, fingerprint), access-trail rows
and signals as ``service.create_entity`` and ``service.add_link``, but written with a few
multi-row statements instead of two flushes and a savepoint per record.

    batch = EntityBatch(actor)
    a = batch.entity("person", "Ivan Petrov", identifiers={"passport": "P1234567"})
    b = batch.entity("organisation", "Balkan Trading LLC")
    batch.link(a, b, "director_of", grade="1A")
    batch.write()          # a.id, b.id are set from here on

Entities are created without resolution candidates unless ``write(propose=True)``.
"""

from dataclasses import dataclass, field

from sqlalchemy import insert, select

from app.core import signals
from app.core.bulk import request_index_many, send_each, trail_many
from app.core.errors import ValidationError
from app.extensions import db
from app.intel.fingerprints import blocking_tokens
from app.intel.models import Entity, EntityIdentifier, EntityToken, Link
from app.intel.service import canonical, same_assertion
from app.intel.validation import new_entity, new_link_values
from app.security.access import Actor, can_see


@dataclass(eq=False)
class _Link:
    source: object
    target: object
    link_type: str
    values: dict = field(default_factory=dict)


class EntityBatch:
    """Entities and links collected in memory and written together by ``write``."""

    def __init__(self, actor: Actor):
        actor.require("entity.edit")
        self.actor = actor
        self.entities: list[Entity] = []
        self.links: list[_Link] = []

    def entity(self, entity_type, name, *, provenance=None, **fields) -> Entity:
        """A validated, not yet written entity (``id`` is None until ``write``); ``fields``
        as for ``service.create_entity`` (``validation.clean_entity``)."""
        entity = new_entity(entity_type, name, actor=self.actor, provenance=provenance, **fields)
        self.entities.append(entity)
        return entity

    def link(self, source, target, link_type, **fields) -> None:
        """Queue a link between two entities (of this batch or already stored); ``fields``
        as for ``service.add_link`` (provenance, dates, grade, owner: ``validation``)."""
        values = new_link_values(link_type, actor=self.actor, **fields)
        if source is target:
            raise ValidationError({"target_id": "an entity cannot be linked to itself"})
        self.links.append(_Link(source, target, values.pop("link_type"), values))

    def _stored_end(self, entity, field_name) -> Entity:
        """An end that was stored before this batch: visible and followed through merges."""
        if entity.id is None or (entity not in self._new and not can_see(self.actor, entity)):
            raise ValidationError({field_name: "no such entity"})
        return entity if entity in self._new else canonical(entity)

    def write(self, *, propose: bool = False) -> tuple[list[Entity], list[Link]]:
        """Insert everything; returns the new entities and the links actually created."""
        actor = self.actor
        new = list(self.entities)
        self._new = set(new)
        db.session.add_all(self.entities)
        db.session.flush()
        ids = [e.id for e in self.entities]
        ident_rows = [
            {"entity_id": e.id, "scheme": scheme, "value": value}
            for e in self.entities
            for scheme, value in (e.identifiers or {}).items()
        ]
        token_rows = [
            {"entity_id": e.id, "token": token}
            for e in self.entities
            for token in sorted({t[:60] for t in blocking_tokens([e.name, *(e.aliases or [])])})
        ]
        if ident_rows:
            db.session.execute(insert(EntityIdentifier), ident_rows)
        if token_rows:
            db.session.execute(insert(EntityToken), token_rows)
        trail_many(actor, "create", "entity", ids)
        request_index_many("entity", ids)
        # every new entity is screened against the active lists (issue 20), as one by one
        send_each(signals.entity_created, [{"entity": e, "actor": actor} for e in self.entities])
        if propose:
            from app.intel.resolution import propose_candidates

            for entity in self.entities:
                propose_candidates(entity)

        links, seen = [], set()
        for pending in self.links:
            source = self._stored_end(pending.source, "source_id")
            target = self._stored_end(pending.target, "target_id")
            if source.id == target.id:
                raise ValidationError({"target_id": "an entity cannot be linked to itself"})
            v = pending.values
            key = (
                source.id,
                target.id,
                pending.link_type,
                v["provenance_type"],
                v["provenance_id"],
            )
            if key in seen:
                continue  # the same assertion from the same provenance is kept once
            seen.add(key)
            if source not in self._new and target not in self._new and _link_exists(*key):
                continue
            links.append(
                Link(source_id=source.id, target_id=target.id, link_type=pending.link_type, **v)
            )
        if links:
            db.session.add_all(links)
            db.session.flush()
            trail_many(actor, "create", "link", [link.id for link in links])
            send_each(signals.link_created, [{"link": link, "actor": actor} for link in links])
        db.session.flush()
        self.links = []
        self.entities = []
        return new, links


def _link_exists(source_id, target_id, link_type, provenance_type, provenance_id) -> bool:
    stmt = select(Link.id).where(
        same_assertion(source_id, target_id, link_type, provenance_type, provenance_id)
    )
    return db.session.scalar(stmt.limit(1)) is not None
