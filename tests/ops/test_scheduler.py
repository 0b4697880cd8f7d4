"""Exactly-once scheduling: each trigger is claimed once in job_run, survives SIGKILL."""

import signal
from datetime import timedelta

from sqlalchemy import select

from app.core.time import now_utc
from app.jobs.models import JobRun
from app.jobs.registry import JobSpec
from app.jobs.scheduler import TriggerTimeExecutor, build_scheduler, resume_interrupted, run_job
from app.ops import heartbeat
from app.ops.models import SchedulerHeartbeat
from tests.ops.workers import start_worker, stop, wait_until, worker_env

HEARTBEAT = heartbeat.JOB_ID


def _runs(db, job_id=HEARTBEAT):
    db.session.rollback()
    return db.session.scalars(
        select(JobRun).where(JobRun.job_id == job_id).order_by(JobRun.scheduled_dt)
    ).all()


def _beats(db):
    db.session.rollback()
    return db.session.scalars(
        select(SchedulerHeartbeat).order_by(SchedulerHeartbeat.scheduled_dt)
    ).all()


def _spec():
    return JobSpec(HEARTBEAT, heartbeat.beat, "interval", {"seconds": 1})


def test_a_trigger_is_claimed_once(app, db):
    due = now_utc().replace(microsecond=0) - timedelta(minutes=1)
    assert run_job(app, _spec(), due) is True
    assert run_job(app, _spec(), due) is False  # the same trigger again: refused
    assert run_job(app, _spec(), due + timedelta(seconds=1)) is True
    runs = _runs(db)
    assert [r.status for r in runs] == ["ok", "ok"]
    assert [b.scheduled_dt for b in _beats(db)] == [r.scheduled_dt for r in runs]


def test_failed_job_rolls_back_its_work_and_records_the_error(app, db):
    def broken():
        heartbeat.beat()
        raise RuntimeError("feed unreachable")

    assert run_job(app, JobSpec("ops.broken", broken), now_utc()) is True
    (run,) = _runs(db, "ops.broken")
    assert run.status == "failed" and "feed unreachable" in run.error
    assert _beats(db) == []


def test_an_interrupted_run_is_finished_once_by_the_next_worker(app, db):
    due = now_utc().replace(microsecond=0) - timedelta(minutes=5)
    db.session.add(JobRun(job_id=HEARTBEAT, scheduled_dt=due, started_dt=due, pid=1))
    db.session.commit()
    app.extensions["tollgate_jobs"][HEARTBEAT] = _spec()
    try:
        assert resume_interrupted(app) == 1
        assert resume_interrupted(app) == 0
    finally:
        if not app.config["TOLLGATE_TEST_JOBS"]:
            del app.extensions["tollgate_jobs"][HEARTBEAT]
    (run,) = _runs(db)
    assert (run.status, run.attempts) == ("ok", 2)
    assert [(b.scheduled_dt, b.attempt) for b in _beats(db)] == [(due, 2)]


def test_the_scheduler_hands_each_run_its_fire_time(app, db):
    scheduler = build_scheduler(app)
    assert isinstance(scheduler._executors["default"], TriggerTimeExecutor)


def test_worker_runs_each_trigger_exactly_once(app, db, tmp_path):
    env = worker_env(app, tmp_path, TOLLGATE_TEST_JOB_SECONDS=1)
    proc = start_worker(env, tmp_path / "worker.log")
    try:
        wait_until(lambda: len([r for r in _runs(db) if r.status == "ok"]) >= 5, what="5 runs")
    finally:
        stop(proc)  # SIGTERM: the running job finishes first
    log = (tmp_path / "worker.log").read_text()
    runs, beats = _runs(db), _beats(db)
    assert all(r.status == "ok" for r in runs), log
    assert [b.scheduled_dt for b in beats] == [r.scheduled_dt for r in runs]
    gaps = {b.scheduled_dt - a.scheduled_dt for a, b in zip(runs, runs[1:], strict=False)}
    assert gaps == {timedelta(seconds=1)}, f"a trigger was skipped or doubled: {gaps}"
    assert "Traceback" not in log and "ERROR" not in log, log


def test_sigkill_mid_job_loses_and_duplicates_nothing(app, db, tmp_path):
    env = worker_env(app, tmp_path, TOLLGATE_TEST_JOB_SECONDS=2, TOLLGATE_TEST_JOB_SLEEP=1.2)
    log_path = tmp_path / "worker.log"
    first = start_worker(env, log_path)
    try:
        wait_until(lambda: any(r.status == "ok" for r in _runs(db)), what="a first run")
        victim = wait_until(
            lambda: next((r for r in _runs(db) if r.status == "running"), None),
            interval=0.05,
            what="a run in progress",
        )
    finally:
        stop(first, signal.SIGKILL)
    killed_at = victim.scheduled_dt
    assert killed_at not in {b.scheduled_dt for b in _beats(db)}  # its work did not commit

    second = start_worker(env, log_path)
    try:
        wait_until(
            lambda: (
                len([r for r in _runs(db) if r.scheduled_dt > killed_at and r.status == "ok"]) >= 2
            ),
            what="two runs after the restart",
        )
    finally:
        stop(second)
    runs, beats = _runs(db), _beats(db)
    assert all(r.status == "ok" for r in runs), [(r.scheduled_dt, r.status) for r in runs]
    assert [b.scheduled_dt for b in beats] == [r.scheduled_dt for r in runs]
    finished = next(r for r in runs if r.scheduled_dt == killed_at)
    assert finished.attempts == 2
    assert next(b for b in beats if b.scheduled_dt == killed_at).attempt == 2
    assert "was interrupted" in log_path.read_text()


def test_a_job_that_commits_and_ends_its_session_is_still_recorded(app, db):
    from app.extensions import db as _db

    def tidy():
        heartbeat.beat()
        _db.session.commit()
        _db.session.remove()

    assert run_job(app, JobSpec("ops.tidy", tidy), now_utc()) is True
    (run,) = _runs(db, "ops.tidy")
    assert run.status == "ok" and run.finished_dt is not None
    assert len(_beats(db)) == 1
