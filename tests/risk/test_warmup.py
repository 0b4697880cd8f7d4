"""No cold start (issue 22): a web worker's warm-up readies the engine, the ML model and the
peer medians without writing anything, and after a profile change the worker keeps
assessing with the engine in use while the new one compiles beside it."""

import time

import pytest
from sqlalchemy import func, select

from app.audit import lifecycle
from app.risk import engine as engine_mod
from app.risk.derived import _peer_cache
from app.risk.models import Declaration, ProfileHit
from app.risk.warmup import warm_up
from app.security.access import Actor
from app.security.trail import AccessEvent
from tests.audit.factories import FAST_PARAMS, import_rows, synthetic_history
from tests.risk.factories import body, cond, item, no_random, profile, tree

SYSTEM = Actor.system("test")


@pytest.fixture(autouse=True)
def _cold():
    engine_mod.reset_cache()
    lifecycle._cache.forget()
    _peer_cache["loaded"] = None
    yield
    engine_mod.reset_cache()
    lifecycle._cache.forget()


def _count(db, model):
    return db.session.scalar(select(func.count()).select_from(model))


def test_warm_up_loads_engine_model_and_medians_and_writes_nothing(app, db, caplog):
    import_rows(synthetic_history(400))
    model = lifecycle.train_from_history(actor=SYSTEM, params=FAST_PARAMS)
    lifecycle.activate_model(model.version, actor=SYSTEM)
    profile(conditions=tree(cond("hs_code", "prefix", ["8517"])))
    db.session.commit()
    before = {m: _count(db, m) for m in (Declaration, ProfileHit, AccessEvent)}
    assert engine_mod._cache["engine"] is None and lifecycle._cache.model is None

    with caplog.at_level("INFO", logger="app.risk.warmup"):
        warm_up(app)
    # The dry run went through to the API's answer (a failure is logged, not raised).
    assert [r.getMessage() for r in caplog.records if r.levelname == "ERROR"] == []
    assert any("warm in" in r.getMessage() for r in caplog.records)

    engine = engine_mod._cache["engine"]
    assert engine is not None and len(engine.profiles) == 1
    assert (engine.version, engine.seed) == engine_mod._state_key()
    assert lifecycle._cache.model is not None and lifecycle._cache.version == model.version
    assert _peer_cache["loaded"] is not None
    assert engine_mod._cache["background"] is True
    db.session.rollback()
    assert {m: _count(db, m) for m in before} == before


def test_the_first_declaration_after_the_warm_up_compiles_no_statement(app, client, make, db):
    """Every statement of an API declaration was compiled by the warm-up (a statement compiled
    on the first request cost it 0.4-0.6 ms each, six of them)."""
    no_random()
    profile(name="Phones", conditions=tree(cond("hs_code", "prefix", ["8517"])), channel="yellow")
    _, token = make.api_client(["declarations:write"])
    db.session.commit()
    db.session.remove()
    db.engine._compiled_cache.clear()
    warm_up(app)
    compiled = set(db.engine._compiled_cache.keys())
    resp = client.post(
        "/api/v1/declarations",
        json=body("FIRST-1", items=[item(), item(hs_code="6403990000", origin="VN")]),
        headers={"Authorization": f"Bearer {token}"},
    )
    assert resp.status_code == 201 and resp.json["channel"] == "yellow"
    new = [repr(key[1:])[:160] for key in set(db.engine._compiled_cache.keys()) - compiled]
    assert new == []


def test_the_warm_up_locks_no_real_client_row(app, make, db):
    """Workers warm up while requests arrive: a request holds its client's row (last-used
    time) and then waits for the trail's lock, which a warm-up holds from its dry run on. A
    warm-up that then updated that row deadlocked (seen on PostgreSQL, four workers)."""
    from sqlalchemy import event

    client, _token = make.api_client(["declarations:write"])
    db.session.commit()
    client_id = client.id
    updates = []

    def watch(conn, cursor, statement, params, context, executemany):
        if statement.lstrip().upper().startswith("UPDATE API_CLIENT"):
            updates.append(params)

    event.listen(db.engine, "before_cursor_execute", watch)
    try:
        warm_up(app)
    finally:
        event.remove(db.engine, "before_cursor_execute", watch)
    assert updates, "the last-used UPDATE is compiled, on no client's row"
    assert all(client_id not in (p.values() if isinstance(p, dict) else p) for p in updates)


def test_after_an_activation_the_engine_in_use_serves_until_the_new_one_is_in(
    app, client, make, db
):
    no_random()
    profile(name="Phones", conditions=tree(cond("hs_code", "prefix", ["8517"])), channel="yellow")
    db.session.commit()
    _, token = make.api_client(["declarations:write"])
    headers = {"Authorization": f"Bearer {token}"}
    old = engine_mod.get_engine()
    engine_mod.rebuild_in_background(True)

    profile(name="Chinese phones", conditions=tree(cond("origin", "eq", "CN")), channel="red")
    db.session.commit()
    resp = client.post(
        "/api/v1/declarations", json=body("BG-1", items=[item(origin="CN")]), headers=headers
    )
    # Assessed at once by the engine in use, which the assessment names.
    assert resp.status_code == 201
    assert resp.json["channel"] == "yellow" and resp.json["engine_version"] == old.version

    deadline = time.monotonic() + 30
    while engine_mod._cache["engine"] is old and time.monotonic() < deadline:
        time.sleep(0.05)
    new = engine_mod._cache["engine"]
    assert new is not old and new.version > old.version and len(new.profiles) == 2
    resp = client.post(
        "/api/v1/declarations", json=body("BG-2", items=[item(origin="CN")]), headers=headers
    )
    assert resp.json["channel"] == "red" and resp.json["engine_version"] == new.version


def test_without_background_rebuild_the_change_applies_to_the_next_declaration(client, make, db):
    no_random()
    profile(name="Phones", conditions=tree(cond("hs_code", "prefix", ["8517"])), channel="yellow")
    db.session.commit()
    _, token = make.api_client(["declarations:write"])
    old = engine_mod.get_engine()
    profile(name="Chinese phones", conditions=tree(cond("origin", "eq", "CN")), channel="red")
    db.session.commit()
    resp = client.post(
        "/api/v1/declarations",
        json=body("FG-1", items=[item(origin="CN")]),
        headers={"Authorization": f"Bearer {token}"},
    )
    assert resp.json["channel"] == "red" and resp.json["engine_version"] > old.version


def test_a_readied_worker_has_its_warm_objects_frozen_out_of_the_collector(app, db):
    """app.wsgi readies a gunicorn worker with ready_worker: the warm-ups, then gc.freeze,
    so a full collection does not walk the engine, the model and the imported modules."""
    import gc

    from app.core.registry import ready_worker

    gc.unfreeze()
    assert gc.get_freeze_count() == 0
    try:
        ready_worker(app)
        assert engine_mod.get_engine() is not None
        assert gc.get_freeze_count() > 10_000  # the modules alone hold more objects than this
    finally:
        gc.unfreeze()
