"""Entity resolution (after Aleph's cross-referencing): candidates, scores, judgements, merges.

Candidates come from shared identifiers and from shared name tokens (blocking); a token
held by too many entities is ignored for blocking, like MISP's over-correlation cap. Nothing
is merged automatically: the analyst judges each pair (merge / not the same / unsure) and
the judgement is kept, so a rejected pair is never proposed again.
"""

from rapidfuzz import fuzz
from sqlalchemy import func, select

from app.core.errors import ValidationError
from app.core.time import now_utc
from app.extensions import db
from app.intel.fingerprints import blocking_tokens
from app.intel.models import (
    Entity,
    EntityIdentifier,
    EntityMatch,
    EntityMention,
    EntityMerge,
    EntityToken,
    Link,
)
from app.security import trail
from app.security.access import Actor, NotFound, can_see, visible_clause
from app.security.handling import combine_handling, restore_handling
from app.security.seams import record_label, restricted_label

#: a token shared by more entities than this is too common to block on
TOKEN_CAP = 200
#: candidates scoring below this are not shown
PROPOSE_THRESHOLD = 60.0
MAX_CANDIDATES = 10
JUDGEMENTS = {"merge": "the same", "not_same": "not the same", "unsure": "unsure"}
#: schemes whose equality is strong evidence of identity
STRONG_SCHEMES = {
    "eori",
    "tin",
    "trader_code",
    "company_reg",
    "passport",
    "id_card",
    "national_id",
    "imo",
    "container",
    "iban",
    "vin",
    "plate",
    "aircraft_reg",
}


def name_score(a: Entity, b: Entity) -> float:
    """Best fuzzy score between any name or alias of a and of b (0..100)."""
    best = 0.0
    a_names = [a.name, *(a.aliases or [])]
    b_names = [b.name, *(b.aliases or [])]
    from app.intel.fingerprints import fingerprint

    for x in a_names:
        fx = fingerprint(x)
        for y in b_names:
            fy = fingerprint(y)
            best = max(best, fuzz.token_sort_ratio(fx, fy), 0.95 * fuzz.token_set_ratio(fx, fy))
    return best


def score_pair(a: Entity, b: Entity) -> tuple[float, list[str]]:
    """Score how likely two entities are the same, with the reasons."""
    reasons = []
    ids_a, ids_b = a.identifiers or {}, b.identifiers or {}
    shared = sorted(s for s in ids_a if s in ids_b and ids_a[s] == ids_b[s])
    conflicting = sorted(
        s for s in ids_a if s in ids_b and ids_a[s] != ids_b[s] and s in STRONG_SCHEMES
    )
    names = name_score(a, b)
    reasons.append(f"name similarity {names:.0f}")
    score = names * 0.7
    for scheme in shared:
        reasons.append(f"shared {scheme} {ids_a[scheme]}")
    if any(s in STRONG_SCHEMES for s in shared):
        score = max(score, 50.0) + 45.0
    elif shared:
        score += 15.0
    for scheme in conflicting:
        reasons.append(f"different {scheme}")
        score -= 40.0
    if a.entity_type != b.entity_type:
        reasons.append("different types")
        score -= 30.0
    return max(0.0, min(100.0, score)), reasons


def _blocked_candidates(entity: Entity) -> set[int]:
    ids = set()
    for scheme, value in (entity.identifiers or {}).items():
        ids.update(
            db.session.scalars(
                select(EntityIdentifier.entity_id).where(
                    EntityIdentifier.scheme == scheme, EntityIdentifier.value == value
                )
            )
        )
    toks = blocking_tokens([entity.name, *(entity.aliases or [])])
    if toks:
        counts = dict(
            db.session.execute(
                select(EntityToken.token, func.count())
                .where(EntityToken.token.in_(toks))
                .group_by(EntityToken.token)
            ).all()
        )
        usable = [t for t in toks if counts.get(t, 0) <= TOKEN_CAP]
        if usable:
            ids.update(
                db.session.scalars(
                    select(EntityToken.entity_id).where(EntityToken.token.in_(usable)).limit(5000)
                )
            )
    ids.discard(entity.id)
    return ids


def candidates_for(entity: Entity) -> list[tuple[Entity, float, list[str]]]:
    """Scored candidates for ``entity`` (no access filtering: callers filter)."""
    ids = _blocked_candidates(entity)
    if not ids:
        return []
    others = db.session.scalars(
        select(Entity).where(
            Entity.id.in_(ids), Entity.merged_into_id.is_(None), Entity.is_active.is_(True)
        )
    )
    scored = []
    for other in others:
        score, reasons = score_pair(entity, other)
        if score >= PROPOSE_THRESHOLD:
            scored.append((other, score, reasons))
    scored.sort(key=lambda t: -t[1])
    return scored[:MAX_CANDIDATES]


