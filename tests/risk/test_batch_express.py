"""Express batches through the API (issue 22): a batch of hundreds of one-item declarations is
stored and assessed by the bulk path and gives each declaration what submitting it alone
gives - the channel, the profile hits, the trail row, the search queue row, the pending
trader links - and a batch with one bad item stores nothing at all."""

import pytest
from sqlalchemy import func, select

from app.risk import engine as engine_mod
from app.risk.models import Declaration, DeclarationItem, ProfileHit
from app.search.models import SearchQueueItem
from app.security.trail import AccessEvent
from tests.risk.factories import body, cond, item, no_random, profile, tree

SIZE = 500


@pytest.fixture(autouse=True)
def _fresh_engine():
    engine_mod.reset_cache()
    yield
    engine_mod.reset_cache()


def _post(client, token, json):
    return client.post(
        "/api/v1/declarations", json=json, headers={"Authorization": f"Bearer {token}"}
    )


def _bodies(tag):
    # Every third declaration carries a phone from China: the profile below fires on it.
    return [
        body(
            f"EXP-{tag}-{n:04d}",
            importer=f"IMP{n % 7:03d}",
            items=[
                item(hs_code="8517620000", origin="CN")
                if n % 3 == 0
                else item(hs_code="6109100000", origin="VN", departure="VN")
            ],
        )
        for n in range(SIZE)
    ]


def _count(model, *where):
    from app.extensions import db

    return db.session.scalar(select(func.count()).select_from(model).where(*where))


def test_a_batch_of_500_gives_each_declaration_what_one_alone_gets(client, make, db):
    no_random()
    phones = profile(
        conditions=tree(cond("hs_code", "prefix", ["8517"]), cond("origin", "eq", "CN"))
    )
    db.session.commit()
    _, token = make.api_client(["declarations:write"])

    alone = _post(client, token, body("EXP-ALONE", items=[item(origin="CN")]))
    assert alone.status_code == 201 and alone.json["channel"] == "red"

    resp = _post(client, token, {"declarations": _bodies("A")})
    assert resp.status_code == 201, resp.json
    out = resp.json["declarations"]
    assert [d["number"] for d in out] == [f"EXP-A-{n:04d}" for n in range(SIZE)]
    assert [d["channel"] for d in out] == ["red" if n % 3 == 0 else "green" for n in range(SIZE)]
    fired = out[0]["profiles"][0]
    assert fired["code"] == phones.code and fired["items"] == [1]
    assert fired["matched"] == alone.json["profiles"][0]["matched"]
    assert all(d["control_result"] is None and d["random_selected"] is False for d in out)

    db.session.rollback()
    stored = db.session.scalars(
        select(Declaration).where(Declaration.number.like("EXP-A-%")).order_by(Declaration.id)
    ).all()
    assert [d.number for d in stored] == [d["number"] for d in out]  # ids in the order sent
    assert all(d.links_pending and d.api_client_id is not None for d in stored)
    ids = [d.id for d in stored]
    assert _count(DeclarationItem, DeclarationItem.declaration_id.in_(ids)) == SIZE
    assert _count(ProfileHit, ProfileHit.declaration_id.in_(ids)) == len(range(0, SIZE, 3))
    created = db.session.scalars(
        select(AccessEvent.record_id).where(
            AccessEvent.action == "create", AccessEvent.record_type == "declaration"
        )
    ).all()
    assert {str(i) for i in ids} <= set(created)
    queued = db.session.scalars(
        select(SearchQueueItem.record_id).where(SearchQueueItem.record_type == "declaration")
    ).all()
    assert set(ids) <= set(queued)
    # The stored assessment is the one a declaration submitted alone gets.
    first = stored[0].assessment
    single = db.session.scalar(select(Declaration).where(Declaration.number == "EXP-ALONE"))
    for key in ("channel", "reasons", "profiles", "ml", "trader_rating", "engine_version"):
        assert first[key] == single.assessment[key], key


def test_a_batch_with_one_bad_item_stores_nothing(client, make, db):
    no_random()
    profile(conditions=tree(cond("hs_code", "prefix", ["8517"])))
    db.session.commit()
    _, token = make.api_client(["declarations:write"])
    bodies = _bodies("B")
    bodies[-1]["items"][0]["hs_code"] = "85AB"
    before = _count(AccessEvent)

    resp = _post(client, token, {"declarations": bodies})
    assert resp.status_code == 422
    assert list(resp.json["error"]["fields"]) == [f"declarations[{SIZE - 1}].items[0].hs_code"]
    db.session.rollback()
    assert _count(Declaration) == 0
    assert _count(DeclarationItem) == 0
    assert _count(ProfileHit) == 0
    assert _count(SearchQueueItem) == 0
    assert _count(AccessEvent, AccessEvent.record_type == "declaration") == 0
    assert _count(AccessEvent) - before <= 1  # at most the refusal itself

    bodies[-1]["items"][0]["hs_code"] = "8517620000"
    assert _post(client, token, {"declarations": bodies}).status_code == 201
    db.session.rollback()
    assert _count(Declaration) == SIZE
