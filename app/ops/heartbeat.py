"""The heartbeat job: one row per trigger, written with the trigger's job_run status.

Registered only when ``TOLLGATE_TEST_JOBS`` is set (exactly-once and crash tests, the soak):
``TOLLGATE_TEST_JOB_SECONDS`` is its interval and ``TOLLGATE_TEST_JOB_SLEEP`` how long each run
takes, so a test can kill the worker in the middle of one.
"""

import os
import time

from app.config import env_setting
from app.core.time import now_utc
from app.extensions import db
from app.jobs.scheduler import current_run
from app.ops.models import SchedulerHeartbeat

JOB_ID = "ops.heartbeat"


def beat() -> None:
    """Insert this trigger's heartbeat; it commits together with the run's "ok" status."""
    run = current_run()
    scheduled = run.scheduled_dt if run is not None else now_utc().replace(microsecond=0)
    db.session.add(
        SchedulerHeartbeat(
            scheduled_dt=scheduled,
            pid=os.getpid(),
            attempt=run.attempts if run is not None else 1,
        )
    )
    db.session.flush()
    pause = float(env_setting("TEST_JOB_SLEEP") or 0)
    if pause:
        time.sleep(pause)  # the window in which a crash test kills the worker


def register(app) -> None:
    from app.jobs.registry import JobSpec, add_job

    seconds = float(app.config["TOLLGATE_TEST_JOB_SECONDS"])
    add_job(
        app,
        JobSpec(JOB_ID, beat, "interval", {"seconds": seconds}, "Scheduler heartbeat (tests)"),
    )