def _pair(a_id: int, b_id: int) -> tuple[int, int]:
    return (a_id, b_id) if a_id < b_id else (b_id, a_id)


def propose_candidates(entity: Entity) -> list[EntityMatch]:
    """Store pending matches for ``entity``; pairs already judged keep their judgement."""
    stored = []
    for other, score, reasons in candidates_for(entity):
        a_id, b_id = _pair(entity.id, other.id)
        match = db.session.scalar(
            select(EntityMatch).where(
                EntityMatch.entity_a_id == a_id, EntityMatch.entity_b_id == b_id
            )
        )
        if match is None:
            match = EntityMatch(
                entity_a_id=a_id, entity_b_id=b_id, score=round(score, 1), reasons=reasons
            )
            db.session.add(match)
        elif match.judgement is None:
            match.score, match.reasons = round(score, 1), reasons
        stored.append(match)
    db.session.flush()
    return stored


def pending_matches(actor: Actor, *, judgement=None, limit=100) -> list[EntityMatch]:
    """Matches to review (pending by default), both entities visible to the actor."""
    actor.require("entity.view")
    from sqlalchemy.orm import aliased

    ea, eb = aliased(Entity), aliased(Entity)
    stmt = (
        select(EntityMatch)
        .join(ea, ea.id == EntityMatch.entity_a_id)
        .join(eb, eb.id == EntityMatch.entity_b_id)
        .where(
            visible_clause(actor, ea),
            visible_clause(actor, eb),
            ea.merged_into_id.is_(None),
            eb.merged_into_id.is_(None),
        )
    )
    if judgement == "all":
        pass
    elif judgement:
        stmt = stmt.where(EntityMatch.judgement == judgement)
    else:
        stmt = stmt.where(EntityMatch.judgement.is_(None))
    return list(
        db.session.scalars(stmt.order_by(EntityMatch.score.desc(), EntityMatch.id).limit(limit))
    )


def judgement_for(a_id: int, b_id: int) -> str | None:
    a_id, b_id = _pair(a_id, b_id)
    return db.session.scalar(
        select(EntityMatch.judgement).where(
            EntityMatch.entity_a_id == a_id, EntityMatch.entity_b_id == b_id
        )
    )


def _visible_entity(actor, entity_id, field):
    entity = db.session.get(Entity, entity_id) if isinstance(entity_id, int) else None
    if entity is None or not can_see(actor, entity):
        raise ValidationError({field: "no such entity"})
    return entity


def decide(a_id: int, b_id: int, judgement: str, *, actor: Actor, survivor_id=None):
    """Record the analyst's judgement on a pair; "merge" merges into ``survivor_id``."""
    actor.require("entity.merge")
    if judgement not in JUDGEMENTS:
        raise ValidationError({"judgement": "must be merge, not_same or unsure"})
    a = _visible_entity(actor, a_id, "entity_a")
    b = _visible_entity(actor, b_id, "entity_b")
    lo, hi = _pair(a.id, b.id)
    match = db.session.scalar(
        select(EntityMatch).where(EntityMatch.entity_a_id == lo, EntityMatch.entity_b_id == hi)
    )
    if match is None:
        score, reasons = score_pair(a, b)
        match = EntityMatch(entity_a_id=lo, entity_b_id=hi, score=round(score, 1), reasons=reasons)
        db.session.add(match)
    match.judgement = judgement
    match.decided_by_id = actor.user_id
    match.decided_dt = now_utc()
    db.session.flush()
    trail.record(actor, "update", "entity", lo, details={"judgement": judgement, "other": hi})
    if judgement == "merge":
        survivor_id = survivor_id or lo
        if survivor_id not in (lo, hi):
            raise ValidationError({"survivor_id": "must be one of the pair"})
        merged_id = hi if survivor_id == lo else lo
        return merge_entities(survivor_id, merged_id, actor=actor)
    return match


def _check_mergeable(survivor: Entity, merged: Entity) -> None:
    if survivor.id == merged.id:
        raise ValidationError({"merged_id": "cannot merge an entity into itself"})
    if survivor.merged_into_id or merged.merged_into_id:
        raise ValidationError({"merged_id": "one of these entities was already merged"})
    if survivor.entity_type != merged.entity_type:
        raise ValidationError({"merged_id": "entities of different types cannot be merged"})
    if merged.is_restricted and merged.unit_id != survivor.unit_id:
        # Its names and identifiers would then belong to (and be shown to) the survivor's
        # unit: restricted facts never change owner by a merge.
        raise ValidationError(
            {
                "merged_id": "a code C entity can only be merged into an entity of its own "
                "unit: keep it as the survivor"
            }
        )


