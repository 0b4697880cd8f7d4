"""Entity pages: registration with field errors, the entity page, resolution queue."""

from app.intel import resolution, service
from app.intel.models import Entity, Link


def test_register_entity_and_field_errors(client, login_as, db):
    login_as("intelligence_officer")
    resp = client.post(
        "/intel/entities/new",
        data={
            "entity_type": "container",
            "name": "Box",
            "identifiers": "container: MSCU1234565",
            "handling_code": "P",
        },
    )
    assert resp.status_code == 200
    assert "identifiers.container: not a valid ISO 6346" in resp.get_data(as_text=True)
    resp = client.post(
        "/intel/entities/new",
        data={
            "entity_type": "container",
            "name": "Box",
            "identifiers": "container MSCU1234566",
            "handling_code": "P",
        },
    )
    assert "line 1" in resp.get_data(as_text=True)
    resp = client.post(
        "/intel/entities/new",
        data={
            "entity_type": "container",
            "name": "Box",
            "identifiers": "container: MSCU1234566",
            "handling_code": "P",
        },
    )
    assert resp.status_code == 302
    assert db.session.query(Entity).one().identifiers == {"container": "MSCU1234566"}


def test_entity_page_shows_links_mentions_and_candidates(client, login_as, make, db):
    user = login_as("intelligence_officer")
    actor = make.actor(user)
    a = service.create_entity(
        "organisation", "Vardar Foods", actor=actor, identifiers={"eori": "MK1234567"}
    )
    b = service.create_entity(
        "organisation",
        "VARDAR FOODS DOOEL",
        actor=actor,
        identifiers={"eori": "MK1234567"},
        duplicate_reason="a deliberate duplicate for this test",
    )
    p = service.create_entity("person", "Goran Petrov", actor=actor)
    service.add_link(p.id, a.id, "director_of", actor=actor, grade="1A")
    from app.intel import reports

    report = reports.create_report("Vardar", "text", "1", "A", actor=actor, entity_ids=[a.id])
    db.session.commit()
    page = client.get(f"/intel/entities/{a.id}").get_data(as_text=True)
    assert "Goran Petrov" in page and "director of" in page
    assert report.reference in page  # "everything that mentions it"
    assert "VARDAR FOODS DOOEL" in page  # possibly the same
    queue = client.get("/intel/resolution").get_data(as_text=True)
    assert "shared eori MK1234567" in queue
    resp = client.post(
        "/intel/resolution/decide",
        data={"entity_a": a.id, "entity_b": b.id, "judgement": "merge", "survivor": a.id},
    )
    assert resp.status_code == 302
    db.session.expire_all()
    assert db.session.get(Entity, b.id).merged_into_id == a.id
    merge = resolution.merges_of(db.session.get(Entity, a.id))[0]
    resp = client.post(f"/intel/merges/{merge.id}/undo")
    assert resp.status_code == 302
    db.session.expire_all()
    assert db.session.get(Entity, b.id).merged_into_id is None


def test_add_link_form(client, login_as, make, db):
    user = login_as("enforcement_officer")
    actor = make.actor(user)
    a = service.create_entity("person", "Driver One", actor=actor)
    v = service.create_entity("vehicle", "Truck", actor=actor, identifiers={"plate": "01-234-AB"})
    db.session.commit()
    resp = client.post(
        f"/intel/entities/{a.id}/links",
        data={
            "target_id": v.id,
            "link_type": "drives",
            "direction": "out",
            "grade": "9Z",
            "handling_code": "P",
        },
    )
    assert resp.status_code == 302
    assert db.session.query(Link).count() == 0
    client.post(
        f"/intel/entities/{a.id}/links",
        data={
            "target_id": v.id,
            "link_type": "drives",
            "direction": "out",
            "grade": "2b",
            "handling_code": "P",
            "start_date": "2024-05-01",
        },
    )
    link = db.session.query(Link).one()
    assert (link.source_id, link.target_id, link.grade) == (a.id, v.id, "2B")
    found = client.get("/intel/entities?q=truck").get_data(as_text=True)
    assert "01234AB" in found


def test_home_panel_counts_reviews_and_candidates(client, login_as, make, db):
    from datetime import date, timedelta

    from app.intel import reports

    user = login_as("intelligence_officer")
    actor = make.actor(user)
    assert "past the review date" not in client.get("/").get_data(as_text=True)
    report = reports.create_report("Old", "text", "1", "A", actor=actor)
    report.review_date = date.today() - timedelta(days=1)
    service.create_entity("person", "Ilir Gashi", actor=actor)
    service.create_entity("person", "GASHI Ilir", actor=actor)
    db.session.commit()
    home = client.get("/").get_data(as_text=True)
    assert "1 report past the review date" in home
    assert "1 entity resolution candidate to judge" in home
