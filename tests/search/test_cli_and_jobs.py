"""`tollgate search reindex|apply|status` and the worker job that applies the queue."""

from app.intel import service
from app.jobs.registry import registered_jobs
from app.search import service as search
from tests.intel.factories import officer


def test_apply_job_is_registered_for_the_worker(app):
    spec = {s.id: s for s in registered_jobs(app)}["search-apply-queue"]
    assert spec.func is search.apply_index_queue


def test_cli_reindex_apply_status(runner, make, db, app):
    _, actor = officer(make)
    service.create_entity("organisation", "Sharri Beverages", actor=actor)
    db.session.commit()
    result = runner.invoke(args=["search", "status"])
    assert "1 queued updates" in result.output
    result = runner.invoke(args=["search", "apply"])
    assert result.exit_code == 0 and "applied 1 updates" in result.output
    result = runner.invoke(args=["search", "reindex", "--backend", "whoosh"])
    assert result.exit_code == 0, result.output
    assert "entity" in result.output and "reindexed" in result.output
    assert search.search(actor, "sharri", backend="whoosh").total == 1
    result = runner.invoke(args=["search", "reindex", "--type", "nope"])
    assert result.exit_code != 0
    search.get_backend("whoosh").clear()


def test_a_big_rebuild_is_written_by_two_processes_and_loses_nothing(make, db, app, monkeypatch):
    """Whoosh indexes in pure Python: a rebuild of PARALLEL_FROM documents or more is
    written by ``procs`` processes, one segment each; every document is found after it."""
    from app.search import backend_whoosh as backends

    _, actor = officer(make)
    ids = [
        service.create_entity("organisation", f"Parallel Freight {i:02d}", actor=actor).id
        for i in range(30)
    ]
    db.session.commit()
    monkeypatch.setitem(app.config, "TOLLGATE_SEARCH_REINDEX_PROCS", 2)
    monkeypatch.setattr(backends, "PARALLEL_FROM", 15)  # reached at the second batch of 10
    monkeypatch.setattr(backends, "PARALLEL_BATCH", 4)  # jobs for both processes
    engine = search.get_backend("whoosh")
    assert engine.procs == 2
    try:
        counts = search.reindex("whoosh", batch=10)
        assert counts["entity"] == 30  # the held documents are not counted twice
        reader = engine._index().reader()
        assert reader.doc_count() == 30 and len(list(reader.leaf_readers())) >= 2
        found = search.search(actor, "parallel freight", backend="whoosh", per_page=100)
        assert sorted(h.record_id for h in found.hits) == sorted(ids)
        # a typo is forgiven across the segments too
        assert search.search(actor, "paralel", backend="whoosh").total == 30
    finally:
        engine.clear()
