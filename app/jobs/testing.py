"""Test knobs of the worker, inert unless the app runs with ``TOLLGATE_TEST_JOBS``.

Crash points are the places a crash test kills a job at, deterministically, instead of
sleeping and hoping the kill lands in the middle. A job calls ``crash_point("name")`` where
an interruption matters (an article flushed but not committed, a message sent but not yet
recorded); normally that is one environment lookup and nothing else.

``TOLLGATE_TEST_CRASH_AT=textmining.article#6`` stops the 6th time this process reaches
``crash_point("textmining.article")`` (``#1`` if no count is given). The first process that
stops there creates ``TOLLGATE_TEST_CRASH_FILE`` - atomically, so it happens once across all
processes and the worker that finishes the interrupted run passes the same point - writes
its pid, the point and the details into it as JSON, and sleeps until the test kills it.

``TOLLGATE_TEST_JOB_INTERVALS=audit-ratings=2,alerts.deliver=1`` runs the named jobs every
so many seconds instead of on their own triggers (a nightly cron job would never fire in a
test); see ``build_scheduler``. Whole seconds: a trigger is claimed under its fire time
truncated to the second.
"""

import json
import logging
import os
import threading
import time
from collections import Counter

from flask import current_app, has_app_context

from app.config import env_setting

log = logging.getLogger("tollgate.worker")

#: how long a process that stopped at a crash point waits for the test to kill it
CRASH_WAIT_SECONDS = 120.0

_reached: Counter = Counter()
_lock = threading.Lock()


def _active() -> bool:
    return has_app_context() and bool(current_app.config.get("TOLLGATE_TEST_JOBS"))


def crash_point(name: str, **details) -> None:
    """Stop here if the test asked to (see the module docstring); otherwise return at once."""
    spec = env_setting("TEST_CRASH_AT")
    if not spec or not _active():
        return
    point, _, nth = spec.partition("#")
    if point.strip() != name:
        return
    with _lock:
        _reached[name] += 1
        count = _reached[name]
    if count != int(nth or 1):
        return
    path = env_setting("TEST_CRASH_FILE")
    if not path:
        raise RuntimeError("TOLLGATE_TEST_CRASH_AT needs TOLLGATE_TEST_CRASH_FILE")
    record = {"pid": os.getpid(), "point": name, "count": count, **details}
    scratch = f"{path}.{os.getpid()}"
    with open(scratch, "w") as fh:
        json.dump(record, fh, default=str)
    try:
        os.link(scratch, path)  # fails if it exists: the crash happens once, complete
    except FileExistsError:
        return
    finally:
        os.unlink(scratch)
    log.warning("crash point %s #%d reached (%s); waiting to be killed", name, count, details)
    time.sleep(CRASH_WAIT_SECONDS)
    log.error("crash point %s: nobody killed this process; carrying on", name)


def interval_overrides(app) -> dict[str, float]:
    """``TOLLGATE_TEST_JOB_INTERVALS`` as {job id: seconds} (empty outside test mode)."""
    raw = env_setting("TEST_JOB_INTERVALS")
    if not raw or not app.config.get("TOLLGATE_TEST_JOBS"):
        return {}
    intervals = {}
    for part in raw.split(","):
        job_id, _, seconds = part.strip().rpartition("=")
        if job_id:
            intervals[job_id] = float(seconds)
    return intervals
