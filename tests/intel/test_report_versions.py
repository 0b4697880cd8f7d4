"""Issue 19 item 5: reports are editable after filing, each edit a new version; the versions
go with the text when the report is disposed of."""

import pytest
from sqlalchemy import select

from app.core.errors import ValidationError
from app.intel import report_versions, reports
from app.intel.models import IntelReport, ReportVersion
from app.security.trail import AccessEvent
from tests.intel.factories import officer


def _report(actor):
    return reports.create_report("Route A", "First text", "2", "B", actor=actor)


def test_edit_keeps_the_filed_text_as_version_one(make, db):
    _, actor = officer(make, make.unit())
    report = _report(actor)
    report_versions.edit_report(
        report.id,
        actor=actor,
        reason="source re-graded",
        title="Route A",
        body="Corrected text",
        source_grade="1",
        intel_grade="B",
    )
    assert (report.body, report.source_grade) == ("Corrected text", "1")
    (old,) = report_versions.versions_of(report)
    assert (old.version, old.body, old.source_grade, old.reason) == (
        1,
        "First text",
        "2",
        "source re-graded",
    )
    assert db.session.scalars(
        select(AccessEvent.record_id).where(
            AccessEvent.action == "update", AccessEvent.record_type == "report"
        )
    ).all() == [str(report.id)]
    with pytest.raises(ValidationError) as err:
        report_versions.edit_report(
            report.id,
            actor=actor,
            reason="",
            title="x",
            body="y",
            source_grade="1",
            intel_grade="B",
        )
    assert "reason" in err.value.fields


def test_disposal_erases_the_versions_too(make, db):
    _, actor = officer(make, make.unit())
    report = _report(actor)
    report_versions.edit_report(
        report.id,
        actor=actor,
        reason="typo",
        title="Route A",
        body="Second text",
        source_grade="2",
        intel_grade="B",
    )
    reports.review_report(report.id, "dispose", actor=actor)
    db.session.flush()
    assert db.session.scalars(select(ReportVersion)).all() == []
    assert db.session.get(IntelReport, report.id).body == ""


def test_report_page_edits_as_a_new_version(client, login_as, make, db):
    unit = make.unit()
    user = login_as("intelligence_officer", unit=unit)
    report = _report(make.actor(user))
    db.session.commit()
    assert 'id="edit-report"' in client.get(f"/intel/reports/{report.id}").get_data(as_text=True)
    resp = client.post(
        f"/intel/reports/{report.id}/edit",
        data={
            "title": "Route A",
            "body": "Edited on the page",
            "source_grade": "2",
            "intel_grade": "B",
            "reason": "new detail",
        },
        follow_redirects=True,
    )
    html = resp.get_data(as_text=True)
    assert "saved as a new version" in html and "Version 1" in html and "First text" in html
    other = login_as("intelligence_officer", unit=make.unit())
    assert other.unit_id != unit.id
    assert client.get(f"/intel/reports/{report.id}/edit").status_code == 404
