"""Chromium, issue 19 item 9: a supervisor assigns an alert to an officer from the alert's
page (choosing the officer by name); the officer signs in and finds it, unread, in the inbox,
with the assignment in its history. Screenshots of each step in the test's tmp dir."""

import pytest
from playwright.sync_api import expect

from app.alerts import routing
from app.alerts.subjects import register_subject, unregister_subject
from app.security.access import can_see

pytestmark = pytest.mark.browser


class _Record:
    """A code-C record of the unit (another domain's restricted record stands in)."""

    __record_type__ = "e2e_supervised"

    def __init__(self, unit_id):
        self.id, self.unit_id, self.handling_code = 1, unit_id, "C"


def test_supervisor_assigns_an_alert_to_an_officer_who_sees_it_in_the_inbox(
    page, sign_in, make, db, app, live_app, tmp_path
):
    unit = make.unit()
    chief = make.user(roles=["supervisor"], unit=unit)
    officer = make.user(roles=["enforcement_officer"], unit=unit, supervisor_id=chief.id)
    record = _Record(unit.id)
    for each in (app, live_app):  # raised here, opened on the live server
        register_subject(
            each,
            "e2e_supervised",
            "alert.view",
            can_open=lambda actor, rid: rid == 1 and can_see(actor, record),
        )
    try:
        alert = routing.raise_alert(
            source_kind="profile",
            source_id=7,
            source_label="RP-7 cigarettes",
            subject_type="e2e_supervised",
            subject_id=1,
            subject_label="lorry KS-123",
            title="Cigarettes profile fired on lorry KS-123",
            recipients={"users": [chief.id]},
        )
        db.session.commit()
        sign_in(chief)
        page.goto(f"/alerts/{alert.id}")
        page.select_option("#user_id", label=officer.full_name)
        page.fill("#assign-note", "Please check the lorry at gate 2")
        page.screenshot(path=str(tmp_path / "1-assigning.png"), full_page=True)
        page.click("#assign-button")
        expect(page.locator("#alert-holder")).to_have_text(officer.full_name)
        page.screenshot(path=str(tmp_path / "2-assigned.png"), full_page=True)

        page.context.clear_cookies()
        sign_in(officer)
        page.goto("/alerts/")
        row = page.locator(f"a[href='/alerts/{alert.id}']").first
        expect(row).to_be_visible()
        expect(page.locator("#alerts-count")).to_have_text("1")
        page.screenshot(path=str(tmp_path / "3-officer-inbox.png"), full_page=True)
        row.click()
        expect(page.locator("h1")).to_have_text("Cigarettes profile fired on lorry KS-123")
        expect(page.get_by_text("Please check the lorry at gate 2")).to_be_visible()
    finally:
        for each in (app, live_app):
            unregister_subject(each, "e2e_supervised")
