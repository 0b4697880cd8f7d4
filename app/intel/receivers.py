"""Signals the registry listens to: parties named together on a declaration become links."""

from sqlalchemy import select

from app.extensions import db
from app.intel.models import EntityMention, Link
from app.security.access import AccessDenied

#: (role mentioned, role already on the declaration) -> (link type, mentioned is the source)
DECLARATION_LINKS = {
    ("declarant", "importer"): ("declarant_for", True),
    ("importer", "declarant"): ("declarant_for", False),
    ("seller", "importer"): ("seller_to", True),
    ("importer", "seller"): ("seller_to", False),
    ("courier", "importer"): ("carrier_for", True),
    ("importer", "courier"): ("carrier_for", False),
}
_ROLES = {role for pair in DECLARATION_LINKS for role in pair}


def link_declaration_parties(sender, *, entity_id, record_type, record_id, role, actor=None, **_):
    """A declarant, seller or courier named with an importer is linked to it, once per pair
    (the first declaration that says so is the provenance)."""
    if record_type != "declaration" or role not in _ROLES or actor is None:
        return
    if not actor.can("entity.edit"):
        return
    from app.intel.service import add_link

    others = db.session.execute(
        select(EntityMention.entity_id, EntityMention.role).where(
            EntityMention.record_type == "declaration",
            EntityMention.record_id == record_id,
            EntityMention.entity_id != entity_id,
        )
    ).all()
    for other_id, other_role in others:
        rule = DECLARATION_LINKS.get((role, other_role))
        if rule is None:
            continue
        link_type, mentioned_is_source = rule
        source, target = (entity_id, other_id) if mentioned_is_source else (other_id, entity_id)
        known = db.session.scalar(
            select(Link.id)
            .where(
                Link.source_id == source,
                Link.target_id == target,
                Link.link_type == link_type,
                Link.provenance_type == "declaration",
            )
            .limit(1)
        )
        if known is None:
            try:
                add_link(
                    source,
                    target,
                    link_type,
                    actor=actor,
                    provenance_type="declaration",
                    provenance_id=record_id,
                )
            except AccessDenied:
                return


def connect():
    from app.core import signals

    signals.entity_mentioned.connect(link_declaration_parties, weak=False)
