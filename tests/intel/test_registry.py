"""Entity registry services: validation, deterministic identity, need-to-know, signals."""

import pytest

from app.core import signals
from app.core.errors import ValidationError
from app.intel import service
from app.intel.models import EntityMention
from app.security.access import Actor, NotFound
from app.security.trail import AccessEvent
from tests.intel.factories import entity, officer


def test_create_entity_validates_and_normalises_identifiers(make):
    _, actor = officer(make)
    e = entity(actor, identifiers={"eori": "de 1234 5678 9012", "trader_code": "tc-77"})
    assert e.identifiers == {"eori": "DE123456789012", "trader_code": "TC77"}
    assert e.fingerprint == "acme trading"
    c = entity(
        actor, "MSCU 123456-6", entity_type="container", identifiers={"container": "MSCU 123456-6"}
    )
    assert c.identifiers["container"] == "MSCU1234566"


@pytest.mark.parametrize(
    ("etype", "ids", "field"),
    [
        ("container", {"container": "MSCU1234565"}, "identifiers.container"),  # bad check digit
        ("vessel", {"imo": "9074728"}, "identifiers.imo"),
        ("bank_account", {"iban": "DE89370400440532013001"}, "identifiers.iban"),
        ("organisation", {"eori": "12345"}, "identifiers.eori"),
        ("organisation", {"imo": "9074729"}, "identifiers.imo"),  # does not apply
        ("organisation", {"shoe_size": "9"}, "identifiers.shoe_size"),
    ],
)
def test_bad_identifiers_name_the_field(make, etype, ids, field):
    _, actor = officer(make)
    with pytest.raises(ValidationError) as err:
        entity(actor, "X", entity_type=etype, identifiers=ids)
    assert field in err.value.fields


def test_valid_check_digits_accepted(make):
    _, actor = officer(make)
    assert (
        entity(actor, "Ship", entity_type="vessel", identifiers={"imo": "IMO 9074729"}).identifiers[
            "imo"
        ]
        == "9074729"
    )
    acct = entity(
        actor,
        "Account",
        entity_type="bank_account",
        identifiers={"iban": "DE89 3704 0044 0532 0130 00"},
    )
    assert acct.identifiers["iban"] == "DE89370400440532013000"


def test_name_type_and_handling_errors(make):
    _, actor = officer(make)
    with pytest.raises(ValidationError) as err:
        service.create_entity("spaceship", "", actor=actor)
    assert "entity_type" in err.value.fields
    with pytest.raises(ValidationError) as err:
        service.create_entity("person", "  ", actor=actor)
    assert "name" in err.value.fields
    with pytest.raises(ValidationError) as err:
        service.create_entity("person", "A", actor=Actor.system(), handling_code="C")
    assert "handling_code" in err.value.fields


def test_ensure_organisation_is_deterministic(make, db):
    system = Actor.system("risk-engine")
    first = service.ensure_organisation(
        "eori", "DE123456789012", "Acme GmbH", actor=system, roles=["importer"]
    )
    again = service.ensure_organisation(
        "eori", "de123456789012", "ACME", actor=system, roles=["declarant"]
    )
    assert first.id == again.id
    assert again.roles == ["importer", "declarant"]
    other = service.ensure_organisation("trader_code", "T-1", actor=system)
    assert other.id != first.id and other.name == "TRADER_CODE T1"
    with pytest.raises(ValidationError):
        service.ensure_organisation("eori", "??", actor=system)


def test_need_to_know_on_get_and_find(make, db):
    unit_a, unit_b = make.unit(), make.unit()
    _, owner = officer(make, unit_a)
    _, outsider = officer(make, unit_b)
    secret = entity(owner, "Hidden Holdings", handling_code="C")
    open_ = entity(owner, "Hidden Harbour Ltd")
    assert service.get_entity(secret.id, actor=owner).id == secret.id
    with pytest.raises(NotFound):
        service.get_entity(secret.id, actor=outsider)
    names = [e.name for e in service.find_entities("hidden", actor=outsider)]
    assert names == [open_.name]
    assert {e.id for e in service.find_entities("hidden", actor=owner)} == {secret.id, open_.id}
    denied = db.session.query(AccessEvent).filter_by(outcome="denied", record_type="entity").all()
    assert [d.record_id for d in denied] == [str(secret.id)]


def test_find_by_identifier_and_token_prefix(make):
    _, actor = officer(make)
    e = entity(actor, "Balkan Express Logistics", identifiers={"eori": "XK123456789"})
    assert [x.id for x in service.find_entities("XK 123456789", actor=actor)] == [e.id]
    assert [x.id for x in service.find_entities("balk expr", actor=actor)] == [e.id]
    assert service.find_entities("", actor=actor) == []


