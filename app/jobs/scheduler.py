"""The scheduler process. Exactly one runs: it holds a PostgreSQL advisory lock (or, on
SQLite, an exclusive lock on a file) for its whole life; a second worker waits for it.

APScheduler's job store is in memory on purpose: a job store cannot be shared between
processes, and the lock makes sure there is only one. Each trigger is claimed once in
``job_run`` under its scheduled fire time, so a trigger runs exactly once even if something
tried to run it twice, and a run interrupted by a crash is finished by the next worker.
"""

import fcntl
import logging
import os
import signal
import time
from contextlib import contextmanager
from datetime import UTC, datetime

from apscheduler.executors.base import run_job as apscheduler_run_job
from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.blocking import BlockingScheduler
from flask import g
from sqlalchemy import inspect, select, text
from sqlalchemy.exc import IntegrityError

from app.config import env_setting
from app.core.time import now_utc
from app.extensions import db
from app.jobs.models import JobRun
from app.jobs.registry import registered_jobs
from app.jobs.testing import crash_point, interval_overrides

log = logging.getLogger("tollgate.worker")
_PG_WORKER_LOCK = 72_616_901


@contextmanager
def leadership(app, poll_seconds: float = 2.0):
    """Block until this process is the only scheduler; hold that until the block exits."""
    engine = db.engine
    if engine.dialect.name == "postgresql":
        conn = engine.connect()
        try:
            announced = False
            while not conn.execute(
                text("SELECT pg_try_advisory_lock(:k)"), {"k": _PG_WORKER_LOCK}
            ).scalar():
                conn.commit()
                if not announced:
                    log.info("another worker holds the scheduler lock; waiting")
                    announced = True
                time.sleep(poll_seconds)
            conn.commit()
            yield
        finally:
            conn.close()  # closing the session releases the advisory lock
    else:
        path = app.config["TOLLGATE_WORKER_LOCK"]
        fh = open(path, "a+")  # noqa: SIM115 - held for the life of the process
        try:
            announced = False
            while True:
                try:
                    fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if not announced:
                        log.info("another worker holds %s; waiting", path)
                        announced = True
                    time.sleep(poll_seconds)
            fh.seek(0)
            fh.truncate()
            fh.write(str(os.getpid()))
            fh.flush()
            yield
        finally:
            fh.close()


def current_run() -> JobRun | None:
    """The ``JobRun`` of the job running in this app context (its trigger time and attempt)."""
    return g.get("tollgate_job_run")


def _normalise(scheduled_dt: datetime | None) -> datetime:
    return (scheduled_dt or now_utc()).astimezone(UTC).replace(microsecond=0)


def _execute(app, spec, run: JobRun) -> None:
    """Run ``spec`` for the claimed ``run``; its status lands in the job's last transaction.

    A job that leaves its work to this final commit (it only flushes) is crash-safe: its
    work and the run's "ok" commit together, so a run still marked "running" after a crash
    has no committed work and is finished once by the next worker (``resume_interrupted``).
    Jobs that commit along the way must be idempotent over what they already did.
    """
    g.tollgate_job_run = run
    run_id = run.id
    try:
        spec.func()
        # Crash tests stop here: what the job committed itself is in, its run is not "ok".
        crash_point("jobs.finished", job=spec.id)
        # The same object unless the job ended its session; then a fresh copy of the row.
        run = db.session.get(JobRun, run_id)
        run.status = "ok"
        run.error = None
        run.finished_dt = now_utc()
        db.session.commit()
    except Exception as exc:
        db.session.rollback()
        log.exception("job %s failed", spec.id)
        run = db.session.get(JobRun, run_id)
        run.status = "failed"
        run.error = f"{type(exc).__name__}: {exc}"[:2000]
        run.finished_dt = now_utc()
        db.session.commit()
    finally:
        g.pop("tollgate_job_run", None)


def run_job(app, spec, scheduled_dt: datetime | None = None) -> bool:
    """Run one trigger of ``spec`` once; returns False if that trigger was already claimed."""
    scheduled_dt = _normalise(scheduled_dt)
    with app.app_context():
        run = JobRun(
            job_id=spec.id, scheduled_dt=scheduled_dt, started_dt=now_utc(), pid=os.getpid()
        )
        db.session.add(run)
        try:
            # The claim commits on its own: (job_id, scheduled_dt) is unique, so no other
            # process (or a confused scheduler) can run the same trigger again.
            db.session.commit()
        except IntegrityError:
            db.session.rollback()
            log.warning("job %s at %s already ran; skipped", spec.id, scheduled_dt)
            return False
        try:
            _execute(app, spec, run)
        finally:
            db.session.remove()
        return True


