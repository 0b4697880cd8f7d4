"""Entity registry, links and mentions: the services every domain calls.

Entities of handling code P are shared by every domain; code C entities stay within their
unit (and shares). A link is visible when the link itself and both its ends are visible.
"""

from sqlalchemy import and_, case, func, or_, select
from sqlalchemy.orm import aliased

from app.core import signals
from app.core.database import valid_id
from app.core.errors import ValidationError
from app.extensions import db
from app.intel import identifiers, validation
from app.intel.fingerprints import blocking_tokens, fingerprint
from app.intel.models import (
    Entity,
    EntityIdentifier,
    EntityMention,
    EntityToken,
    Link,
)
from app.security import trail
from app.security.access import Actor, NotFound, can_see, get_for, visible_clause
from app.security.seams import restricted_label

# The checks live in app.intel.validation (one source for every way into the registry); the
# old private names stay for this domain's callers.
SCHEMES_BY_TYPE = validation.SCHEMES_BY_TYPE
MAX_NAME = validation.MAX_NAME
_clean_text_list = validation.clean_text_list
_check_type = validation.check_type
_check_identifiers = validation.check_identifiers
_check_handling = validation.check_handling
_check_date = validation.check_date


class DuplicateIdentifier(ValidationError):
    """An identifier being registered is already held by an entity the actor may see: the
    existing entity is offered (``existing``) instead of a silent duplicate. A holder the actor
    may not see is never reported (no existence oracle): registration goes on as if none."""

    def __init__(self, existing, scheme: str):
        self.existing = existing
        self.scheme = scheme
        label = f"{existing.type_label} {existing.name}"
        super().__init__({f"identifiers.{scheme}": f"already registered as {label}"})


def registered_holder(clean_ids: dict, *, actor: Actor) -> tuple[str, Entity] | None:
    """(scheme, surviving entity) of the first normalised identifier already registered on an
    entity ``actor`` may see; None when none is, or only on entities they may not see."""
    for scheme, value in sorted((clean_ids or {}).items()):
        holders = db.session.scalars(
            select(EntityIdentifier.entity_id)
            .where(EntityIdentifier.scheme == scheme, EntityIdentifier.value == value)
            .order_by(EntityIdentifier.entity_id)
        ).all()
        for entity_id in holders:
            holder = canonical(db.session.get(Entity, entity_id))
            if can_see(actor, holder):
                return scheme, holder
    return None


def request_index(record_type: str, record_id: int) -> None:
    signals.search_index_requested.send(None, record_type=record_type, record_id=record_id)


def _sync_index_rows(entity: Entity) -> None:
    """Keep the identifier and token look-up tables in line with the entity."""
    have = {
        r.scheme: r
        for r in db.session.scalars(
            select(EntityIdentifier).where(EntityIdentifier.entity_id == entity.id)
        )
    }
    for scheme, value in (entity.identifiers or {}).items():
        row = have.pop(scheme, None)
        if row is None:
            db.session.add(EntityIdentifier(entity_id=entity.id, scheme=scheme, value=value))
        elif row.value != value:
            row.value = value
    for row in have.values():
        db.session.delete(row)
    wanted = blocking_tokens([entity.name, *(entity.aliases or [])])
    tok_rows = {
        r.token: r
        for r in db.session.scalars(select(EntityToken).where(EntityToken.entity_id == entity.id))
    }
    for token in wanted - set(tok_rows):
        db.session.add(EntityToken(entity_id=entity.id, token=token[:60]))
    for token in set(tok_rows) - wanted:
        db.session.delete(tok_rows[token])
    entity.fingerprint = fingerprint(entity.name)


