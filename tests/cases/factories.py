"""Factories of the case domain."""

from app.cases import service
from app.security.access import Actor

PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00"
    b"\x00\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N"
    b"\x00\x00\x00\x00IEND\xaeB`\x82"
)


def officer(make, unit=None, roles=("enforcement_officer",)):
    """A user and their Actor."""
    user = make.user(roles=list(roles), unit=unit)
    return user, Actor.for_user(user, client_addr="127.0.0.1")


def seizure(actor, title="Cigarettes in a truck", items=None, **kw):
    items = (
        items
        if items is not None
        else [
            {
                "commodity_area": "tobacco",
                "hs_code": "240220",
                "description": "Cigarettes",
                "quantity": "20000",
                "quantity_unit": "sticks",
                "value": "4400",
            },
        ]
    )
    kw.setdefault("place", "BCP Merdare")
    return service.open_case("seizure", actor=actor, title=title, items=items, **kw)


def entity(actor, name="Ilir Test", entity_type="person", **kw):
    from app.intel import service as intel

    return intel.create_entity(entity_type, name, actor=actor, **kw)