def resume_interrupted(app) -> int:
    """Finish the runs a killed worker left "running" (called once leadership is held).

    Only the leader runs jobs, so every "running" row belongs to a dead process.
    """
    specs = {s.id: s for s in registered_jobs(app)}
    resumed = 0
    with app.app_context():
        if not inspect(db.engine).has_table(JobRun.__tablename__):
            log.warning("the database has no job_run table yet; run `tollgate init`")
            return 0
        stale = db.session.scalars(
            select(JobRun).where(JobRun.status == "running").order_by(JobRun.scheduled_dt)
        ).all()
        for run in stale:
            spec = specs.get(run.job_id)
            if spec is None:
                run.status = "abandoned"
                run.finished_dt = now_utc()
                run.error = "interrupted; the job is no longer registered"
                db.session.commit()
                continue
            log.warning(
                "job %s at %s was interrupted (pid %s); finishing it",
                run.job_id,
                run.scheduled_dt,
                run.pid,
            )
            run.attempts = (run.attempts or 1) + 1
            run.pid = os.getpid()
            run.started_dt = now_utc()
            db.session.commit()
            _execute(app, spec, run)
            resumed += 1
        db.session.remove()
    return resumed


class TriggerTimeExecutor(ThreadPoolExecutor):
    """A thread pool that hands each run its scheduled fire time.

    APScheduler calls ``job.func()`` without the time it was due; the claim in ``job_run``
    needs exactly that time (two runs of one trigger share it; two triggers never do).
    """

    def _do_submit_job(self, job, run_times):
        def run_each():
            events = []
            for run_time in run_times:
                fire = _Fire(job, run_time)
                events.extend(
                    apscheduler_run_job(fire, job._jobstore_alias, [run_time], self._logger.name)
                )
            return events

        def callback(future):
            exc = future.exception()
            if exc:
                self._run_job_error(job.id, exc, exc.__traceback__)
            else:
                self._run_job_success(job.id, future.result())

        self._pool.submit(run_each).add_done_callback(callback)


class _Fire:
    """The attributes of an APScheduler job that its ``run_job`` reads, for one fire time."""

    def __init__(self, job, run_time):
        self.id = job.id
        self.func = job.func
        self.args = job.args
        self.kwargs = {**job.kwargs, "scheduled_dt": run_time}
        self.misfire_grace_time = job.misfire_grace_time
        self._label = str(job)

    def __str__(self):
        return self._label


def build_scheduler(app) -> BlockingScheduler:
    scheduler = BlockingScheduler(
        timezone=UTC,
        executors={"default": TriggerTimeExecutor(max_workers=4)},
        job_defaults={
            # Missed fire times collapse into one run; a running job is never started twice.
            "coalesce": True,
            "max_instances": 1,
            "misfire_grace_time": 300,
        },
    )
    only = {j.strip() for j in env_setting("WORKER_JOBS").split(",") if j.strip()}
    intervals = interval_overrides(app)  # test mode only: a nightly job every few seconds
    for spec in registered_jobs(app):
        if only and spec.id not in only:
            continue  # TOLLGATE_WORKER_JOBS: tests and the soak run a chosen subset
        trigger, trigger_args = spec.trigger, spec.trigger_args
        if spec.id in intervals:
            trigger, trigger_args = "interval", {"seconds": intervals[spec.id]}

        def _runner(spec=spec, scheduled_dt=None):
            run_job(app, spec, scheduled_dt)

        scheduler.add_job(
            _runner, trigger, id=spec.id, name=spec.description or spec.id, **trigger_args
        )
    return scheduler


def run_worker(app) -> None:
    """Entry point of ``tollgate worker``. SIGTERM lets running jobs finish, then exits."""

    def _stop(*_):
        raise SystemExit(0)

    signal.signal(signal.SIGTERM, _stop)
    with leadership(app):
        resumed = resume_interrupted(app)
        if resumed:
            log.info("finished %d interrupted job runs", resumed)
        scheduler = build_scheduler(app)
        log.info("scheduler running %d jobs (pid %d)", len(scheduler.get_jobs()), os.getpid())
        try:
            scheduler.start()
        except (KeyboardInterrupt, SystemExit):
            log.info("scheduler stopping; waiting for running jobs")
            if scheduler.running:
                scheduler.shutdown(wait=True)
