"""Two requests changing the same record at the same moment, deterministically: the first
does its work and keeps its transaction open while the second tries, then commits."""

import threading
import time

from app.core.errors import ValidationError
from app.extensions import db as _db


def _attempt(work):
    try:
        work()
        _db.session.flush()
        return "done"
    except ValidationError as exc:
        _db.session.rollback()
        return str(exc)


def race(worker_app, first, second, hold: float = 1.0) -> dict:
    """Run ``first`` and ``second`` (callables, each in its own app context and transaction
    of ``worker_app``); ``second`` starts once ``first`` has done its work but before it
    commits. Returns {"first": ..., "second": ...}: "done" or the ValidationError's text."""
    first_holds, outcome = threading.Event(), {}

    def run_first():
        with worker_app.app_context():
            try:
                outcome["first"] = _attempt(first)
                first_holds.set()
                time.sleep(hold)  # the second request tries while this one is open
                _db.session.commit()
            finally:
                first_holds.set()
                _db.session.remove()

    def run_second():
        first_holds.wait(60)
        with worker_app.app_context():
            try:
                outcome["second"] = _attempt(second)
                _db.session.commit()
            finally:
                _db.session.remove()

    threads = [threading.Thread(target=run_first), threading.Thread(target=run_second)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not any(t.is_alive() for t in threads), "a request of the race never finished"
    return outcome
