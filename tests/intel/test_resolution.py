"""Entity resolution: candidates, judgements kept, merges that can be undone exactly."""

import pytest

from app.core.errors import ValidationError
from app.intel import resolution, service
from app.intel.fingerprints import fingerprint
from app.intel.models import Entity, EntityMatch, EntityMention, Link
from tests.intel.factories import entity, officer


def _pending_pairs(actor):
    return {(m.entity_a_id, m.entity_b_id) for m in resolution.pending_matches(actor)}


def test_fingerprints_transliterate_and_sort():
    assert fingerprint("Иван Петров") == fingerprint("PETROV, Ivan") == "ivan petrov"
    assert fingerprint("The Balkan Trading Co.") == fingerprint("BALKAN TRADING LLC")
    assert fingerprint("Müller GmbH") == "muller"


@pytest.mark.parametrize("variant", ["ПЕТРОВ Иван", "Petrov, Ivan", "IVAN PETROV"])
def test_true_duplicates_with_shared_identifier_are_proposed(make, variant):
    _, actor = officer(make)
    original = entity(
        actor, "Ivan Petrov", entity_type="person", identifiers={"passport": "P1234567"}
    )
    dup = entity(
        actor,
        variant,
        entity_type="person",
        identifiers={"passport": "P1234567"},
        duplicate_reason="a deliberate duplicate for this test",
    )
    match = resolution.pending_matches(actor)[0]
    assert {match.entity_a_id, match.entity_b_id} == {original.id, dup.id}
    assert match.score >= 90
    assert "shared passport P1234567" in match.reasons
    # proposed, never merged by itself
    assert dup.merged_into_id is None and original.merged_into_id is None


def test_transliterated_company_with_shared_eori(make):
    _, actor = officer(make)
    a = entity(actor, "Балкан Трейдинг ООО", identifiers={"eori": "RU1234567890"})
    b = entity(
        actor,
        "Balkan Treiding",
        identifiers={"eori": "RU1234567890"},
        duplicate_reason="a deliberate duplicate for this test",
    )
    assert _pending_pairs(actor) == {(a.id, b.id)}


def test_unrelated_namesakes_are_not_merged(make):
    _, actor = officer(make)
    a = entity(actor, "John Smith", entity_type="person", identifiers={"passport": "A111"})
    b = entity(actor, "John Smith", entity_type="person", identifiers={"passport": "B222"})
    # different passports: not even proposed
    assert _pending_pairs(actor) == set()
    c = entity(actor, "Smith John", entity_type="person")
    # a namesake without identifiers is proposed for the analyst, with a modest score
    scores = {(m.entity_a_id, m.entity_b_id): m.score for m in resolution.pending_matches(actor)}
    assert scores and all(s < 90 for s in scores.values())
    assert all(e.merged_into_id is None for e in (a, b, c))


def test_different_names_share_nothing(make):
    _, actor = officer(make)
    entity(actor, "Adriatic Freight")
    entity(actor, "Kosova Tobacco")
    assert resolution.pending_matches(actor) == []


def test_judgements_are_kept_and_respected(make, db):
    _, actor = officer(make)
    a = entity(actor, "Ilir Gashi", entity_type="person")
    b = entity(actor, "Gashi Ilir", entity_type="person")
    assert _pending_pairs(actor) == {(a.id, b.id)}
    resolution.decide(a.id, b.id, "not_same", actor=actor)
    assert _pending_pairs(actor) == set()
    # a third record and a re-run of the candidate search do not reopen the judged pair
    entity(actor, "ILIR GASHI", entity_type="person")
    resolution.propose_candidates(a)
    match = db.session.query(EntityMatch).filter_by(entity_a_id=a.id, entity_b_id=b.id).one()
    assert match.judgement == "not_same"
    assert (a.id, b.id) not in _pending_pairs(actor)
    assert resolution.judgement_for(b.id, a.id) == "not_same"
    with pytest.raises(ValidationError):
        resolution.decide(a.id, b.id, "maybe", actor=actor)


