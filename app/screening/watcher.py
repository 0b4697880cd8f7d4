"""Keeps a web worker's screening state fresh off the declarations' path.

A worker keeps the lists' index and every judgement in memory; both change in other
processes (an administrator's load, an analyst's judgement). Every CHECK_SECONDS one daemon
thread per process asks the database whether a list version or a judgement changed
(``service.check_lists``, ``judgements.check``), and starts the re-read itself. Until now the
declaration that came CHECK_SECONDS after the last check paid for those two small queries,
~0.5 ms each at a million entries: at a worker's rate about one screened declaration in a
hundred, which is the p99 of what screening adds to an assessment (issue 20).

The declarations' path still checks for itself where no watcher covers it: a command, a test
app, a worker whose watcher has not checked for STALE_CHECKS periods (its database
unreachable, say). A watcher that keeps failing logs it once, and once again when it
recovers; it never stops trying.
"""

import logging
import os
import threading
import time

log = logging.getLogger("tollgate.screening")

#: periods without a successful check after which the declarations' path checks again
STALE_CHECKS = 3

_state = {"pid": None, "thread": None, "last_ok": float("-inf"), "failing": False, "stop": None}
_lock = threading.Lock()


def _period() -> float:
    from app.screening.service import CHECK_SECONDS

    return CHECK_SECONDS


def covers() -> bool:
    """Whether this process's watcher checked lately (so a declaration need not)."""
    thread = _state["thread"]
    return (
        thread is not None
        and _state["pid"] == os.getpid()
        and thread.is_alive()
        and time.monotonic() - _state["last_ok"] < STALE_CHECKS * _period()
    )


def start(app) -> None:
    """Start this process's watcher (once; again after a fork, whose child has no thread)."""
    if app.testing or _period() <= 0:
        return
    with _lock:
        thread = _state["thread"]
        if thread is not None and _state["pid"] == os.getpid() and thread.is_alive():
            return
        stop = threading.Event()
        _state.update(pid=os.getpid(), last_ok=float("-inf"), failing=False, stop=stop)
        thread = threading.Thread(
            target=_run, args=(app, stop), name="screening-watcher", daemon=True
        )
        _state["thread"] = thread
        thread.start()


def check_once(app) -> bool:
    """One round of checks, in an app context of its own; True when it succeeded."""
    from app.extensions import db
    from app.screening import judgements, service

    try:
        with app.app_context():
            try:
                service.check_lists()
                judgements.check()
            finally:
                db.session.remove()
    except Exception:
        if not _state["failing"]:
            log.exception(
                "the screening watcher's check failed; declarations check the lists and "
                "judgements themselves until it succeeds again (this is logged once)"
            )
        _state["failing"] = True
        return False
    if _state["failing"]:
        log.warning("the screening watcher's check succeeds again")
    _state["failing"] = False
    _state["last_ok"] = time.monotonic()
    return True


def stop() -> None:
    """Stop this process's watcher and wait for it (a test's app goes away)."""
    with _lock:
        thread, event = _state["thread"], _state["stop"]
        _state.update(thread=None, stop=None, last_ok=float("-inf"))
    if event is not None:
        event.set()
    if thread is not None and thread.is_alive():
        thread.join(timeout=10)


def _run(app, stop: threading.Event) -> None:
    while not stop.is_set():
        check_once(app)
        stop.wait(_period())
