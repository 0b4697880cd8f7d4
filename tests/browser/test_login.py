"""Sign in, see the home page, sign out, and the lockout, in a real Chromium."""

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser


def test_sign_in_home_sign_out(page, make, sign_in):
    user = make.user(roles=["supervisor"])
    sign_in(user)
    assert page.locator("h1").inner_text().startswith("Good day")
    assert user.full_name in page.locator(".userbox").inner_text()
    page.click("text=Sign out")
    page.wait_for_url("**/login")
    assert "You are signed out" in page.content()
    page.goto("/")
    page.wait_for_url("**/login?next=/")


def test_lockout_after_five_failures(page, make, db):
    user = make.user()
    db.session.commit()
    for _ in range(5):
        page.goto("/login")
        page.fill("#username", user.username)
        page.fill("#password", "definitely wrong")
        # A refused sign-in answers the POST on the same URL, so there is no URL to
        # wait for: wait for the page's load instead, else content() may read the
        # blank document of a navigation still under way.
        with page.expect_navigation():
            page.click("button[type=submit]")
        expect(page.locator("body")).to_contain_text("Sign-in failed")
    # The right password no longer works.
    page.fill("#username", user.username)
    page.fill("#password", "correct horse battery")
    with page.expect_navigation():
        page.click("button[type=submit]")
    expect(page.locator("body")).to_contain_text("Sign-in failed")
    assert "/login" in page.url
    db.session.rollback()  # end the test thread's read snapshot to see the server's writes
    assert user.locked_until_dt is not None
