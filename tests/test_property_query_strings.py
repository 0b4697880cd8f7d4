"""No query string gives a 5xx, on any GET route of the application (issue 16, item 4).

Routes are read from the app's URL map at collection time, so pages added later are covered
without touching this file; their path values and records come from the access-matrix specs
(``tests/access/specs_*.py``). Each route is called signed in as a user holding every role in
the records' unit (API routes with a token holding every scope), with hostile values for every
query parameter it reads: the names it asks ``request.args`` for on a first, plain request
(recorded), plus a fixed list of common names.

Per route: every hostile value below in every parameter at once; the sharpest values alone in
each parameter the route was seen to read (a refusal of one parameter can hide what another
would do); then ``TOLLGATE_QUERY_EXAMPLES`` random mixtures (default 4; 100 or more for a
deeper run), reproducible unless ``TOLLGATE_QUERY_RANDOM=1``. ``TOLLGATE_QUERY_SWEEP=1`` tries
every value alone in every parameter, the common names included (about 20 minutes).
"""

import logging
import os
import tempfile
from urllib.parse import quote

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from werkzeug.datastructures import ImmutableMultiDict

from app import create_app
from app.extensions import db as _db
from app.security.roles import API_SCOPES
from tests import factories
from tests.access.test_access_matrix import SPECS, World, _spec_modules
from tests.conftest import _wipe

EXAMPLES = int(os.environ.get("TOLLGATE_QUERY_EXAMPLES", "4"))
RANDOM = os.environ.get("TOLLGATE_QUERY_RANDOM", "") not in ("", "0")
SWEEP = os.environ.get("TOLLGATE_QUERY_SWEEP", "") not in ("", "0")

#: names many routes read; a route's own reads are recorded and added
COMMON = (
    "page",
    "per_page",
    "unit",
    "assignee",
    "feed",
    "group",
    "offset",
    "limit",
    "q",
    "status",
    "days",
    "months",
    "id",
    "entity",
    "entity_id",
    "chart",
    "from",
    "to",
    "since",
    "until",
    "date_from",
    "date_to",
    "type",
    "kind",
    "source",
    "target",
    "profiles",
    "set",
    "by",
    "format",
    "category",
    "show",
    "sort",
    "order",
    "user",
    "action",
    "record_type",
    "record_id",
    "next",
    "partial",
)

#: percent-encoded as sent: huge, negative, fractional and non-ASCII numbers, dates no
#: calendar holds, NUL, bytes that are not UTF-8, a lone surrogate encoded as UTF-8 would be
HOSTILE = (
    "2147483648",
    "9223372036854775808",
    "-9223372036854775809",
    "18446744073709551616",
    "1" + "0" * 30,
    "9" * 5000,
    "-1",
    "0",
    "-0",
    "0000000000000000000000000000000000001",
    "1.5",
    "1e999",
    "nan",
    "-inf",
    "0x10",
    "1_000",
    quote("\u0661\u0662"),  # Arabic-Indic digits: int() takes them
    quote("\u00b2"),  # superscript two: str.isdigit() says yes, int() says no
    quote("\uff15"),  # full-width five
    "9999-12-31",
    "0001-01-01",
    "2026-02-30",
    "%00",
    "a%00b",
    "%ED%A0%80",
    "%ED%B0%80x",
    "%FF",
    "%C3%28",
    "x" * 5000,
    quote("<script>'\"&"),
    "me",
    "none",
    "active",
    "%20",
)

#: each alone in each parameter a route reads: beyond SQLite's and PostgreSQL's integers, a
#: digit int() refuses, NUL, the last day of the calendar
SHARP = ("18446744073709551616", "2147483648", "%C2%B2", "%00", "9999-12-31")


def _app_for_collection():
    instance = tempfile.mkdtemp()
    return create_app(
        {
            "TESTING": True,
            "INSTANCE_PATH": instance,
            "SECRET_KEY": "collect",
            "SQLALCHEMY_DATABASE_URI": "sqlite://",
        }
    )


def _get_endpoints() -> list[str]:
    app = _app_for_collection()
    return sorted(
        {
            rule.endpoint
            for rule in app.url_map.iter_rules()
            if "GET" in rule.methods and rule.endpoint != "static"
        }
    )


ENDPOINTS = _get_endpoints()
_READ: set[str] = set()


