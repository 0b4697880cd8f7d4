"""Core API guards shared by every domain's JSON endpoints."""

import pytest

from app.core.api import _first_nul


@pytest.mark.parametrize(
    ("body", "where"),
    [
        ({"a": "ok", "b": ["x", "y\x00"]}, "body.b[1]"),
        ({"items": [{"hs_code": "0808\x00"}]}, "body.items[0].hs_code"),
        ({"k\x00": 1}, "body"),
        ({"fine": ["text", 1, None, {"x": "y"}]}, None),
    ],
)
def test_nul_characters_are_located(body, where):
    assert _first_nul(body, "body") == where


def test_huge_ids_are_not_found(client, login_as):
    login_as("supervisor")
    assert client.get(f"/admin/users/{2**40}").status_code in (403, 404)
    assert client.get("/admin/users/2147483648").status_code in (403, 404)
