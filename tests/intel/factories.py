"""Factories of the intelligence domain."""

from app.intel import service
from app.security.access import Actor


def officer(make, unit=None):
    """An intelligence officer and their Actor."""
    user = make.user(roles=["intelligence_officer"], unit=unit)
    return user, Actor.for_user(user, client_addr="127.0.0.1")


def entity(actor, name="Acme Trading", entity_type="organisation", **kw):
    return service.create_entity(entity_type, name, actor=actor, **kw)
