"""The alerts API: list, read, acknowledge, close; watches and saved searches; OpenAPI."""

import pytest

from tests.alerts.factories import raise_specimen_alert


@pytest.fixture
def api(make, db, specimens, client):
    unit, elsewhere = make.unit(), make.unit()
    officer = make.user(roles=["enforcement_officer"], unit=unit)
    alert = raise_specimen_alert(specimens.add(unit), {"users": [officer.id]})
    db.session.commit()
    _, token = make.api_client(["alerts:read", "alerts:write", "search:read"], unit=unit)
    _, foreign = make.api_client(["alerts:read", "alerts:write"], unit=elsewhere)

    def call(method, url, json=None, token=token):
        return client.open(
            url, method=method, json=json, headers={"Authorization": f"Bearer {token}"}
        )

    call.alert, call.unit, call.foreign = alert, unit, foreign
    return call


def test_list_get_acknowledge_close(api):
    body = api("GET", "/api/v1/alerts").get_json()
    assert body["total"] == 1 and body["items"][0]["id"] == api.alert.id
    assert body["items"][0]["reasons"] == ["importer is on the watch list", "origin = XX"]
    one = api("GET", f"/api/v1/alerts/{api.alert.id}").get_json()
    assert one["status"] == "new" and one["subject"]["type"] == "specimen"
    acked = api("POST", f"/api/v1/alerts/{api.alert.id}/acknowledge", {"note": "seen by CDPS"})
    assert acked.status_code == 200 and acked.get_json()["status"] == "acknowledged"
    assert acked.get_json()["acknowledged_by"].startswith("api:")
    again = api("POST", f"/api/v1/alerts/{api.alert.id}/acknowledge")
    assert again.status_code == 422
    assert "already acknowledged" in again.get_json()["error"]["fields"]["status"]
    closed = api("POST", f"/api/v1/alerts/{api.alert.id}/close", {"note": 5})
    assert closed.status_code == 422 and "note" in closed.get_json()["error"]["fields"]
    closed = api("POST", f"/api/v1/alerts/{api.alert.id}/close", {"note": "done"})
    assert closed.get_json()["status"] == "closed"
    assert api("GET", "/api/v1/alerts").get_json()["total"] == 0
    assert api("GET", "/api/v1/alerts?status=closed").get_json()["total"] == 1
    bad = api("GET", "/api/v1/alerts?severity=huge")
    assert bad.status_code == 422 and "severity" in bad.get_json()["error"]["fields"]


def test_other_units_client_sees_nothing(api):
    assert api("GET", "/api/v1/alerts", token=api.foreign).get_json()["total"] == 0
    resp = api("GET", f"/api/v1/alerts/{api.alert.id}", token=api.foreign)
    assert resp.status_code == 404 and "SPEC-" not in resp.get_data(as_text=True)


def test_watches_and_saved_searches(api):
    resp = api(
        "POST",
        "/api/v1/watches",
        {"kind": "term", "term": "cocaine", "recipients": {"units": [api.unit.id]}},
    )
    assert resp.status_code == 201
    watch = resp.get_json()
    assert watch["term"] == "cocaine"
    bad = api(
        "POST",
        "/api/v1/watches",
        {"kind": "term", "term": "heroin", "recipients": {"roles": ["wizard"]}},
    )
    assert bad.status_code == 422
    assert bad.get_json()["error"]["fields"] == {"recipients.roles[0]": "unknown role 'wizard'"}
    assert api("POST", "/api/v1/watches", {"kind": "vibe"}).status_code == 422
    assert api("POST", "/api/v1/watches", ["not", "an object"]).status_code == 422
    assert [w["id"] for w in api("GET", "/api/v1/watches").get_json()["items"]] == [watch["id"]]
    assert api("GET", "/api/v1/watches", token=api.foreign).get_json()["items"] == []
    assert api("DELETE", f"/api/v1/watches/{watch['id']}", token=api.foreign).status_code == 404
    assert api("DELETE", f"/api/v1/watches/{watch['id']}").status_code == 204
    assert api("GET", "/api/v1/watches").get_json()["items"] == []

    resp = api(
        "POST",
        "/api/v1/saved-searches",
        {"name": "Guns", "query": "pistol", "recipients": {"units": [api.unit.id]}},
    )
    assert resp.status_code == 201
    saved = resp.get_json()
    bad = api("POST", "/api/v1/saved-searches", {"name": "", "query": "x"})
    assert set(bad.get_json()["error"]["fields"]) == {"name", "query"}
    assert api("GET", "/api/v1/saved-searches").get_json()["items"][0]["name"] == "Guns"
    assert api("DELETE", f"/api/v1/saved-searches/{saved['id']}").status_code == 204


def test_openapi_describes_the_alert_operations(client):
    spec = client.get("/api/v1/openapi.json").get_json()
    assert set(spec["paths"]["/api/v1/alerts/{id}/acknowledge"]) == {"post"}
    assert "delete" in spec["paths"]["/api/v1/watches/{id}"]
    assert "Alert" in spec["components"]["schemas"]
