"""Page render time: the home page and a list page over 10,000 records (median, p95).

Runs in-process against a scratch SQLite database (or TOLLGATE_BENCH_DATABASE_URL).
Usage: python bench/bench_pages.py [--json] [--requests N]
"""

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from app import create_app  # noqa: E402
from app.extensions import db  # noqa: E402
from app.security import service, trail  # noqa: E402
from app.security.access import Actor  # noqa: E402
from app.security.models import Unit, User  # noqa: E402


def percentile(values, pct):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(pct / 100 * (len(ordered) - 1))))]


def measure(client, url, n):
    times = []
    for _ in range(n):
        start = time.perf_counter()
        resp = client.get(url)
        times.append((time.perf_counter() - start) * 1000)
        assert resp.status_code == 200, (url, resp.status_code)
    return {
        "median_ms": round(statistics.median(times), 2),
        "p95_ms": round(percentile(times, 95), 2),
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--records", type=int, default=10_000)
    args = parser.parse_args()
    tmp = tempfile.mkdtemp(prefix="tollgate-bench-")
    app = create_app(
        {
            "INSTANCE_PATH": tmp,
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp}/b.db",
            "TOLLGATE_FAST_HASH": True,
            "SECRET_KEY": "bench",
        }
    )
    with app.app_context():
        db.create_all()
        unit = Unit(code="HQ", name="HQ")
        user = User(
            username="sup",
            full_name="Bench Supervisor",
            unit=unit,
            password_hash=service.hash_password("bench password 1"),
        )
        user.set_roles(["supervisor"])
        db.session.add_all([unit, user])
        db.session.commit()
        actor = Actor.for_user(user, client_addr="127.0.0.1")
        for i in range(args.records):
            trail.record(actor, "view", "case", i)
        db.session.commit()
        client = app.test_client()
        token = service.start_session(user, "127.0.0.1")
        db.session.commit()
        with client.session_transaction() as sess:
            sess["sid"] = token
        results = {
            "records": args.records,
            "home": measure(client, "/", args.requests),
            "list_page_trail": measure(client, "/trail", args.requests),
            "list_page_trail_filtered": measure(
                client, "/trail?record_type=case&record_id=5000", args.requests
            ),
        }
    if args.json:
        print(json.dumps(results))
    else:
        print(
            f"page render, in-process, SQLite, {args.records:,} trail rows, "
            f"{args.requests} requests each"
        )
        for key in ("home", "list_page_trail", "list_page_trail_filtered"):
            r = results[key]
            print(f"  {key:26} median {r['median_ms']:7.2f} ms   p95 {r['p95_ms']:7.2f} ms")


if __name__ == "__main__":
    main()
