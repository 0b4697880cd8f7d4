"""The sentinel sweep (issue 15): no label of unit A's code-C records reaches unit B.

One world per module (tests/access/sweep_world.py): unit A's records carry a sentinel in
every free-text field; unit B watches, searches, merges and charts around them; the worker's
jobs run and deliver to a real local SMTP server and webhook receiver. Then every route of
the app is driven as unit B per ``tests/access/sweep.py`` and every response body and
outbound message is searched for a sentinel. A route or message type without a sweep entry
fails, as the access matrix fails for a route without a spec.
"""

import ast
import io
from pathlib import Path
from urllib.parse import urlencode

import pytest
from flask import url_for

from app.extensions import db as _db
from app.security.roles import API_SCOPES
from tests import factories
from tests.access import sweep
from tests.access.sweep_world import PREFIX, SweepWorld, evidence, sentinels_in
from tests.alerts.conftest import WEBHOOK_SECRET, SmtpSink, WebhookReceiver
from tests.conftest import _wipe

APP_DIR = Path(__file__).resolve().parents[2] / "app"


@pytest.fixture(scope="module")
def sweep_env(app):
    """The world, signed-in clients of unit B and the messages that left the system."""
    saved = {k: app.config.get(k) for k in _CONFIG}
    smtp, hook = SmtpSink(), WebhookReceiver(WEBHOOK_SECRET)
    smtp.start()
    hook.start()
    app.config.update(
        TOLLGATE_SMTP_HOST="127.0.0.1",
        TOLLGATE_SMTP_PORT=smtp.port,
        TOLLGATE_OUTBOUND_ALLOW=["127.0.0.1"],
        TOLLGATE_SMTP_TIMEOUT=3,
        TOLLGATE_WEBHOOK_TIMEOUT=3,
    )
    ctx = app.app_context()
    ctx.push()
    try:
        world = _build(app, smtp, hook)
        yield world
    finally:
        _db.session.rollback()
        _db.session.remove()
        _wipe(_db.engine)
        ctx.pop()
        smtp.stop()
        hook.stop()
        app.config.update(saved)


_CONFIG = (
    "TOLLGATE_SMTP_HOST",
    "TOLLGATE_SMTP_PORT",
    "TOLLGATE_OUTBOUND_ALLOW",
    "TOLLGATE_SMTP_TIMEOUT",
    "TOLLGATE_WEBHOOK_TIMEOUT",
)


def _build(app, smtp, hook):
    from app.alerts.models import Alert, AlertRecipient
    from app.intel.models import SavedChart
    from app.security.models import User

    make = factories.Factories(_db)
    w = SweepWorld(make)
    w.prefer_digest()
    w.build_a()
    w.evidence = evidence(w)
    w.build_b(webhook_url=hook.url, secret=WEBHOOK_SECRET)
    w.b_all.supervisor_id = w.b_users["supervisor"].id
    nodes = [w.pub.id, w.sec.id, w.sec2.id]
    w.a_chart = SavedChart(case_id=w.case.id, title="A chart", elements={"nodes": nodes})
    # Saved by B while A's entities were visible, or before their handling was raised.
    w.b_chart = SavedChart(case_id=w.b_case.id, title="B chart", elements={"nodes": nodes})
    _db.session.add_all([w.a_chart, w.b_chart])
    w.cross()
    w.article()
    _db.session.commit()
    w.run_jobs()
    b_ids = [u.id for u in (*w.b_users.values(), w.b_all)]
    w.b_alert_ids = sorted(
        set(
            _db.session.scalars(
                _db.select(Alert.id).join(AlertRecipient).where(AlertRecipient.user_id.in_(b_ids))
            )
        )
    )
    w.smtp, w.hook = smtp, hook
    # What names a record besides its text: the references of A's code-C case and report.
    w.secret_refs = [w.case.reference, w.twin.reference, w.report.reference]
    w.clients = {}
    for role, user in [*w.b_users.items(), ("all roles", w.b_all)]:
        client = app.test_client()
        make.sign_in(client, _db.session.get(User, user.id))
        w.clients[role] = client
    w.a_client = app.test_client()
    make.sign_in(w.a_client, make.all_roles_user(unit=w.unit_a))
    _, w.token = make.api_client(list(API_SCOPES), unit=w.unit_b)
    _db.session.commit()
    return w


