"""What the API fuzzing found, pinned: each request once gave a 500 or was accepted against
the description; each must now be a 422 naming the field."""

import pytest

SCOPES = [
    "cases:write",
    "entities:read",
    "entities:write",
    "alerts:read",
    "alerts:write",
    "search:read",
]


@pytest.fixture
def call(client, make, db):
    unit = make.unit()
    _, token = make.api_client(SCOPES, unit=unit)
    db.session.commit()

    def _call(method, url, json=None):
        return client.open(
            url, method=method, json=json, headers={"Authorization": f"Bearer {token}"}
        )

    return _call


@pytest.mark.parametrize(
    ("method", "url", "body", "field"),
    [
        # once a 500: a number where the items list belongs
        ("POST", "/api/v1/cases", {"kind": "seizure", "title": "x", "items": 5}, "items"),
        # once a 500 on PostgreSQL (its text cannot hold NUL): every JSON body is checked
        ("POST", "/api/v1/cases", {"kind": "seizure", "title": "a\x00b"}, "body.title"),
        # once accepted and split into one alias per character
        ("POST", "/api/v1/entities", {"type": "person", "name": "A", "aliases": "abc"}, "aliases"),
        # once a 500 on PostgreSQL: ids no INTEGER column can hold
        (
            "POST",
            "/api/v1/links",
            {"source_id": 2**40, "target_id": 2**31, "link_type": "associate_of"},
            "source_id",
        ),
        ("POST", "/api/v1/watches", {"kind": "entity", "entity_id": 2**40}, "entity_id"),
        # a JSON true is not an id (Python would read it as 1)
        (
            "POST",
            "/api/v1/links",
            {"source_id": True, "target_id": 1, "link_type": "associate_of"},
            "source_id",
        ),
        # once accepted: dates that are not dates
        ("GET", "/api/v1/search?q=tobacco&from=", None, "from"),
        ("GET", "/api/v1/search?q=tobacco&to=2026-1-5", None, "to"),
    ],
)
def test_refused_with_the_field_named(call, method, url, body, field):
    resp = call(method, url, body)
    assert resp.status_code == 422, resp.get_data(as_text=True)
    assert field in resp.get_json()["error"]["fields"], resp.get_json()


def test_the_search_page_still_takes_an_empty_date_box(login_as, client):
    login_as("intelligence_officer")
    resp = client.get("/search?q=tobacco&from=&to=")
    assert resp.status_code == 200
    assert "must be a date" not in resp.get_data(as_text=True)
