"""CSRF: every HTML form route refuses a POST without a valid token (API routes use tokens)."""

import pytest
from werkzeug.routing.converters import NumberConverter

from app import create_app


@pytest.fixture
def csrf_app(app, db):
    config = {
        k: app.config[k]
        for k in (
            "SQLALCHEMY_DATABASE_URI",
            "SECRET_KEY",
            "TOLLGATE_EVIDENCE_DIR",
            "TOLLGATE_SEARCH_DIR",
            "TOLLGATE_FAST_HASH",
        )
    }
    config.update({"INSTANCE_PATH": app.instance_path, "WTF_CSRF_ENABLED": True, "TESTING": True})
    return create_app(config)


def _post_routes(application):
    for rule in application.url_map.iter_rules():
        if "POST" in rule.methods and not rule.rule.startswith("/api/"):
            yield rule


def _sample_values(rule):
    """A value each URL converter accepts, so the request reaches the CSRF check."""
    values = {}
    for name, converter in rule._converters.items():
        items = getattr(converter, "items", None)
        if items:
            values[name] = sorted(items)[0]
        elif isinstance(converter, NumberConverter):
            values[name] = 1
        else:
            values[name] = "x"
    return values


def test_every_form_route_requires_a_csrf_token(csrf_app, make, db):
    user = make.all_roles_user()
    client = csrf_app.test_client()
    make.sign_in(client, user)
    checked = 0
    adapter = csrf_app.url_map.bind("localhost")
    for rule in _post_routes(csrf_app):
        url = adapter.build(rule.endpoint, _sample_values(rule), method="POST")
        resp = client.post(url, data={"anything": "1"})
        assert resp.status_code == 400, f"POST {url} without CSRF token got {resp.status_code}"
        checked += 1
    assert checked >= 5


def test_login_form_with_token_works(csrf_app, make, db):
    import re

    user = make.user()
    db.session.commit()
    client = csrf_app.test_client()
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    resp = client.post(
        "/login",
        data={"username": user.username, "password": "correct horse battery", "csrf_token": token},
    )
    assert resp.status_code == 302
