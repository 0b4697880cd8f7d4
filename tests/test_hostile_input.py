"""Crafted input answers 4xx naming what is wrong, never a 5xx (issue 16, item 4).

JSON bodies: nesting about 1,000 levels deep (Python's decoder raises RecursionError, not
ValueError), lone surrogate escapes (``"\\ud800"``: no UTF-8 encoding exists), bytes that are
not UTF-8, ``NaN``/``1e999``, and bodies beyond the size limit, on every /api/v1 operation with
a body (read from the OpenAPI description) and on the pages' JSON endpoints. Numbers: ids and
counts beyond what a column holds in query strings, paths, forms and JSON.
"""

import json
import re

import pytest

from app.core.openapi import build_spec
from app.security.roles import API_SCOPES
from tests.test_api_fuzz import _operations

DEEP = 1_000
DEEP_ARRAYS = '{"zz_deep": ' + "[" * DEEP + "]" * DEEP + "}"
DEEP_OBJECTS = '{"zz": ' + '{"a": ' * DEEP + "1" + "}" * DEEP + "}"
BODY_OPERATIONS = [
    label for label in _operations() if label.split(" ", 1)[0] in ("POST", "PUT", "PATCH")
]


def _url(path):
    # Ids of no record: the body is read before anything is looked up.
    # Every other path parameter ({id}, {case_id}, {hit_id} ...) is a number.
    return re.sub(r"\{[a-z_]+\}", "1", path.replace("{number}", "NO-SUCH-1"))


def _fields(resp) -> dict:
    return ((resp.get_json(silent=True) or {}).get("error") or {}).get("fields") or {}


@pytest.fixture
def token(make):
    _, token = make.api_client(sorted(API_SCOPES), unit=make.unit(code="HOSTILE"))
    return token


def _send(client, label, data: bytes | str, token, content_type="application/json"):
    method, path = label.split(" ", 1)
    return client.open(
        _url(path),
        method=method,
        data=data,
        content_type=content_type,
        headers={"Authorization": f"Bearer {token}"},
    )


# --- every API operation with a body ---------------------------------------------------------


def test_the_description_has_operations_with_bodies(app):
    spec = build_spec(app)
    with_body = {
        f"{m.upper()} {p}"
        for p, item in spec["paths"].items()
        for m, op in item.items()
        if isinstance(op, dict) and "requestBody" in op
    }
    assert with_body <= set(BODY_OPERATIONS)
    assert len(BODY_OPERATIONS) >= 10, BODY_OPERATIONS


@pytest.mark.parametrize("label", BODY_OPERATIONS)
@pytest.mark.parametrize("body", [DEEP_ARRAYS, DEEP_OBJECTS], ids=["arrays", "objects"])
def test_deep_nesting_is_refused_before_parsing(client, token, label, body):
    resp = _send(client, label, body, token)
    assert resp.status_code == 422, (label, resp.status_code, resp.get_data(as_text=True)[:300])
    assert "deeper than 128 levels" in _fields(resp).get("body", ""), resp.get_json()


@pytest.mark.parametrize("label", BODY_OPERATIONS)
@pytest.mark.parametrize(
    ("body", "where"),
    [
        ('{"zz_text": "abc\\ud800"}', "body.zz_text"),
        ('{"zz_list": ["ok", {"x": "\\udfff tail"}]}', "body.zz_list[1].x"),
        ('{"zz": {"\\ud83d": 1}}', "body.zz"),  # a key: the object holding it is named
    ],
    ids=["value", "nested", "key"],
)
def test_a_lone_surrogate_is_named(client, token, label, body, where):
    resp = _send(client, label, body, token)
    assert resp.status_code == 422, (label, resp.status_code, resp.get_data(as_text=True)[:300])
    assert "surrogate" in _fields(resp).get(where, ""), resp.get_json()


@pytest.mark.parametrize("label", BODY_OPERATIONS)
def test_bodies_are_strict_utf8_and_strict_json(client, token, label):
    # A surrogate encoded as UTF-8 would be (CESU): Python's json.loads decoded it with
    # "surrogatepass" and handed the lone surrogate on.
    for raw, expected in (
        (b'{"zz": "\xed\xa0\x80"}', "is not valid UTF-8 (byte 8)"),
        (b'{"zz": "caf\xe9"}', "is not valid UTF-8"),
        (b'{"zz": NaN}', "NaN is not a JSON number"),
        (b'{"zz": -Infinity}', "-Infinity is not a JSON number"),
        (b'{"zz": 1e999}', "beyond the range of a number"),
    ):
        resp = _send(client, label, raw, token)
        assert resp.status_code == 422, (label, raw, resp.status_code)
        assert expected in _fields(resp).get("body", ""), (label, raw, resp.get_json())