def _move_links_and_mentions(survivor: Entity, merged: Entity, moved: dict) -> None:
    """The merged entity's links and report mentions point at the survivor (ids kept in
    ``moved``)."""
    for link in db.session.scalars(
        select(Link).where((Link.source_id == merged.id) | (Link.target_id == merged.id))
    ):
        moved["links"][str(link.id)] = [link.source_id, link.target_id]
        if link.source_id == merged.id:
            link.source_id = survivor.id
        if link.target_id == merged.id:
            link.target_id = survivor.id
    for mention in db.session.scalars(
        select(EntityMention).where(EntityMention.entity_id == merged.id)
    ):
        moved["mentions"].append(mention.id)
        mention.entity_id = survivor.id


def _move_names_and_facts(survivor: Entity, merged: Entity, moved: dict) -> None:
    """Names become aliases; identifiers and attributes the survivor lacks are added (what
    was added is kept in ``moved``)."""
    aliases = list(survivor.aliases or [])
    for name in [merged.name, *(merged.aliases or [])]:
        if name != survivor.name and name not in aliases:
            aliases.append(name)
            moved["aliases"].append(name)
    survivor.aliases = aliases
    idents = dict(survivor.identifiers or {})
    for scheme, value in (merged.identifiers or {}).items():
        if scheme not in idents:
            idents[scheme] = value
            moved["identifiers"][scheme] = value
    survivor.identifiers = idents
    attrs = dict(survivor.attributes or {})
    for key, value in (merged.attributes or {}).items():
        if key not in attrs:
            attrs[key] = value
            moved["attributes"].append(key)
    survivor.attributes = attrs


def merge_entities(survivor_id: int, merged_id: int, *, actor: Actor) -> EntityMerge:
    """Fold ``merged`` into ``survivor``: links, mentions, aliases, identifiers move over.

    Everything moved is written down in an EntityMerge row so ``undo_merge`` restores it.
    """
    actor.require("entity.merge")
    survivor = _visible_entity(actor, survivor_id, "survivor_id")
    merged = _visible_entity(actor, merged_id, "merged_id")
    _check_mergeable(survivor, merged)
    moved = {"links": {}, "mentions": [], "aliases": [], "identifiers": {}, "attributes": []}
    # Stricter wins (as for cases): the survivor now holds the merged entity's facts, so it
    # takes on their handling code and conditions. Kept in ``moved`` for undo_merge.
    handling_before = combine_handling(survivor, merged)
    if handling_before is not None:
        moved["handling"] = {
            "before": handling_before,
            "after": {"code": survivor.handling_code, "conditions": survivor.handling_conditions},
        }
    _move_links_and_mentions(survivor, merged, moved)
    _move_names_and_facts(survivor, merged, moved)
    merged.merged_into_id = survivor.id
    merged.is_active = False
    from app.intel.service import _sync_index_rows, request_index

    db.session.flush()
    _sync_index_rows(survivor)
    row = EntityMerge(
        survivor_id=survivor.id, merged_id=merged.id, moved=moved, created_by_id=actor.user_id
    )
    db.session.add(row)
    db.session.flush()
    trail.record(
        actor, "update", "entity", survivor.id, details={"merge": merged.id, "merge_id": row.id}
    )
    trail.record(actor, "update", "entity", merged.id, details={"merged_into": survivor.id})
    request_index("entity", survivor.id)
    request_index("entity", merged.id)
    return row


def undo_merge(merge_id: int, *, actor: Actor) -> EntityMerge:
    """Put back exactly what a merge moved; the pair's judgement becomes "unsure"."""
    actor.require("entity.merge")
    row = db.session.get(EntityMerge, merge_id)
    if row is None:
        raise NotFound()
    survivor = db.session.get(Entity, row.survivor_id)
    merged = db.session.get(Entity, row.merged_id)
    if not (can_see(actor, survivor) and can_see(actor, merged)):
        raise NotFound()
    if row.undone_dt is not None:
        raise ValidationError({"merge": "this merge was already undone"})
    later = db.session.scalar(
        select(EntityMerge.id)
        .where(EntityMerge.survivor_id == merged.id, EntityMerge.undone_dt.is_(None))
        .limit(1)
    )
    if survivor.merged_into_id is not None or later:
        raise ValidationError({"merge": "undo the later merge involving these entities first"})
    for link_id, (source_id, target_id) in row.moved.get("links", {}).items():
        link = db.session.get(Link, int(link_id))
        if link is not None:
            link.source_id, link.target_id = source_id, target_id
    for mention_id in row.moved.get("mentions", []):
        mention = db.session.get(EntityMention, mention_id)
        if mention is not None:
            mention.entity_id = merged.id
    survivor.aliases = [a for a in (survivor.aliases or []) if a not in row.moved["aliases"]]
    survivor.identifiers = {
        k: v
        for k, v in (survivor.identifiers or {}).items()
        if k not in row.moved.get("identifiers", {})
    }
    survivor.attributes = {
        k: v
        for k, v in (survivor.attributes or {}).items()
        if k not in row.moved.get("attributes", [])
    }
    handling = row.moved.get("handling")
    if handling and handling["after"] == {
        "code": survivor.handling_code,
        "conditions": survivor.handling_conditions,
    }:
        # Back to the survivor's own handling, unless someone has changed it since the merge
        # (a deliberate later choice stands).
        restore_handling(survivor, handling["before"])
    merged.merged_into_id = None
    merged.is_active = True
    row.undone_dt = now_utc()
    from app.intel.service import _sync_index_rows, request_index

    db.session.flush()
    _sync_index_rows(survivor)
    lo, hi = _pair(survivor.id, merged.id)
    match = db.session.scalar(
        select(EntityMatch).where(EntityMatch.entity_a_id == lo, EntityMatch.entity_b_id == hi)
    )
    if match is not None:
        match.judgement, match.decided_by_id, match.decided_dt = "unsure", actor.user_id, now_utc()
    db.session.flush()
    trail.record(actor, "update", "entity", survivor.id, details={"undo_merge": row.id})
    request_index("entity", survivor.id)
    request_index("entity", merged.id)
    return row


