"""Issue 19 in Chromium: an officer records a seizure by choosing a crossing point and sees it
on the map; an investigator prints a code-C case file whose every page carries the marking.
Screenshots go to $TOLLGATE_SCREENSHOT_DIR when set (else the test's tmp folder)."""

import io
import os
import re
from pathlib import Path

import pytest
from pypdf import PdfReader
from sqlalchemy import select

from app.cases import service
from app.cases.models import Case
from app.security.trail import AccessEvent
from tests.cases.factories import seizure

pytestmark = pytest.mark.browser


def _shots(tmp_path) -> Path:
    folder = Path(os.environ.get("TOLLGATE_SCREENSHOT_DIR") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def test_officer_records_a_seizure_at_a_crossing_point_and_sees_it_on_the_map(
    page, make, sign_in, db, tmp_path
):
    shots = _shots(tmp_path)
    unit = make.unit(code="BCP-J", name="BCP Jarinje")
    officer = make.user(roles=["enforcement_officer"], unit=unit)
    db.session.commit()
    sign_in(officer)
    page.goto("/cases/new/seizure")
    # An empty form is refused field by field.
    page.click("button:has-text('Record the seizure')")
    assert "not recorded" in page.locator(".flash").inner_text()
    assert page.locator(".field.has-error #place_ref").count() == 1
    page.screenshot(path=str(shots / "h8-1-empty-seizure-refused.png"), full_page=True)

    page.fill("#event_dt", "2026-05-01T10:30")
    page.select_option("#place_ref", "crossing:BCP-JAR")
    assert page.locator("#place_ref option:checked").inner_text().startswith("BCP Jarinje")
    page.select_option("#transport_mode", "road")
    page.select_option("#items-0-commodity_area", "tobacco")
    page.fill("#items-0-description", "Cigarettes without excise stamps")
    page.fill("#items-0-quantity", "40,000")
    page.select_option("#items-0-quantity_unit", "sticks")
    page.fill("#items-0-value", "8,800")
    page.click("button:has-text('Record the seizure')")
    page.wait_for_url(re.compile(r".*/cases/\d+$"))
    db.session.rollback()
    case = db.session.scalar(select(Case))
    assert (case.place_ref, case.place) == ("crossing:BCP-JAR", "BCP Jarinje")
    assert case.items[0].quantity == 40000 and case.total_value == 8800

    page.goto("/cases/seizures")
    page.click("#to-map")
    page.wait_for_selector("path.seizure-point")
    assert page.locator("path.seizure-point").count() == 1
    # the bundled outlines are drawn (no tile server, no internet)
    page.locator("#seizure-map path").nth(50).wait_for(state="attached")  # (no eval: CSP)
    assert "BCP Jarinje" in page.inner_text("#map-places")
    page.locator("path.seizure-point").click()
    popup = page.locator(".leaflet-popup-content a")
    assert "BCP Jarinje: 1 seizure" in popup.inner_text()
    page.screenshot(path=str(shots / "h8-2-seizure-map.png"), full_page=True)
    popup.click()
    page.wait_for_url(
        re.compile(r".*place_ref=crossing%3ABCP-JAR.*|.*place_ref=crossing:BCP-JAR.*")
    )
    assert case.reference in page.content()


def test_investigator_prints_a_code_c_case_file_with_the_marking_on_every_page(
    page, make, sign_in, db, tmp_path
):
    shots = _shots(tmp_path)
    unit = make.unit(code="INV", name="Investigations")
    investigator = make.user(roles=["intelligence_officer"], unit=unit)
    actor = make.actor(investigator)
    case = seizure(
        actor,
        title="Heroin in a fuel tank",
        handling_code="C",
        handling_conditions="Not to be shared outside the unit before the hearing",
        place_ref="crossing:BCP-MER",
    )
    for n in range(70):
        service.add_journal_entry(case.id, f"Surveillance note {n}: the truck waited.", actor=actor)
    db.session.commit()
    sign_in(investigator)
    page.goto(f"/cases/{case.id}")
    page.fill("#file-justification", "File for the hearing on 12 May")
    page.screenshot(path=str(shots / "h8-3-case-page-print.png"), full_page=False)
    with page.expect_download() as download:
        page.click("#print-case-file")
    pdf = Path(download.value.path()).read_bytes()
    (shots / "h8-4-case-file.pdf").write_bytes(pdf)
    pages = [" ".join(p.extract_text().split()) for p in PdfReader(io.BytesIO(pdf)).pages]
    assert len(pages) >= 3
    for text in pages:
        assert "HANDLING CODE C" in text
        assert "Not to be shared outside the unit before the hearing" in text
        assert case.reference in text and "status: Open" in text
    db.session.rollback()
    printed = db.session.scalars(
        select(AccessEvent).where(
            AccessEvent.action == "print", AccessEvent.record_id == str(case.id)
        )
    ).all()
    assert [(e.username, e.justification) for e in printed] == [
        (investigator.username, "File for the hearing on 12 May")
    ]