class _RecordingArgs(ImmutableMultiDict):
    """Query arguments that note every name a view asks for."""

    def get(self, key, default=None, type=None):  # noqa: A002 - werkzeug's signature
        _READ.add(key)
        return super().get(key, default, type)

    def getlist(self, key, type=None):  # noqa: A002
        _READ.add(key)
        return super().getlist(key, type)

    def __getitem__(self, key):
        _READ.add(key)
        return super().__getitem__(key)

    def __contains__(self, key):
        _READ.add(key)
        return super().__contains__(key)


@pytest.fixture(scope="module")
def world(app):
    """The access matrix's records, built once for the module (GET routes change nothing a
    later route depends on); the database is emptied afterwards, as the ``db`` fixture does."""
    with app.app_context():
        make = factories.Factories(_db)
        w = World(make)
        for module in _spec_modules():
            if hasattr(module, "build"):
                module.build(w)
        w.power = make.all_roles_user(unit=w.unit_a)
        _, w.token = make.api_client(sorted(API_SCOPES), unit=w.unit_a)
        _db.session.commit()
        w.make = make
        try:
            yield w
        finally:
            _db.session.rollback()
            _db.session.remove()
            _wipe(_db.engine)


@pytest.fixture(autouse=True)
def _clean_session(world):
    """Each route starts and ends with a clean session: a request that failed inside a flush
    (the old code did, on NUL) must not fail every later route with PendingRollbackError."""
    _db.session.rollback()
    yield
    _db.session.rollback()


def _url(app, endpoint, world) -> str:
    route = SPECS[endpoint]
    with app.test_request_context():  # within the module's app context (the world's)
        from flask import url_for

        return url_for(endpoint, **(route.args(world) if route.args else {}))


def _client(app, world, url):
    client = app.test_client()
    if not url.startswith("/api/"):
        world.make.sign_in(client, world.power)
    return client


def _names_read(app, client, url, headers) -> tuple[list[str], list[str]]:
    """The query names the route reads, recorded on a plain request, and those with COMMON."""
    base = app.request_class
    app.request_class = type("Recording", (base,), {"parameter_storage_class": _RecordingArgs})
    _READ.clear()
    try:
        client.get(url, headers=headers).close()
    finally:
        app.request_class = base
    return sorted(_READ), sorted(_READ | set(COMMON))


class _Errors(logging.Handler):
    """The exceptions the app logs as unhandled, for the failure message."""

    def __init__(self):
        super().__init__(logging.ERROR)
        self.seen: list[str] = []

    def emit(self, record):
        if record.exc_info:
            self.seen.append(repr(record.exc_info[1])[:300])


def _check(app, client, url, pairs, headers):
    query = "&".join(f"{quote(name)}={value}" for name, value in pairs)
    errors = _Errors()
    app.logger.addHandler(errors)
    try:
        resp = client.get(f"{url}{'&' if '?' in url else '?'}{query}", headers=headers)
        status = resp.status_code
        resp.close()
    finally:
        app.logger.removeHandler(errors)
    assert status < 500, f"GET {url} ?{query[:300]} answered {status}: {errors.seen}"


def _settings(examples):
    return settings(
        max_examples=examples,
        deadline=None,
        database=None,
        derandomize=not RANDOM,
        suppress_health_check=list(HealthCheck),
        phases=[Phase.explicit, Phase.generate, Phase.shrink],
    )


VALUES = (
    st.sampled_from(HOSTILE)
    | st.integers(min_value=-(2**80), max_value=2**80).map(str)
    | st.floats(allow_nan=True, allow_infinity=True).map(str)
    | st.text(max_size=30).map(lambda s: quote(s, safe=""))
)


@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_no_query_string_gives_a_server_error(app, world, endpoint):
    url = _url(app, endpoint, world)
    headers = {"Authorization": f"Bearer {world.token}"} if url.startswith("/api/") else {}
    client = _client(app, world, url)
    recorded, names = _names_read(app, client, url, headers)

    for value in HOSTILE:
        _check(app, client, url, [(name, value) for name in names], headers)
    # One parameter at a time, so that a refusal of another cannot hide it: the sharpest
    # values for the names the route reads (all of HOSTILE and COMMON with the sweep).
    for name in names if SWEEP else recorded:
        for value in HOSTILE if SWEEP else SHARP:
            _check(app, client, url, [(name, value)], headers)

    @given(pairs=st.lists(st.tuples(st.sampled_from(names), VALUES), min_size=1, max_size=6))
    @_settings(EXAMPLES)
    def fuzz(pairs):
        _check(app, client, url, pairs, headers)

    fuzz()