def test_a_body_beyond_the_size_limit_is_413(app, client, token, monkeypatch):
    monkeypatch.setitem(app.config, "TOLLGATE_JSON_MAX_BYTES", 1_000)
    body = json.dumps({"kind": "seizure", "title": "x" * 2_000})
    resp = _send(client, "POST /api/v1/cases", body, token)
    assert resp.status_code == 413
    assert resp.get_json()["error"]["status"] == 413
    assert "at most 1000 bytes" in resp.get_json()["error"]["message"]
    # Below the limit the same operation reads the body (here: refuses an empty title).
    resp = _send(client, "POST /api/v1/cases", json.dumps({"kind": "seizure"}), token)
    assert resp.status_code == 422


# --- the pages' JSON endpoints ----------------------------------------------------------------


@pytest.fixture
def analyst(login_as):
    return login_as("intelligence_officer")


@pytest.mark.parametrize("url", ["/intel/graph/analyse", "/intel/graph/timeline"])
@pytest.mark.parametrize(
    ("body", "where", "expected"),
    [
        ('{"nodes": ' + "[" * DEEP + "]" * DEEP + "}", "body", "deeper than 128 levels"),
        ('{"nodes": ["e1"], "note": "\\ud800"}', "body.note", "surrogate"),
        (b'{"nodes": ["\xed\xa0\x80"]}', "body", "not valid UTF-8"),
    ],
    ids=["deep", "surrogate", "not-utf8"],
)
def test_chart_calls_refuse_hostile_json_with_422(client, analyst, url, body, where, expected):
    resp = client.post(url, data=body, content_type="application/json")
    assert resp.status_code == 422, resp.get_data(as_text=True)[:300]
    assert expected in _fields(resp).get(where, ""), resp.get_json()


def test_chart_save_refuses_hostile_json_with_422(client, login_as):
    login_as("supervisor")
    body = '{"case_id": 1, "title": "t", "nodes": ' + "[" * DEEP + "]" * DEEP + "}"
    resp = client.post("/intel/graph/save", data=body, content_type="application/json")
    assert resp.status_code == 422
    assert "deeper" in _fields(resp)["body"]


@pytest.mark.parametrize(
    ("body", "where", "expected"),
    [
        ("[" * DEEP + "]" * DEEP, "body", "deeper than 128 levels"),
        ('{"join": "and", "conditions": [{"field": "office", "value": "\\udc00"}]}', None, None),
        (b'{"join": "\xed\xa0\x80"}', "body", "not valid UTF-8"),
    ],
    ids=["deep", "surrogate", "not-utf8"],
)
def test_rule_preview_shows_hostile_json_as_an_error_of_the_rule(
    client, login_as, body, where, expected
):
    login_as("risk_analyst")
    resp = client.post("/risk/profiles/preview", data=body, content_type="application/json")
    assert resp.status_code == 200, resp.get_data(as_text=True)[:300]
    data = resp.get_json()
    assert data["ok"] is False
    if where is None:  # the path of the string inside the rule
        where, expected = "body.conditions[0].value", "surrogate"
    assert expected in data["errors"].get(where, ""), data


def test_profile_editor_refuses_deep_conditions_in_the_form(client, login_as, db):
    login_as("risk_analyst")
    form = {
        "name": "Deep",
        "risk_area": "test",
        "channel": "red",
        "conditions_json": "[" * DEEP + "]" * DEEP,
    }
    resp = client.post("/risk/profiles/new", data=form)
    assert resp.status_code == 422
    assert "deeper than 128 levels" in resp.get_data(as_text=True)


# --- numbers and dates at the boundary ---------------------------------------------------------

HUGE = str(2**64)  # beyond SQLite's INTEGER (OverflowError before the query runs)
INT32 = str(2**31)  # beyond PostgreSQL's INTEGER (NumericValueOutOfRange)


@pytest.mark.parametrize(
    "query",
    [f"unit={HUGE}", f"assignee={HUGE}", f"unit={INT32}", f"assignee=-{HUGE}", "unit=-1"],
)
def test_case_list_names_an_impossible_id(client, login_as, query):
    login_as("supervisor")
    resp = client.get(f"/cases/?{query}")
    assert resp.status_code == 200
    assert "must be a record number from 1 to 2147483647" in resp.get_data(as_text=True)


