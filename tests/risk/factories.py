"""Risk test data: declaration bodies, profiles, rates."""

import itertools

from app.risk import assessment, profiles
from app.security.access import Actor

_seq = itertools.count(1)


def body(number=None, *, items=None, **fields):
    """A valid declaration body as the declaration system posts it."""
    data = {
        "number": number or f"D{next(_seq):07d}",
        "date": "2026-03-02",
        "office": "BCP-N",
        "procedure": "4000",
        "transport_mode": "3",
        "declarant": "DCL001",
        "importer": "IMP001",
        "seller": "SEL001",
        "items": items or [item()],
    }
    data.update(fields)
    return data


def item(**fields):
    data = {
        "hs_code": "8517620000",
        "origin": "CN",
        "departure": "CN",
        "value": 1000.0,
        "mass": 10.0,
        "tax_rate": 5.0,
    }
    data.update(fields)
    return data


def cond(field, op, value=None):
    return {"field": field, "op": op, "value": value}


def tree(*conditions, join="and"):
    return {"join": join, "conditions": list(conditions)}


def profile(actor=None, *, conditions=None, channel="red", status="active", **fields):
    """A profile in the given status (activation goes through the real transitions)."""
    actor = actor or Actor.system("test")
    data = {
        "name": fields.pop("name", "Test profile"),
        "risk_area": "Test risk area",
        "channel": channel,
        "conditions": conditions or tree(cond("hs_code", "prefix", ["8517"])),
        "instructions": "Check the goods.",
        **fields,
    }
    p = profiles.create_profile(data, actor=actor)
    if status in ("simulated", "active"):
        profiles.mark_simulated(p, {"selected": 0, "window": "test"}, actor=actor)
    if status == "active":
        profiles.set_status(p.id, "active", actor=actor)
    if status == "retired":
        profiles.set_status(p.id, "retired", actor=actor)
    return p


def no_random(actor=None):
    """Switch random selection off so channels depend on profiles only."""
    from app.risk.settings import set_rates

    set_rates(
        {
            c: {"target_rate": 0.05, "min_random_rate": 0.0}
            for c in ("blue", "yellow", "orange", "red")
        },
        actor=actor or Actor.system(),
    )


def submit(data, actor=None):
    return assessment.submit_declaration(
        data, actor=actor or Actor.system("api-test"), link_entities=False
    )
