"""Sign-in lockout under parallel attempts, and the same work for every refusal (issue 16, 3)."""

import json
import re
import threading
from datetime import timedelta

import argon2
import pytest
from sqlalchemy import select

from app.core.time import as_utc, now_utc
from app.security import service
from app.security.models import User
from app.security.trail import AccessEvent

PASSWORD = "correct horse battery"
ATTEMPTS = 30


def _csrf_token(client) -> str:
    page = client.get("/login").get_data(as_text=True)
    return re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)


def _refusal_page(resp, username: str) -> bytes:
    """The answer without what differs by design: the echoed name and the signed CSRF token."""
    page = re.sub(rb'<meta name="csrf-token" content="[^"]*">', b"", resp.data)
    return page.replace(username.encode(), b"")


def _login_reasons(db) -> list[str]:
    rows = db.session.scalars(select(AccessEvent).where(AccessEvent.action == "login")).all()
    return [json.loads(r.details)["reason"] if r.details else r.outcome for r in rows]


def test_parallel_wrong_passwords_lock_the_account_exactly_at_the_limit(worker_app, make, db):
    """30 browsers (own sessions, own CSRF tokens) send a wrong password at the same moment to
    a web worker's app. Before the fix every request on PostgreSQL read failed_logins=0 and
    wrote 1 back: all 30 answered "wrong password" and the account was never locked."""
    user = make.user()
    db.session.commit()
    limit = worker_app.config["TOLLGATE_MAX_FAILED_LOGINS"]
    clients = [worker_app.test_client() for _ in range(ATTEMPTS)]
    forms = [
        {"username": user.username, "password": "not the password", "csrf_token": _csrf_token(c)}
        for c in clients
    ]
    start = threading.Barrier(ATTEMPTS)
    answers = [None] * ATTEMPTS

    def attempt(i):
        start.wait(30)
        answers[i] = clients[i].post("/login", data=forms[i])

    threads = [threading.Thread(target=attempt, args=(i,)) for i in range(ATTEMPTS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert not any(t.is_alive() for t in threads)

    assert all(a.status_code == 200 and b"Sign-in failed" in a.data for a in answers)
    db.session.rollback()  # see what the worker committed
    locked = db.session.get(User, user.id, populate_existing=True)
    assert as_utc(locked.locked_until_dt) > now_utc()
    reasons = _login_reasons(db)
    assert len(reasons) == ATTEMPTS
    # Exactly `limit` failures were counted, the last of them locked the account, and every
    # other attempt found it locked (and was not counted).
    assert reasons.count("wrong password") == limit - 1
    assert reasons.count("wrong password; account locked") == 1
    assert reasons.count("account locked") == ATTEMPTS - limit
    # After the lockout the account has its full number of attempts again.
    assert locked.failed_logins == 0


class CountingHasher:
    """The real argon2 hasher, recording each verification's cost parameters (and hashes)."""

    def __init__(self, real):
        self.real = real
        self.verified = []
        self.hashed = 0

    def verify(self, password_hash, password):
        # A hash the library cannot read fails here, as in argon2, before any work: not counted.
        params = argon2.extract_parameters(password_hash)
        self.verified.append(
            (params.type, params.time_cost, params.memory_cost, params.parallelism)
        )
        return self.real.verify(password_hash, password)

    def hash(self, password):
        self.hashed += 1
        return self.real.hash(password)

    def check_needs_rehash(self, password_hash):
        return self.real.check_needs_rehash(password_hash)


def test_every_answer_costs_one_password_verification_of_the_same_cost(
    client, make, db, monkeypatch
):
    """Unknown, inactive, locked and wrong-password answers do the work of a right one: one
    argon2 verification at the same parameters. Before the fix a locked account was refused
    without any (5 ms against 250 ms): a timing oracle for "this account exists"."""
    user = make.user()
    inactive = make.user(is_active=False)
    locked = make.user(locked_until_dt=now_utc() + timedelta(minutes=10))
    unusable = make.user()
    unusable.password_hash = "!disabled"  # e.g. imported without a password
    db.session.commit()
    cases = {
        "unknown": ("nobody-by-that-name", PASSWORD),
        "inactive": (inactive.username, PASSWORD),
        "unusable stored hash": (unusable.username, PASSWORD),
        "locked, right password": (locked.username, PASSWORD),
        "locked, wrong password": (locked.username, "not the password"),
        "wrong password": (user.username, "not the password"),
        "right password": (user.username, PASSWORD),
    }
    work, pages, real = {}, set(), service._hasher
    for name, (username, password) in cases.items():
        counting = CountingHasher(real)
        monkeypatch.setattr(service, "_hasher", counting)
        resp = client.post("/login", data={"username": username, "password": password})
        expected = 302 if name == "right password" else 200
        assert resp.status_code == expected, name
        if expected == 200:
            assert b"Sign-in failed" in resp.data, name
            pages.add(_refusal_page(resp, username))
        assert counting.hashed == 0, name
        work[name] = counting.verified
    assert all(len(verified) == 1 for verified in work.values()), {
        k: len(v) for k, v in work.items()
    }
    assert len({verified[0] for verified in work.values()}) == 1, work
    assert len(pages) == 1  # every refusal is the same page


def test_right_password_during_lockout_is_refused_like_a_wrong_one(client, make, db):
    """OWASP: no answer tells a locked account from a wrong password, not even for the right
    password (that would confirm a guess the lockout is there to stop)."""
    locked = make.user(locked_until_dt=now_utc() + timedelta(minutes=10))
    db.session.commit()
    right = client.post("/login", data={"username": locked.username, "password": PASSWORD})
    wrong = client.post("/login", data={"username": locked.username, "password": "nope nope"})
    assert right.status_code == wrong.status_code == 200
    assert _refusal_page(right, locked.username) == _refusal_page(wrong, locked.username)
    db.session.rollback()
    assert db.session.get(User, locked.id, populate_existing=True).last_login_dt is None


def test_success_resets_the_counter_in_the_database(client, make, db):
    user = make.user(failed_logins=3)
    db.session.commit()
    assert (
        client.post("/login", data={"username": user.username, "password": PASSWORD}).status_code
        == 302
    )
    db.session.rollback()
    fresh = db.session.get(User, user.id, populate_existing=True)
    assert fresh.failed_logins == 0
    assert fresh.locked_until_dt is None
    assert fresh.last_login_dt is not None


@pytest.mark.parametrize("failed_before", [0, 3])
def test_failures_count_up_to_the_lock(client, make, db, failed_before):
    user = make.user(failed_logins=failed_before)
    db.session.commit()
    limit = client.application.config["TOLLGATE_MAX_FAILED_LOGINS"]
    for n in range(failed_before + 1, limit):
        client.post("/login", data={"username": user.username, "password": "nope nope"})
        db.session.rollback()
        fresh = db.session.get(User, user.id, populate_existing=True)
        assert (fresh.failed_logins, fresh.locked_until_dt) == (n, None)
    client.post("/login", data={"username": user.username, "password": "nope nope"})
    db.session.rollback()
    fresh = db.session.get(User, user.id, populate_existing=True)
    assert fresh.failed_logins == 0
    assert as_utc(fresh.locked_until_dt) > now_utc()
