"""Entity merges raise the survivor's handling (stricter wins, conditions kept) and a merged
stub names its survivor only to those who may open it (issue 15, item 4)."""

import pytest

from app.core.errors import ValidationError
from app.intel import resolution, service
from app.security.access import NotFound
from tests.intel.factories import entity, officer

SENTINEL = "ZZ-SENTINEL-MERGE-7731"


def _secret(actor, name=SENTINEL, conditions="Unit A investigators only"):
    return entity(
        actor,
        name,
        duplicate_reason="a deliberate duplicate for this test",
        entity_type="person",
        aliases=[f"{SENTINEL} alias"],
        identifiers={"passport": "X7731000"},
        handling_code="C",
        handling_conditions=conditions,
    )


def test_merging_a_code_c_entity_makes_the_survivor_code_c(make, db):
    unit_a = make.unit()
    _, actor_a = officer(make, unit=unit_a)
    _, outsider = officer(make)
    public = entity(actor_a, "Plain Person", entity_type="person")
    secret = _secret(actor_a)
    assert service.get_entity(public.id, actor=outsider, log=False)  # public before the merge

    resolution.merge_entities(public.id, secret.id, actor=actor_a)

    assert public.handling_code == "C"
    assert public.handling_conditions == "Unit A investigators only"
    assert SENTINEL in public.aliases  # the facts moved ...
    with pytest.raises(NotFound):  # ... and so did their need-to-know
        service.get_entity(public.id, actor=outsider, log=False)
    assert public.id not in {e.id for e in service.find_entities(SENTINEL, actor=outsider)}


def test_conditions_of_both_entities_are_kept(make, db):
    _, actor = officer(make)
    first = _secret(actor, "Anna Secret", conditions="No dissemination")
    second = _secret(actor, "Anna Secrett", conditions="Source protection")
    resolution.merge_entities(first.id, second.id, actor=actor)
    assert first.handling_code == "C"
    assert first.handling_conditions == "No dissemination\nSource protection"


def test_a_public_entity_merged_into_a_public_one_stays_public(make, db):
    _, actor = officer(make)
    a = entity(actor, "Open Person", entity_type="person")
    b = entity(actor, "Open Persson", entity_type="person")
    row = resolution.merge_entities(a.id, b.id, actor=actor)
    assert a.handling_code == "P" and a.handling_conditions is None
    assert "handling" not in row.moved


def test_undo_puts_the_survivor_handling_back(make, db):
    _, actor = officer(make)
    public = entity(actor, "Plain Person", entity_type="person")
    secret = _secret(actor)
    row = resolution.merge_entities(public.id, secret.id, actor=actor)
    resolution.undo_merge(row.id, actor=actor)
    assert public.handling_code == "P" and public.handling_conditions is None
    assert secret.handling_code == "C"


def test_undo_keeps_a_handling_chosen_after_the_merge(make, db):
    _, actor = officer(make)
    public = entity(actor, "Plain Person", entity_type="person")
    secret = _secret(actor)
    row = resolution.merge_entities(public.id, secret.id, actor=actor)
    service.update_entity(public, actor=actor, handling_conditions="Reviewed: keep restricted")
    resolution.undo_merge(row.id, actor=actor)
    assert public.handling_code == "C"
    assert public.handling_conditions == "Reviewed: keep restricted"


def test_a_code_c_entity_never_moves_into_another_units_entity(make, db):
    unit_a, unit_b = make.unit(), make.unit()
    _, actor_a = officer(make, unit=unit_a)
    _, actor_b = officer(make, unit=unit_b)
    theirs = entity(actor_b, "Plain Person", entity_type="person")  # public, unit B
    secret = _secret(actor_a)
    with pytest.raises(ValidationError) as caught:
        resolution.merge_entities(theirs.id, secret.id, actor=actor_a)
    assert "merged_id" in caught.value.fields
    assert secret.merged_into_id is None and SENTINEL not in (theirs.aliases or [])
    # the other way round is fine: the public facts join the restricted record
    resolution.merge_entities(secret.id, theirs.id, actor=actor_a)
    assert theirs.merged_into_id == secret.id and secret.handling_code == "C"


def test_merged_stub_names_its_survivor_only_to_who_may_open_it(make, db, client):
    unit_a = make.unit(code="HQ-INT")
    user_a, actor_a = officer(make, unit=unit_a)
    user_b, actor_b = officer(make)
    stub = entity(actor_b, "Plain Person", entity_type="person")  # public, another unit
    secret = _secret(actor_a)
    resolution.merge_entities(secret.id, stub.id, actor=actor_a)
    db.session.commit()

    make.sign_in(client, user_b)
    page = client.get(f"/intel/entities/{stub.id}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert SENTINEL not in html
    assert f"/intel/entities/{secret.id}" not in html
    assert "Merged into a restricted record of HQ-INT" in html
    assert f"into #{secret.id}" not in html  # the merges list does not give its id either
    assert f"#{stub.id} into a restricted record of HQ-INT" in html

    make.sign_in(client, user_a)
    html = client.get(f"/intel/entities/{stub.id}").get_data(as_text=True)
    assert f'Merged into <a href="/intel/entities/{secret.id}">{SENTINEL}</a>' in html


def test_api_hides_a_survivor_the_client_may_not_open(make, db, client):
    unit_a = make.unit()
    _, actor_a = officer(make, unit=unit_a)
    _, actor_b = officer(make)
    stub = entity(actor_b, "Plain Person", entity_type="person")
    secret = _secret(actor_a)
    resolution.merge_entities(secret.id, stub.id, actor=actor_a)
    db.session.commit()
    for unit, expected in ((make.unit(), None), (unit_a, secret.id)):
        _, token = make.api_client(["entities:read"], unit=unit)
        body = client.get(
            f"/api/v1/entities/{stub.id}", headers={"Authorization": f"Bearer {token}"}
        ).get_json()
        assert body["merged"] is True
        assert body["merged_into"] == expected
