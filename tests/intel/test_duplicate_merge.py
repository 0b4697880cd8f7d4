"""Issue 19 item 6: an identifier already registered offered "open it" and "register anyway"
only. The register page now also offers "merge into the existing entity": with a reason, the
record as typed joins the existing entity through the merge service (its name becomes an
alias, its other identifiers and attributes join; undoable like any merge), trailed."""

import json

from sqlalchemy import select

from app.intel.models import Entity, EntityMerge
from app.security.access import Actor
from app.security.trail import AccessEvent
from tests.intel.factories import entity

DATA = {
    "entity_type": "container",
    "name": "Box two",
    "identifiers": "container: MSCU 123456 6",
    "attributes": "colour: red",
    "handling_code": "P",
}


def _box(user, db):
    box = entity(
        Actor.for_user(user, client_addr="127.0.0.1"),
        "Box one",
        entity_type="container",
        identifiers={"container": "MSCU1234566"},
    )
    db.session.commit()
    return box


def test_the_duplicate_is_merged_into_the_existing_entity_with_a_reason(client, login_as, db):
    user = login_as("intelligence_officer")
    box = _box(user, db)
    page = client.post("/intel/entities/new", data=DATA).get_data(as_text=True)
    assert 'id="merge-into-existing"' in page and f'name="existing_id" value="{box.id}"' in page
    resp = client.post(
        "/intel/entities/new", data={**DATA, "action": "merge", "existing_id": str(box.id)}
    )
    assert resp.status_code == 200  # no reason: refused on the form
    assert "say why the record joins the existing entity" in resp.get_data(as_text=True)
    assert db.session.scalar(select(EntityMerge.id)) is None
    resp = client.post(
        "/intel/entities/new",
        data={
            **DATA,
            "action": "merge",
            "existing_id": str(box.id),
            "duplicate_reason": "the same box, seen twice",
        },
    )
    assert resp.status_code == 302 and resp.headers["Location"].endswith(f"/entities/{box.id}")
    db.session.expire_all()
    box = db.session.get(Entity, box.id)
    assert "Box two" in box.aliases and box.attributes.get("colour") == "red"
    merge = db.session.scalars(select(EntityMerge)).one()
    assert merge.survivor_id == box.id
    assert db.session.get(Entity, merge.merged_id).merged_into_id == box.id
    created = db.session.scalars(
        select(AccessEvent).where(
            AccessEvent.action == "create", AccessEvent.record_id == str(merge.merged_id)
        )
    ).one()
    assert "the same box, seen twice" in json.loads(created.details)["reason"]


def test_merging_needs_the_merge_permission(client, login_as, make, db):
    user = login_as("enforcement_officer")
    box = _box(make.user(roles=["intelligence_officer"], unit=user.unit), db)
    page = client.post("/intel/entities/new", data=DATA).get_data(as_text=True)
    if "Already registered as" not in page:  # the officer may not register entities at all
        return
    assert 'id="merge-into-existing"' not in page
    client.post(
        "/intel/entities/new",
        data={**DATA, "action": "merge", "existing_id": str(box.id), "duplicate_reason": "x"},
    )
    assert db.session.scalar(select(EntityMerge.id)) is None
