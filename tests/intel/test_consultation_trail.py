"""Every consultation is trailed once per request (issue 15, item 8): entity look-ups and
list queries, the API entity list (full identifiers), report lists, the resolution queue,
chart analysis and timeline, and 403 refusals."""

import json

import pytest
from sqlalchemy import select

from app.intel import reports, service
from app.security.trail import AccessEvent
from tests.intel.factories import entity, officer

QUERY = "Zefi Krasniqi"


def _rows(db, since=0, **where):
    stmt = select(AccessEvent).where(AccessEvent.seq > since).order_by(AccessEvent.seq)
    for key, value in where.items():
        stmt = stmt.where(getattr(AccessEvent, key) == value)
    return list(db.session.scalars(stmt))


def _last_seq(db):
    return max([r.seq for r in _rows(db)] or [0])


@pytest.fixture
def people(make, db):
    user, actor = officer(make)
    for i in range(3):
        entity(actor, f"{QUERY} {i}", entity_type="person", identifiers={"passport": f"ZK{i}000"})
    db.session.commit()
    return user, actor


@pytest.mark.parametrize(
    "url",
    [
        f"/intel/entities/lookup?q={QUERY}",
        f"/intel/entities?q={QUERY}",
    ],
)
def test_entity_look_up_and_list_query_are_one_search_row(client, db, make, people, url):
    user, _ = people
    make.sign_in(client, user)
    before = _last_seq(db)
    assert client.get(url).status_code == 200
    rows = _rows(db, before, action="search")
    assert len(rows) == 1  # one per request, not one per entity
    assert (rows[0].record_type, rows[0].query, rows[0].username) == (
        "entity",
        QUERY,
        user.username,
    )
    assert json.loads(rows[0].details)["results"] == 3


def test_an_empty_picker_query_is_not_a_consultation(client, db, make, people):
    make.sign_in(client, people[0])
    before = _last_seq(db)
    client.get("/intel/entities/lookup?q=")
    client.get("/intel/entities")  # browsing without a query
    assert _rows(db, before, action="search") == []


def test_api_entity_list_is_trailed_with_its_query(client, db, make, people):
    _, token = make.api_client(["entities:read"], unit=people[0].unit)
    before = _last_seq(db)
    auth = {"Authorization": f"Bearer {token}"}
    body = client.get(f"/api/v1/entities?q={QUERY}", headers=auth).get_json()
    assert body["total"] == 3
    client.get("/api/v1/entities", headers=auth)
    rows = _rows(db, before, action="search", record_type="entity")
    assert [r.query for r in rows] == [QUERY, None]
    assert rows[0].username.startswith("api:")
    assert json.loads(rows[0].details)["returned"] == 3


def test_report_lists_page_and_api_are_trailed(client, db, make):
    user, actor = officer(make)
    reports.create_report("Route", "Body text", "2", "B", actor=actor)
    db.session.commit()
    make.sign_in(client, user)
    _, token = make.api_client(["entities:read"], unit=user.unit)
    before = _last_seq(db)
    assert client.get("/intel/reports").status_code == 200
    assert client.get("/intel/reports/review").status_code == 200
    client.get("/api/v1/reports", headers={"Authorization": f"Bearer {token}"})
    rows = _rows(db, before, action="search", record_type="report")
    assert [r.query for r in rows] == [None, "review queue", None]
    assert [json.loads(r.details)["returned"] for r in rows] == [1, 0, 1]


def test_resolution_queue_is_trailed(client, db, make, people):
    make.sign_in(client, people[0])
    before = _last_seq(db)
    assert client.get("/intel/resolution").status_code == 200
    (row,) = _rows(db, before, action="search")
    assert row.record_type == "entity" and row.query == "resolution queue: pending"


@pytest.mark.parametrize("what", ["analyse", "timeline"])
def test_chart_analysis_and_timeline_are_trailed(client, db, make, people, what):
    user, actor = people
    ids = [e.id for e in service.find_entities(QUERY, actor=actor)]
    make.sign_in(client, user)
    before = _last_seq(db)
    resp = client.post(f"/intel/graph/{what}", json={"nodes": [f"e{i}" for i in ids]})
    assert resp.status_code == 200
    (row,) = _rows(db, before, record_type="entity")
    details = json.loads(row.details)
    assert row.action == "view" and details[what] == 3 and details["entities"] == sorted(ids)


def test_403_refusals_are_trailed_as_denied(client, db, make):
    user = make.user(roles=["enforcement_officer"])  # no entity.merge, no trail.view
    make.sign_in(client, user)
    before = _last_seq(db)
    assert client.get("/intel/resolution").status_code == 403
    assert client.get("/trail?user=someone").status_code == 403
    rows = _rows(db, before, outcome="denied")
    assert [(r.username, r.action, r.query) for r in rows] == [
        (user.username, "view", "/intel/resolution"),
        (user.username, "view", "/trail?user=someone"),
    ]
    assert json.loads(rows[0].details)["endpoint"] == "intel.resolution_queue"


def test_api_scope_refusal_is_trailed_as_denied(client, db, make):
    client_row, token = make.api_client(["alerts:read"])
    before = _last_seq(db)
    resp = client.get(f"/api/v1/entities?q={QUERY}", headers={"Authorization": f"Bearer {token}"})
    assert resp.status_code == 403
    (row,) = _rows(db, before, outcome="denied")
    assert row.username == f"api:{client_row.name}"
    assert row.query == f"/api/v1/entities?q={QUERY}"


def test_a_refusal_names_the_record_of_the_route(client, db, make, people):
    _, actor = people
    target = service.find_entities(QUERY, actor=actor)[0]
    _, token = make.api_client(["alerts:read"])
    before = _last_seq(db)
    resp = client.get(f"/api/v1/entities/{target.id}", headers={"Authorization": f"Bearer {token}"})
    assert resp.status_code == 403
    (row,) = _rows(db, before, outcome="denied")
    assert (row.record_type, row.record_id) == ("entity", str(target.id))
