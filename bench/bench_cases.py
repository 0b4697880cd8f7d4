"""Case list latency at scale: the list page and the JSON API with 100,000 cases.

    .venv/bin/python bench/bench_cases.py [--cases 100000] [--repeat 30] [--json]
        [--database-url postgresql+psycopg://postgres@127.0.0.1:5432/bench]

Builds a fresh database (SQLite in a temporary folder unless --database-url names an empty
PostgreSQL database), bulk-loads the cases (two units, a quarter handling code C of the other
unit, so need-to-know filtering does real work), then times real HTTP requests through the
Flask test client, session and token included. Prints median and p95 per scenario.
"""

import argparse
import json
import random
import secrets
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import insert  # noqa: E402

from app import create_app  # noqa: E402
from app.cases import catalog  # noqa: E402
from app.cases.models import Case  # noqa: E402
from app.extensions import db  # noqa: E402
from app.security import service as security  # noqa: E402
from app.security.access import Actor  # noqa: E402
from app.security.models import Unit, User  # noqa: E402

SCENARIOS = [
    ("list page 1 (all cases)", "html", "/cases/"),
    ("seizures, area=tobacco", "html", "/cases/seizures?area=tobacco"),
    (
        "status + period filter",
        "html",
        "/cases/?status=investigation&since=2025-01-01&until=2025-06-30",
    ),
    ("sort by value", "html", "/cases/?sort=value"),
    ("deep page (page 1000)", "html", "/cases/?page=1000"),
    ("place prefix + assignee", "html", "/cases/?place=BCP%20M&assignee=me"),
    ("API list page 1", "api", "/api/v1/cases"),
    (
        "API filtered (kind, area, period)",
        "api",
        "/api/v1/cases?kind=seizure&area=drugs&since=2024-06-01&until=2025-05-31",
    ),
    ("case page (detail)", "detail", None),
]


def load(n_cases: int, rng: random.Random):
    unit_a = Unit(code="BCP-M", name="BCP Merdare", kind="border")
    unit_b = Unit(code="PORT-S", name="Southern port", kind="border")
    db.session.add_all([unit_a, unit_b])
    db.session.flush()
    user = User(
        username="bench",
        full_name="Bench Officer",
        unit=unit_a,
        password_hash=security.hash_password("bench-password-123"),
    )
    user.set_roles(["supervisor"])
    db.session.add(user)
    db.session.flush()
    kinds = ["seizure"] * 7 + ["offence", "audit", "investigation"]
    areas = list(catalog.COMMODITY_AREAS)
    statuses = list(catalog.STATUSES)
    places = [
        "BCP Merdare",
        "BCP Jarinje",
        "BCP Vërmica",
        "Prishtina Airport",
        "BCP Hani i Elezit",
        "Customs office Prizren",
    ]
    start = datetime(2023, 1, 1, tzinfo=UTC)
    rows = []
    for i in range(n_cases):
        own = rng.random() < 0.75
        unit = unit_a if own else unit_b
        kind = rng.choice(kinds)
        event = start + timedelta(minutes=rng.randint(0, 3 * 365 * 24 * 60))
        rows.append(
            {
                "reference": f"{unit.code}/{event.year}/{i + 1:06d}",
                "kind": kind,
                "title": f"Bench case {i}",
                "status": rng.choice(statuses),
                "priority": rng.randint(1, 4),
                "unit_id": unit.id,
                "handling_code": "P" if own or rng.random() < 0.5 else "C",
                "assignee_id": user.id if own and rng.random() < 0.2 else None,
                "created_by_name": "bench",
                "opened_dt": event,
                "updated_dt": event,
                "event_dt": event,
                "place": rng.choice(places) if kind != "audit" else None,
                "commodity_area": rng.choice(areas) if kind == "seizure" else None,
                "total_value": Decimal(rng.randint(100, 500000)) if kind == "seizure" else None,
                "template": kind,
            }
        )
        if len(rows) == 10_000:
            db.session.execute(insert(Case), rows)
            rows = []
    if rows:
        db.session.execute(insert(Case), rows)
    db.session.commit()
    return user


