"""EntityBatch (app.intel.bulk, used by the demo loaders) writes what the per-record
services write: validated entities with their look-up rows, trail rows, index requests
and links kept once per assertion."""

import pytest
from sqlalchemy import select

from app.core import signals
from app.core.errors import ValidationError
from app.extensions import db
from app.intel import service
from app.intel.bulk import EntityBatch
from app.intel.models import Entity, EntityIdentifier, EntityToken, Link
from app.search.models import SearchQueueItem
from app.security.access import Actor
from app.security.trail import AccessEvent, verify

SYSTEM = Actor.system("test")


def _stored(entity_id):
    e = db.session.get(Entity, entity_id)
    idents = dict(
        db.session.execute(
            select(EntityIdentifier.scheme, EntityIdentifier.value).where(
                EntityIdentifier.entity_id == entity_id
            )
        ).all()
    )
    tokens = set(
        db.session.scalars(select(EntityToken.token).where(EntityToken.entity_id == entity_id))
    )
    columns = {
        c: getattr(e, c)
        for c in (
            "entity_type",
            "name",
            "aliases",
            "identifiers",
            "attributes",
            "roles",
            "fingerprint",
            "unit_id",
            "handling_code",
            "handling_conditions",
            "provenance_type",
            "provenance_id",
            "created_by_id",
        )
    }
    trail_rows = db.session.scalars(
        select(AccessEvent.action).where(
            AccessEvent.record_type == "entity", AccessEvent.record_id == str(entity_id)
        )
    ).all()
    queued = db.session.scalars(
        select(SearchQueueItem.id).where(
            SearchQueueItem.record_type == "entity", SearchQueueItem.record_id == entity_id
        )
    ).all()
    return columns, idents, tokens, list(trail_rows), len(queued)


def test_batch_entities_match_the_service(db, make):
    unit = make.unit()
    actor = Actor.system("test")
    actor.unit_id = unit.id
    kwargs = {
        "aliases": ["  PETROV,   Ivan ", "Иван Петров"],
        "identifiers": {"passport": " p-1234567 ", "phone": "+383 44 123 456"},
        "attributes": {"born": "1970-01-01"},
        "handling_code": "C",
        "handling_conditions": "HQ only",
        "provenance": ("case", 7),
    }
    one = service.create_entity("person", " Ivan   Petrov ", actor=actor, propose=False, **kwargs)
    batch = EntityBatch(actor)
    other = batch.entity("person", " Ivan   Petrov ", **kwargs)
    assert other.id is None
    batch.write()
    db.session.commit()
    assert other.id is not None
    assert _stored(other.id) == _stored(one.id)
    assert _stored(other.id)[3] == ["create"] and _stored(other.id)[4] == 1
    assert verify()[0]


def test_batch_validates_like_the_service(db):
    batch = EntityBatch(SYSTEM)
    with pytest.raises(ValidationError) as exc:
        batch.entity("vessel", "", identifiers={"imo": "123", "plate": "X"})
    assert {"name", "identifiers.imo"} <= set(exc.value.fields)
    a = batch.entity("person", "A Person")
    with pytest.raises(ValidationError):
        batch.link(a, a, "associate_of")
    b = batch.entity("phone", "+38344000000")
    with pytest.raises(ValidationError):
        batch.link(a, b, "no_such_link")
    with pytest.raises(ValidationError):
        batch.link(a, b, "uses_phone", grade="9Z")
    with pytest.raises(ValidationError):
        batch.link(a, b, "uses_phone", start_date="2024-02-01", end_date="2024-01-01")


def test_batch_links_once_per_assertion_and_signals_each(db):
    existing = service.create_entity("organisation", "Old Trading LLC", actor=SYSTEM)
    director = service.create_entity("person", "Old Director", actor=SYSTEM)
    service.add_link(director.id, existing.id, "director_of", actor=SYSTEM)
    db.session.commit()
    sent = []

    def on_link(sender, link=None, **_):
        sent.append(link.id)

    signals.link_created.connect(on_link)
    try:
        batch = EntityBatch(SYSTEM)
        person = batch.entity("person", "New Person")
        batch.link(person, existing, "director_of", grade="1A", start_date="2024-01-02")
        batch.link(person, existing, "director_of", grade="2B")  # same assertion: kept once
        batch.link(existing, person, "associate_of")
        batch.link(director, existing, "director_of")  # already stored: not repeated
        _, links = batch.write()
    finally:
        signals.link_created.disconnect(on_link)
    db.session.commit()
    assert [(lk.link_type, lk.grade) for lk in links] == [
        ("director_of", "1A"),
        ("associate_of", None),
    ]
    assert sorted(sent) == sorted(lk.id for lk in links)
    assert (
        len(
            db.session.scalars(
                select(Link).where(Link.source_id == director.id, Link.target_id == existing.id)
            ).all()
        )
        == 1
    )
    trail_ids = set(
        db.session.scalars(select(AccessEvent.record_id).where(AccessEvent.record_type == "link"))
    )
    assert {str(lk.id) for lk in links} <= trail_ids
    assert verify()[0]