def merges_for(entity: Entity, *, actor: Actor) -> list[tuple[EntityMerge, str, str, bool]]:
    """The entity's merges as ``actor`` may know them: ``(merge, merged label, survivor
    label, both visible)``; an end the actor may not open is not named, not even by id."""
    rows = merges_of(entity)
    ids = {i for m in rows for i in (m.merged_id, m.survivor_id)}
    ends = {e.id: e for e in db.session.scalars(select(Entity).where(Entity.id.in_(ids)))}
    out = []
    for m in rows:
        labels, visible = [], True
        for end_id in (m.merged_id, m.survivor_id):
            if can_see(actor, ends[end_id]):
                labels.append(f"#{end_id}")
            else:
                labels.append(restricted_label(ends[end_id]))
                visible = False
        out.append((m, labels[0], labels[1], visible))
    return out


def merges_of(entity: Entity) -> list[EntityMerge]:
    return list(
        db.session.scalars(
            select(EntityMerge)
            .where((EntityMerge.survivor_id == entity.id) | (EntityMerge.merged_id == entity.id))
            .order_by(EntityMerge.created_dt.desc())
        )
    )


#: the attributes the resolution queue compares, in the order shown
COMPARED = ("name", "aliases", "identifiers", "type", "handling", "links", "unit")


def _attributes(entity: Entity, actor: Actor) -> dict[str, str]:
    from app.intel.service import links_of
    from app.security.models import Unit

    unit = db.session.get(Unit, entity.unit_id) if entity.unit_id is not None else None
    handling = entity.handling_code or ""
    if entity.handling_conditions:
        handling += f" ({entity.handling_conditions})"
    return {
        "name": entity.name,
        "aliases": ", ".join(entity.aliases or []),
        "identifiers": ", ".join(f"{s} {v}" for s, v in sorted((entity.identifiers or {}).items())),
        "type": entity.entity_type,
        "handling": handling,
        "links": str(len(links_of(entity, actor=actor))),
        "unit": unit.code if unit else "",
    }


def compare_pair(actor: Actor, a: Entity, b: Entity) -> list[tuple[str, str, str, bool]]:
    """The pair side by side, attribute by attribute, as ``actor`` may read it:
    ``(attribute, value of a, value of b, differ)``. A record the actor may not open shows
    only the restricted description (seam rule), never its values."""
    sides = [
        {
            key: record_label(actor, record, value)
            for key, value in _attributes(record, actor).items()
        }
        for record in (a, b)
    ]
    return [(key, sides[0][key], sides[1][key], sides[0][key] != sides[1][key]) for key in COMPARED]


def register_into(existing_id: int, *, actor: Actor, reason, **entity) -> EntityMerge:
    """ "Merge into the existing entity" for a registration whose identifier is already held
    (issue 19): the record as typed is registered (its reason kept in the create trail row)
    and merged at once into ``existing_id`` through ``merge_entities`` (its names, identifiers
    and attributes join the existing entity; undoable from the merge history like any merge)."""
    from app.intel.service import create_entity

    actor.require("entity.merge")
    reason = " ".join(str(reason or "").split())
    if not reason:
        raise ValidationError({"duplicate_reason": "say why the record joins the existing entity"})
    existing = _visible_entity(actor, existing_id, "existing_id")
    new = create_entity(
        actor=actor,
        duplicate_reason=f"merged into entity {existing.id}: {reason}",
        propose=False,
        **entity,
    )
    try:
        return merge_entities(existing.id, new.id, actor=actor)
    except ValidationError as exc:
        # the merge's own field names mean nothing on the registration form
        raise ValidationError({"duplicate_reason": "; ".join(exc.fields.values())}) from None
