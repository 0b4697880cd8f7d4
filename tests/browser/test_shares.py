"""Share a code-C report with another unit from its page, in a real Chromium: a user of that
unit opens it; the owner revokes the share; the user gets 404 again; the data-protection
officer's trail shows the four steps (share, open through the share, revoke, denied)."""

from datetime import date, timedelta

import pytest

from app.intel import reports
from app.security.models import RecordShare

pytestmark = pytest.mark.browser

TITLE = "Courier route through the northern crossing"


def _signed_in(browser, base_url, user, password="correct horse battery"):
    context = browser.new_context(base_url=base_url, viewport={"width": 1280, "height": 900})
    pg = context.new_page()
    pg.set_default_timeout(15_000)
    pg.goto("/login")
    pg.fill("#username", user.username)
    pg.fill("#password", password)
    pg.click("button[type=submit]")
    pg.wait_for_url("**/")
    return pg


def test_share_open_revoke_denied_and_trail(page, sign_in, make, db, live_server, tmp_path):
    unit_a = make.unit(code="HQ-INT", name="HQ intelligence")
    unit_b = make.unit(code="BCP-N", name="Border post north")
    owner = make.user(roles=["intelligence_officer"], unit=unit_a, username="owner.hq")
    reader = make.user(roles=["intelligence_officer"], unit=unit_b, username="reader.bcp")
    dpo = make.user(roles=["data_protection_officer"], unit=unit_a, username="dpo.hq")
    report = reports.create_report(
        TITLE,
        "Source reports couriers crossing on Tuesdays.",
        "1",
        "A",
        actor=make.actor(owner),
        handling_code="C",
        handling_conditions="Not to be passed on",
    )
    db.session.commit()
    url = f"/intel/reports/{report.id}"

    # The other unit cannot open it yet.
    other = _signed_in(page.context.browser, live_server, reader)
    assert other.goto(url).status == 404
    assert TITLE not in other.content()

    # 1. The owner shares it with BCP-N from the report's page.
    sign_in(owner)
    page.goto(url)
    panel = page.locator("#share-panel")
    panel.locator("select[name=share-unit]").select_option(label="BCP-N · Border post north")
    panel.locator("textarea[name=share-reason]").fill("Joint operation NORTH")
    ends = (date.today() + timedelta(days=14)).isoformat()
    panel.locator("input[name=share-ends]").fill(ends)
    panel.locator("#share-form button[type=submit]").click()
    page.wait_for_selector(".share-row.share-active")
    row = page.locator(".share-row.share-active")
    assert "unit BCP-N" in row.inner_text() and "Joint operation NORTH" in row.inner_text()
    page.screenshot(path=str(tmp_path / "1-shared.png"), full_page=True)
    db.session.rollback()
    share = db.session.query(RecordShare).one()
    assert share.unit_id == unit_b.id and share.created_by == owner.username

    # 2. A user of BCP-N opens it, and sees the share that names their unit.
    resp = other.goto(url)
    assert resp.status == 200
    assert TITLE in other.locator("h1").inner_text()
    assert "Joint operation NORTH" in other.locator("#share-list").inner_text()
    assert other.locator("#share-form").count() == 0
    other.screenshot(path=str(tmp_path / "2-opened-by-recipient.png"), full_page=True)

    # 3. The owner revokes the share.
    page.goto(url)
    page.fill(f"#revoke-reason-{share.id}", "Operation over")
    page.locator(f".share-row[data-share-id='{share.id}'] button[type=submit]").click()
    page.wait_for_selector(".share-row.share-revoked")
    assert "Operation over" in page.locator(".share-row.share-revoked").inner_text()
    page.screenshot(path=str(tmp_path / "3-revoked.png"), full_page=True)

    # 4. BCP-N gets 404 again.
    resp = other.goto(url)
    assert resp.status == 404
    assert TITLE not in other.content()
    other.screenshot(path=str(tmp_path / "4-denied.png"), full_page=True)
    other.context.close()

    # The trail shows the four steps, newest first.
    officer = _signed_in(page.context.browser, live_server, dpo)
    officer.goto(f"/trail?record_type=report&record_id={report.id}")
    rows = officer.locator("table tbody tr")
    steps = [
        (
            rows.nth(i).locator("td").nth(2).inner_text(),
            rows.nth(i).locator("td").nth(4).inner_text(),
            rows.nth(i).locator("td").nth(8).inner_text(),
            rows.nth(i).locator("td").nth(6).inner_text(),
        )
        for i in range(rows.count())
    ]
    officer.screenshot(path=str(tmp_path / "5-trail.png"), full_page=True)
    # Leave out the owning unit's own consultations of its report (and its creation).
    steps = [s for s in steps if not (s[0] == "owner.hq" and s[1] in ("view", "create"))]
    assert [s[:3] for s in steps] == [
        ("reader.bcp", "view", "denied"),
        ("owner.hq", "update", "allowed"),
        ("reader.bcp", "view", "allowed"),
        ("owner.hq", "disclose", "allowed"),
        ("reader.bcp", "view", "denied"),  # before the share
    ], steps
    assert [s[:3] for s in steps[:4]] == [
        ("reader.bcp", "view", "denied"),
        ("owner.hq", "update", "allowed"),
        ("reader.bcp", "view", "allowed"),
        ("owner.hq", "disclose", "allowed"),
    ], steps
    denied, revoked, opened, shared = (s[3] for s in steps[:4])
    assert "Joint operation NORTH" in shared and f'"share_id": {share.id}' in shared
    assert "Joint operation NORTH" in opened and f'"via_share": {share.id}' in opened
    assert "Operation over" in revoked and '"share": "revoked"' in revoked
    officer.context.close()