def test_case_api_names_an_impossible_id(client, token):
    resp = client.get(f"/api/v1/cases?unit={HUGE}", headers={"Authorization": f"Bearer {token}"})
    assert resp.status_code == 422
    assert "unit" in _fields(resp)


@pytest.mark.parametrize("query", [f"feed={HUGE}", f"feed={INT32}", f"group={HUGE}", "feed=-5"])
def test_news_filter_on_an_impossible_id_lists_nothing(client, login_as, db, query):
    from tests.textmining import factories as news

    news.article("Cocaine found in a container at Rotterdam.", feed_row=news.feed())
    db.session.commit()
    login_as("intelligence_officer")
    resp = client.get(f"/news/?{query}")
    assert resp.status_code == 200
    assert "Rotterdam" not in resp.get_data(as_text=True)
    assert "Rotterdam" in client.get("/news/?feed=abc").get_data(as_text=True)  # ignored


@pytest.mark.parametrize(
    ("url", "status"),
    [
        (f"/intel/graph/expand?entity={HUGE}", 404),
        (f"/intel/graph/expand?entity={INT32}", 404),
        ("/intel/graph/expand?entity=%C2%B2", 422),  # "²".isdigit() holds, int("²") fails
        (f"/intel/graph/path?from={HUGE}&to=1", 404),
        (f"/intel/chart?entity={'9' * 5000}&chart=%C2%B2", 200),
    ],
)
def test_chart_calls_with_impossible_numbers(client, analyst, url, status):
    assert client.get(url).status_code == status


def test_graph_offset_beyond_any_row_shows_nothing_more(client, analyst, make, db):
    from app.intel import service

    actor = make.actor(analyst)
    a = service.create_entity("person", "A", actor=actor)
    b = service.create_entity("person", "B", actor=actor)
    service.add_link(a.id, b.id, "associate_of", actor=actor)
    db.session.commit()
    resp = client.get(f"/intel/graph/expand?entity={a.id}&offset={HUGE}")
    assert resp.status_code == 200
    assert resp.get_json()["total"] == 1
    assert [e for e in resp.get_json()["elements"] if "link_id" in e["data"]] == []


@pytest.mark.parametrize(
    ("case_id", "nodes", "field"),
    [
        (HUGE, None, "case_id"),
        (INT32, None, "case_id"),
        (-1, None, "case_id"),
        (None, [f"e{HUGE}"], "nodes[0]"),
        (None, [f"e{INT32}"], "nodes[0]"),
        (None, ["\u00b2"], "nodes[0]"),  # "²".isdigit() holds, int("²") fails
    ],
)
def test_chart_save_names_an_impossible_id(client, login_as, make, case_id, nodes, field):
    from app.cases import service as cases
    from app.intel import service as intel

    user = login_as("supervisor")
    actor = make.actor(user)
    case = cases.open_case("seizure", actor=actor, title="Chart case")
    entity = intel.create_entity("person", "Charted", actor=actor)
    make.db.session.commit()
    body = {
        "case_id": case.id if case_id is None else case_id,
        "title": "t",
        "nodes": [f"e{entity.id}"] if nodes is None else nodes,
    }
    resp = client.post("/intel/graph/save", json=body)
    assert resp.status_code == 422, resp.get_data(as_text=True)[:300]
    assert list(_fields(resp)) == [field], resp.get_json()


def test_path_ids_beyond_any_column_are_not_found(client, login_as):
    login_as("supervisor")
    for url in ("/cases/99999999999999999999", f"/intel/entities/{INT32}", f"/news/feeds/{HUGE}"):
        assert client.get(url).status_code == 404, url


@pytest.mark.parametrize(
    "url",
    [
        "/cases/?until=9999-12-31",
        "/trail?until=9999-12-31",
        "/risk/kpis?until=0001-01-01",
        "/risk/kpis?until=9999-12-31",
        "/news/network?until=9999-12-31",
        "/news/network/compare?first_to=9999-12-31&first_from=9999-12-30",
    ],
)
def test_dates_at_the_edge_of_the_calendar(client, login_as, make, url):
    login_as(make.all_roles_user())
    assert client.get(url).status_code == 200


