"""Record a seizure at the border in a real Chromium: two items, two parties (one picked from
the registry, one created on the spot) and a photo; a supervisor then sees it in the
statistics, and the trail shows each access."""

import re

import pytest
from sqlalchemy import select

from app.cases.models import Case
from app.security.trail import AccessEvent
from tests.cases.factories import PNG, entity

pytestmark = pytest.mark.browser


def test_record_seizure_with_two_items_two_parties_and_a_photo(page, make, sign_in, db):
    unit = make.unit(code="BCP-M", name="BCP Merdare")
    officer = make.user(roles=["enforcement_officer"], unit=unit)
    supervisor = make.user(roles=["supervisor"], unit=unit)
    entity(make.actor(officer), "Besnik Morina")
    db.session.commit()

    sign_in(officer)
    page.goto("/cases/new/seizure")
    page.fill("#event_dt", "2026-05-01T10:30")
    page.select_option("#place_ref", "crossing:BCP-MER")
    page.select_option("#direction", "import")
    page.select_option("#transport_mode", "road")
    page.fill("#conveyance", "Truck 01-234-AB")
    page.select_option("#detection_method", "scanner")
    page.select_option("#concealment_method", "false_compartment")

    page.select_option("#items-0-commodity_area", "tobacco")
    page.fill("#items-0-hs_code", "240220")
    page.fill("#items-0-description", "Cigarettes without excise stamps")
    page.fill("#items-0-quantity", "40000")
    page.select_option("#items-0-quantity_unit", "sticks")
    page.fill("#items-0-value", "8800")
    page.select_option("#items-1-commodity_area", "alcohol")
    page.fill("#items-1-description", "Whisky")
    page.fill("#items-1-quantity", "36")
    page.select_option("#items-1-quantity_unit", "l")
    page.fill("#items-1-value", "720")
    page.click("text=Add another item")
    assert page.locator(".item-row").count() == 4
    assert page.input_value("#items-3-description") == ""

    # Party 1: picked from the registry through the look-up.
    page.select_option("#parties-0-role", "driver")
    page.fill("#parties-0-lookup", "Besnik")
    page.click(".lookup-choice >> text=Besnik Morina")
    assert "Picked from the registry" in page.locator(".party-row .picked").first.inner_text()
    # Party 2: created on the spot.
    page.select_option("#parties-1-role", "vehicle")
    page.select_option("#parties-1-new_type", "vehicle")
    page.fill("#parties-1-new_name", "Truck 01-234-AB")

    page.set_input_files(
        "#evidence", files=[{"name": "concealment.png", "mimeType": "image/png", "buffer": PNG}]
    )
    page.click("button:has-text('Record the seizure')")
    page.wait_for_url(re.compile(r".*/cases/\d+$"))
    assert "recorded" in page.locator(".flash").inner_text()
    assert "Whisky" in page.content() and "Besnik Morina" in page.content()

    db.session.rollback()
    case = db.session.scalar(select(Case))
    assert [i.commodity_area for i in case.items] == ["tobacco", "alcohol"]
    assert sorted((p.role, p.entity_name) for p in case.parties) == [
        ("driver", "Besnik Morina"),
        ("vehicle", "Truck 01-234-AB"),
    ]
    assert len(case.evidence) == 1 and case.evidence[0].content_type == "image/png"
    assert case.reference.startswith("BCP-M/")

    # The photo downloads as an attachment through the access-checked route.
    with page.expect_download() as download:
        page.click("text=concealment.png")
    assert download.value.suggested_filename == "concealment.png"

    page.click("text=Sign out")
    sign_in(supervisor)
    page.goto("/cases/statistics")
    assert page.inner_text("#kpi-seizures") == "1"
    assert "Tobacco" in page.inner_text("#by-area")
    assert "BCP Merdare" in page.inner_text("#by-place")

    db.session.rollback()
    events = db.session.scalars(
        select(AccessEvent).where(AccessEvent.record_type.in_(["case", "evidence"]))
    ).all()
    seen = {(e.username, e.action, e.record_type) for e in events}
    assert (officer.username, "create", "case") in seen
    assert (officer.username, "view", "case") in seen
    assert (officer.username, "create", "evidence") in seen
    assert (officer.username, "view", "evidence") in seen  # the download
    assert (supervisor.username, "search", "case") in seen  # the statistics
