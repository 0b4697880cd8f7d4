"""Start real ``tollgate worker`` processes against the test database."""

import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent


def worker_env(app, tmp_path, **extra) -> dict:
    env = {
        **os.environ,
        "TOLLGATE_DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
        "TOLLGATE_SECRET_KEY": "worker-test",
        "TOLLGATE_EVIDENCE_DIR": str(tmp_path / "evidence"),
        "TOLLGATE_SEARCH_DIR": str(tmp_path / "search"),
        "TOLLGATE_WORKER_LOCK": str(tmp_path / "worker.lock"),
        "TOLLGATE_TEST_JOBS": "1",
        "TOLLGATE_WORKER_JOBS": "ops.heartbeat",
        "PYTHONUNBUFFERED": "1",
    }
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
    return proc


def stop(proc, sig=None) -> None:
    if proc.poll() is None:
        if sig is None:
            proc.terminate()
        else:
            proc.send_signal(sig)
    proc.wait(timeout=30)
    proc.log.close()


def wait_until(predicate, timeout=60.0, interval=0.1, what="condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out waiting for {what}")
