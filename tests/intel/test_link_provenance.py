"""Issue 19 item 5: link provenance is a record the user may see, validated, and shown as a
link with the record's reference (the restricted description for others)."""

from app.intel import reports, service
from app.intel.models import Link
from app.security.access import Actor
from tests.intel.factories import entity, officer


def _auth(token):
    return {"Authorization": f"Bearer {token}"}


def _world(make, db):
    unit_a, unit_b = make.unit(), make.unit()
    _, actor_a = officer(make, unit_a)
    report = reports.create_report(
        "Adriatic route", "Body", "1", "A", actor=actor_a, handling_code="C"
    )
    one = entity(actor_a, "Ana Open", entity_type="person")
    two = entity(actor_a, "Ben Open", entity_type="person")
    db.session.commit()
    return unit_a, unit_b, report, one, two


def _post_link(client, one, two, prov_id):
    return client.post(
        f"/intel/entities/{one.id}/links",
        data={
            "target_id": two.id,
            "link_type": "associate_of",
            "direction": "out",
            "provenance_type": "report",
            "provenance_id": prov_id,
            "handling_code": "P",
        },
        follow_redirects=True,
    )


def test_unknown_and_unseen_records_are_refused_alike(client, login_as, make, db):
    _, unit_b, report, one, two = _world(make, db)
    login_as("intelligence_officer", unit=unit_b)
    missing = _post_link(client, one, two, "999999").get_data(as_text=True)
    hidden = _post_link(client, one, two, str(report.id)).get_data(as_text=True)
    message = "provenance_id: no intelligence report you may see has that number"
    assert message in missing and message in hidden
    assert db.session.query(Link).count() == 0


def test_api_refuses_a_provenance_with_422_naming_the_field(client, make, db):
    _, unit_b, report, one, two = _world(make, db)
    _, token = make.api_client(["entities:read", "entities:write"], unit=unit_b)
    body = {"source_id": one.id, "target_id": two.id, "link_type": "associate_of"}
    for prov_id in (999999, report.id):
        resp = client.post(
            "/api/v1/links",
            json={**body, "provenance_type": "report", "provenance_id": prov_id},
            headers=_auth(token),
        )
        assert resp.status_code == 422
        assert "provenance_id" in resp.json["error"]["fields"]
    assert client.post("/api/v1/links", json=body, headers=_auth(token)).status_code == 201


def test_provenance_shown_as_link_with_reference_or_restricted(client, login_as, make, db):
    unit_a, unit_b, report, one, two = _world(make, db)
    user_a = login_as("intelligence_officer", unit=unit_a)
    resp = _post_link(client, one, two, str(report.id))
    html = resp.get_data(as_text=True)
    assert (
        f'<a href="/intel/reports/{report.id}">intelligence report {report.reference}</a>' in html
    )
    assert db.session.query(Link).one().provenance_id == report.id
    login_as("intelligence_officer", unit=unit_b)
    html = client.get(f"/intel/entities/{one.id}").get_data(as_text=True)
    assert "a restricted record of" in html
    assert report.reference not in html
    assert f"/intel/reports/{report.id}" not in html
    assert Actor.for_user(user_a).unit_id == unit_a.id
    assert service.links_of(one, actor=Actor.for_user(user_a))


def test_provenance_picker_finds_visible_records_by_reference(client, login_as, make, db):
    from app.search import service as search

    unit_a, unit_b, report, one, _ = _world(make, db)
    search.apply_index_queue()
    db.session.commit()
    login_as("intelligence_officer", unit=unit_a)
    page = client.get(f"/intel/entities/{one.id}").get_data(as_text=True)
    assert 'data-record-lookup="/intel/records/lookup"' in page  # no "Record id" to type
    # by words of the record (its reference too on SQLite; see the report of issue 19)
    found = client.get("/intel/records/lookup?type=report&q=adriatic route").json
    assert [(r["id"], r["type"]) for r in found] == [(report.id, "intelligence report")]
    assert report.reference in found[0]["name"]
    login_as("intelligence_officer", unit=unit_b)
    assert client.get("/intel/records/lookup?type=report&q=adriatic route").json == []
    assert client.get("/intel/records/lookup?type=spaceship&q=abc").json == []


def test_chart_edge_names_the_provenance_by_reference_per_reader(make, db):
    from app.intel import graph

    unit_a, unit_b, report, one, two = _world(make, db)
    _, actor_a = officer(make, unit_a)
    _, actor_b = officer(make, unit_b)
    service.add_link(
        one.id,
        two.id,
        "associate_of",
        actor=actor_a,
        provenance_type="report",
        provenance_id=report.id,
    )
    edge = next(
        e for e in graph.expand(one.id, actor=actor_a)["elements"] if "link_id" in e["data"]
    )
    assert edge["data"]["provenance"] == f"intelligence report {report.reference}"
    edge = next(
        e for e in graph.expand(one.id, actor=actor_b)["elements"] if "link_id" in e["data"]
    )
    assert edge["data"]["provenance"].startswith("a restricted record of")
