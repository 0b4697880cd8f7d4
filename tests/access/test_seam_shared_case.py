"""Seam found by the sentinel sweep: a code-C case shared with another unit named, to that
unit, the secret entity among its parties and the secret case it links to -- on its page,
in its journal, through the API and in search snippets. The reader now sees "a restricted
record of <unit>" for every record they may not open; the owner still sees the names."""

import io
from datetime import timedelta

import pytest

from app.cases import parties
from app.cases import service as cases
from app.core.time import now_utc
from app.intel import service as intel
from app.search import service as search
from app.security import shares
from app.security.access import Actor

SECRET = "Zorvath Secretname"


@pytest.fixture
def shared(make, db):
    unit_a, unit_b = make.unit(code="SHA"), make.unit(code="SHB")
    sup_a = make.user(roles=["supervisor", "intelligence_officer"], unit=unit_a)
    reader = make.user(roles=["supervisor"], unit=unit_b)
    actor = Actor.for_user(sup_a)
    secret = intel.create_entity("person", SECRET, actor=actor, handling_code="C")
    other = cases.open_case("seizure", actor=actor, title="Other secret", handling_code="C")
    case = cases.open_case("seizure", actor=actor, title="Joint seizure", handling_code="C")
    parties.add_party(case.id, actor=actor, role="driver", entity_id=secret.id)
    cases.add_link(case.id, "case", other.reference, actor=actor)
    shares.create_share(
        "case",
        case.id,
        actor=actor,
        reason="joint operation",
        expires=now_utc() + timedelta(days=30),
        unit_id=unit_b.id,
    )
    db.session.commit()
    search.apply_index_queue()
    db.session.commit()
    return case, other, sup_a, reader


def test_the_shared_case_page_names_only_what_the_reader_may_open(app, make, shared):
    case, other, owner, reader = shared
    client = app.test_client()
    make.sign_in(client, reader)
    page = client.get(f"/cases/{case.id}").get_data(as_text=True)
    assert "Joint seizure" in page  # the share works
    assert SECRET not in page and other.reference not in page
    assert "a restricted record of SHA" in page

    client = app.test_client()
    make.sign_in(client, owner)
    page = client.get(f"/cases/{case.id}").get_data(as_text=True)
    assert SECRET in page and other.reference in page


def test_the_shared_case_api_names_only_what_the_reader_may_open(app, make, shared):
    case, other, _, reader = shared
    _, token = make.api_client(["cases:read"], unit=reader.unit)
    resp = app.test_client().get(
        f"/api/v1/cases/{case.id}", headers={"Authorization": f"Bearer {token}"}
    )
    body = resp.get_json()
    assert resp.status_code == 200
    assert SECRET not in resp.get_data(as_text=True)
    assert other.reference not in resp.get_data(as_text=True)
    assert body["parties"][0]["name"] == "a restricted record of SHA"
    assert any("a restricted record of SHA" in j["text"] for j in body["journal"])


def test_search_snippets_name_only_what_the_reader_may_open(app, make, shared):
    case, _, owner, reader = shared
    hits = search.search(Actor.for_user(reader), "Joint seizure", log=False).hits
    mine = [h for h in hits if h.record_type == "case" and h.record_id == case.id]
    assert mine, "the shared case is found by its title"
    assert SECRET not in mine[0].snippet and "a restricted record of SHA" in mine[0].snippet

    hits = search.search(Actor.for_user(owner), "Joint seizure", log=False).hits
    assert any(SECRET in h.snippet for h in hits if h.record_id == case.id)


def test_the_shared_case_file_pdf_names_only_what_the_reader_may_open(app, make, shared):
    from pypdf import PdfReader

    case, other, _, reader = shared
    client = app.test_client()
    make.sign_in(client, reader)
    resp = client.post(f"/cases/{case.id}/file.pdf", data={"file-justification": "review"})
    assert resp.status_code == 200 and resp.mimetype == "application/pdf"
    text = "\n".join(p.extract_text() or "" for p in PdfReader(io.BytesIO(resp.data)).pages)
    assert "Joint seizure" in text
    assert SECRET not in text and other.reference not in text
