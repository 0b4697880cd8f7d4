"""Issue 19 item 8: the resolution queue shows each candidate pair side by side, attribute
by attribute, and merges into the record the analyst chooses (not always the left one)."""

import re

from app.extensions import db as _db
from app.intel import resolution, service
from app.intel.models import Entity
from tests.intel.factories import entity, officer


def _pair(actor, **b_kw):
    a = entity(actor, "Ilir Gashi", entity_type="person", identifiers={"passport": "P7654321"})
    b = entity(
        actor,
        "Gashi Ilir",
        entity_type="person",
        identifiers={"passport": "P7654321"},
        aliases=["I. Gashi"],
        duplicate_reason="a deliberate duplicate for this test",
        **b_kw,
    )
    return a, b


def test_choosing_the_right_hand_record_keeps_it(client, login_as, make, db):
    user = login_as("intelligence_officer")
    actor = make.actor(user)
    a, b = _pair(actor)
    other = entity(actor, "Some Company")
    service.add_link(b.id, other.id, "director_of", actor=actor)
    db.session.commit()
    page = client.get("/intel/resolution").get_data(as_text=True)
    # the queue shows the pair with the left-hand record first
    match = resolution.pending_matches(actor)[0]
    left, right = match.entity_a_id, match.entity_b_id
    # a survivor choice for each record of the pair, the left one chosen by default
    radios = re.findall(r'<input type="radio" name="survivor" value="(\d+)"( checked)?', page)
    assert radios == [(str(left), " checked"), (str(right), "")]
    resp = client.post(
        "/intel/resolution/decide",
        data={"entity_a": left, "entity_b": right, "survivor": right, "judgement": "merge"},
    )
    assert resp.status_code == 302 and resp.headers["Location"].endswith(f"/entities/{right}")
    kept, folded = _db.session.get(Entity, right), _db.session.get(Entity, left)
    assert kept.merged_into_id is None and kept.is_active
    assert folded.merged_into_id == right and not folded.is_active
    assert folded.name in kept.aliases


def test_pair_side_by_side_marks_the_differences(client, login_as, make, db):
    user = login_as("intelligence_officer")
    actor = make.actor(user)
    a, b = _pair(actor)
    other = entity(actor, "Some Company")
    service.add_link(b.id, other.id, "director_of", actor=actor)
    rows = {
        key: (left, right, differ)
        for key, left, right, differ in resolution.compare_pair(actor, a, b)
    }
    assert list(rows) == ["name", "aliases", "identifiers", "type", "handling", "links", "unit"]
    assert rows["name"] == ("Ilir Gashi", "Gashi Ilir", True)
    assert rows["aliases"] == ("", "I. Gashi", True)
    assert rows["identifiers"] == ("passport P7654321", "passport P7654321", False)
    assert rows["type"] == ("person", "person", False)
    assert rows["links"] == ("0", "1", True)
    db.session.commit()
    page = client.get("/intel/resolution").get_data(as_text=True)
    compare = page[page.index('class="table compact side-by-side"') :]
    assert re.search(r'<tr class="differs"><th scope="row">name', compare)
    assert re.search(r'<tr class="same"><th scope="row">identifiers', compare)
    assert "I. Gashi" in compare


def test_a_record_the_reader_may_not_open_shows_no_values(make):
    unit_a, unit_b = make.unit(), make.unit()
    _, owner = officer(make, unit_a)
    _, outsider = officer(make, unit_b)
    a, b = _pair(owner, handling_code="C")
    rows = resolution.compare_pair(outsider, a, b)
    hidden = f"a restricted record of {unit_a.code}"
    assert all(right == hidden for _, _, right, _ in rows)
    assert not any("Gashi Ilir" in left or "I. Gashi" in left for _, left, _, _ in rows)
    # the owner sees both records' values
    assert (
        dict((k, r) for k, _, r, _ in resolution.compare_pair(owner, a, b))["name"] == "Gashi Ilir"
    )
