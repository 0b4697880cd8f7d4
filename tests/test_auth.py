"""Sign-in, lockout, sessions, logout, redirects and security headers."""

from datetime import timedelta

import pytest
from sqlalchemy import select

from app.core.time import now_utc
from app.security.models import UserSession
from app.security.trail import AccessEvent

PASSWORD = "correct horse battery"


def _login(client, username, password=PASSWORD, next_url=None):
    url = "/login" + (f"?next={next_url}" if next_url else "")
    return client.post(url, data={"username": username, "password": password})


def test_login_success_redirects_home(client, make):
    user = make.user()
    resp = _login(client, user.username)
    assert resp.status_code == 302
    assert resp.headers["Location"] == "/"
    home = client.get("/")
    assert home.status_code == 200
    assert user.full_name.encode() in home.data


def test_failure_message_is_generic(client, make):
    user = make.user()
    wrong_pw = _login(client, user.username, "not the password")
    no_user = _login(client, "nobody-here", "not the password")
    assert b"Sign-in failed" in wrong_pw.data
    assert b"Sign-in failed" in no_user.data
    assert user.username.encode() not in no_user.data


def test_lockout_after_five_failures(client, make, db):
    user = make.user()
    for _ in range(5):
        _login(client, user.username, "wrong password!")
    db.session.refresh(user)
    assert user.locked_until_dt is not None
    # Even the right password is refused while locked, with the same generic message.
    resp = _login(client, user.username)
    assert resp.status_code == 200
    assert b"Sign-in failed" in resp.data
    assert client.get("/").status_code == 302
    denied = db.session.scalars(
        select(AccessEvent).where(AccessEvent.action == "login", AccessEvent.outcome == "denied")
    ).all()
    assert len(denied) == 6


def test_lockout_expires(client, make, db):
    user = make.user(locked_until_dt=now_utc() - timedelta(seconds=1))
    db.session.commit()
    assert _login(client, user.username).status_code == 302


def test_four_failures_then_success_resets_counter(client, make, db):
    user = make.user()
    for _ in range(4):
        _login(client, user.username, "wrong password!")
    assert _login(client, user.username).status_code == 302
    db.session.refresh(user)
    assert user.failed_logins == 0 and user.locked_until_dt is None


@pytest.mark.parametrize(
    "target",
    [
        "https://evil.example/",
        "//evil.example/",
        "/\\evil.example",
        "javascript:alert(1)",
        "http:/evil.example",
    ],
)
def test_no_open_redirect(client, make, target):
    user = make.user()
    resp = _login(client, user.username, next_url=target)
    assert resp.status_code == 302
    assert resp.headers["Location"] == "/"


def test_next_keeps_local_path(client, make):
    user = make.user()
    resp = _login(client, user.username, next_url="/trail?user=x")
    assert resp.headers["Location"] == "/trail?user=x"


def test_session_renewed_at_login(client, make, db):
    user = make.user()
    with client.session_transaction() as sess:
        sess["sid"] = "planted-by-attacker"
        sess["other"] = "x"
    _login(client, user.username)
    with client.session_transaction() as sess:
        assert sess["sid"] != "planted-by-attacker"
        assert "other" not in sess


def test_logout_invalidates_server_side(client, make, db):
    user = make.user()
    _login(client, user.username)
    with client.session_transaction() as sess:
        stolen = dict(sess)
    assert client.post("/logout").status_code == 302
    # Replaying the old cookie content must not work: the server-side session is revoked.
    other = client.application.test_client()
    with other.session_transaction() as sess:
        sess.update(stolen)
    assert other.get("/").status_code == 302
    row = db.session.scalars(select(UserSession)).one()
    assert row.revoked_dt is not None


def test_inactivity_timeout(client, make, db, app):
    user = make.user()
    _login(client, user.username)
    row = db.session.scalars(select(UserSession)).one()
    row.last_seen_dt = now_utc() - app.config["TOLLGATE_IDLE_TIMEOUT"] - timedelta(seconds=1)
    db.session.commit()
    assert client.get("/").status_code == 302


def test_absolute_lifetime(client, make, db, app):
    user = make.user()
    _login(client, user.username)
    row = db.session.scalars(select(UserSession)).one()
    row.created_dt = now_utc() - app.config["TOLLGATE_SESSION_LIFETIME"] - timedelta(seconds=1)
    row.last_seen_dt = now_utc()
    db.session.commit()
    assert client.get("/").status_code == 302


def test_deactivated_user_loses_session(client, make, db, login_as):
    user = login_as("supervisor")
    user.is_active = False
    db.session.commit()
    assert client.get("/").status_code == 302


def test_security_headers(client):
    resp = client.get("/login")
    csp = resp.headers["Content-Security-Policy"]
    for directive in (
        "object-src 'none'",
        "base-uri 'none'",
        "frame-ancestors 'none'",
        "script-src 'self'",
    ):
        assert directive in csp
    assert resp.headers["X-Content-Type-Options"] == "nosniff"
    assert resp.headers["X-Frame-Options"] == "DENY"


def test_session_cookie_flags(client, make):
    user = make.user()
    resp = _login(client, user.username)
    cookie = resp.headers["Set-Cookie"]
    assert "HttpOnly" in cookie
    assert "Secure" in cookie
    assert "SameSite=Lax" in cookie


def test_passwords_hashed_with_argon2id(make):
    user = make.user()
    assert user.password_hash.startswith("$argon2id$")
