"""Start real ``tollgate worker`` processes against the test database.

Crash drills (tests/ops/test_job_crash.py) start a scheduler and a standby together: both
import the app at once, one takes the leadership lock, the other waits for it. The job stops
at a crash point (app/jobs/testing.py), the test SIGKILLs the process named in the crash
file, and the standby takes over and finishes the interrupted run.
"""

import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent
#: bytecode of the app and its libraries, kept outside the checkout (see ``bytecode_cache``)
PYCACHE = Path(tempfile.gettempdir()) / f"tollgate-test-pycache-{os.getuid()}"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def healthy(base: str) -> bool:
    """The web application at ``base`` answers its health check."""
    try:
        with urllib.request.urlopen(base + "/healthz", timeout=10) as resp:  # noqa: S310
            return resp.status == 200
    except OSError:
        return False


def bytecode_cache(env: dict) -> dict:
    """Let a child Python process cache bytecode, outside the checkout.

    Under PYTHONDONTWRITEBYTECODE every worker or gunicorn process compiles the app and its
    libraries from source: about 7 s of CPU instead of 2.5 s, which on a loaded machine is
    what made killed processes slow to come back. PYTHONPYCACHEPREFIX keeps the cache in a
    temporary directory (Python writes each file atomically, so processes can share it).
    """
    env = dict(env)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env["PYTHONPYCACHEPREFIX"] = str(PYCACHE)
    return env


def app_env(app, tmp_path) -> dict:
    """Environment of a child process (gunicorn, a worker) serving the test's database."""
    return {
        **bytecode_cache(os.environ),
        "TOLLGATE_DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
        "TOLLGATE_SECRET_KEY": "ops-test",
        "TOLLGATE_EVIDENCE_DIR": str(tmp_path / "evidence"),
        "TOLLGATE_SEARCH_DIR": str(tmp_path / "search"),
    }


def worker_env(app, tmp_path, **extra) -> dict:
    env = {
        **app_env(app, tmp_path),
        "TOLLGATE_WORKER_LOCK": str(tmp_path / "worker.lock"),
        "TOLLGATE_TEST_JOBS": "1",
        "TOLLGATE_WORKER_JOBS": "ops.heartbeat",
        "PYTHONUNBUFFERED": "1",
    }
    # Knobs of a crash drill must not leak in from the environment of the test run.
    for knob in ("CRASH_AT", "CRASH_FILE", "JOB_INTERVALS"):
        env.pop(f"TOLLGATE_TEST_{knob}", None)
    env.update({k: str(v) for k, v in extra.items()})
    return env


def start_worker(env, log_path: Path) -> subprocess.Popen:
    log = open(log_path, "a")  # noqa: SIM115 - closed by stop()
    proc = subprocess.Popen(
        [sys.executable, "-m", "app.cli", "worker"],
        env=env,
        cwd=ROOT,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    proc.log = log
    proc.log_path = Path(log_path)
    return proc


def start_gunicorn(env, port: int, log, workers: int = 1) -> subprocess.Popen:
    """gunicorn as ``tollgate serve`` starts it (app/gunicorn_conf.py), on 127.0.0.1:``port``,
    logging to the open file ``log``."""
    from app.cli import GUNICORN_CONF

    return subprocess.Popen(  # noqa: S603 - the test's own command line
        [sys.executable, "-m", "gunicorn", "--config", GUNICORN_CONF,
         "--workers", str(workers), "--bind", f"127.0.0.1:{port}", "app.wsgi:app"],
        env=env, cwd=ROOT, stdout=log, stderr=log,
    )  # fmt: skip


def stop(proc, sig=None) -> None:
    if proc.poll() is None:
        if sig is None:
            proc.terminate()
        else:
            proc.send_signal(sig)
    try:
        proc.wait(timeout=60)
    except subprocess.TimeoutExpired:
        proc.kill()  # a worker that ignores SIGTERM must not outlive its test
        proc.wait(timeout=30)
        raise
    finally:
        proc.log.close()


def log_text(proc) -> str:
    return proc.log_path.read_text(errors="replace") if proc.log_path.exists() else ""


def logs(procs) -> str:
    """Every worker's log, for assertion messages."""
    return "\n".join(f"--- worker {p.pid} (rc {p.poll()}) ---\n{log_text(p)}" for p in procs)


def wait_until(predicate, timeout=60.0, interval=0.1, what="condition", procs=()):
    """Poll ``predicate`` until it returns something truthy; fail after ``timeout`` seconds,
    or at once when every process in ``procs`` has exited (nothing will change any more)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        if procs and all(p.poll() is not None for p in procs):
            raise AssertionError(f"the workers exited while waiting for {what}\n{logs(procs)}")
        time.sleep(interval)
    detail = f"\n{logs(procs)}" if procs else ""
    raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}{detail}")


def start_pair(env, tmp_path, name="worker") -> list[subprocess.Popen]:
    """A scheduler and its standby; which of the two leads is up to the lock."""
    return [start_worker(env, tmp_path / f"{name}-{n}.log") for n in ("a", "b")]


def crash_knobs(tmp_path, point: str) -> dict:
    """Environment that stops the job at ``point`` ("name" or "name#n"), once."""
    return {
        "TOLLGATE_TEST_CRASH_AT": point,
        "TOLLGATE_TEST_CRASH_FILE": str(tmp_path / "crash-point.json"),
    }


def wait_for_crash_point(tmp_path, procs, timeout=120.0) -> dict:
    """The crash file once a worker stopped at the crash point: pid, point, details.

    The timeout allows for starting the workers on a loaded machine (importing the app
    takes several seconds of CPU each)."""
    path = tmp_path / "crash-point.json"
    wait_until(path.exists, timeout=timeout, interval=0.05, what="the crash point", procs=procs)
    return json.loads(path.read_text())


def kill(procs, pid) -> list[subprocess.Popen]:
    """SIGKILL the worker ``pid``; returns the others."""
    victim = next((p for p in procs if p.pid == pid), None)
    assert victim is not None, f"pid {pid} is none of the workers\n{logs(procs)}"
    stop(victim, signal.SIGKILL)
    return [p for p in procs if p is not victim]


def stop_all(procs) -> None:
    for proc in procs:
        if not proc.log.closed:
            stop(proc)