@pytest.mark.parametrize(
    "url",
    [
        "/risk/simulation?profiles=%C2%B2",
        f"/risk/simulation?profiles={'9' * 5000}",
        f"/risk/simulation?profiles={HUGE}",
        "/intel/resolution?entity=%C2%B2",
        "/news/network?feed=%C2%B2",
        f"/news/network?limit={'9' * 5000}",
    ],
)
def test_digits_int_does_not_take(client, login_as, make, url):
    login_as(make.all_roles_user())
    assert client.get(url).status_code == 200


@pytest.mark.parametrize("query", ["q=a%00b", "unit=%00", "page=1%00"])
def test_nul_in_a_query_string_is_named(client, login_as, query):
    """PostgreSQL text cannot hold NUL: it failed whichever query (or trail row) it reached."""
    login_as("supervisor")
    resp = client.get(f"/cases/?{query}")
    assert resp.status_code == 422
    assert "must not contain NUL characters" in resp.get_data(as_text=True)


def test_nul_in_a_query_string_is_named_by_the_api(client, token):
    resp = client.get("/api/v1/search?q=a%00b", headers={"Authorization": f"Bearer {token}"})
    assert resp.status_code == 422
    assert _fields(resp) == {"q": "must not contain NUL characters"}


# --- ids typed into forms ----------------------------------------------------------------------


@pytest.fixture
def alert_for(app):
    """``alert_for(user)``: an alert addressed to ``user`` about a subject anyone may open."""
    from app.alerts.models import Alert, AlertRecipient
    from app.alerts.subjects import register_subject, unregister_subject
    from app.core.time import now_utc
    from app.extensions import db

    register_subject(app, "hostile_specimen", "alert.view", can_open=lambda actor, rid: True)

    def _make(user):
        alert = Alert(
            fold_key="hostile",
            source_kind="profile",
            source_id=1,
            source_label="RP-1",
            subject_type="hostile_specimen",
            subject_id=1,
            subject_label="specimen",
            title="Hostile-input test alert",
            reasons=["test"],
            severity="high",
            deadline_dt=now_utc(),
        )
        alert.recipients = [AlertRecipient(user_id=user.id, via="user")]
        db.session.add(alert)
        db.session.commit()
        return alert

    yield _make
    unregister_subject(app, "hostile_specimen")


@pytest.mark.parametrize("ids", [["\u00b2"], [HUGE], [INT32], ["-3"]])
def test_bulk_acknowledge_ignores_what_no_alert_can_be(client, login_as, ids):
    login_as("supervisor")
    resp = client.post("/alerts/acknowledge", data={"alert_ids": ids})
    assert resp.status_code == 302
    flashed = client.get("/alerts/").get_data(as_text=True)
    assert "select at least one alert" in flashed


@pytest.mark.parametrize("value", [HUGE, INT32, "0"])
def test_id_fields_of_forms_are_bounded(client, login_as, make, value):
    from app.intel import service as intel

    user = login_as(make.all_roles_user())
    entity = intel.create_entity("person", "Form target", actor=make.actor(user))
    make.db.session.commit()
    posts = [
        ("/alerts/watches/entity", {"entity_id": value, "severity": "high"}),
        (
            f"/intel/entities/{entity.id}/links",
            {"target_id": value, "link_type": "associate_of", "direction": "out"},
        ),
        (
            f"/intel/entities/{entity.id}/links",
            {
                "target_id": str(entity.id),
                "link_type": "associate_of",
                "direction": "out",
                "provenance_type": "case",
                "provenance_id": value,
            },
        ),
        (
            "/news/workbench/link",
            {"category": "person", "canonical": "x", "entity_id": value},
        ),
    ]
    for url, data in posts:
        resp = client.post(url, data=data)
        assert resp.status_code < 500, (url, data, resp.status_code)


@pytest.mark.parametrize("target", ["\u00b2", HUGE, INT32, "999999999999"])
def test_case_link_target_that_no_case_can_be(client, login_as, make, target):
    from app.cases import service as cases

    user = login_as("supervisor")
    case = cases.open_case("seizure", actor=make.actor(user), title="Link source")
    make.db.session.commit()
    resp = client.post(f"/cases/{case.id}/links", data={"target_type": "case", "target_id": target})
    assert resp.status_code < 500, resp.status_code


@pytest.mark.parametrize("ref", [HUGE, INT32, "999999999999"])
def test_attaching_an_alert_to_a_case_number_no_case_has(client, login_as, alert_for, ref):
    alert = alert_for(login_as("supervisor"))
    resp = client.post(f"/alerts/{alert.id}/attach", data={"case": ref})
    assert resp.status_code == 302, resp.status_code