def test_add_link_sends_signal_and_validates(make):
    _, actor = officer(make)
    a, b = entity(actor, "A Corp"), entity(actor, "Bob Smith", entity_type="person")
    received = []

    def on_link(sender, link, actor):
        received.append(link.id)

    signals.link_created.connect(on_link)
    try:
        link = service.add_link(
            b.id,
            a.id,
            "director_of",
            actor=actor,
            grade="1b",
            start_date="2024-01-02",
            provenance_type="case",
            provenance_id=7,
        )
    finally:
        signals.link_created.disconnect(on_link)
    assert received == [link.id]
    assert link.grade == "1B" and str(link.start_date) == "2024-01-02"
    # the same assertion from the same provenance is stored once
    assert (
        service.add_link(
            b.id, a.id, "director_of", actor=actor, provenance_type="case", provenance_id=7
        ).id
        == link.id
    )
    with pytest.raises(ValidationError) as err:
        service.add_link(a.id, a.id, "owns", actor=actor)
    assert "target_id" in err.value.fields
    with pytest.raises(ValidationError) as err:
        service.add_link(a.id, b.id, "owns", actor=actor, grade="4Z")
    assert set(err.value.fields) == {"grade.source_grade", "grade.intel_grade"}
    with pytest.raises(ValidationError) as err:
        service.add_link(a.id, 99999, "loves", actor=actor)
    assert set(err.value.fields) == {"link_type"}
    with pytest.raises(ValidationError) as err:
        service.add_link(a.id, 99999, "owns", actor=actor, start_date="2024-13-01")
    assert "target_id" in err.value.fields


def test_links_hidden_when_an_end_is_hidden(make):
    unit_a, unit_b = make.unit(), make.unit()
    _, owner = officer(make, unit_a)
    _, outsider = officer(make, unit_b)
    public = entity(owner, "Public Co")
    secret = entity(owner, "Secret Person", entity_type="person", handling_code="C")
    service.add_link(secret.id, public.id, "director_of", actor=owner)
    assert len(service.links_of(public, actor=owner)) == 1
    assert service.links_of(public, actor=outsider) == []


def test_record_mention_is_kept_once_and_signalled(make, db):
    _, actor = officer(make)
    e = entity(actor)
    seen = []

    def on_mention(sender, **kw):
        seen.append((kw["entity_id"], kw["record_type"], kw["record_id"], kw["role"]))

    signals.entity_mentioned.connect(on_mention)
    try:
        service.record_mention(e.id, "case", 5, "suspect", actor=actor)
        service.record_mention(e.id, "case", 5, "suspect", actor=actor)
    finally:
        signals.entity_mentioned.disconnect(on_mention)
    assert seen == [(e.id, "case", 5, "suspect")] * 2
    assert db.session.query(EntityMention).count() == 1
    with pytest.raises(ValidationError):
        service.record_mention(424242, "case", 5, "suspect", actor=actor)


def test_lookup_endpoint(client, login_as, make):
    user = login_as("enforcement_officer")
    actor = Actor.for_user(user)
    e = service.create_entity(
        "organisation", "Lookup Freight", actor=actor, identifiers={"eori": "FR12345678901"}
    )
    service.create_entity("person", "Lookup Person", actor=actor)
    make.db.session.commit()
    resp = client.get("/intel/entities/lookup?q=lookup&type=organisation")
    assert resp.status_code == 200
    assert resp.json == [
        {
            "id": e.id,
            "type": "organisation",
            "name": "Lookup Freight",
            "identifiers": {"eori": "FR12345678901"},
        }
    ]


def test_parties_of_a_declaration_are_linked_once(make, db):
    from app.intel.models import Link

    system = Actor.system("risk-engine")
    importer = service.ensure_organisation("trader_code", "IMP1", actor=system)
    declarant = service.ensure_organisation("trader_code", "DEC1", actor=system)
    seller = service.ensure_organisation("trader_code", "SEL1", actor=system)
    for decl_id in (101, 102):
        service.record_mention(declarant.id, "declaration", decl_id, "declarant", actor=system)
        service.record_mention(importer.id, "declaration", decl_id, "importer", actor=system)
        service.record_mention(seller.id, "declaration", decl_id, "seller", actor=system)
    links = {
        (lk.source_id, lk.link_type, lk.target_id, lk.provenance_id)
        for lk in db.session.query(Link)
    }
    assert links == {
        (declarant.id, "declarant_for", importer.id, 101),
        (seller.id, "seller_to", importer.id, 101),
    }
    # a caller without entity.edit records the mention but creates no link
    viewer = Actor.for_user(make.user(roles=["risk_analyst"]))
    other = service.ensure_organisation("trader_code", "SEL2", actor=system)
    service.record_mention(other.id, "declaration", 101, "seller", actor=viewer)
    assert db.session.query(Link).count() == 2
