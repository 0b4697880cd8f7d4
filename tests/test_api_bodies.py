"""API request bodies are allow-listed per operation (issue 15, item 10).

The allow-list is the operation's request body schema in ``/api/v1/openapi.json``: a key the
schema does not list is refused with 422 naming it, at any depth, before any service runs.
Operations are read from the live description, so an operation added later is covered."""

import re

import pytest
from sqlalchemy import func, select

from app.cases.models import Case, JournalEntry
from app.core.openapi import WRITE_METHODS, build_spec
from app.security.roles import API_SCOPES
from tests.test_api_fuzz import _operations

WRITE_OPERATIONS = [
    label for label in _operations() if label.split(" ", 1)[0].lower() in WRITE_METHODS
]
#: the minimum seizure record (app.cases.seizures) a seizure sent to the API must carry
SEIZURE = {
    "kind": "seizure",
    "place_ref": "crossing:BCP-MER",
    "event_dt": "2026-01-05T10:00:00Z",
    "items": [
        {"commodity_area": "tobacco", "description": "x", "quantity": 1, "quantity_unit": "kg"}
    ],
}
EXTRA = "zz_not_a_field"


def _h(token):
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def token(make):
    _, token = make.api_client(sorted(API_SCOPES), unit=make.unit(code="BODY"))
    return token


def _url(path):
    # Identifiers of no record: the body is checked before anything is looked up, so the
    # answer is the same for a record that exists, one that does not and one out of reach.
    # Every other path parameter ({id}, {case_id}, {hit_id} ...) is a number.
    return re.sub(r"\{[a-z_]+\}", "1", path.replace("{number}", "NO-SUCH-1"))


def _fields(resp):
    return (resp.get_json() or {}).get("error", {}).get("fields", {})


def test_there_are_write_operations():
    assert len(WRITE_OPERATIONS) >= 10, WRITE_OPERATIONS


@pytest.mark.parametrize("label", WRITE_OPERATIONS)
def test_unknown_key_is_refused_and_named(label, client, db, token):
    method, path = label.split(" ", 1)
    resp = client.open(_url(path), method=method, json={EXTRA: 1}, headers=_h(token))
    assert resp.status_code == 422, (label, resp.status_code, resp.get_json())
    assert EXTRA in _fields(resp), (label, resp.get_json())


@pytest.mark.parametrize(
    ("label", "body", "where"),
    [
        (
            "POST /api/v1/cases",
            {"kind": "seizure", "title": "t", "items": [{"description": "x", EXTRA: 1}]},
            f"items[0].{EXTRA}",
        ),
        (
            "POST /api/v1/cases",
            {"kind": "seizure", "title": "t", "parties": [{"role": "suspect", EXTRA: 1}]},
            f"parties[0].{EXTRA}",
        ),
        (
            "POST /api/v1/cases",
            {
                "kind": "seizure",
                "title": "t",
                "parties": [{"role": "owner", "new_entity": {"name": "N", EXTRA: 1}}],
            },
            f"parties[0].new_entity.{EXTRA}",
        ),
        ("POST /api/v1/reports", {"title": "t", "links": [{EXTRA: 1}]}, f"links[0].{EXTRA}"),
        ("POST /api/v1/declarations", {"number": "N", "items": [{EXTRA: 1}]}, f"items[0].{EXTRA}"),
        (
            "POST /api/v1/declarations",
            {"declarations": [{"number": "N", "items": []}], EXTRA: 1},
            EXTRA,
        ),
        (
            "POST /api/v1/declarations",
            {"declarations": [{"number": "N", EXTRA: 1}]},
            f"declarations[0].{EXTRA}",
        ),
        ("POST /api/v1/declarations", [{"number": "N", EXTRA: 1}], f"declarations[0].{EXTRA}"),
        (
            "POST /api/v1/watches",
            {"kind": "term", "term": "abc", "recipients": {"users": [], EXTRA: 1}},
            f"recipients.{EXTRA}",
        ),
    ],
)
def test_nested_unknown_keys_are_named_by_path(label, body, where, client, db, token):
    method, path = label.split(" ", 1)
    resp = client.open(path, method=method, json=body, headers=_h(token))
    assert resp.status_code == 422, resp.get_json()
    assert where in _fields(resp), resp.get_json()


def test_many_unknown_keys_get_a_short_answer(client, db, token):
    body = {f"k{n}": n for n in range(500)}
    resp = client.post("/api/v1/watches", json=body, headers=_h(token))
    assert resp.status_code == 422
    fields = _fields(resp)
    assert len(fields) == 21 and len(resp.data) < 10_000
    assert fields["body"] == "and 480 more fields this request does not accept"


