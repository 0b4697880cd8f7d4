"""The watches page asks for an entity by name with the shared picker, not by its internal
number (issue 19 item 7: no internal numbers in any form)."""

from app.alerts.models import Watch
from app.extensions import db
from app.intel import service as intel


def test_watch_form_uses_the_entity_picker(client, login_as, make):
    user = login_as("intelligence_officer")
    entity = intel.create_entity("vessel", "MV Adriatic Star", actor=make.actor(user))
    db.session.commit()

    page = client.get("/alerts/watches").get_data(as_text=True)
    assert "Entity number" not in page
    assert 'data-entity-picker="/intel/' in page and "js/intel.js" in page

    # A name typed without picking is refused in words, and nothing is watched.
    client.post("/alerts/watches/entity", data={"entity_id": "MV Adriatic", "severity": "high"})
    assert db.session.query(Watch).count() == 0
    assert "pick an entity" in client.get("/alerts/watches").get_data(as_text=True)

    # What the picker puts in the field (the entity's id) watches it.
    client.post("/alerts/watches/entity", data={"entity_id": str(entity.id), "severity": "high"})
    db.session.rollback()
    assert [w.entity_id for w in db.session.query(Watch)] == [entity.id]
