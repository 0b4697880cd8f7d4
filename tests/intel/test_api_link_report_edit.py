"""Issue 19 item 5: links and reports are edited through the API as on their pages:
PATCH /api/v1/links/<id> and /api/v1/reports/<id>, with a reason, each change a version,
trailed; a record the caller may not see is 404, its existence not told."""

from sqlalchemy import select

from app.intel import reports, service
from app.security.trail import AccessEvent
from tests.intel.factories import entity, officer


def _headers(make, unit):
    _client, token = make.api_client(["entities:read", "entities:write"], unit=unit)
    return {"Authorization": f"Bearer {token}"}


def test_a_link_is_corrected_and_ended_through_the_api(client, make, db):
    unit = make.unit()
    _, actor = officer(make, unit)
    a = entity(actor, "Ana Open", entity_type="person")
    b = entity(actor, "Ben Open", entity_type="person")
    link = service.add_link(a.id, b.id, "associate_of", actor=actor, grade="2B")
    db.session.commit()
    headers = _headers(make, unit)
    url = f"/api/v1/links/{link.id}"
    resp = client.patch(url, json={"link_type": "family_of"}, headers=headers)
    assert resp.status_code == 422 and "reason" in resp.json["error"]["fields"]
    resp = client.patch(url, json={"link_type": "family_of", "reason": "family"}, headers=headers)
    assert resp.status_code == 200, resp.json
    assert resp.json["link_type"] == "family_of" and resp.json["grade"] == "2B"
    assert [v["link_type"] for v in resp.json["versions"]] == ["associate_of"]
    resp = client.patch(url, json={"end_date": "2026-11-30", "reason": "ended"}, headers=headers)
    assert resp.status_code == 200 and resp.json["end_date"] == "2026-11-30"
    assert len(resp.json["versions"]) == 2
    resp = client.patch(url, json={"reason": "x", "owner": 1}, headers=headers)
    assert resp.status_code == 422 and "owner" in str(resp.json["error"]["fields"])
    trail = db.session.scalars(
        select(AccessEvent).where(AccessEvent.action == "update", AccessEvent.record_type == "link")
    ).all()
    assert len(trail) == 2


def test_a_report_is_edited_through_the_api_as_a_version(client, make, db):
    unit = make.unit()
    _, actor = officer(make, unit)
    report = reports.create_report("Route A", "First text", "2", "B", actor=actor)
    db.session.commit()
    headers = _headers(make, unit)
    url = f"/api/v1/reports/{report.id}"
    resp = client.patch(url, json={"body": "Second text", "reason": "new source"}, headers=headers)
    assert resp.status_code == 200, resp.json
    assert (resp.json["body"], resp.json["title"], resp.json["intel_grade"]) == (
        "Second text",
        "Route A",
        "B",
    )
    assert [v["version"] for v in resp.json["versions"]] == [1]
    resp = client.patch(url, json={"body": "Third"}, headers=headers)
    assert resp.status_code == 422 and "reason" in resp.json["error"]["fields"]


def test_records_the_caller_may_not_see_are_404(client, make, db):
    unit, other = make.unit(), make.unit()
    _, actor = officer(make, unit)
    secret = reports.create_report("Secret", "x", "2", "B", actor=actor, handling_code="C")
    a = entity(actor, "Cara Secret", entity_type="person", handling_code="C")
    b = entity(actor, "Dan Secret", entity_type="person", handling_code="C")
    link = service.add_link(a.id, b.id, "associate_of", actor=actor, handling_code="C")
    db.session.commit()
    headers = _headers(make, other)
    for url, change in (
        (f"/api/v1/reports/{secret.id}", {"title": "Mine now"}),
        (f"/api/v1/links/{link.id}", {"grade": "1A"}),
    ):
        resp = client.patch(url, json={"reason": "x", **change}, headers=headers)
        assert resp.status_code == 404, (url, resp.json)
    for url in ("/api/v1/reports/999999", "/api/v1/links/999999"):
        assert client.patch(url, json={"reason": "x"}, headers=headers).status_code == 404
