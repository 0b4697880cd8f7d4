"""Walk every route of the application as every role, as an outsider and anonymously."""

import importlib
import pkgutil

import pytest

import tests.access as access_pkg
from app.security.roles import ROLE_PERMISSIONS, ROLES

SENTINEL = "SENTINEL-7f3a9c"
SKIP_METHODS = {"HEAD", "OPTIONS"}


def _spec_modules():
    for info in pkgutil.iter_modules(access_pkg.__path__):
        if info.name.startswith("specs_"):
            yield importlib.import_module(f"tests.access.{info.name}")


def _all_specs():
    specs = {}
    for module in _spec_modules():
        for route in module.ROUTES:
            assert route.endpoint not in specs, f"{route.endpoint} declared twice"
            specs[route.endpoint] = route
    return specs


SPECS = _all_specs()


class World:
    SENTINEL = SENTINEL

    def __init__(self, make):
        self.make = make
        self.unit_a = make.unit(code="UNIT-A", name="Owning unit")
        self.unit_b = make.unit(code="UNIT-B", name="Other unit")
        self.users = {role: make.user(roles=[role], unit=self.unit_a) for role in ROLES}
        self.outsider = make.all_roles_user(unit=self.unit_b)


@pytest.fixture
def world(make, db):
    w = World(make)
    for module in _spec_modules():
        if hasattr(module, "build"):
            module.build(w)
    db.session.commit()
    return w


def test_every_route_has_a_spec(app):
    endpoints = {rule.endpoint for rule in app.url_map.iter_rules()}
    missing = sorted(endpoints - set(SPECS))
    assert not missing, f"routes missing from tests/access/specs_*.py: {missing}"
    stale = sorted(set(SPECS) - endpoints)
    assert not stale, f"specs for routes that no longer exist: {stale}"


def _rule(app, endpoint):
    return next(r for r in app.url_map.iter_rules() if r.endpoint == endpoint)


def _request(client, method, url, route, world, token=None):
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    body = route.body(world) if route.body else {}
    if url.startswith("/api/"):
        resp = client.open(
            url, method=method, json=body if method != "GET" else None, headers=headers
        )
    else:
        resp = client.open(
            url, method=method, data=body if method != "GET" else None, headers=headers
        )
    resp.get_data()  # buffer the body, then release file handles (static files)
    resp.close()
    return resp


def _allowed(role, route):
    return route.perm is None or route.perm in ROLE_PERMISSIONS[role]


@pytest.mark.parametrize("endpoint", sorted(SPECS))
def test_route_access(endpoint, app, client, world, make):
    route = SPECS[endpoint]
    rule = _rule(app, endpoint)
    with app.test_request_context():
        from flask import url_for

        url = url_for(endpoint, **(route.args(world) if route.args else {}))
    methods = route.methods or tuple(sorted(rule.methods - SKIP_METHODS))
    is_api = url.startswith("/api/")

    for method in methods:
        where = f"{method} {url}"
        if route.public:
            resp = _request(client, method, url, route, world)
            assert resp.status_code not in (401, 403), f"{where}: public route refused"
            continue

        # Anonymous.
        resp = _request(app.test_client(), method, url, route, world)
        if is_api:
            assert resp.status_code == 401, f"{where}: anonymous got {resp.status_code}"
        else:
            assert resp.status_code in (302, 401), f"{where}: anonymous got {resp.status_code}"
            if resp.status_code == 302:
                assert "/login" in resp.headers["Location"]
        assert SENTINEL not in resp.get_data(as_text=True)

        if is_api:
            _check_api(app, make, world, route, method, url, where)
            continue

        # Outsider first (before any allowed role might change the record).
        if route.restricted:
            c = app.test_client()
            make.sign_in(c, world.outsider)
            resp = _request(c, method, url, route, world)
            assert resp.status_code in (403, 404), f"{where}: outsider got {resp.status_code}"
            assert SENTINEL not in resp.get_data(as_text=True), f"{where}: outsider saw data"

        for role in ROLES:
            if _allowed(role, route):
                continue
            c = app.test_client()
            make.sign_in(c, world.users[role])
            resp = _request(c, method, url, route, world)
            assert resp.status_code == 403, f"{where}: {role} got {resp.status_code}"
            assert SENTINEL not in resp.get_data(as_text=True), f"{where}: {role} saw data"

        for role in ROLES:
            if not _allowed(role, route):
                continue
            c = app.test_client()
            make.sign_in(c, world.users[role])
            resp = _request(c, method, url, route, world)
            assert resp.status_code not in (401, 403, 404), (
                f"{where}: {role} should pass the access checks, got {resp.status_code}"
            )
            assert resp.status_code < 500, f"{where}: {role} caused {resp.status_code}"


def _check_api(app, make, world, route, method, url, where):
    assert route.scope, f"{where}: API routes must name their scope"
    _, wrong = make.api_client(
        ["search:read" if route.scope != "search:read" else "alerts:read"], unit=world.unit_a
    )
    resp = _request(app.test_client(), method, url, route, world, token=wrong)
    assert resp.status_code == 403, f"{where}: token without scope got {resp.status_code}"
    if route.restricted:
        _, outsider = make.api_client([route.scope], unit=world.unit_b)
        resp = _request(app.test_client(), method, url, route, world, token=outsider)
        assert resp.status_code in (403, 404), f"{where}: outsider token got {resp.status_code}"
        assert SENTINEL not in resp.get_data(as_text=True)
    # A route that also needs another scope (saved searches run as the client: search:read).
    _, good = make.api_client([route.scope, *route.extra.get("scopes", ())], unit=world.unit_a)
    resp = _request(app.test_client(), method, url, route, world, token=good)
    assert resp.status_code not in (401, 403, 404), f"{where}: scoped token got {resp.status_code}"
    assert resp.status_code < 500, f"{where}: scoped token caused {resp.status_code}"
