"""/api/v1/shares: share, list, read and revoke through the API; the body is allow-listed;
an API client of the recipient unit lists the record only while the share holds."""

from datetime import date, timedelta

import pytest

from app.core.openapi import build_spec
from app.extensions import db as _db
from app.security.models import RecordShare
from tests.cases.factories import officer, seizure


def _h(token):
    return {"Authorization": f"Bearer {token}"}


def _until(days=30):
    return (date.today() + timedelta(days=days)).isoformat()


@pytest.fixture
def setup(make, db):
    unit_a, unit_b = make.unit(code="API-A"), make.unit(code="API-B")
    _, owner = officer(make, unit_a, roles=("enforcement_officer", "intelligence_officer"))
    case = seizure(owner, title="Cocaine in bananas", handling_code="C")
    db.session.commit()
    _, writer = make.api_client(["shares:write", "shares:read", "cases:read"], unit=unit_a)
    _, reader_b = make.api_client(["cases:read", "shares:read"], unit=unit_b)
    _, writer_b = make.api_client(["shares:write"], unit=unit_b)
    return {
        "units": (unit_a, unit_b),
        "case": case,
        "writer": writer,
        "reader_b": reader_b,
        "writer_b": writer_b,
    }


def _body(s, **changes):
    body = {
        "record_type": "case",
        "record_id": s["case"].id,
        "unit_id": s["units"][1].id,
        "reason": "Joint operation",
        "expires_dt": _until(),
    }
    body.update(changes)
    return body


def _case_ids(client, token):
    resp = client.get("/api/v1/cases", headers=_h(token), query_string={"per_page": 100})
    assert resp.status_code == 200, resp.get_json()
    return {item["id"] for item in resp.get_json()["items"]}


def test_share_list_and_revoke_over_the_api(client, setup):
    s = setup
    case_id = s["case"].id
    assert case_id not in _case_ids(client, s["reader_b"])
    assert client.get(f"/api/v1/cases/{case_id}", headers=_h(s["reader_b"])).status_code == 404

    resp = client.post("/api/v1/shares", json=_body(s), headers=_h(s["writer"]))
    assert resp.status_code == 201, resp.get_json()
    share = resp.get_json()
    assert share["unit"] == "API-B" and share["status"] == "active"
    assert share["created_by"] == "api:test client" and share["reason"] == "Joint operation"

    # An API client of the recipient unit (no user) now lists and opens the case.
    assert case_id in _case_ids(client, s["reader_b"])
    assert client.get(f"/api/v1/cases/{case_id}", headers=_h(s["reader_b"])).status_code == 200
    listed = client.get(
        "/api/v1/shares",
        query_string={"record_type": "case", "record_id": case_id},
        headers=_h(s["reader_b"]),
    )
    assert [x["id"] for x in listed.get_json()["items"]] == [share["id"]]
    one = client.get(f"/api/v1/shares/{share['id']}", headers=_h(s["writer"]))
    assert one.status_code == 200 and one.get_json()["id"] == share["id"]

    # The recipient may not revoke it; the owner may.
    resp = client.delete(f"/api/v1/shares/{share['id']}", headers=_h(s["writer_b"]))
    assert resp.status_code == 403
    resp = client.delete(f"/api/v1/shares/{share['id']}?reason=over", headers=_h(s["writer"]))
    assert resp.status_code == 200, resp.get_json()
    assert resp.get_json()["status"] == "revoked" and resp.get_json()["revoke_reason"] == "over"
    assert case_id not in _case_ids(client, s["reader_b"])
    assert client.get(f"/api/v1/cases/{case_id}", headers=_h(s["reader_b"])).status_code == 404
    again = client.delete(f"/api/v1/shares/{share['id']}", headers=_h(s["writer"]))
    assert again.status_code == 422
    body = client.delete(
        f"/api/v1/shares/{share['id']}", json={"reason": "x"}, headers=_h(s["writer"])
    )
    assert body.status_code == 422 and "reason" in body.get_json()["error"]["fields"]
    _db.session.rollback()
    assert _db.session.get(RecordShare, share["id"]).revoked_by == "api:test client"


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"owner": 1}, "owner"),  # not in the allow-list
        ({"expires_dt": "2027-01-31T18:00:00"}, "expires_dt"),
        ({"expires_dt": None}, "expires_dt"),
        ({"reason": ""}, "reason"),
        ({"record_type": "declaration"}, "record_type"),
        ({"record_type": 5}, "record_type"),
        ({"record_id": "x"}, "record_id"),
        ({"unit_id": 2**70}, "unit_id"),
    ],
)
def test_bad_share_bodies_are_422_naming_the_field(client, setup, changes, field):
    resp = client.post("/api/v1/shares", json=_body(setup, **changes), headers=_h(setup["writer"]))
    assert resp.status_code == 422, resp.get_json()
    assert field in resp.get_json()["error"]["fields"]


def test_another_unit_cannot_share_or_read_shares(client, setup):
    s = setup
    resp = client.post("/api/v1/shares", json=_body(s), headers=_h(s["writer_b"]))
    assert resp.status_code == 404
    resp = client.get(
        "/api/v1/shares",
        query_string={"record_type": "case", "record_id": s["case"].id},
        headers=_h(s["reader_b"]),
    )
    assert resp.status_code == 404
    assert "Cocaine" not in resp.get_data(as_text=True)


def test_shares_are_in_the_openapi_document(app):
    spec = build_spec(app)
    assert set(spec["paths"]["/api/v1/shares"]) == {"get", "post"}
    assert set(spec["paths"]["/api/v1/shares/{id}"]) == {"get", "delete"}
    schema = spec["components"]["schemas"]["ShareInput"]
    assert schema["additionalProperties"] is False
    assert {"reason", "expires_dt", "unit_id", "user_id"} <= set(schema["properties"])