def create_entity(
    entity_type,
    name,
    *,
    actor: Actor,
    provenance=None,
    propose=True,
    duplicate_reason=None,
    **fields,
) -> Entity:
    """Register an entity (validated identifiers) and propose resolution candidates.

    An identifier already held by an entity the actor may see raises DuplicateIdentifier
    unless ``duplicate_reason`` says why a second entity is wanted (kept in the trail).
    ``fields``: ``aliases``, ``identifiers``, ``attributes``, ``roles``, ``unit_id``,
    ``handling_code``, ``handling_conditions`` (validated by ``validation.clean_entity``)."""
    actor.require("entity.edit")
    entity = validation.new_entity(entity_type, name, actor=actor, provenance=provenance, **fields)
    duplicate_reason = " ".join(str(duplicate_reason or "").split())[:500]
    held = registered_holder(entity.identifiers, actor=actor)
    if held is not None and not duplicate_reason:
        raise DuplicateIdentifier(held[1], held[0])
    db.session.add(entity)
    db.session.flush()
    _sync_index_rows(entity)
    db.session.flush()
    trail.record(
        actor,
        "create",
        "entity",
        entity.id,
        details={"duplicate_of": held[1].id, "identifier": held[0], "reason": duplicate_reason}
        if held is not None
        else None,
    )
    request_index("entity", entity.id)
    signals.entity_created.send(None, entity=entity, actor=actor)  # screening (issue 20)
    if propose:
        from app.intel.resolution import propose_candidates

        propose_candidates(entity)
    return entity


def update_entity(
    entity: Entity,
    *,
    actor: Actor,
    name=None,
    aliases=None,
    identifiers=None,
    attributes=None,
    handling_code=None,
    handling_conditions=None,
) -> Entity:
    """Edit an entity the actor can see; identifiers are re-validated."""
    actor.require("entity.edit")
    if not can_see(actor, entity):
        raise NotFound()
    if name is not None:
        name = " ".join(name.split())
        if not name:
            raise ValidationError({"name": "is required"})
        entity.name = name[:MAX_NAME]
    if aliases is not None:
        entity.aliases = _clean_text_list(aliases, "aliases")
    if identifiers is not None:
        entity.identifiers = _check_identifiers(entity.entity_type, identifiers)
    if attributes is not None:
        entity.attributes = dict(attributes)
    if handling_code is not None:
        entity.handling_code = _check_handling(handling_code, entity.unit_id)
    if handling_conditions is not None:
        entity.handling_conditions = handling_conditions or None
    _sync_index_rows(entity)
    db.session.flush()
    trail.record(actor, "update", "entity", entity.id)
    request_index("entity", entity.id)
    return entity


def canonical(entity: Entity) -> Entity:
    """Follow merges to the surviving entity."""
    seen = set()
    while entity.merged_into_id is not None and entity.id not in seen:
        seen.add(entity.id)
        entity = db.session.get(Entity, entity.merged_into_id)
    return entity


def survivor_for(entity: Entity, *, actor: Actor) -> tuple[Entity | None, str | None]:
    """Where a merged entity went, as ``actor`` may know it: ``(survivor, None)`` when they
    may open the survivor, else ``(None, "a restricted record of <unit>")`` (seam rule)."""
    if entity.merged_into_id is None:
        return None, None
    survivor = canonical(entity)
    if can_see(actor, survivor):
        return survivor, None
    return None, restricted_label(survivor)


def find_by_identifier(scheme: str, value) -> Entity | None:
    """The (surviving) entity holding an identifier, by indexed look-up; no access check."""
    value = identifiers.normalise(scheme, value)
    row = db.session.execute(
        select(EntityIdentifier.entity_id)
        .where(EntityIdentifier.scheme == scheme, EntityIdentifier.value == value)
        .order_by(EntityIdentifier.entity_id)
        .limit(1)
    ).first()
    return canonical(db.session.get(Entity, row.entity_id)) if row else None


def ensure_organisation(scheme, identifier, name=None, *, actor: Actor, roles=None) -> Entity:
    """Deterministic identity: the organisation holding ``scheme:identifier``, created if new.

    Called for every declaration's traders, so the existing case is one indexed query.
    Organisations registered this way are handling code P (they come from declarations).
    """
    existing = find_by_identifier(scheme, identifier)
    if existing is not None:
        if roles:
            missing = [r for r in roles if r not in (existing.roles or [])]
            if missing:
                existing.roles = [*(existing.roles or []), *missing]
        return existing
    value = identifiers.normalise(scheme, identifier)
    # A placeholder name ("TRADER_CODE T1") says nothing about identity: no fuzzy candidates.
    return create_entity(
        "organisation",
        name or f"{scheme.upper()} {value}",
        actor=actor,
        identifiers={scheme: value},
        roles=roles,
        unit_id=actor.unit_id,
        handling_code="P",
        propose=bool(name),
    )


def get_entity(entity_id, *, actor: Actor, log: bool = True) -> Entity:
    """Load an entity within need-to-know (trail "view")."""
    return get_for(actor, Entity, entity_id, permission="entity.view", log=log)