def test_merge_keeps_everything_and_undo_restores_every_link(make, db):
    _, actor = officer(make)
    keep = entity(
        actor,
        "Dardania Trading",
        identifiers={"eori": "XK100000001"},
        aliases=["Dardania Tr."],
        attributes={"city": "Pristina"},
    )
    dup = entity(
        actor,
        "DARDANIA TRADING LLC",
        identifiers={"eori": "XK100000001", "trader_code": "T-9"},
        duplicate_reason="a deliberate duplicate for this test",
        aliases=["Dardania Ltd"],
        attributes={"founded": "2011"},
    )
    director = entity(actor, "Arben Krasniqi", entity_type="person")
    phone = entity(
        actor, "+38344111222", entity_type="phone", identifiers={"phone": "+38344111222"}
    )
    box = entity(
        actor, "MSCU1234566", entity_type="container", identifiers={"container": "MSCU1234566"}
    )
    l1 = service.add_link(director.id, dup.id, "director_of", actor=actor, grade="1A")
    l2 = service.add_link(dup.id, phone.id, "uses_phone", actor=actor)
    l3 = service.add_link(
        dup.id, box.id, "ships_with", actor=actor, provenance_type="case", provenance_id=42
    )
    l4 = service.add_link(director.id, keep.id, "director_of", actor=actor)
    service.record_mention(dup.id, "declaration", 7, "importer", actor=actor)
    before = {lk.id: (lk.source_id, lk.target_id) for lk in db.session.query(Link)}

    row = resolution.decide(keep.id, dup.id, "merge", actor=actor, survivor_id=keep.id)
    db.session.expire_all()
    survivor = db.session.get(Entity, keep.id)
    merged = db.session.get(Entity, dup.id)
    assert merged.merged_into_id == keep.id and not merged.is_active
    assert {lk.id for lk in service.links_of(survivor, actor=actor)} == {l1.id, l2.id, l3.id, l4.id}
    assert db.session.get(Link, l3.id).provenance_id == 42  # provenance kept
    assert set(survivor.aliases) == {"Dardania Tr.", "DARDANIA TRADING LLC", "Dardania Ltd"}
    assert survivor.identifiers == {"eori": "XK100000001", "trader_code": "T9"}
    assert survivor.attributes == {"city": "Pristina", "founded": "2011"}
    assert db.session.query(EntityMention).one().entity_id == keep.id
    assert service.find_by_identifier("trader_code", "T9").id == keep.id
    assert service.canonical(merged).id == keep.id
    # links to a merged entity land on the survivor
    assert service.add_link(box.id, dup.id, "owns", actor=actor).target_id == keep.id

    resolution.undo_merge(row.id, actor=actor)
    db.session.expire_all()
    after = {
        lk.id: (lk.source_id, lk.target_id) for lk in db.session.query(Link) if lk.id in before
    }
    assert after == before
    survivor = db.session.get(Entity, keep.id)
    merged = db.session.get(Entity, dup.id)
    assert merged.merged_into_id is None and merged.is_active
    assert survivor.aliases == ["Dardania Tr."]
    assert survivor.identifiers == {"eori": "XK100000001"}
    assert survivor.attributes == {"city": "Pristina"}
    assert db.session.query(EntityMention).one().entity_id == dup.id
    assert service.find_by_identifier("trader_code", "T9").id == dup.id
    assert resolution.judgement_for(keep.id, dup.id) == "unsure"
    with pytest.raises(ValidationError):
        resolution.undo_merge(row.id, actor=actor)


def test_merge_rules(make):
    _, actor = officer(make)
    a = entity(actor, "Same Name")
    b = entity(actor, "Same Name", entity_type="person")
    with pytest.raises(ValidationError) as err:
        resolution.merge_entities(a.id, b.id, actor=actor)
    assert "different types" in str(err.value)
    with pytest.raises(ValidationError):
        resolution.merge_entities(a.id, a.id, actor=actor)
    c = entity(actor, "Same Name")
    d = entity(actor, "Same Name")
    first = resolution.merge_entities(a.id, c.id, actor=actor)
    resolution.merge_entities(d.id, a.id, actor=actor)
    with pytest.raises(ValidationError) as err:
        resolution.undo_merge(first.id, actor=actor)
    assert "later merge" in str(err.value)


def test_merge_needs_permission_and_need_to_know(make):
    from app.security.access import AccessDenied

    unit_a, unit_b = make.unit(), make.unit()
    _, owner = officer(make, unit_a)
    _, outsider = officer(make, unit_b)
    a = entity(owner, "Secret Co", handling_code="C")
    b = entity(owner, "Secret Co")
    with pytest.raises(ValidationError):
        resolution.merge_entities(b.id, a.id, actor=outsider)
    enforcement = make.actor(make.user(roles=["enforcement_officer"], unit=unit_a))
    with pytest.raises(AccessDenied):
        resolution.decide(a.id, b.id, "merge", actor=enforcement)
    assert resolution.pending_matches(outsider) == []


def test_placeholder_organisations_from_declarations_are_not_proposed(make):
    from app.security.access import Actor

    system = Actor.system("risk-engine")
    for code in ("T1", "T2", "T3"):
        service.ensure_organisation("trader_code", code, actor=system)
    assert resolution.pending_matches(system) == []
    named = service.ensure_organisation("eori", "XK777000111", "Rugova Foods", actor=system)
    service.ensure_organisation("trader_code", "RF-9", "Rugova Foods Sh.p.k.", actor=system)
    assert {m.entity_a_id for m in resolution.pending_matches(system)} == {named.id}
