"""Keyset paging (issue 22): the case, entity and declaration lists page by cursor, so a
deep page is one index seek; following the links visits every row once, in order, both
ways, with ties on the sort key and within need-to-know."""

import re
from datetime import UTC, datetime, timedelta
from html import unescape

import pytest
from werkzeug.datastructures import MultiDict

from app.cases.models import Case
from app.core.errors import ValidationError
from app.core.pagination import decode_cursor, encode_cursor, keyset_paginate
from app.intel import service as intel
from app.intel.models import Entity
from tests.cases.factories import seizure
from tests.risk.factories import body, submit

_LINK = re.compile(r'<a href="([^"]+)" rel="(next|prev)">')
_CASE_REF = re.compile(r"/cases/(\d+)\"")


def _links(html):
    return {rel: unescape(href) for href, rel in _LINK.findall(html)}


def _walk(client, url, pattern):
    """Follow 'Next' to the end, then 'Previous' back; the ids of each page."""
    forward, pages = [], []
    while url:
        html = client.get(url).get_data(as_text=True)
        ids = [int(i) for i in pattern.findall(html)]
        pages.append(ids)
        forward += ids
        url = _links(html).get("next")
    backward = list(pages[-1])
    prev = _links(html).get("prev")
    while prev:
        html = client.get(prev).get_data(as_text=True)
        backward = [int(i) for i in pattern.findall(html)] + backward
        prev = _links(html).get("prev")
    return forward, pages, backward


def test_case_list_pages_by_cursor_in_order_and_back(client, login_as, make, db):
    user = login_as("enforcement_officer")
    actor = make.actor(user)
    start = datetime(2026, 1, 1, tzinfo=UTC)
    ids = []
    for i in range(8):
        # three share one date of facts: the id breaks the tie, nothing is skipped
        when = start + timedelta(days=min(i, 5))
        ids.append(seizure(actor, title=f"Case {i}", event_dt=when).id)
    hidden = seizure(
        make.actor(make.user(roles=["enforcement_officer"], unit=make.unit())),
        title="Other unit",
        handling_code="C",
    )
    db.session.commit()
    forward, pages, backward = _walk(client, "/cases/?per_page=3", _CASE_REF)
    expected = sorted(
        ids,
        key=lambda i: (db.session.get(Case, i).event_dt, i),
        reverse=True,
    )
    assert forward == expected and backward == expected
    assert [len(p) for p in pages] == [3, 3, 2]
    assert hidden.id not in forward
    # the second page was reached by cursor, not by number
    first = client.get("/cases/?per_page=3").get_data(as_text=True)
    assert "after=" in _links(first)["next"] and "&page=" not in _links(first)["next"]
    # a cursor this list did not make shows page 1 on the HTML page (lenient)
    page = client.get("/cases/?per_page=3&after=not-a-cursor")
    assert page.status_code == 200
    assert [int(i) for i in _CASE_REF.findall(page.get_data(as_text=True))] == expected[:3]


def test_entity_and_declaration_lists_page_by_cursor(client, login_as, make, db):
    user = login_as(make.user(roles=["intelligence_officer", "risk_analyst"]))
    actor = make.actor(user)
    ids = [
        intel.create_entity("organisation", name, actor=actor).id
        for name in ["Delta", "Alpha", "Alpha", "Charlie", "Bravo"]
    ]
    for i in range(5):
        submit(body(f"K{i:07d}", date=f"2026-03-0{1 + i % 2}"))
    db.session.commit()
    forward, _pages, backward = _walk(
        client, "/intel/entities?per_page=2", re.compile(r"/intel/entities/(\d+)\"")
    )
    names = {i: db.session.get(Entity, i).name for i in ids}
    assert forward == sorted(ids, key=lambda i: (names[i], i)) == backward
    forward, pages, backward = _walk(
        client, "/risk/declarations?per_page=2", re.compile(r"/risk/declarations/(\d+)\"")
    )
    assert len(forward) == 5 == len(set(forward)) and forward == backward
    assert [len(p) for p in pages] == [2, 2, 1]


def test_cursor_round_trip_and_refusal(make, db):
    keys = [(Case.event_dt, True), (Case.id, True)]
    when = datetime(2026, 5, 1, 12, 30, tzinfo=UTC)
    assert decode_cursor(encode_cursor(7, [when, 42]), keys) == (7, [when, 42])
    too_big = encode_cursor(1, [when, 2**64])  # no 64-bit column holds it: a 500 before
    for bad in ("", "x", encode_cursor(1, [42, when]), encode_cursor(1, [when]), too_big):
        try:
            decode_cursor(bad, keys)
        except ValueError:
            continue
        raise AssertionError(f"{bad!r} was taken as a cursor")


def test_strict_paging_names_a_bad_cursor(make, db):
    stmt = db.select(Entity)
    with pytest.raises(ValidationError) as err:
        keyset_paginate(stmt, MultiDict({"after": "nope"}), [(Entity.id, False)], strict=True)
    assert "after" in err.value.fields


def test_entity_api_pages_by_cursor_and_refuses_a_foreign_one(client, make, db):
    unit = make.unit(code="KEYS")
    actor = make.actor(make.user(roles=["intelligence_officer"], unit=unit))
    ids = [intel.create_entity("organisation", f"Org {i}", actor=actor).id for i in range(5)]
    hidden = make.actor(make.user(roles=["intelligence_officer"], unit=make.unit()))
    other = intel.create_entity("organisation", "Hidden", actor=hidden, handling_code="C").id
    db.session.commit()
    _, token = make.api_client(["entities:read"], unit=unit)
    headers = {"Authorization": f"Bearer {token}"}
    forward, pages, url = [], [], "/api/v1/entities?per_page=2"
    while url:
        page = client.get(url, headers=headers).get_json()
        pages.append(page)
        forward += [e["id"] for e in page["items"]]
        url = page["next_after"] and f"/api/v1/entities?per_page=2&after={page['next_after']}"
    assert forward == sorted(ids) and other not in forward
    assert [p["page"] for p in pages] == [1, 2, 3] and pages[0]["prev_before"] is None
    back = client.get(
        f"/api/v1/entities?per_page=2&before={pages[-1]['prev_before']}", headers=headers
    ).get_json()
    assert [e["id"] for e in back["items"]] == forward[2:4] and back["page"] == 2
    # page= still works (documented), and a cursor no 64-bit key can hold is a 422, not a 500
    assert [
        e["id"]
        for e in client.get("/api/v1/entities?per_page=2&page=3", headers=headers).get_json()[
            "items"
        ]
    ] == forward[4:]
    for bad in (encode_cursor(2, [2**64]), encode_cursor(2, [-(2**70)]), "zz"):
        answer = client.get(f"/api/v1/entities?after={bad}", headers=headers)
        assert answer.status_code == 422 and "after" in answer.get_json()["error"]["fields"]