# --- structure --------------------------------------------------------------------------------
def test_every_route_has_a_sweep_entry(app):
    endpoints = {rule.endpoint for rule in app.url_map.iter_rules()}
    missing = sorted(endpoints - set(sweep.ROUTES))
    assert not missing, f"routes without an entry in tests/access/sweep.py ROUTES: {missing}"
    stale = sorted(set(sweep.ROUTES) - endpoints - sweep.IN_FLIGHT)
    assert not stale, f"sweep entries for routes that no longer exist: {stale}"
    for endpoint, entries in sweep.ROUTES.items():
        assert entries, f"{endpoint}: an empty entry (drive it, or quiet('reason'))"
        for entry in entries:
            if isinstance(entry, sweep.Quiet):
                assert len(entry.reason) > 10, f"{endpoint}: say why it carries no label"


def _queued_message_types() -> set[tuple[str, str]]:
    """(channel, kind) of every ``Delivery(...)`` and ``queue_email(...)`` call in app/."""
    found = set()
    for path in APP_DIR.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if not isinstance(node, ast.Call):
                continue
            name = getattr(node.func, "id", None) or getattr(node.func, "attr", None)
            if name not in ("Delivery", "queue_email"):
                continue
            kw = {k.arg: k.value for k in node.keywords if k.arg}
            channel = kw.get("channel", ast.Constant("email"))
            kind = kw.get("kind", ast.Constant("alert"))
            # A name passed through (queue_email's own ``kind``) is counted at its callers.
            if isinstance(channel, ast.Constant) and isinstance(kind, ast.Constant):
                found.add((channel.value, kind.value))
    return found


def test_every_message_type_has_a_sweep_entry(sweep_env):
    from app.alerts.models import Delivery

    queued = _queued_message_types()
    missing = sorted(queued - set(sweep.MESSAGES))
    assert not missing, f"message types without an entry in sweep.MESSAGES: {missing}"
    produced = set(_db.session.execute(_db.select(Delivery.channel, Delivery.kind)).tuples())
    unswept = sorted(set(sweep.MESSAGES) - produced)
    assert not unswept, f"the sweep world queued no message of type {unswept}"


# --- outbound messages --------------------------------------------------------------------
def test_no_sentinel_in_outbound_messages(sweep_env):
    from app.alerts.models import Delivery

    w = sweep_env
    leaks = []
    for row in _db.session.scalars(_db.select(Delivery)):
        if row.user_id is not None and row.user_id in {u.id for u in w.a_users.values()}:
            continue
        found = _names_in(w, f"{row.subject}\n{row.body}")
        if found:
            leaks.append(f"{row.channel}/{row.kind} to {row.target}: {found}")
    a_mail = {u.email for u in w.a_users.values() if u.email}
    for message in w.smtp.messages:
        if message["To"] in a_mail:
            continue  # unit A's own people may read their records (escalation reaches them too)
        found = _names_in(w, message.as_string())
        if found:
            leaks.append(f"SMTP to {message['To']}: {found}")
    for post in w.hook.received:
        found = _names_in(w, repr(post))
        if found:
            leaks.append(f"webhook post: {found}")
    assert w.smtp.messages and w.hook.received, "nothing was delivered: the sweep saw nothing"
    assert not leaks, "unit A's sentinels left the system towards unit B:\n" + "\n".join(leaks)


# --- every route ---------------------------------------------------------------------------
def _urls(app, endpoint, req, w):
    values = req.values(w) if req.values else {}
    queries = req.query(w) if req.query else {}
    values = values if isinstance(values, list) else [values]
    queries = queries if isinstance(queries, list) else [queries]
    with app.test_request_context():
        for v in values:
            base = url_for(endpoint, **v)
            for q in queries:
                yield base + (f"?{urlencode(q, doseq=True)}" if q else "")


def _text(resp) -> str:
    data = resp.get_data()
    if resp.mimetype == "application/pdf":
        # PDF streams are compressed: read the text as a reader would see it
        from pypdf import PdfReader

        pages = PdfReader(io.BytesIO(data)).pages
        return "\n".join(page.extract_text() or "" for page in pages)
    return data.decode("utf-8", "replace")


def _bodies(req, w):
    data = req.data(w) if req.data else None
    return data if isinstance(data, list) else [data]