def test_forged_closed_case_is_refused(client, make, db):
    """A cases:write token could open a closed case dated 1999 with a forged journal line,
    bypassing case.decide: every such key is named, nothing is stored."""
    unit = make.unit()
    _, token = make.api_client(["cases:read", "cases:write"], unit=unit)
    before = db.session.scalar(select(func.count()).select_from(Case))
    forged = {
        "status": "closed",
        "resolution": "confiscated",
        "opened_dt": "1999-01-01T00:00:00Z",
        "journal_text": "Approved by the director.",
        "with_tasks": False,
    }
    body = {"kind": "seizure", "title": "Forged", **forged}
    resp = client.post("/api/v1/cases", json=body, headers=_h(token))
    assert resp.status_code == 422, resp.get_json()
    assert set(forged) <= set(_fields(resp))
    assert db.session.scalar(select(func.count()).select_from(Case)) == before
    assert not db.session.scalar(
        select(func.count())
        .select_from(JournalEntry)
        .where(JournalEntry.text == "Approved by the director.")
    )


@pytest.mark.parametrize("key", ["actor", "case_id", "unit_id", "kind", "values"])
def test_service_keyword_names_are_422_not_500(key, client, make, db):
    unit = make.unit()
    _, token = make.api_client(["cases:read", "cases:write"], unit=unit)
    resp = client.post(
        "/api/v1/cases", json={"kind": "seizure", "title": "T", "actor": "x"}, headers=_h(token)
    )
    assert resp.status_code == 422 and "actor" in _fields(resp), resp.get_json()
    made = client.post("/api/v1/cases", json={**SEIZURE, "title": "T"}, headers=_h(token))
    assert made.status_code == 201, made.get_json()
    case_id = made.get_json()["id"]
    resp = client.patch(f"/api/v1/cases/{case_id}", json={key: 1}, headers=_h(token))
    assert resp.status_code == 422 and key in _fields(resp), resp.get_json()


def test_known_keys_still_work(client, make, db):
    unit = make.unit()
    _, token = make.api_client(["cases:read", "cases:write"], unit=unit)
    made = client.post(
        "/api/v1/cases",
        json={
            **SEIZURE,
            "title": "Allowed",
            "handling_conditions": None,
            "assignee_id": None,
        },
        headers=_h(token),
    )
    assert made.status_code == 201, made.get_json()
    case_id = made.get_json()["id"]
    resp = client.patch(
        f"/api/v1/cases/{case_id}",
        json={"priority": 3, "status": "investigation", "note": "go", "handling_conditions": "x"},
        headers=_h(token),
    )
    assert resp.status_code == 200, resp.get_json()
    resp = client.post(
        f"/api/v1/cases/{case_id}/journal", json={"text": "a line"}, headers=_h(token)
    )
    assert resp.status_code == 201, resp.get_json()


def _refs(schema, components, found):
    """Names of the components ``schema`` reaches."""
    if isinstance(schema, dict):
        if ref := schema.get("$ref"):
            name = ref.rsplit("/", 1)[-1]
            if name not in found:
                found.add(name)
                _refs(components.get(name), components, found)
        for value in schema.values():
            _refs(value, components, found)
    elif isinstance(schema, list):
        for value in schema:
            _refs(value, components, found)
    return found


def test_published_bodies_are_closed_and_input_only(app):
    """The description says what is enforced: every write operation's body schema is closed
    (additionalProperties false), and no closed input component also describes a response
    (closing it would declare the response's extra fields invalid)."""
    spec = build_spec(app)
    components = spec["components"]["schemas"]
    inputs, outputs, open_bodies = set(), set(), []
    for path, item in spec["paths"].items():
        for method, op in item.items():
            if method not in WRITE_METHODS:
                continue
            schema = op.get("requestBody", {}).get("content", {}).get("application/json", {})
            schema = schema.get("schema")
            if schema is None:
                open_bodies.append(f"{method.upper()} {path}: no request body schema")
                continue
            _refs(schema, components, inputs)
            resolved = components[schema["$ref"].rsplit("/", 1)[-1]] if "$ref" in schema else schema
            branches = resolved.get("oneOf") or [resolved]
            for branch in branches:
                if "$ref" in branch:
                    branch = components[branch["$ref"].rsplit("/", 1)[-1]]
                if (
                    branch.get("type") == "object"
                    and branch.get("additionalProperties") is not False
                ):
                    open_bodies.append(f"{method.upper()} {path}: {branch}")
    for item in spec["paths"].values():
        for op in item.values():
            if isinstance(op, dict):
                _refs(op.get("responses", {}), components, outputs)
    assert not open_bodies, open_bodies
    assert not inputs & outputs, sorted(inputs & outputs)
    # The registered (domain) schemas are not changed by publishing.
    assert "additionalProperties" not in app.extensions["tollgate_openapi"]["schemas"].get(
        "CaseCreate", {}
    )