def entity_query(actor: Actor, *, types=None, include_merged=False):
    """SELECT of the entities the actor may see (for lists; filter before counting)."""
    actor.require("entity.view")
    stmt = select(Entity).where(visible_clause(actor, Entity))
    if not include_merged:
        stmt = stmt.where(Entity.merged_into_id.is_(None))
    if types:
        stmt = stmt.where(Entity.entity_type.in_(list(types)))
    return stmt


def find_entities(query, *, actor: Actor, types=None, limit=20) -> list[Entity]:
    """Entities whose name, alias token or identifier matches ``query`` (pickers)."""
    query = " ".join(str(query or "").split())
    if not query:
        return []
    stmt = entity_query(actor, types=types)
    compact = query.replace(" ", "").upper()
    by_identifier = select(EntityIdentifier.entity_id).where(
        or_(EntityIdentifier.value == compact, EntityIdentifier.value == query.lower())
    )
    conditions = [
        Entity.id.in_(by_identifier),
        Entity.name.ilike(f"%{_escape(query)}%", escape="\\"),
    ]
    toks = blocking_tokens([query])
    if toks:
        # every token of the query starts a token of the name or of an alias
        conditions.append(
            and_(
                *[
                    Entity.id.in_(
                        select(EntityToken.entity_id).where(
                            EntityToken.token.like(f"{_escape(t)}%", escape="\\")
                        )
                    )
                    for t in toks
                ]
            )
        )
    # exact (name or identifier), then name prefix, then any other match, across all types
    rank = case(
        (or_(func.lower(Entity.name) == query.lower(), Entity.id.in_(by_identifier)), 0),
        (Entity.name.ilike(f"{_escape(query)}%", escape="\\"), 1),
        else_=2,
    )
    stmt = stmt.where(or_(*conditions)).order_by(rank, Entity.name, Entity.id).limit(limit)
    return list(db.session.scalars(stmt))


def _escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def same_assertion(source_id, target_id, link_type, provenance_type, provenance_id):
    """The links saying the same thing from the same provenance (kept once)."""
    return and_(
        Link.source_id == source_id,
        Link.target_id == target_id,
        Link.link_type == link_type,
        Link.provenance_type.is_(None)
        if provenance_type is None
        else Link.provenance_type == provenance_type,
        Link.provenance_id.is_(None)
        if provenance_id is None
        else Link.provenance_id == provenance_id,
    )


def add_link(
    source_id,
    target_id,
    link_type,
    *,
    actor: Actor,
    provenance_type=None,
    provenance_id=None,
    **fields,
) -> Link:
    """Link two visible entities; the same assertion from the same provenance is kept once.
    ``fields``: ``start_date``, ``end_date``, ``grade``, ``unit_id``, ``handling_code``
    (validated by ``validation.clean_link``)."""
    actor.require("entity.edit")
    validation.check_link_type(link_type)  # the type first, then the ends, then the rest
    errors = {}
    ends = {}
    for field, entity_id in (("source_id", source_id), ("target_id", target_id)):
        entity = db.session.get(Entity, entity_id) if valid_id(entity_id) else None
        if entity is None or not can_see(actor, entity):
            errors[field] = "no such entity"
        else:
            ends[field] = canonical(entity)
    if errors:
        raise ValidationError(errors)
    if ends["source_id"].id == ends["target_id"].id:
        raise ValidationError({"target_id": "an entity cannot be linked to itself"})
    values = validation.new_link_values(
        link_type,
        actor=actor,
        provenance_type=provenance_type,
        provenance_id=provenance_id,
        **fields,
    )
    existing = db.session.scalar(
        select(Link)
        .where(
            same_assertion(
                ends["source_id"].id,
                ends["target_id"].id,
                link_type,
                provenance_type,
                provenance_id,
            )
        )
        .limit(1)
    )
    if existing is not None:
        return existing
    link = Link(source_id=ends["source_id"].id, target_id=ends["target_id"].id, **values)
    db.session.add(link)
    db.session.flush()
    trail.record(actor, "create", "link", link.id)
    signals.link_created.send(None, link=link, actor=actor)
    return link