def _drive(app, endpoint, req, w):
    """(who, method, url, status, text) of every response to ``req`` as unit B."""
    out = []
    for url in _urls(app, endpoint, req, w):
        for body in _bodies(req, w):
            if req.api:
                resp = app.test_client().open(
                    url,
                    method=req.method,
                    json=body if req.method != "GET" else None,
                    headers={"Authorization": f"Bearer {w.token}"},
                )
                out.append(("API client", req.method, url, body, resp))
                continue
            if req.roles is not None:
                who = {r: w.clients[r] for r in req.roles}
            elif req.every_role:
                who = w.clients
            else:
                who = {"all roles": w.clients["all roles"]}
            for name, client in who.items():
                resp = client.open(
                    url,
                    method=req.method,
                    data=body if req.method != "GET" else None,
                    follow_redirects=True,
                )
                out.append((name, req.method, url, body, resp))
    return [(n, m, u, f"{u} {b!r}", r.status_code, _text(r)) for n, m, u, b, r in out]


def _names_in(w, text: str, asked: str = "") -> list[str]:
    """Unit A's sentinels, and the references of its code-C records unless B typed them."""
    return sentinels_in(text) + [r for r in w.secret_refs if r in text and r not in asked]


def _entries(alerts: bool):
    for endpoint in sorted(sweep.ROUTES):
        for n, entry in enumerate(sweep.ROUTES[endpoint]):
            if isinstance(entry, sweep.Req) and entry.alerts == alerts:
                yield pytest.param(endpoint, n, id=f"{endpoint}[{n}]")


def _check(app, sweep_env, endpoint, n):
    if endpoint in sweep.IN_FLIGHT and endpoint not in app.view_functions:
        pytest.skip(f"{endpoint}: in flight, not a route of this app yet")
    _db.session.rollback()
    req = sweep.ROUTES[endpoint][n]
    leaks, errors = [], []
    for who, method, url, asked, status, text in _drive(app, endpoint, req, sweep_env):
        if status >= 500:
            errors.append(f"{who} {method} {url}: {status}")
        found = _names_in(sweep_env, text, asked)
        if req.known and set(found) <= sweep.TOLERATED:
            continue  # a known leak, left to its owner (the entry's reason)
        if found:
            leaks.append(f"{who} {method} {url} ({status}): {found}")
    _db.session.rollback()
    assert not errors, "\n".join(errors)
    assert not leaks, "unit B read unit A's sentinels:\n" + "\n".join(leaks)


@pytest.mark.parametrize(("endpoint", "n"), list(_entries(alerts=False)))
def test_route_carries_no_sentinel(app, sweep_env, endpoint, n):
    _check(app, sweep_env, endpoint, n)


@pytest.mark.parametrize(("endpoint", "n"), list(_entries(alerts=True)))
def test_alert_route_carries_no_sentinel(app, sweep_env, endpoint, n):
    _check(app, sweep_env, endpoint, n)


#: fields whose sentinel unit A itself must read on some page the sweep drives: proof that
#: the requests reach the records (a sweep that reached nothing would pass anyway)
SEEN_BY_OWNER = (
    "ENTITYNAME",
    "ENTITYALIAS",
    "SECONDENTITYNAME",
    "REPORTTITLE",
    "REPORTBODY",
    "CASETITLE",
    "CASESUMMARY",
    "CASEJOURNAL",
    "CASEITEM",
    "DECLNUMBER",
    "TWINTITLE",
)


def test_the_owner_reads_the_sentinels_on_the_same_requests(app, sweep_env):
    w = sweep_env
    found = set()
    for endpoint in sorted(sweep.ROUTES):
        if endpoint not in app.view_functions:
            continue  # in flight (sweep.IN_FLIGHT)
        for req in sweep.ROUTES[endpoint]:
            if not isinstance(req, sweep.Req) or req.api or req.method != "GET":
                continue
            for url in _urls(app, endpoint, req, w):
                resp = w.a_client.get(url, follow_redirects=True)
                found.update(_names_in(w, _text(resp)))
    _db.session.rollback()
    missing = [f for f in SEEN_BY_OWNER if PREFIX + f not in found]
    missing += [r for r in w.secret_refs if r not in found]
    assert not missing, f"unit A never read these sentinels on the swept pages: {missing}"
