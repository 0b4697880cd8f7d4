"""Parties of a case: entities of the registry in a role, mentioned and linked to each other
with the case as provenance; and the cases that share them."""

from sqlalchemy import select

from app.cases import catalog, fields
from app.cases.models import Case, CaseParty
from app.cases.service import (
    _case_for_edit,
    _request_index,
    _require_open,
    journal,
)
from app.core.errors import ValidationError
from app.extensions import db
from app.security import trail
from app.security.access import Actor, NotFound

# --- parties (entities of the registry) ----------------------------------------------


def _attach_party(case: Case, entity, role: str, actor: Actor) -> CaseParty:
    from app.intel import service as intel

    existing = db.session.scalar(
        select(CaseParty).where(
            CaseParty.case_id == case.id, CaseParty.entity_id == entity.id, CaseParty.role == role
        )
    )
    if existing is not None:
        return existing
    others = db.session.execute(
        select(CaseParty.entity_id, CaseParty.role)
        .where(CaseParty.case_id == case.id, CaseParty.entity_id != entity.id)
        .order_by(CaseParty.id)
    ).all()
    party = CaseParty(
        case=case,
        entity_id=entity.id,
        role=role,
        entity_type=entity.entity_type,
        entity_name=entity.name,
    )
    db.session.add(party)
    db.session.flush()
    intel.record_mention(entity.id, "case", case.id, role, actor=actor)
    # Links between co-parties are derived from the case, which the actor may edit; an actor
    # without entity.edit (an auditor, an API client) still gets them, recorded as derived.
    link_actor = (
        actor if actor.can("entity.edit") else Actor.system(f"case-parties ({actor.username})")
    )
    linked = set()
    for other_id, other_role in others:
        if other_id in linked:
            continue
        linked.add(other_id)
        source, target, link_type = _party_link(other_id, other_role, entity.id, role)
        intel.add_link(
            source,
            target,
            link_type,
            actor=link_actor,
            provenance_type="case",
            provenance_id=case.id,
            unit_id=case.unit_id,
            handling_code=case.handling_code,
        )
    journal(
        case,
        actor,
        "party",
        f"{catalog.PARTY_ROLES.get(role, role)} added: {entity.name} ({entity.entity_type}).",
    )
    _request_index(case)
    return party


def _party_link(a_id, a_role, b_id, b_role) -> tuple[int, int, str]:
    """The link two parties of one case get: a driver drives the vehicle, suspects are
    co-accused, anyone else is an associate (provenance: the case)."""
    if {a_role, b_role} == {"driver", "vehicle"}:
        return (a_id, b_id, "drives") if a_role == "driver" else (b_id, a_id, "drives")
    if a_role == b_role == "suspect":
        return a_id, b_id, "co_accused"
    return a_id, b_id, "associate_of"


def add_party(
    case_id, *, actor: Actor, role, entity_id=None, new_entity=None, _name="party", _log=True
) -> CaseParty:
    """Add an entity of the registry in ``role``; ``new_entity`` ({"type", "name",
    "identifiers"}) creates it on the spot. Parties of one case are linked to each other."""
    from app.intel import service as intel

    case = _case_for_edit(case_id, actor, log=_log)
    _require_open(case)
    role = fields.choice(role, f"{_name}.role", catalog.PARTY_ROLES, required=True)
    if new_entity:
        if not isinstance(new_entity, dict):
            raise ValidationError({f"{_name}.new_entity": "must be an object"})
        actor.require("entity.edit")
        try:
            entity = intel.create_entity(
                new_entity.get("type"),
                new_entity.get("name"),
                actor=actor,
                identifiers=new_entity.get("identifiers") or None,
                unit_id=case.unit_id,
                handling_code=case.handling_code,
                provenance=("case", case.id),
            )
        except ValidationError as exc:
            raise ValidationError(
                {f"{_name}.new_entity.{k}": v for k, v in exc.fields.items()}
            ) from None
    else:
        eid = fields.integer(entity_id, f"{_name}.entity_id", required=True, minimum=1)
        try:
            entity = intel.get_entity(eid, actor=actor)
        except NotFound:
            raise ValidationError({f"{_name}.entity_id": "no such entity"}) from None
    return _attach_party(case, entity, role, actor)


def remove_party(case_id, party_id, *, actor: Actor) -> None:
    case = _case_for_edit(case_id, actor)
    _require_open(case)
    party = db.session.get(CaseParty, fields.integer(party_id, "party_id", required=True))
    if party is None or party.case_id != case.id:
        raise ValidationError({"party_id": "no such party in this case"})
    journal(
        case,
        actor,
        "party",
        f"{catalog.PARTY_ROLES.get(party.role, party.role)} removed: {party.entity_name}.",
    )
    db.session.delete(party)
    db.session.flush()


def similar_cases(case: Case, *, actor: Actor, limit=8) -> list[tuple[Case, str]]:
    """Other visible cases sharing a party, the conveyance or the declaration, with why."""
    from app.cases.queries import case_visible

    found: dict[int, tuple[Case, str]] = {}
    entity_ids = [p.entity_id for p in case.parties]
    base = select(Case).where(
        Case.id != case.id, Case.merged_into_id.is_(None), case_visible(actor)
    )
    if entity_ids:
        rows = db.session.execute(
            base.add_columns(CaseParty.entity_name)
            .join(CaseParty, CaseParty.case_id == Case.id)
            .where(CaseParty.entity_id.in_(entity_ids))
            .order_by(Case.event_dt.desc())
            .limit(limit)
        ).all()
        for other, name in rows:
            found.setdefault(other.id, (other, f"same party: {name}"))
    for column, label in (
        (Case.conveyance, "same conveyance"),
        (Case.declaration_number, "same declaration"),
    ):
        value = getattr(case, column.key)
        if value and len(found) < limit:
            for other in db.session.scalars(
                base.where(column == value).order_by(Case.event_dt.desc()).limit(limit)
            ):
                found.setdefault(other.id, (other, f"{label}: {value}"))
    result = list(found.values())[:limit]
    if result:
        # Showing other cases' titles is a consultation of those records, like a list.
        trail.record(
            actor,
            "search",
            "case",
            None,
            query=f"similar to {case.reference}",
            details={"ids": [c.id for c, _ in result]},
        )
    return result