def _keyset_scenarios(user):
    """Page 1,000 by cursor (issue 22): the link the list's 'Next' carries from page 999,
    made from the last case of page 999 as the officer sees it."""
    from app.cases import queries
    from app.core.pagination import encode_cursor

    actor = Actor.for_user(user)
    stmt = queries.case_query(actor, {})
    last = db.session.scalars(stmt.limit(1).offset(999 * 50 - 1)).first()
    if last is None:
        return []
    cursor = encode_cursor(1000, [last.event_dt, last.id])
    return [
        ("deep page (page 1000, by cursor)", "html", f"/cases/?after={cursor}"),
        ("API deep page (page 1000, by cursor)", "api", f"/api/v1/cases?after={cursor}"),
    ]


def measure(client, url, repeat, headers=None):
    client.get(url, headers=headers)  # warm caches and the query plan
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        resp = client.get(url, headers=headers)
        times.append((time.perf_counter() - t0) * 1000)
        if resp.status_code != 200:
            raise SystemExit(f"{url}: HTTP {resp.status_code}: {resp.get_data(as_text=True)[:300]}")
    times.sort()
    return {
        "median_ms": round(statistics.median(times), 1),
        "p95_ms": round(times[max(0, int(len(times) * 0.95) - 1)], 1),
        "max_ms": round(times[-1], 1),
    }


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cases", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=30)
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--json", action="store_true", help="print JSON only")
    args = parser.parse_args(argv)
    rng = random.Random(7)  # noqa: S311 - benchmark data, not security
    tmp = Path(tempfile.mkdtemp(prefix="tollgate-bench-cases-"))
    url = args.database_url or f"sqlite:///{tmp / 'bench.db'}"
    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": url,
            "INSTANCE_PATH": str(tmp),
            "SECRET_KEY": secrets.token_hex(16),
            "TOLLGATE_FAST_HASH": True,
            "SESSION_COOKIE_SECURE": False,
        }
    )
    results = {}
    with app.app_context():
        db.create_all()
        t0 = time.perf_counter()
        user = load(args.cases, rng)
        # Planner statistics, as the worker's nightly job keeps them (PostgreSQL: autovacuum).
        db.session.execute(db.text("ANALYZE case_file"))
        db.session.commit()
        load_s = time.perf_counter() - t0
        client_row, token = security.create_api_client(
            "bench", user.unit, ["cases:read"], actor=Actor.system("bench")
        )
        sid = security.start_session(user, "127.0.0.1")
        db.session.commit()
        first_case = db.session.scalar(
            db.select(Case.id).where(Case.unit_id == user.unit_id).limit(1)
        )
        web = app.test_client()
        with web.session_transaction() as sess:
            sess["sid"] = sid
        api = app.test_client()
        scenarios = SCENARIOS + _keyset_scenarios(user)
        for label, kind, path in scenarios:
            if kind == "api":
                results[label] = measure(
                    api, path, args.repeat, {"Authorization": f"Bearer {token}"}
                )
            elif kind == "detail":
                results[label] = measure(web, f"/cases/{first_case}", args.repeat)
            else:
                results[label] = measure(web, path, args.repeat)
        backend = db.engine.dialect.name
        db.session.remove()
        db.engine.dispose()
    report = {
        "cases": args.cases,
        "backend": backend,
        "repeat": args.repeat,
        "load_seconds": round(load_s, 1),
        "scenarios": results,
    }
    if args.json:
        print(json.dumps(report, indent=2))
        return
    print(
        f"Case lists with {args.cases:,} cases on {backend} "
        f"(loaded in {load_s:.1f} s; {args.repeat} requests each, after one warm-up)"
    )
    print(f"{'scenario':40} {'median ms':>10} {'p95 ms':>10} {'max ms':>10}")
    for label, r in results.items():
        print(f"{label:40} {r['median_ms']:>10} {r['p95_ms']:>10} {r['max_ms']:>10}")


if __name__ == "__main__":
    main()
