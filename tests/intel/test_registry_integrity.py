"""Issue 19 item 6: an identifier already registered is offered as the existing entity, and
pickers rank exact, then prefix, then other matches across all types."""

import json

import pytest

from app.intel import service
from app.intel.models import Entity
from app.security.trail import AccessEvent
from tests.intel.factories import entity, officer


def _auth(token):
    return {"Authorization": f"Bearer {token}"}


def test_same_container_number_is_offered_not_duplicated(make, db):
    _, actor = officer(make)
    box = entity(
        actor, "Box one", entity_type="container", identifiers={"container": "MSCU1234566"}
    )
    with pytest.raises(service.DuplicateIdentifier) as err:
        # the same number as typed differently: normalised before the check
        entity(
            actor, "Box two", entity_type="container", identifiers={"container": "mscu 123456-6"}
        )
    assert err.value.existing.id == box.id
    assert "already registered as Container Box one" in err.value.fields["identifiers.container"]
    again = entity(
        actor,
        "Box two",
        entity_type="container",
        identifiers={"container": "MSCU1234566"},
        duplicate_reason="two boxes painted with one number",
    )
    assert again.id != box.id
    row = db.session.query(AccessEvent).filter_by(action="create", record_id=str(again.id)).one()
    assert json.loads(row.details)["duplicate_of"] == box.id


def test_holder_hidden_from_the_actor_is_not_reported(make, db):
    unit_a, unit_b = make.unit(), make.unit()
    _, actor_a = officer(make, unit_a)
    _, actor_b = officer(make, unit_b)
    entity(
        actor_a,
        "Secret ship",
        entity_type="vessel",
        identifiers={"imo": "9074729"},
        handling_code="C",
    )
    # unit B gets exactly what it would get were there no such vessel: a registration
    mine = entity(actor_b, "Ship", entity_type="vessel", identifiers={"imo": "IMO 9074729"})
    assert mine.identifiers == {"imo": "9074729"}


def test_register_page_offers_the_existing_entity(client, login_as, make, db):
    user = login_as("intelligence_officer")
    box = entity(
        _actor(user),
        "Box one",
        entity_type="container",
        identifiers={"container": "MSCU1234566"},
    )
    db.session.commit()
    data = {
        "entity_type": "container",
        "name": "Box two",
        "identifiers": "container: MSCU 123456 6",
        "handling_code": "P",
    }
    resp = client.post("/intel/entities/new", data=data)
    html = resp.get_data(as_text=True)
    assert resp.status_code == 200
    assert "Already registered as" in html
    assert f'href="/intel/entities/{box.id}"' in html
    assert db.session.query(Entity).count() == 1
    resp = client.post("/intel/entities/new", data={**data, "duplicate_reason": "a cloned box"})
    assert resp.status_code == 302
    assert db.session.query(Entity).count() == 2


def _actor(user):
    from app.security.access import Actor

    return Actor.for_user(user, client_addr="127.0.0.1")


def test_api_answers_409_naming_the_existing_entity_only_when_visible(client, make, db):
    unit_a, unit_b = make.unit(), make.unit()
    _, actor_a = officer(make, unit_a)
    box = entity(
        actor_a,
        "Box one",
        entity_type="container",
        identifiers={"container": "MSCU1234566"},
        handling_code="C",
    )
    db.session.commit()
    body = {"type": "container", "name": "Box", "identifiers": {"container": "MSCU1234566"}}
    _, token_a = make.api_client(["entities:read", "entities:write"], unit=unit_a)
    resp = client.post("/api/v1/entities", json=body, headers=_auth(token_a))
    assert resp.status_code == 409
    assert resp.json["error"]["existing"]["id"] == box.id
    assert "identifiers.container" in resp.json["error"]["fields"]
    resp = client.post(
        "/api/v1/entities",
        json={**body, "duplicate_reason": "cloned", "handling_code": "C"},
        headers=_auth(token_a),
    )
    assert resp.status_code == 201
    _, token_b = make.api_client(["entities:read", "entities:write"], unit=unit_b)
    resp = client.post("/api/v1/entities", json=body, headers=_auth(token_b))
    assert resp.status_code == 201  # the uniform answer: no word of unit A's box
    assert "Box one" not in resp.get_data(as_text=True)


def test_picker_ranks_exact_then_prefix_across_types(client, login_as, make, db):
    user = login_as("intelligence_officer")
    actor = _actor(user)
    for i in range(25):
        entity(actor, f"Adriatic Commerce account {i:02}", entity_type="bank_account")
    ship = entity(actor, "MV Adriatic Star", entity_type="vessel")
    exact = entity(actor, "MV Adriatic", entity_type="organisation")
    db.session.commit()
    found = client.get("/intel/entities/lookup?q=MV Adriatic").json
    assert len(found) == 20  # the limit is kept
    assert [e["id"] for e in found[:2]] == [exact.id, ship.id]
    assert found[2]["type"] == "bank_account"


def test_import_neither_reuses_nor_reveals_an_entity_hidden_from_the_importer(make, db):
    from app.intel import importer

    unit_a, unit_b = make.unit(), make.unit()
    _, actor_a = officer(make, unit_a)
    _, actor_b = officer(make, unit_b)
    hidden = entity(
        actor_a, "Hidden Trader", identifiers={"eori": "XK999000999"}, handling_code="C"
    )
    mine = entity(actor_b, "Own Trader", identifiers={"eori": "XK555000111"})
    data = b"name,identifiers.eori\nKnown Trader,XK999000999\nOwn again,XK555000111\n"
    summary = importer.import_csv(data, "entities", actor=actor_b)
    assert summary.reused == [mine.id]  # the one unit B may see is reused
    assert len(summary.created) == 1 and summary.created[0] != hidden.id
    assert db.session.get(Entity, summary.created[0]).unit_id == unit_b.id