def link_query(actor: Actor):
    """SELECT of links the actor may see, with both ends visible and not merged away."""
    src, tgt = aliased(Entity), aliased(Entity)
    return (
        select(Link)
        .join(src, src.id == Link.source_id)
        .join(tgt, tgt.id == Link.target_id)
        .where(visible_clause(actor, Link), visible_clause(actor, src), visible_clause(actor, tgt))
    )


def links_of(entity: Entity, *, actor: Actor) -> list[Link]:
    stmt = link_query(actor).where(or_(Link.source_id == entity.id, Link.target_id == entity.id))
    return list(db.session.scalars(stmt.order_by(Link.link_type, Link.id)))


def record_mention(entity_id, record_type, record_id, role, *, actor: Actor) -> EntityMention:
    """Store that a record mentions the entity (kept once per role); sends entity_mentioned."""
    entity = db.session.get(Entity, entity_id)
    if entity is None:
        raise ValidationError({"entity_id": "no such entity"})
    entity = canonical(entity)
    role = str(role or "")[:40]
    mention = db.session.scalar(
        select(EntityMention).where(
            EntityMention.entity_id == entity.id,
            EntityMention.record_type == record_type,
            EntityMention.record_id == record_id,
            EntityMention.role == role,
        )
    )
    if mention is None:
        mention = EntityMention(
            entity_id=entity.id,
            record_type=record_type,
            record_id=record_id,
            role=role,
            created_by_id=actor.user_id,
        )
        db.session.add(mention)
        db.session.flush()
    signals.entity_mentioned.send(
        None,
        entity_id=entity.id,
        record_type=record_type,
        record_id=record_id,
        role=role,
        actor=actor,
    )
    return mention


def mentions_of(entity: Entity) -> list[EntityMention]:
    """Every record that mentions the entity (the caller resolves their visibility)."""
    return list(
        db.session.scalars(
            select(EntityMention)
            .where(EntityMention.entity_id == entity.id)
            .order_by(EntityMention.record_type, EntityMention.record_id)
        )
    )


def entities_mentioned_by(record_type: str, record_id: int, *, actor: Actor) -> list:
    """(entity, role) pairs a record mentions, limited to entities the actor may see."""
    stmt = (
        select(Entity, EntityMention.role)
        .join(EntityMention, EntityMention.entity_id == Entity.id)
        .where(
            EntityMention.record_type == record_type,
            EntityMention.record_id == record_id,
            visible_clause(actor, Entity),
        )
    )
    return list(db.session.execute(stmt.order_by(Entity.name)).all())


def record_search(actor: Actor, record_type: str, query: str | None, **details) -> None:
    """One trail row for a list, search or look-up request, never one per row returned:
    who looked for what (``query``) and how much they got back (``details``)."""
    trail.record(actor, "search", record_type, None, query=query or None, details=details or None)


def entity_summary(entity: Entity) -> dict:
    return {
        "id": entity.id,
        "type": entity.entity_type,
        "name": entity.name,
        "identifiers": dict(entity.identifiers or {}),
    }


def trader_facts(entity_ids, *, actor: Actor) -> dict[int, dict]:
    """Entity id -> {"name", "links", "cases"} for the entities the actor may see: the name,
    how many visible links the registry holds on it, how many cases mention it (read only,
    for the audit selection; unseen entities are left out)."""
    from sqlalchemy import func

    ids = sorted({int(i) for i in entity_ids if i})
    out: dict[int, dict] = {}
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        for entity_id, name in db.session.execute(
            select(Entity.id, Entity.name).where(
                Entity.id.in_(chunk), visible_clause(actor, Entity)
            )
        ):
            out[entity_id] = {"name": name, "links": 0, "cases": 0}
    if not out:
        return out
    seen = sorted(out)
    for start in range(0, len(seen), 500):
        chunk = seen[start : start + 500]
        for column in (Link.source_id, Link.target_id):
            rows = db.session.execute(
                link_query(actor)
                .with_only_columns(column, func.count())
                .where(column.in_(chunk))
                .group_by(column)
            )
            for entity_id, count in rows:
                out[entity_id]["links"] += count
        rows = db.session.execute(
            select(EntityMention.entity_id, func.count(func.distinct(EntityMention.record_id)))
            .where(EntityMention.entity_id.in_(chunk), EntityMention.record_type == "case")
            .group_by(EntityMention.entity_id)
        )
        for entity_id, count in rows:
            out[entity_id]["cases"] = count
    return out
