"""`tollgate demo load` writes through bulk paths: what it leaves must still be whole —
a valid trail chain, entities with their look-up rows, every record queued for search,
every declaration assessed with its profile hits."""

from sqlalchemy import func, select

from app.intel.fingerprints import blocking_tokens
from app.intel.models import Entity, EntityIdentifier, EntityToken, Link
from app.risk.models import ControlResult, Declaration, ProfileHit
from app.search.models import SearchQueueItem
from app.security.trail import AccessEvent, verify


def _count(db, model, *where):
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


def test_demo_load_leaves_consistent_records(runner, db):
    result = runner.invoke(args=["demo", "load", "--small"])
    assert result.exit_code == 0, result.output

    ok, rows, message = verify()
    assert ok, message
    entities = db.session.scalars(select(Entity)).all()
    links = _count(db, Link)
    assert len(entities) > 250 and links > len(entities)
    # One "create" trail row per entity and per link, as the services write them.
    assert _count(db, AccessEvent, AccessEvent.record_type == "entity") == len(entities)
    assert _count(db, AccessEvent, AccessEvent.record_type == "link") == links

    idents = {
        (r.entity_id, r.scheme): r.value for r in db.session.scalars(select(EntityIdentifier))
    }
    tokens: dict[int, set] = {}
    for r in db.session.execute(select(EntityToken.entity_id, EntityToken.token)):
        tokens.setdefault(r.entity_id, set()).add(r.token)
    for e in entities:
        for scheme, value in (e.identifiers or {}).items():
            assert idents[(e.id, scheme)] == value
        assert tokens.get(e.id, set()) == blocking_tokens([e.name, *(e.aliases or [])])
        assert e.fingerprint

    queued = {
        (r.record_type, r.record_id)
        for r in db.session.execute(select(SearchQueueItem.record_type, SearchQueueItem.record_id))
    }
    decls = db.session.scalars(select(Declaration).where(Declaration.source == "demo")).all()
    assert len(decls) == 500
    assert {("entity", e.id) for e in entities} <= queued
    assert {("declaration", d.id) for d in decls} <= queued

    assert all(d.channel and d.assessment and d.assessed_dt for d in decls)
    # the demo traffic (the screening demo also posts one declaration by the API: not counted)
    in_traffic = ProfileHit.declaration_id.in_([d.id for d in decls])
    assert _count(db, ProfileHit, in_traffic) == sum(len(d.assessment["profiles"]) for d in decls)
    assert _count(db, ProfileHit) > 0
    inspected = [d for d in decls if d.channel in ("red", "orange", "yellow")]
    assert _count(db, ControlResult) == len(inspected) > 0

    # Idempotent: a second run adds no records and keeps the chain valid.
    before = (len(entities), links, len(decls), rows)
    again = runner.invoke(args=["demo", "load", "--small"])
    assert again.exit_code == 0, again.output
    after = (
        _count(db, Entity),
        _count(db, Link),
        _count(db, Declaration, Declaration.source == "demo"),
        verify()[1],
    )
    assert after[:3] == before[:3]
    assert verify()[0]
