"""The tollgate command group: users, clients, demo data, worker lock."""

import os
import subprocess
import sys
import time
from pathlib import Path

from sqlalchemy import select

from app.security.models import ApiClient, User

ROOT = Path(__file__).resolve().parent.parent


def test_users_create_list_roles_unlock(runner, make, db):
    unit = make.unit(code="BCP-X")
    db.session.commit()
    result = runner.invoke(
        args=[
            "users",
            "create",
            "Ivana",
            "--name",
            "Ivana P",
            "--unit",
            "bcp-x",
            "--role",
            "supervisor",
        ],
        input="a long enough pw\na long enough pw\n",
    )
    assert result.exit_code == 0, result.output
    user = db.session.scalar(select(User).where(User.username == "ivana"))
    assert user.roles == ["supervisor"] and user.unit_id == unit.id
    assert user.password_hash.startswith("$argon2id$")

    result = runner.invoke(
        args=["users", "set-roles", "ivana", "--role", "risk_analyst", "--role", "supervisor"]
    )
    assert result.exit_code == 0, result.output
    db.session.refresh(user)
    assert user.roles == ["risk_analyst", "supervisor"]

    listed = runner.invoke(args=["users", "list"])
    assert "ivana" in listed.output and "risk_analyst,supervisor" in listed.output


def test_users_create_rejects_short_password_and_unknown_unit(runner, make, db):
    make.unit(code="BCP-Y")
    db.session.commit()
    short = runner.invoke(
        args=["users", "create", "bob", "--name", "Bob", "--unit", "BCP-Y", "--role", "supervisor"],
        input="short\nshort\n",
    )
    assert short.exit_code != 0
    assert "at least 12 characters" in short.output
    nounit = runner.invoke(
        args=["users", "create", "bob", "--name", "Bob", "--unit", "NOPE", "--role", "supervisor"],
        input="a long enough pw\na long enough pw\n",
    )
    assert nounit.exit_code != 0
    assert "no unit with code NOPE" in nounit.output
    assert db.session.scalar(select(User).where(User.username == "bob")) is None


def test_clients_token_shown_once_and_stored_hashed(runner, make, db, client):
    make.unit(code="CDPS")
    db.session.commit()
    result = runner.invoke(
        args=["clients", "create", "ASYCUDA", "--unit", "CDPS", "--scope", "declarations:write"]
    )
    assert result.exit_code == 0, result.output
    token = result.output.strip().splitlines()[-1]
    assert token.startswith("tg_")
    row = db.session.scalar(select(ApiClient))
    assert token.split("_", 2)[2] not in (row.token_hash, row.token_prefix)
    revoke = runner.invoke(args=["clients", "revoke", str(row.id)])
    assert revoke.exit_code == 0
    db.session.refresh(row)
    assert row.revoked_dt is not None


def test_demo_load_is_idempotent(runner, db):
    first = runner.invoke(args=["demo", "load", "--small"])
    assert first.exit_code == 0, first.output
    users_after_first = db.session.scalar(select(User.id).order_by(User.id.desc()))
    count = len(db.session.scalars(select(User)).all())
    second = runner.invoke(args=["demo", "load", "--small"])
    assert second.exit_code == 0, second.output
    assert len(db.session.scalars(select(User)).all()) == count
    assert db.session.scalar(select(User.id).order_by(User.id.desc())) == users_after_first
    assert "supervisor-Tollgate-26" in first.output


def test_second_worker_waits_for_the_first(tmp_path):
    """Two `tollgate worker` processes: only one holds the scheduler lock."""
    env = {
        **os.environ,
        "TOLLGATE_DATABASE_URL": f"sqlite:///{tmp_path / 'w.db'}",
        "TOLLGATE_SECRET_KEY": "x",
        "PYTHONUNBUFFERED": "1",
    }
    if os.environ.get("TOLLGATE_TEST_DB") == "postgres":
        env["TOLLGATE_DATABASE_URL"] = os.environ["TOLLGATE_TEST_POSTGRES_URL"].replace(
            "postgresql://", "postgresql+psycopg://", 1
        )
    cmd = [sys.executable, "-m", "app.cli", "worker"]
    lock = tmp_path / "worker.lock"
    env["TOLLGATE_WORKER_LOCK"] = str(lock)
    first = subprocess.Popen(
        cmd, env=env, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    try:
        _wait_for_line(first, "scheduler running")
        second = subprocess.Popen(
            cmd, env=env, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
        )
        try:
            _wait_for_line(second, "waiting")
            time.sleep(1)
            assert second.poll() is None  # still waiting, not running jobs
            first.terminate()
            first.wait(timeout=20)
            _wait_for_line(second, "scheduler running")
        finally:
            second.terminate()
            second.wait(timeout=20)
            second.stdout.close()
    finally:
        if first.poll() is None:
            first.kill()
            first.wait(timeout=20)
        first.stdout.close()


def _wait_for_line(proc, needle, timeout=60):
    deadline = time.monotonic() + timeout
    seen = []
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            if proc.poll() is not None:
                break
            continue
        seen.append(line)
        if needle in line:
            return
    raise AssertionError(f"{needle!r} not printed; output: {''.join(seen)[-2000:]}")
