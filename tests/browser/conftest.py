"""A live server (real HTTP, CSRF on) and Playwright driving Debian's /usr/bin/chromium."""

import os
import shutil
import threading

import pytest
from werkzeug.serving import make_server

from app import create_app
from tests.browser.axe import Audit

CHROMIUM = os.environ.get("TOLLGATE_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def _require_browser() -> bool:
    return os.environ.get("TOLLGATE_REQUIRE_BROWSER", "") not in ("", "0", "false")


@pytest.fixture(scope="session")
def chromium_path():
    path = CHROMIUM if os.path.exists(CHROMIUM) else shutil.which("chromium")
    if not path:
        if _require_browser():
            pytest.fail(f"TOLLGATE_REQUIRE_BROWSER=1 but Chromium is not at {CHROMIUM}")
        pytest.skip("Chromium not installed (apt-get install -y chromium)")
    return path


@pytest.fixture(scope="session")
def live_app(app):
    """A second app on the same database, as production runs it: CSRF enabled."""
    config = {
        k: app.config[k]
        for k in (
            "SQLALCHEMY_DATABASE_URI",
            "SECRET_KEY",
            "TOLLGATE_EVIDENCE_DIR",
            "TOLLGATE_SEARCH_DIR",
            "TOLLGATE_WORKER_LOCK",
            "TOLLGATE_FAST_HASH",
        )
    }
    config.update(
        {
            "INSTANCE_PATH": app.instance_path,
            "WTF_CSRF_ENABLED": True,
            "SESSION_COOKIE_SECURE": False,
            "TOLLGATE_ALERT_POLL_SECONDS": 1,  # the badge learns of an alert within a second
            # A retried sign-in test must not meet the last attempt's failures (the throttle
            # has tests of its own: tests/security/test_signin_throttle.py).
            "TOLLGATE_RATELIMIT_ENABLED": False,
        }
    )
    return create_app(config)


@pytest.fixture(scope="session")
def _server(live_app):
    server = make_server("127.0.0.1", 0, live_app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=5)


@pytest.fixture
def live_server(_server, db):
    """Base URL of the running server; the database is emptied after each test."""
    return _server


@pytest.fixture(scope="session")
def _browser(chromium_path):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=chromium_path, headless=True, args=CHROMIUM_ARGS
        )
        yield browser
        browser.close()


@pytest.fixture
def axe_audit(_browser, monkeypatch):
    """axe-core runs in every page of every context this test opens (tests/browser/axe.py),
    including contexts a test opens itself for a second user (``page.context.browser``)."""
    audit = Audit()
    new_context = _browser.new_context

    def _watched(*args, **kwargs):
        context = new_context(*args, **kwargs)
        audit.watch(context)
        return context

    monkeypatch.setattr(_browser, "new_context", _watched)
    return audit


@pytest.fixture
def page(_browser, live_server, axe_audit):
    """A page whose documents axe-core checks; after the test, any serious or critical
    WCAG 2.1 AA violation in a page it visited fails it (at teardown)."""
    context = _browser.new_context(base_url=live_server, viewport={"width": 1280, "height": 900})
    pg = context.new_page()
    pg.set_default_timeout(15_000)
    yield pg
    try:
        axe_audit.check()
    finally:
        context.close()


@pytest.fixture
def sign_in(page, make, db):
    """``sign_in(user)`` through the real login form."""

    def _sign_in(user, password="correct horse battery"):
        db.session.commit()
        page.goto("/login")
        page.fill("#username", user.username)
        page.fill("#password", password)
        page.click("button[type=submit]")
        page.wait_for_url("**/")
        return user

    return _sign_in
