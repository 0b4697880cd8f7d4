"""The FtM export from the entity page, the chart page and the API."""

import json

from app.intel import service


def _world(make):
    user = make.user(roles=["intelligence_officer"])
    actor = make.actor(user)
    ivan = service.create_entity("person", "Ivan Petrov", actor=actor, handling_code="C")
    firm = service.create_entity(
        "organisation", "Balkan Trading", actor=actor, identifiers={"eori": "RS123456789"}
    )
    service.add_link(ivan.id, firm.id, "director_of", actor=actor, grade="1A")
    return user, ivan, firm


def test_the_entity_page_exports_its_neighbourhood(db, client, make):
    user, ivan, firm = _world(make)
    db.session.commit()
    make.sign_in(client, user)
    page = client.get(f"/intel/entities/{ivan.id}").get_data(as_text=True)
    assert f'action="/exchange/entities/{ivan.id}/ftm"' in page
    refused = client.post(f"/exchange/entities/{ivan.id}/ftm", data={"justification": " "})
    assert refused.status_code == 422
    resp = client.post(f"/exchange/entities/{ivan.id}/ftm", data={"justification": "FIU"})
    assert resp.status_code == 200
    assert resp.mimetype == "application/x-ndjson"
    rows = [json.loads(x) for x in resp.get_data(as_text=True).splitlines()]
    assert sorted(r["schema"] for r in rows) == [
        "Company",
        "Directorship",
        "Identification",
        "Person",
    ]
    directorship = next(r for r in rows if r["schema"] == "Directorship")
    assert directorship["grade"] == "1A"
    assert next(r for r in rows if r["schema"] == "Person")["handling_code"] == "C"


def test_the_chart_page_exports_its_entities(db, client, make):
    user, ivan, firm = _world(make)
    db.session.commit()
    make.sign_in(client, user)
    page = client.get("/intel/chart").get_data(as_text=True)
    assert 'formaction="/exchange/chart/ftm"' in page
    resp = client.post(
        "/exchange/chart/ftm", data={"nodes": f"e{ivan.id},e{firm.id}", "justification": "FIU"}
    )
    assert resp.status_code == 200
    assert len(resp.get_data(as_text=True).splitlines()) == 4


def test_the_api_exports_a_neighbourhood(db, client, make):
    user, ivan, firm = _world(make)
    _, token = make.api_client(["entities:read"], unit=user.unit)
    headers = {"Authorization": f"Bearer {token}"}
    resp = client.post(
        "/api/v1/exchange/ftm",
        json={"entity_id": firm.id, "justification": "FIU"},
        headers=headers,
    )
    assert resp.status_code == 200, resp.get_data(as_text=True)
    assert len(resp.get_data(as_text=True).splitlines()) == 4
    both = client.post(
        "/api/v1/exchange/ftm",
        json={"entity_id": firm.id, "entity_ids": [ivan.id], "justification": "FIU"},
        headers=headers,
    )
    assert both.status_code == 422
    unknown = client.post(
        "/api/v1/exchange/ftm", json={"entity_id": firm.id, "format": "x"}, headers=headers
    )
    assert unknown.status_code == 422
