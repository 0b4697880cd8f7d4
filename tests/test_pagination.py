"""Paging arguments: the API is strict (422 naming the parameter), HTML pages clamp."""

import pytest
from werkzeug.datastructures import MultiDict

from app.core.errors import ValidationError
from app.core.pagination import MAX_PAGE, MAX_PER_PAGE, page_args


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({}, (1, 50)),
        ({"page": "3", "per_page": "20"}, (3, 20)),
        ({"page": "0", "per_page": "0"}, (1, 1)),
        ({"page": "x", "per_page": ""}, (1, 50)),
        ({"page": "-4", "per_page": "100000"}, (1, MAX_PER_PAGE)),
        ({"page": str(10**30)}, (MAX_PAGE, 50)),
    ],
)
def test_lenient_paging_clamps(query, expected):
    assert page_args(MultiDict(query)) == expected


@pytest.mark.parametrize(
    ("query", "bad"),
    [
        ({"page": "0"}, {"page"}),
        ({"page": "x", "per_page": "0"}, {"page", "per_page"}),
        ({"per_page": str(MAX_PER_PAGE + 1)}, {"per_page"}),
        ({"page": str(MAX_PAGE + 1)}, {"page"}),
        ({"page": ""}, {"page"}),
        ({"page": " 2"}, {"page"}),
        ({"page": "2.0"}, {"page"}),
        ({"page": "1_0"}, {"page"}),
        ({"page": "\u0661"}, {"page"}),  # ARABIC-INDIC DIGIT ONE: int() would take it
        ({"page": "9" * 5000}, {"page"}),
    ],
)
def test_strict_paging_names_each_bad_parameter(query, bad):
    with pytest.raises(ValidationError) as exc:
        page_args(MultiDict(query), strict=True)
    assert set(exc.value.fields) == bad
    assert all("whole number from 1 to" in m for m in exc.value.fields.values())


def test_strict_paging_accepts_the_declared_range():
    args = MultiDict({"page": str(MAX_PAGE), "per_page": str(MAX_PER_PAGE)})
    assert page_args(args, strict=True) == (MAX_PAGE, MAX_PER_PAGE)
    assert page_args(MultiDict({"per_page": "100"}), max_per_page=100, strict=True) == (1, 100)
    assert page_args(MultiDict(), per_page=20, strict=True) == (1, 20)


def test_html_list_clamps_where_the_api_answers_422(client, login_as, make):
    login_as("intelligence_officer")
    assert client.get("/intel/entities?page=0&per_page=-3").status_code == 200
    assert client.get("/intel/entities?page=x&per_page=100000").status_code == 200
    _, token = make.api_client(["entities:read"], unit=make.unit(code="PAGE"))
    response = client.get(
        "/api/v1/entities?page=0&per_page=x", headers={"Authorization": f"Bearer {token}"}
    )
    assert response.status_code == 422
    error = response.get_json()["error"]
    assert error["status"] == 422 and set(error["fields"]) == {"page", "per_page"}
