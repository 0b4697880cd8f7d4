"""The JSON API: create, read, update, list, items, parties, journal; same access rules."""

from sqlalchemy import select

from app.cases.models import Case
from app.security.trail import AccessEvent
from tests.cases.factories import entity, officer, seizure


def _h(token):
    return {"Authorization": f"Bearer {token}"}


def test_create_read_update_list(client, make, db):
    unit = make.unit()
    # entities:write: the client creates one party on the spot
    _, token = make.api_client(["cases:read", "cases:write", "entities:write"], unit=unit)
    _, actor = officer(make, unit)
    driver = entity(actor, "API Driver")
    db.session.commit()
    body = {
        "kind": "seizure",
        "title": "Cash at the airport",
        "place_ref": "crossing:BCP-PRN",
        "transport_mode": "air",
        "event_dt": "2026-04-02T07:15:00Z",
        "items": [
            {
                "commodity_area": "currency",
                "description": "EUR banknotes",
                "quantity": 48000,
                "quantity_unit": "eur",
                "value": 48000,
            }
        ],
        "parties": [
            {"role": "suspect", "entity_id": driver.id},
            {"role": "owner", "new_entity": {"type": "person", "name": "Owner Created"}},
        ],
    }
    resp = client.post("/api/v1/cases", json=body, headers=_h(token))
    assert resp.status_code == 201, resp.get_json()
    data = resp.get_json()
    assert data["reference"].startswith(unit.code + "/")
    assert data["total_value"] == "48000.00" and data["commodity_area"] == "currency"
    assert [p["role"] for p in data["parties"]] == ["suspect", "owner"]
    assert resp.headers["Location"].endswith(f"/api/v1/cases/{data['id']}")
    case_id = data["id"]

    got = client.get(f"/api/v1/cases/{case_id}", headers=_h(token)).get_json()
    assert got["items"][0]["description"] == "EUR banknotes"
    assert got["transport_mode"] == "air"

    resp = client.patch(
        f"/api/v1/cases/{case_id}",
        headers=_h(token),
        json={"priority": 4, "conveyance": "Flight XY123", "status": "investigation"},
    )
    assert resp.status_code == 200, resp.get_json()
    assert resp.get_json()["priority"] == 4 and resp.get_json()["status"] == "investigation"

    resp = client.post(
        f"/api/v1/cases/{case_id}/items",
        headers=_h(token),
        json={"items": [{"commodity_area": "drugs", "description": "Pills"}]},
    )
    assert resp.status_code == 201
    resp = client.post(
        f"/api/v1/cases/{case_id}/journal", headers=_h(token), json={"text": "Passenger detained"}
    )
    assert resp.status_code == 201 and resp.get_json()["author"].startswith("api:")
    resp = client.post(
        f"/api/v1/cases/{case_id}/parties",
        headers=_h(token),
        json={"role": "passenger", "entity_id": driver.id},
    )
    assert resp.status_code == 201 and resp.get_json()["name"] == "API Driver"

    listed = client.get("/api/v1/cases?kind=seizure&area=currency", headers=_h(token))
    assert [c["id"] for c in listed.get_json()["items"]] == [case_id]
    assert listed.get_json()["total"] == 1
    none = client.get("/api/v1/cases?kind=offence", headers=_h(token)).get_json()
    assert none["total"] == 0
    db.session.rollback()
    case = db.session.get(Case, case_id)
    assert len(case.items) == 2
    assert "Passenger detained" in [j.text for j in case.journal]


def test_validation_errors_name_json_paths(client, make, db):
    _, token = make.api_client(["cases:write"])
    body = {
        "kind": "seizure",
        "title": "x",
        "place_ref": "crossing:BCP-MER",
        "event_dt": "2026-01-05T10:00:00Z",
        "items": [
            {"commodity_area": "drugs", "description": "ok", "quantity": 2, "quantity_unit": "kg"},
            {"commodity_area": "drugs", "description": "bad", "hs_code": "ab", "colour": "red"},
        ],
    }
    resp = client.post("/api/v1/cases", headers=_h(token), json=body)
    assert resp.status_code == 422
    fields = resp.get_json()["error"]["fields"]
    # An unknown key is refused before the values are looked at (the body's allow-list).
    assert set(fields) == {"items[1].colour"}
    del body["items"][1]["colour"]
    resp = client.post("/api/v1/cases", headers=_h(token), json=body)
    assert resp.status_code == 422
    assert set(resp.get_json()["error"]["fields"]) == {"items[1].hs_code"}
    resp = client.post(
        "/api/v1/cases", headers=_h(token), data="nope", content_type="application/json"
    )
    assert resp.status_code == 422 and "body" in resp.get_json()["error"]["fields"]
    resp = client.post("/api/v1/cases", headers=_h(token), json={"kind": "picnic", "title": "x"})
    assert resp.get_json()["error"]["fields"] == {
        "kind": "'picnic' is not one of: seizure, offence, audit, investigation"
    }
    resp = client.post(
        "/api/v1/cases",
        headers=_h(token),
        json={"kind": "seizure", "title": "x", "items": 5, "parties": "y"},
    )
    assert resp.status_code == 422
    assert resp.get_json()["error"]["fields"] == {"parties": "must be a list"}
    resp = client.post(
        "/api/v1/cases", headers=_h(token), json={"kind": "seizure", "title": "x", "items": 5}
    )
    assert resp.get_json()["error"]["fields"] == {"items": "must be a list"}
    resp = client.get("/api/v1/cases?sort=colour", headers=_h(token))
    assert resp.status_code == 403  # cases:write alone cannot read lists


def test_api_need_to_know_and_scopes(client, make, db):
    owner_unit = make.unit()
    _, actor = officer(make, owner_unit)
    secret = seizure(actor, title="Secret SENTINEL-API", handling_code="C")
    public = seizure(actor, title="Public one")
    _, outsider = make.api_client(["cases:read", "cases:write"])
    _, reader = make.api_client(["cases:read"], unit=owner_unit)
    db.session.commit()
    assert client.get(f"/api/v1/cases/{secret.id}", headers=_h(outsider)).status_code == 404
    resp = client.post(
        f"/api/v1/cases/{secret.id}/journal", headers=_h(outsider), json={"text": "x"}
    )
    assert resp.status_code == 404
    listing = client.get("/api/v1/cases", headers=_h(outsider)).get_data(as_text=True)
    assert "Public one" in listing and "SENTINEL-API" not in listing
    assert client.get(f"/api/v1/cases/{public.id}", headers=_h(outsider)).status_code == 200
    resp = client.patch(f"/api/v1/cases/{secret.id}", headers=_h(reader), json={"priority": 1})
    assert resp.status_code == 403
    assert client.get("/api/v1/cases").status_code == 401
    denied = db.session.scalars(select(AccessEvent).where(AccessEvent.outcome == "denied")).all()
    assert {e.record_id for e in denied} == {str(secret.id)}


def test_openapi_describes_the_case_operations(client, db):
    spec = client.get("/api/v1/openapi.json").get_json()
    paths = spec["paths"]
    assert {"get", "post"} <= set(paths["/api/v1/cases"])
    assert {"get", "patch"} <= set(paths["/api/v1/cases/{case_id}"])
    for sub in ("items", "parties", "journal"):
        assert "post" in paths[f"/api/v1/cases/{{case_id}}/{sub}"]
    assert "CaseItem" in spec["components"]["schemas"]
