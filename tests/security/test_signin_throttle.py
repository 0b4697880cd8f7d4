"""Per-client throttling of failed sign-ins and failed bearer tokens (issue 16, item 3).

Each test signs in from an address of its own, so counts left in a shared store (Redis) by an
earlier run or test cannot meet it."""

import itertools
import os
import re
import secrets
import socket

import pytest
from sqlalchemy import func, select

from app import create_app
from app.extensions import db as _db
from app.security.trail import AccessEvent

PASSWORD = "correct horse battery"
LIMIT = 3
REDIS_URL = os.environ.get("TOLLGATE_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
_addresses = itertools.count(1)


def _redis_reachable() -> bool:
    try:
        with socket.create_connection(("127.0.0.1", 6379), timeout=1):
            return True
    except OSError:
        return False


def _stores():
    yield pytest.param("memory://", id="memory")
    redis = pytest.mark.skipif(
        REDIS_URL.startswith("redis://127.0.0.1:6379") and not _redis_reachable(),
        reason="no Redis on 127.0.0.1:6379",
    )
    yield pytest.param(REDIS_URL, id="redis", marks=redis)


@pytest.fixture(params=list(_stores()))
def throttled_app(request, app, db):
    """An app on the test database with the throttle on (the suite's app has it off)."""
    keys = ("SQLALCHEMY_DATABASE_URI", "SECRET_KEY", "TOLLGATE_EVIDENCE_DIR")
    keys += ("TOLLGATE_SEARCH_DIR", "TOLLGATE_WORKER_LOCK", "TOLLGATE_FAST_HASH")
    config = {k: app.config[k] for k in keys}
    config.update(
        {
            "INSTANCE_PATH": app.instance_path,
            "TESTING": True,
            "WTF_CSRF_ENABLED": False,
            "TOLLGATE_RATELIMIT_ENABLED": True,
            "TOLLGATE_RATELIMIT_STORAGE_URI": request.param,
            "TOLLGATE_SIGNIN_FAILURE_LIMIT": f"{LIMIT}/minute",
            "TOLLGATE_API_AUTH_FAILURE_LIMIT": f"{LIMIT}/minute",
        }
    )
    throttled = create_app(config)
    assert throttled.extensions["tollgate_limiter"].enabled
    yield throttled
    _dispose(throttled)


def _dispose(application) -> None:
    with application.app_context():
        _db.engine.dispose()


def _client(application):
    """A test client sending from an address no other test uses."""
    n = next(_addresses)
    address = f"10.{secrets.randbelow(250)}.{n // 250 % 250}.{n % 250 + 1}"
    client = application.test_client()
    client.environ_base["REMOTE_ADDR"] = address
    return client


def _sign_in(client, username, password=PASSWORD):
    return client.post("/login", data={"username": username, "password": password})


def _login_events(db) -> int:
    db.session.rollback()
    return db.session.scalar(
        select(func.count()).select_from(AccessEvent).where(AccessEvent.action == "login")
    )


def test_failed_sign_ins_from_one_address_get_429_after_the_limit(throttled_app, make, db):
    user, other = make.user(), make.user()
    db.session.commit()
    client = _client(throttled_app)
    # Failures of any kind count: wrong password, unknown name, another account.
    for username, password in ((user.username, "nope nope"), ("nobody", PASSWORD)):
        assert _sign_in(client, username, password).status_code == 200
    assert _sign_in(client, other.username, "nope nope").status_code == 200
    refused = _sign_in(client, user.username)  # even the right password waits
    assert refused.status_code == 429
    assert 1 <= int(refused.headers["Retry-After"]) <= 60
    page = refused.get_data(as_text=True)
    assert "Too many failed sign-in attempts" in page
    assert re.search(r"Try again in (1 minute|\d\d? seconds?)\.", page)
    # Refused before the password was checked: no fourth sign-in in the trail, no session.
    assert _login_events(db) == LIMIT
    assert client.get("/").status_code == 302
    # The sign-in page itself still opens.
    assert client.get("/login").status_code == 200


def test_successful_sign_ins_are_not_counted(throttled_app, make, db):
    """An office behind one NAT address signs in all morning: only failures count."""
    users = [make.user() for _ in range(2)]
    db.session.commit()
    client = _client(throttled_app)
    for _ in range(4 * LIMIT):
        for user in users:
            assert _sign_in(client, user.username).status_code == 302
    for _ in range(LIMIT):
        assert _sign_in(client, users[0].username, "nope nope").status_code == 200
    assert _sign_in(client, users[1].username).status_code == 429


def test_other_addresses_are_not_throttled(throttled_app, make, db):
    user = make.user(failed_logins=0)
    db.session.commit()
    noisy = _client(throttled_app)
    for _ in range(LIMIT):
        _sign_in(noisy, "nobody", "nope nope")
    assert _sign_in(noisy, user.username).status_code == 429
    assert _sign_in(_client(throttled_app), user.username).status_code == 302


def test_bad_bearer_tokens_get_429_after_the_limit(throttled_app, make, db):
    _, token = make.api_client(["cases:read"])
    guesser = _client(throttled_app)
    bad = {"Authorization": "Bearer tg_000000000000_guess"}
    for _ in range(LIMIT):
        assert guesser.get("/api/v1/cases", headers=bad).status_code == 401
    refused = guesser.get("/api/v1/cases", headers={"Authorization": f"Bearer {token}"})
    assert refused.status_code == 429
    assert 1 <= int(refused.headers["Retry-After"]) <= 60
    body = refused.get_json()
    assert body["error"]["status"] == 429
    assert "bearer token" in body["error"]["message"]
    # Valid tokens are never counted, and another address is not affected.
    system = _client(throttled_app)
    good = {"Authorization": f"Bearer {token}"}
    for _ in range(4 * LIMIT):
        assert system.get("/api/v1/cases", headers=good).status_code == 200


def test_html_pages_do_not_count_against_the_api_limit(throttled_app, make, db):
    client = _client(throttled_app)
    for _ in range(2 * LIMIT):
        assert client.get("/").status_code == 302  # anonymous: sent to sign in, not a 401


def test_with_redis_down_sign_in_works_and_failures_are_counted_in_memory(app, make, db):
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    keys = ("SQLALCHEMY_DATABASE_URI", "SECRET_KEY", "TOLLGATE_FAST_HASH")
    config = {k: app.config[k] for k in keys} | {"INSTANCE_PATH": app.instance_path}
    config |= {"TESTING": True, "WTF_CSRF_ENABLED": False, "TOLLGATE_RATELIMIT_ENABLED": True}
    config["TOLLGATE_RATELIMIT_STORAGE_URI"] = f"redis://127.0.0.1:{port}/0"
    config["TOLLGATE_SIGNIN_FAILURE_LIMIT"] = f"{LIMIT}/minute"
    degraded = create_app(config)
    user = make.user()
    db.session.commit()
    client = _client(degraded)
    assert _sign_in(client, user.username).status_code == 302
    for _ in range(LIMIT):
        assert _sign_in(client, user.username, "nope nope").status_code == 200
    assert _sign_in(client, user.username).status_code == 429
    _dispose(degraded)


def test_the_throttle_is_on_outside_tests_and_off_in_the_suite(app, db):
    keys = ("SQLALCHEMY_DATABASE_URI", "SECRET_KEY", "TOLLGATE_EVIDENCE_DIR")
    config = {k: app.config[k] for k in keys} | {"INSTANCE_PATH": app.instance_path}
    assert app.extensions["tollgate_limiter"].enabled is False
    production = create_app(config | {"TESTING": False})
    switched_off = create_app(config | {"TESTING": False, "TOLLGATE_RATELIMIT_ENABLED": False})
    assert production.extensions["tollgate_limiter"].enabled is True
    assert switched_off.extensions["tollgate_limiter"].enabled is False
    _dispose(production)
    _dispose(switched_off)


def test_a_malformed_limit_is_refused_at_start_naming_the_setting(app, db):
    config = {"INSTANCE_PATH": app.instance_path, "TESTING": True}
    config["SQLALCHEMY_DATABASE_URI"] = app.config["SQLALCHEMY_DATABASE_URI"]
    with pytest.raises(ValueError, match="TOLLGATE_SIGNIN_FAILURE_LIMIT"):
        create_app(config | {"TOLLGATE_SIGNIN_FAILURE_LIMIT": "ten a minute"})
