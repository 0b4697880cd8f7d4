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
