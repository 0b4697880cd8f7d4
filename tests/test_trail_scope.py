"""Trail scope (issue 15, item 7): a supervisor reads the trail of their own unit; reading
across units takes trail.view_all (data-protection officer) and is itself trailed."""

import json

from sqlalchemy import select

from app.security import trail
from app.security.access import Actor
from app.security.trail import AccessEvent

SECRET_QUERY = "ZZ-SENTINEL-TRAIL-4410 covert source"


def _world(make, db):
    hq = make.unit(code="HQ-INT")
    bcp = make.unit(code="BCP-N")
    analyst = make.user(roles=["intelligence_officer"], unit=hq)
    local = make.user(roles=["enforcement_officer"], unit=bcp)
    trail.record(make.actor(analyst), "search", "entity", None, query=SECRET_QUERY)
    trail.record(
        make.actor(analyst),
        "export",
        "case",
        None,
        justification="ZZ-SENTINEL-TRAIL-4410 operation",
    )
    trail.record(make.actor(local), "view", "case", 4242)
    hq_client, _ = make.api_client(["cases:read"], unit=hq)
    bcp_client, _ = make.api_client(["cases:read"], unit=bcp)
    hq_client.name, bcp_client.name = "hq-feed", "bcp-feed"
    for client, record_id in ((hq_client, 9001), (bcp_client, 9002)):
        trail.record(Actor.for_client(client, set()), "view", "case", record_id)
    db.session.commit()
    return hq, bcp


def _last_read(db, action="search"):
    row = db.session.scalars(
        select(AccessEvent)
        .where(AccessEvent.record_type == "access_event", AccessEvent.action == action)
        .order_by(AccessEvent.seq.desc())
    ).first()
    return json.loads(row.details)


def test_supervisor_reads_only_the_rows_of_their_unit(client, db, make, login_as):
    _, bcp = _world(make, db)
    login_as("supervisor", unit=bcp)
    for url in ("/trail", "/trail?unit=HQ-INT", "/trail?user=&action=search"):
        html = client.get(url).get_data(as_text=True)
        assert "ZZ-SENTINEL-TRAIL-4410" not in html, url
    html = client.get("/trail").get_data(as_text=True)
    assert "case:4242" in html and "case:9002" in html  # its users and its API clients
    assert "case:9001" not in html
    assert "Rows of unit BCP-N" in html
    assert _last_read(db) == {"scope": "unit BCP-N", "cross_unit": False}


def test_a_client_name_used_in_two_units_is_not_attributed(client, db, make, login_as):
    _, bcp = _world(make, db)
    twin, _ = make.api_client(["cases:read"], unit=make.unit())
    twin.name = "bcp-feed"
    db.session.commit()
    login_as("supervisor", unit=bcp)
    html = client.get("/trail").get_data(as_text=True)
    assert "case:4242" in html and "case:9002" not in html
    assert _last_read(db) == {"scope": "unit BCP-N", "cross_unit": False}


def test_supervisor_export_is_limited_to_their_unit(client, db, make, login_as):
    _, bcp = _world(make, db)
    login_as("supervisor", unit=bcp)
    export = client.post("/trail/export?unit=HQ-INT", data={"justification": "audit"})
    assert export.status_code == 200
    body = export.get_data(as_text=True)
    assert "ZZ-SENTINEL-TRAIL-4410" not in body
    assert "case,4242" in body
    assert _last_read(db, "export")["cross_unit"] is False


def test_data_protection_officer_reads_across_units_and_is_trailed(client, db, make, login_as):
    hq, bcp = _world(make, db)
    officer = login_as("data_protection_officer", unit=bcp)
    html = client.get("/trail").get_data(as_text=True)
    assert SECRET_QUERY in html and "case:4242" in html
    assert _last_read(db) == {"scope": "all units", "cross_unit": True}
    row = db.session.scalars(select(AccessEvent).order_by(AccessEvent.seq.desc())).first()
    assert row.username == officer.username and row.action == "search"

    html = client.get("/trail?unit=HQ-INT").get_data(as_text=True)
    assert SECRET_QUERY in html and "case:4242" not in html
    assert _last_read(db) == {"scope": "unit HQ-INT", "cross_unit": True}
    client.get("/trail?unit=BCP-N")
    assert _last_read(db) == {"scope": "unit BCP-N", "cross_unit": False}

    export = client.post("/trail/export?unit=HQ-INT", data={"justification": "complaint 7"})
    assert "ZZ-SENTINEL-TRAIL-4410" in export.get_data(as_text=True)
    assert _last_read(db, "export")["cross_unit"] is True

    assert client.get("/trail?unit=NOPE").status_code == 422


def test_the_role_reads_no_records():
    from app.security.roles import ROLE_PERMISSIONS

    assert ROLE_PERMISSIONS["data_protection_officer"] == {
        "trail.view",
        "trail.view_all",
        "trail.export",
    }
    holders = [r for r, perms in ROLE_PERMISSIONS.items() if "trail.view_all" in perms]
    assert holders == ["data_protection_officer"]
