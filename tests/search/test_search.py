"""The search service on both backends: queue, typo tolerance, filters, access before counts."""

from datetime import UTC, datetime, timedelta

import pytest

from app.core.errors import ValidationError
from app.intel import reports, resolution, service
from app.search import service as search
from app.search.models import SearchQueueItem
from app.security.access import Actor, share_record
from app.security.trail import AccessEvent
from tests.intel.factories import officer


def _index(db, backend):
    db.session.commit()
    search.apply_index_queue(backend)


def _titles(result):
    return [h.title for h in result.hits]


def test_changes_are_queued_and_applied_by_the_worker_job(make, db, backend):
    _, actor = officer(make)
    service.create_entity("organisation", "Balkan Trading LLC", actor=actor)
    db.session.commit()
    assert search.queue_length() == 1
    assert search.search(actor, "balkan", backend=backend).total == 0  # not applied yet
    assert search.apply_index_queue(backend) == 1
    assert search.queue_length() == 0
    assert _titles(search.search(actor, "balkan", backend=backend)) == ["Balkan Trading LLC"]


def test_typo_tolerance_and_transliteration(make, db, backend):
    _, actor = officer(make)
    service.create_entity("organisation", "Balkan Trading LLC", actor=actor)
    service.create_entity("person", "Иван Петров", actor=actor)
    service.create_entity(
        "organisation", "Adriatic Freight", actor=actor, identifiers={"eori": "XK123456789"}
    )
    _index(db, backend)
    assert _titles(search.search(actor, "Balkan Tradng", backend=backend)) == ["Balkan Trading LLC"]
    assert _titles(search.search(actor, "Blakan trading", backend=backend)) == [
        "Balkan Trading LLC"
    ]
    assert _titles(search.search(actor, "ivan petrov", backend=backend)) == ["Иван Петров"]
    assert _titles(search.search(actor, "XK123456789", backend=backend)) == ["Adriatic Freight"]
    assert search.search(actor, "zzzqqq", backend=backend).total == 0


def test_results_filtered_by_access_before_counting(make, db, backend):
    unit_a, unit_b = make.unit(), make.unit()
    _, owner = officer(make, unit_a)
    _, outsider = officer(make, unit_b)
    for i in range(3):
        service.create_entity("organisation", f"Harbour Secret {i}", actor=owner, handling_code="C")
    service.create_entity("organisation", "Harbour Open", actor=owner)
    report = reports.create_report(
        "Harbour report", "harbour smuggling", "2", "C", actor=owner, handling_code="C"
    )
    _index(db, backend)
    mine = search.search(owner, "harbour", backend=backend)
    assert mine.total == 5 and mine.counts == {"entity": 4, "report": 1}
    theirs = search.search(outsider, "harbour", backend=backend, per_page=1)
    assert theirs.total == 1 and theirs.counts == {"entity": 1}
    assert _titles(theirs) == ["Harbour Open"] and theirs.pages == 1
    # a share opens the report to the other unit
    share_record(report, unit_ids=[unit_b.id])
    db.session.commit()
    assert search.search(outsider, "harbour", backend=backend).counts == {"entity": 1, "report": 1}
    # a role without intel.view never gets reports, even shared ones
    enforcement = Actor.for_user(make.user(roles=["enforcement_officer"], unit=unit_b))
    assert search.search(enforcement, "harbour", backend=backend, types=["report"]).total == 1
    pca = Actor.for_user(make.user(roles=["pca_auditor"], unit=unit_b))
    assert search.search(pca, "harbour", backend=backend).counts == {"entity": 1}


def test_type_and_date_filters_and_paging(make, db, backend):
    _, actor = officer(make)
    for i in range(25):
        service.create_entity("person", f"Drini Courier {i:02d}", actor=actor)
    service.create_entity("organisation", "Drini Cargo", actor=actor)
    _index(db, backend)
    people = search.search(actor, "drini", types=["entity"], backend=backend, per_page=10, page=3)
    assert people.total == 26 and len(people.hits) == 6 and people.pages == 3
    assert search.search(actor, "drini", types=["report"], backend=backend).total == 0
    later = datetime.now(UTC) + timedelta(days=1)
    assert search.search(actor, "drini", date_from=later, backend=backend).total == 0
    assert search.search(actor, "drini", date_to=later, backend=backend).total == 26
    with pytest.raises(ValidationError) as err:
        search.search(actor, "drini", types=["spaceships"], backend=backend)
    assert "types" in err.value.fields
    with pytest.raises(ValidationError):
        search.search(
            actor, "drini", date_from=later, date_to=later - timedelta(days=2), backend=backend
        )


def test_updates_merges_and_deletions_reach_the_index(make, db, backend):
    _, actor = officer(make)
    a = service.create_entity(
        "person", "Goran Markovic", actor=actor, identifiers={"passport": "P555"}
    )
    b = service.create_entity(
        "person",
        "Markovic Goran",
        actor=actor,
        identifiers={"passport": "P555"},
        duplicate_reason="the duplicate merged below",
    )
    _index(db, backend)
    assert search.search(actor, "markovic", backend=backend).total == 2
    service.update_entity(a, actor=actor, name="Goran Markovich")
    resolution.merge_entities(a.id, b.id, actor=actor)
    _index(db, backend)
    result = search.search(actor, "markovic", backend=backend)
    assert [h.record_id for h in result.hits] == [a.id]  # merged-away entity left the index


def test_reindex_rebuilds_everything(make, db, backend):
    _, actor = officer(make)
    service.create_entity("organisation", "Ulpiana Metals", actor=actor)
    db.session.commit()
    db.session.query(SearchQueueItem).delete()
    db.session.commit()
    assert search.search(actor, "ulpiana", backend=backend).total == 0
    counts = search.reindex(backend)
    assert counts["entity"] == 1
    assert search.search(actor, "ulpiana", backend=backend).total == 1


def test_searches_are_in_the_trail(make, db, backend):
    user, actor = officer(make)
    search.search(actor, "anything at all", backend=backend)
    row = db.session.query(AccessEvent).filter_by(action="search", user_id=user.id).one()
    assert row.query == "anything at all"


def test_search_page_and_api(client, login_as, make, db, backend, app):
    app.config["TOLLGATE_SEARCH_BACKEND"] = backend
    try:
        user = login_as("intelligence_officer")
        actor = Actor.for_user(user)
        service.create_entity("organisation", "Korab Textiles", actor=actor)
        _index(db, backend)
        page = client.get("/search?q=korab+textles")
        assert page.status_code == 200 and "Korab Textiles" in page.get_data(as_text=True)
        bad = client.get("/search?q=korab&from=yesterday")
        assert "from: must be a date" in bad.get_data(as_text=True)
        _, token = make.api_client(["search:read", "entities:read"], unit=user.unit)
        resp = client.get(
            "/api/v1/search?q=korab&type=entity", headers={"Authorization": f"Bearer {token}"}
        )
        assert resp.status_code == 200
        assert resp.json["total"] == 1 and resp.json["items"][0]["title"] == "Korab Textiles"
        resp = client.get(
            "/api/v1/search?q=korab&type=nope", headers={"Authorization": f"Bearer {token}"}
        )
        assert resp.status_code == 422 and "type" in resp.json["error"]["fields"]
    finally:
        app.config["TOLLGATE_SEARCH_BACKEND"] = "auto"
