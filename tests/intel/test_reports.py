"""Intelligence reports: grading, sanitised dissemination in the trail, review queue."""

from datetime import date, timedelta

import pytest

from app.core.errors import ValidationError
from app.intel import grading, reports, service
from app.intel.models import IntelReport, Link
from app.security.access import AccessDenied, NotFound
from app.security.trail import AccessEvent
from tests.intel.factories import entity, officer


def test_grade_mappings():
    assert grading.to_5x5x5("1", "A") == "B2"
    assert grading.to_admiralty("2", "D") == "F6"
    assert grading.from_legacy("5x5x5", "a1") == ("1", "A")
    assert grading.from_legacy("admiralty", "F6") == ("2", "D")
    with pytest.raises(ValidationError):
        grading.from_legacy("admiralty", "G9")
    for s in grading.SOURCE_GRADES:
        for i in grading.INTEL_GRADES:
            legacy = grading.to_5x5x5(s, i)
            assert grading.from_legacy("5x5x5", legacy)[0] in grading.SOURCE_GRADES


def test_create_report_with_entities_and_graded_links(make, db):
    _, actor = officer(make)
    a, b = entity(actor, "Orient Tobacco"), entity(actor, "Luan Hoxha", entity_type="person")
    report = reports.create_report(
        "Cigarette route",
        "Hoxha directs Orient Tobacco.",
        "1",
        "b",
        actor=actor,
        entity_ids=[a.id, b.id],
        links=[{"source_id": b.id, "target_id": a.id, "link_type": "director_of"}],
    )
    assert report.grade == "1BC" and report.reference.startswith("IR-")
    assert report.review_date > date.today()
    link = db.session.query(Link).one()
    assert (link.grade, link.provenance_type, link.provenance_id) == ("1B", "report", report.id)
    assert {e.id for e, _ in service.entities_mentioned_by("report", report.id, actor=actor)} == {
        a.id,
        b.id,
    }
    second = reports.create_report("t", "b", "3", "E", actor=actor)
    assert int(second.reference[-6:]) == int(report.reference[-6:]) + 1


def test_report_validation_names_fields(make):
    _, actor = officer(make)
    with pytest.raises(ValidationError) as err:
        reports.create_report("", "", "4", "Z", actor=actor)
    assert set(err.value.fields) >= {"title", "body", "source_grade", "intel_grade"}
    with pytest.raises(ValidationError) as err:
        reports.create_report("t", "b", "1", "A", actor=actor, review_date="2001-01-01")
    assert "review_date" in err.value.fields
    with pytest.raises(ValidationError) as err:
        reports.create_report("t", "b", "1", "A", actor=actor, entity_ids=[99999])
    assert "entity_ids[0]" in err.value.fields
    with pytest.raises(ValidationError) as err:
        reports.create_report(
            "t",
            "b",
            "1",
            "A",
            actor=actor,
            links=[{"source_id": 1, "target_id": 2, "link_type": "nope"}],
        )
    assert "links[0].link_type" in err.value.fields


def test_dissemination_is_a_disclosure_in_the_trail(make, db):
    _, actor = officer(make)
    report = reports.create_report("t", "full text", "2", "C", actor=actor)
    with pytest.raises(ValidationError) as err:
        reports.disseminate(report.id, "Border Police", "operation", actor=actor)
    assert "version" in err.value.fields  # no sanitised version yet
    with pytest.raises(ValidationError) as err:
        reports.disseminate(report.id, "", "", actor=actor, sanitised=False)
    assert set(err.value.fields) == {"recipient", "purpose"}
    reports.disseminate(
        report.id, "Border Police", "joint operation Alpha", actor=actor, sanitised=False
    )
    row = db.session.query(AccessEvent).filter_by(action="disclose").one()
    assert row.record_id == str(report.id) and row.justification == "joint operation Alpha"
    assert '"recipient": "Border Police"' in row.details
    enforcement = make.actor(make.user(roles=["enforcement_officer"]))
    with pytest.raises(AccessDenied):
        reports.disseminate(report.id, "x", "y", actor=enforcement)


def test_need_to_know(make):
    unit_a, unit_b = make.unit(), make.unit()
    _, owner = officer(make, unit_a)
    _, outsider = officer(make, unit_b)
    report = reports.create_report("t", "b", "1", "A", actor=owner, handling_code="C")
    with pytest.raises(NotFound):
        reports.get_report(report.id, actor=outsider)
    assert reports.review_queue(outsider, today=date.today() + timedelta(days=999)) == []


def test_review_queue_retain_and_dispose(make, db):
    _, actor = officer(make)
    old = reports.create_report("old", "body", "1", "A", actor=actor)
    fresh = reports.create_report(
        "fresh", "body", "1", "A", actor=actor, review_date=date.today() + timedelta(days=400)
    )
    later = date.today() + timedelta(days=366)
    assert [r.id for r in reports.review_queue(actor, today=later)] == [old.id]
    with pytest.raises(ValidationError) as err:
        reports.review_report(old.id, "retain", actor=actor)
    assert "next_review" in err.value.fields
    reports.review_report(
        old.id, "retain", actor=actor, next_review=date.today() + timedelta(days=500)
    )
    assert reports.review_queue(actor, today=later) == []
    reports.review_report(fresh.id, "dispose", actor=actor)
    disposed = db.session.get(IntelReport, fresh.id)
    assert disposed.status == "disposed" and disposed.body == ""
    assert (
        db.session.query(AccessEvent).filter_by(action="delete", record_type="report").count() == 1
    )
    with pytest.raises(ValidationError):
        reports.disseminate(fresh.id, "x", "y", actor=actor, sanitised=False)


def test_report_pages(client, login_as, make, db):
    user = login_as("intelligence_officer")
    resp = client.post(
        "/intel/reports/new",
        data={
            "title": "Page report",
            "body": "Seen at the border.",
            "source_grade": "2",
            "intel_grade": "B",
            "handling_code": "C",
            "sanitised_body": "cleared",
            "entity_ids": "abc",
        },
    )
    assert resp.status_code == 200 and "is not an entity id" in resp.get_data(as_text=True)
    resp = client.post(
        "/intel/reports/new",
        data={
            "title": "Page report",
            "body": "Seen at the border.",
            "source_grade": "2",
            "intel_grade": "B",
            "handling_code": "C",
            "sanitised_body": "cleared",
        },
    )
    assert resp.status_code == 302
    report = db.session.query(IntelReport).one()
    page = client.get(f"/intel/reports/{report.id}").get_data(as_text=True)
    assert "2BC" in page and "5x5x5" in page and "cleared" in page
    resp = client.post(
        f"/intel/reports/{report.id}/disseminate",
        data={"recipient": "Police", "purpose": "investigation", "version": "sanitised"},
    )
    assert resp.status_code == 302
    page = client.get(f"/intel/reports/{report.id}").get_data(as_text=True)
    assert "Police (sanitised)" in page
    assert user.id
