"""Sign-in answer times by outcome: unknown name, locked account, wrong password, right password.

Equal times for the three refusals mean the answer's timing does not tell an attacker which
names exist (issue 16: a locked account answered in 5 ms, an unknown name in 250 ms). Uses
the production argon2id parameters, in-process (Flask test client) against a scratch SQLite
database; also counts the argon2 verifications of each answer.
Usage: python bench/login_timing.py [--json] [--requests N]
"""

import argparse
import json
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from app import create_app  # noqa: E402
from app.extensions import db  # noqa: E402
from app.security import service  # noqa: E402
from app.security.models import Unit, User  # noqa: E402

PASSWORD = "bench password 1"  # noqa: S105 - a scratch database's account


class CountingHasher:
    """The real hasher, counting verifications (the work an answer costs)."""

    def __init__(self, real):
        self.real, self.verifications = real, 0

    def verify(self, password_hash, password):
        self.verifications += 1
        return self.real.verify(password_hash, password)

    def __getattr__(self, name):
        return getattr(self.real, name)


def _user(username, **kw):
    unit = db.session.query(Unit).first()
    user = User(
        username=username,
        full_name=username,
        unit=unit,
        password_hash=service.hash_password(PASSWORD),
        **kw,
    )
    user.set_roles(["enforcement_officer"])
    db.session.add(user)
    return user


def measure(app, username, password, n, expected_status):
    counting = CountingHasher(service._hasher)
    service._hasher = counting
    times = []
    try:
        for _ in range(n):
            client = app.test_client()
            start = time.perf_counter()
            resp = client.post("/login", data={"username": username, "password": password})
            times.append((time.perf_counter() - start) * 1000)
            assert resp.status_code == expected_status, (username, resp.status_code)
    finally:
        service._hasher = counting.real
    return {
        "median_ms": round(statistics.median(times), 1),
        "min_ms": round(min(times), 1),
        "max_ms": round(max(times), 1),
        "verifications_per_answer": counting.verifications / n,
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--requests", type=int, default=20)
    args = parser.parse_args()
    tmp = tempfile.mkdtemp(prefix="tollgate-bench-")
    app = create_app(
        {
            "INSTANCE_PATH": tmp,
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp}/b.db",
            "SECRET_KEY": "bench",
            "TESTING": True,  # the per-address throttle stays off: every answer is measured
            "WTF_CSRF_ENABLED": False,
            # "wrong" must stay a wrong password, never turn into a locked account
            "TOLLGATE_MAX_FAILED_LOGINS": 10**9,
        }
    )
    with app.app_context():
        db.create_all()
        db.session.add(Unit(code="HQ", name="HQ"))
        _user("officer")
        _user("locked", locked_until_dt=datetime.now(UTC) + timedelta(days=1))
        db.session.commit()
        cases = {
            "unknown": ("nobody", PASSWORD, 200),
            "locked": ("locked", PASSWORD, 200),
            "wrong": ("officer", "not the password", 200),
            "right": ("officer", PASSWORD, 302),
        }
        # one warm-up round (imports, first connections) outside the figures
        for username, password, status in cases.values():
            measure(app, username, password, 1, status)
        results = {
            name: measure(app, username, password, args.requests, status)
            for name, (username, password, status) in cases.items()
        }
    if args.json:
        print(json.dumps(results, indent=2))
        return
    print(
        f"{'answer':<8} {'median ms':>10} {'min ms':>8} {'max ms':>8} {'argon2 verifications':>22}"
    )
    for name, r in results.items():
        print(
            f"{name:<8} {r['median_ms']:>10} {r['min_ms']:>8} {r['max_ms']:>8}"
            f" {r['verifications_per_answer']:>22}"
        )


if __name__ == "__main__":
    main()
