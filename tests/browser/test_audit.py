"""Post-clearance audit selection in a real Chromium: the auditor sets the capacity, reviews
the proposal, swaps a trader, adjusts risk areas, confirms, and the audit cases exist."""

from datetime import date, timedelta

import pytest
from sqlalchemy import select

from app.audit import service
from app.audit.models import AuditSelection
from app.security.access import Actor
from tests.audit.factories import import_rows, kcs_row

pytestmark = pytest.mark.browser


def test_auditor_selects_traders_and_opens_audit_cases(page, make, sign_in, db):
    unit = make.unit(code="PCA-1", name="Post-clearance audit")
    auditor = make.user(roles=["pca_auditor"], unit=unit)
    rows = []
    for t in range(12):  # IMP-00 worst ... IMP-11 clean
        for i in range(8):
            rows.append(
                kcs_row(
                    day=date(2025, 4, 1) + timedelta(days=i * 9 + t),
                    importer=f"IMP-{t:02d}",
                    fraud=i < max(0, 8 - t),
                )
            )
    import_rows(rows)
    service.compute_ratings(actor=Actor.system("test"))
    db.session.commit()

    sign_in(auditor)
    page.click('nav.mainnav .navitem > a[href="/audit/"]')
    page.wait_for_url("**/audit/")
    assert page.locator("table.table tbody tr").count() > 5
    page.goto("/audit/selection/new")
    page.fill("#capacity", "4")
    page.fill("#period_start", "2026-01-01")
    page.fill("#period_end", "2026-06-30")
    page.fill("#random_share", "0.25")
    page.select_option("#audit_type", "field")
    page.click("text=Propose traders")
    page.wait_for_url("**/audit/selection/*")

    boxes = page.locator('input[name="line"]')
    assert page.locator("#chosen-count").inner_text() == "4"
    assert page.locator("tr.reason-random").count() == 1
    assert page.locator("tr.reason-rating").count() == 3
    first = page.locator("tr.reason-rating").first
    assert "IMP-00" in first.inner_text()

    # Swap: drop the third ranked trader, take the first reserve instead.
    third = page.locator("tr.reason-rating").nth(2)
    dropped = third.get_attribute("data-line")
    third.locator('input[name="line"]').uncheck()
    reserve = page.locator("tr.reason-reserve").first
    taken = reserve.get_attribute("data-line")
    reserve.locator('input[name="line"]').check()
    # Over capacity disables the button; back within capacity enables it.
    page.locator("tr.reason-reserve").nth(1).locator('input[name="line"]').check()
    assert page.locator("#confirm-button").is_disabled()
    page.locator("tr.reason-reserve").nth(1).locator('input[name="line"]').uncheck()
    assert page.locator("#chosen-count").inner_text() == "4"
    first_line = first.get_attribute("data-line")
    page.select_option(f'select[name="areas-{first_line}"]', ["valuation", "origin"])
    assert boxes.count() > 4
    page.click("#confirm-button")
    page.wait_for_selector("text=4 audit cases opened.")

    db.session.rollback()
    from app.cases.models import Case

    selection = db.session.scalars(select(AuditSelection)).one()
    assert selection.status == "confirmed"
    opened = {str(line.id): line for line in selection.lines if line.case_id}
    assert set(opened) >= {taken, first_line} and dropped not in opened
    cases = {c.id: c for c in db.session.scalars(select(Case).where(Case.kind == "audit"))}
    assert len(cases) == 4
    assert cases[opened[first_line].case_id].risk_areas == ["valuation", "origin"]
    assert all(c.risk_areas and c.audit_type == "field" for c in cases.values())
    assert all(c.unit_id == unit.id for c in cases.values())
    assert page.locator("text=" + cases[opened[first_line].case_id].reference).count() == 1
