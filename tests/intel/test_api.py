"""JSON API of the registry: same rules as the pages, 422s that name the field."""

from app.intel import service
from tests.intel.factories import entity, officer


def _auth(token):
    return {"Authorization": f"Bearer {token}"}


def test_entities_and_links_api(client, make, db):
    unit = make.unit()
    _, token = make.api_client(["entities:read", "entities:write"], unit=unit)
    resp = client.post(
        "/api/v1/entities",
        headers=_auth(token),
        json={
            "type": "container",
            "name": "MSCU1234566",
            "identifiers": {"container": "MSCU1234566"},
        },
    )
    assert resp.status_code == 201 and resp.json["identifiers"] == {"container": "MSCU1234566"}
    box = resp.json["id"]
    resp = client.post(
        "/api/v1/entities",
        headers=_auth(token),
        json={"type": "container", "name": "bad", "identifiers": {"container": "MSCU1234565"}},
    )
    assert resp.status_code == 422
    assert "identifiers.container" in resp.json["error"]["fields"]
    resp = client.post("/api/v1/entities", headers=_auth(token), json={"type": ["x"]})
    assert resp.status_code == 422
    org = client.post(
        "/api/v1/entities",
        headers=_auth(token),
        json={"type": "organisation", "name": "API Shipping"},
    ).json["id"]
    resp = client.post(
        "/api/v1/links",
        headers=_auth(token),
        json={
            "source_id": org,
            "target_id": box,
            "link_type": "ships_with",
            "grade": "2C",
            "start_date": "2025-02-01",
        },
    )
    assert resp.status_code == 201 and resp.json["grade"] == "2C"
    resp = client.post(
        "/api/v1/links",
        headers=_auth(token),
        json={"source_id": org, "target_id": "x", "link_type": "ships_with"},
    )
    assert resp.status_code == 422 and "target_id" in resp.json["error"]["fields"]
    resp = client.get(f"/api/v1/entities/{org}", headers=_auth(token))
    assert resp.status_code == 200 and resp.json["links"][0]["target_id"] == box
    resp = client.get("/api/v1/entities?q=api+ship", headers=_auth(token))
    assert [e["id"] for e in resp.json["items"]] == [org]
    resp = client.get("/api/v1/entities?type=spaceship", headers=_auth(token))
    assert resp.status_code == 422


def test_api_respects_need_to_know(client, make, db):
    unit_a, unit_b = make.unit(), make.unit()
    _, actor = officer(make, unit_a)
    secret = entity(actor, "API Secret", handling_code="C")
    db.session.commit()
    _, token_b = make.api_client(["entities:read"], unit=unit_b)
    assert client.get(f"/api/v1/entities/{secret.id}", headers=_auth(token_b)).status_code == 404
    listed = client.get("/api/v1/entities", headers=_auth(token_b)).json
    assert listed["total"] == 0
    _, token_a = make.api_client(["entities:read"], unit=unit_a)
    assert client.get(f"/api/v1/entities/{secret.id}", headers=_auth(token_a)).status_code == 200


def test_reports_api(client, make, db):
    unit = make.unit()
    _, token = make.api_client(["entities:read", "entities:write"], unit=unit)
    resp = client.post(
        "/api/v1/reports",
        headers=_auth(token),
        json={"title": "Route", "body": "text", "source_grade": "3", "intel_grade": "E"},
    )
    assert resp.status_code == 201
    assert resp.json["grade"] == "3EC" and resp.json["grade_admiralty"] == "E5"
    rid = resp.json["id"]
    resp = client.post(
        "/api/v1/reports",
        headers=_auth(token),
        json={
            "title": "x",
            "body": "y",
            "source_grade": "9",
            "intel_grade": "A",
            "links": [{"source_id": 1}],
        },
    )
    assert resp.status_code == 422 and "source_grade" in resp.json["error"]["fields"]
    assert client.get(f"/api/v1/reports/{rid}", headers=_auth(token)).json["body"] == "text"
    listed = client.get("/api/v1/reports", headers=_auth(token)).json
    assert listed["total"] == 1 and "body" not in listed["items"][0]


def test_openapi_describes_the_intel_api(client, app):
    spec = client.get("/api/v1/openapi.json").json
    for path in (
        "/api/v1/entities",
        "/api/v1/entities/{id}",
        "/api/v1/links",
        "/api/v1/reports",
        "/api/v1/reports/{id}",
        "/api/v1/search",
    ):
        assert path in spec["paths"], path
    assert "Entity" in spec["components"]["schemas"]
    assert service  # the API calls the same services as the pages
