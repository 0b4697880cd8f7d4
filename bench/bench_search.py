"""Search at national scale: 100,000 entities, 300,000 links and 100,000 cases, Whoosh on
SQLite beside PostgreSQL full-text on PostgreSQL.

    .venv/bin/python bench/bench_search.py [--entities 100000] [--links 300000]
        [--cases 100000] [--repeat 200] [--json]
        [--postgres-url postgresql://postgres@127.0.0.1:5432/postgres] [--skip-sqlite]

Builds a fresh SQLite database (and, with --postgres-url, a temporary database on that
server, dropped at the end), bulk-loads the network of ``bench_intel.py`` and the cases
(SQLAlchemy Core inserts: seizures with goods, places, containers; a tenth handling code C
of the other unit so need-to-know filtering does real work), rebuilds the index with
``tollgate search reindex``'s service (timed), then times ``search.search`` as a page calls
it (access filter, hits, trail row) for exact names, identifiers typed with spaces and
dashes, misspelled names and misspelled commodities and places. Beside each platform figure
it prints the backend's own query time (``backend.query`` alone), so the platform's
overhead is visible. Median and p95 per scenario; never asserts a time.
"""

import argparse
import json
import os
import random
import resource
import statistics
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_intel import _typo, build_rows, load  # noqa: E402
from sqlalchemy import create_engine, insert, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402
from stdnum.iso6346 import calc_check_digit  # noqa: E402

from app import create_app  # noqa: E402
from app.cases.models import Case, SeizureItem  # noqa: E402
from app.extensions import db  # noqa: E402
from app.search import service as search  # noqa: E402
from app.security.models import Unit  # noqa: E402

GOODS = [
    ("drugs", "Heroin", "293911"),
    ("drugs", "Cocaine", "293979"),
    ("drugs", "Cannabis herbal", "121190"),
    ("drugs", "Tramadol tablets", "300490"),
    ("drugs", "Amphetamine powder", "293990"),
    ("tobacco", "Cigarettes", "240220"),
    ("tobacco", "Water pipe tobacco", "240311"),
    ("alcohol", "Whisky bottles", "220830"),
    ("ipr", "Counterfeit shoes", "640411"),
    ("ipr", "Counterfeit perfume", "330300"),
    ("ipr", "Counterfeit watches", "910211"),
    ("weapons", "Pistol ammunition", "930630"),
    ("currency", "Euro banknotes", "490700"),
    ("cites", "Ivory carvings", "960110"),
    ("other", "Diesel fuel", "271019"),
    ("other", "Mobile phones", "851713"),
]
PLACES = [
    "BCP Merdare",
    "BCP Jarinje",
    "BCP Vermica",
    "Prishtina Airport",
    "BCP Hani i Elezit",
    "Customs office Prizren",
    "BCP Kulla",
    "BCP Dheu i Bardhe",
]
HIDING = ["fuel tank", "false floor", "spare tyre", "roof lining", "parcels", "luggage"]
VEHICLES = ["truck", "van", "car", "bus", "container"]


def container_number(i: int) -> str:
    owner = "MSCU" if i % 2 else "TGHU"
    serial = f"{owner}{i % 1_000_000:06d}"
    return serial + str(calc_check_digit(serial))


def load_cases(n_cases: int, seed: int) -> list[dict]:
    """Seizures bulk-inserted with Core; returns what the scenarios look up."""
    rng = random.Random(seed + 3)  # noqa: S311 - benchmark data
    units = db.session.scalars(db.select(Unit).order_by(Unit.id)).all()
    start = datetime(2023, 1, 1, tzinfo=UTC)
    cases, items, out = [], [], []
    for i in range(n_cases):
        area, goods, hs = rng.choice(GOODS)
        place = rng.choice(PLACES)
        vehicle = rng.choice(VEHICLES)
        hidden = rng.random() < 0.1
        event = start + timedelta(minutes=rng.randint(0, 3 * 365 * 24 * 60))
        container = container_number(i) if vehicle == "container" else None
        cases.append(
            {
                "id": i + 1,
                "reference": f"BCP-M/{event.year}/{i + 1:06d}",
                "kind": "seizure",
                "title": f"{goods} in a {vehicle} at {place}",
                "summary": f"{goods} found in the {rng.choice(HIDING)} during a control",
                "status": "open",
                "priority": 2,
                "unit_id": units[1 if hidden else 0].id,
                "handling_code": "C" if hidden else "P",
                "created_by_name": "bench",
                "opened_dt": event,
                "updated_dt": event,
                "event_dt": event,
                "place": place,
                "conveyance": container or f"{vehicle.title()} {rng.randint(10, 99)}-{i:06d}",
                "commodity_area": area,
                "total_value": Decimal(rng.randint(100, 500000)),
                "template": "seizure",
            }
        )
        items.append(
            {
                "case_id": i + 1,
                "position": 1,
                "commodity_area": area,
                "hs_code": hs,
                "description": f"{goods}, {rng.randint(1, 400)} packages",
                "quantity": Decimal(rng.randint(1, 5000)),
                "quantity_unit": "kg",
                "value": Decimal(rng.randint(100, 500000)),
                "created_dt": event,
            }
        )
        out.append({"goods": goods, "place": place, "container": container})
        if len(cases) == 5000:
            db.session.execute(insert(Case), cases)
            db.session.execute(insert(SeizureItem), items)
            db.session.commit()
            cases, items = [], []
    if cases:
        db.session.execute(insert(Case), cases)
        db.session.execute(insert(SeizureItem), items)
    db.session.commit()
    return out


def _spaced(identifier: str) -> str:
    """How an officer types it: MSCU1234566 -> "MSCU 123456-6", XK0000012345 -> "XK 00000 12345"."""
    if len(identifier) == 11 and identifier[:4].isalpha():
        return f"{identifier[:4]} {identifier[4:10]}-{identifier[10]}"
    head, tail = identifier[: len(identifier) // 2], identifier[len(identifier) // 2 :]
    return f"{head} {tail}"


def _cpu_s() -> float:
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def _p95(samples):
    return samples[max(0, int(len(samples) * 0.95) - 1)]


def timed(fn, repeat):
    """Wall and CPU (this thread's: on PostgreSQL the server's work is in wall only)."""
    samples, cpu = [], []
    for i in range(repeat):
        started, thread = time.perf_counter(), time.thread_time()
        fn(i)
        samples.append((time.perf_counter() - started) * 1000)
        cpu.append((time.thread_time() - thread) * 1000)
        db.session.rollback()  # drop the trail rows: each call stands alone
    samples.sort()
    cpu.sort()
    return {
        "median_ms": round(statistics.median(samples), 2),
        "p95_ms": round(_p95(samples), 2),
        "cpu_median_ms": round(statistics.median(cpu), 2),
        "cpu_p95_ms": round(_p95(cpu), 2),
        "load": round(os.getloadavg()[0], 1),
    }


def scenarios(rng, entities, cases, repeat):
    """name -> list of ``repeat`` query strings."""
    n = len(entities)
    picks = [rng.randrange(n) for _ in range(repeat)]
    with_ids = [i for i in range(n) if entities[i][2]]
    id_picks = [rng.choice(with_ids) for _ in range(repeat)]
    containers = [c["container"] for c in cases if c["container"]]
    out = {
        "exact name": [entities[i][1] for i in picks],
        "identifier": [next(iter(entities[i][2].values())) for i in id_picks],
        "identifier typed with spaces": [
            _spaced(rng.choice(containers))
            if k % 2 and containers
            else _spaced(next(iter(entities[i][2].values())).replace("+", ""))
            for k, i in enumerate(id_picks)
        ],
        "misspelled name": [
            " ".join(_typo(rng, w) for w in entities[i][1].split()[:2]) for i in picks
        ],
    }
    words = []
    for _ in range(repeat):
        case = rng.choice(cases)
        goods = case["goods"].split()[-1]
        words.append(f"{_typo(rng, goods)} {_typo(rng, case['place'].split()[-1])}")
    out["misspelled commodity + place"] = words
    return out


def run_backend(label, database_url, entities, links, args):
    instance = tempfile.mkdtemp(prefix="tollgate-bench-search-")
    app = create_app(
        {
            "TESTING": True,
            "INSTANCE_PATH": instance,
            "SECRET_KEY": "bench",
            "SQLALCHEMY_DATABASE_URI": database_url,
            "TOLLGATE_FAST_HASH": True,
            "TOLLGATE_SEARCH_DIR": str(Path(instance) / "search"),
            "SERVER_NAME": None,
        }
    )
    figures = {}
    with app.app_context():
        db.create_all()
        started = time.perf_counter()
        actor = load(entities, links, args.seed)
        cases = load_cases(args.cases, args.seed)
        if db.engine.dialect.name == "postgresql":
            db.session.execute(text("ANALYZE"))
            db.session.commit()
        figures["load_s"] = round(time.perf_counter() - started, 1)
        backend = "postgres" if db.engine.dialect.name == "postgresql" else "whoosh"
        started, cpu = time.perf_counter(), _cpu_s()
        counts = search.reindex(backend)
        figures["reindex_s"] = round(time.perf_counter() - started, 1)
        # CPU of this process and of the writer processes it waited for (Whoosh's procs)
        figures["reindex_cpu_s"] = round(_cpu_s() - cpu, 1)
        figures["indexed"] = sum(counts.values())
        figures["reindex_docs_per_s_wall"] = round(figures["indexed"] / figures["reindex_s"])
        figures["reindex_docs_per_s_cpu"] = round(figures["indexed"] / figures["reindex_cpu_s"])
        figures["reindex_load"] = [round(x, 1) for x in os.getloadavg()]
        engine = search.get_backend(backend)
        types = list(search.search_sources(app))
        rng = random.Random(args.seed + 2)  # noqa: S311 - benchmark data
        found = {}
        for name, queries in scenarios(rng, entities, cases, args.repeat).items():
            search.search(actor, queries[0], backend=backend)  # warm the searcher
            db.session.rollback()
            hits = []

            def platform(i, queries=queries, hits=hits):
                hits.append(search.search(actor, queries[i], backend=backend).total > 0)

            def own(i, queries=queries):
                engine.query(queries[i], types=types, limit=search.MAX_HITS)

            figures[name] = {
                "platform": timed(platform, args.repeat),
                "backend": timed(own, args.repeat),
            }
            found[name] = f"{sum(hits)}/{len(hits)}"
        figures["found"] = found
        db.session.remove()
        db.engine.dispose()
    print(
        f"\n{label}: load {figures['load_s']} s, reindex {figures['reindex_s']} s wall, "
        f"{figures['reindex_cpu_s']} s CPU ({figures['indexed']} documents: "
        f"{figures['reindex_docs_per_s_wall']}/s by wall, {figures['reindex_docs_per_s_cpu']}/s "
        f"by CPU; load average {figures['reindex_load']})"
    )
    print(
        f"  {'scenario':30} {'platform median/p95':>21} {'(CPU)':>17} "
        f"{'backend median/p95':>21} {'(CPU)':>17}  found  load"
    )
    for key, value in figures.items():
        if isinstance(value, dict) and "platform" in value:
            p, b = value["platform"], value["backend"]
            print(
                f"  {key:30} {p['median_ms']:8.2f} /{p['p95_ms']:8.2f} ms "
                f"({p['cpu_median_ms']:6.2f} /{p['cpu_p95_ms']:7.2f}) "
                f"{b['median_ms']:8.2f} /{b['p95_ms']:8.2f} ms "
                f"({b['cpu_median_ms']:6.2f} /{b['cpu_p95_ms']:7.2f})  {found[key]}  {b['load']}"
            )
    return figures


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entities", type=int, default=100_000)
    parser.add_argument("--links", type=int, default=300_000)
    parser.add_argument("--cases", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=200)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--postgres-url",
        default=None,
        help="server URL; a temporary database is created and dropped",
    )
    parser.add_argument("--skip-sqlite", action="store_true")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    entities, links = build_rows(args.entities, args.links, args.seed)
    print(f"{len(entities)} entities, {len(links)} links, {args.cases} cases")
    results = {}
    if not args.skip_sqlite:
        folder = tempfile.mkdtemp(prefix="tollgate-bench-search-db-")
        results["whoosh_sqlite"] = run_backend(
            "Whoosh + SQLite", f"sqlite:///{folder}/bench.db", entities, links, args
        )
    if args.postgres_url:
        server = make_url(args.postgres_url.replace("postgresql://", "postgresql+psycopg://", 1))
        name = f"tollgate_bench_{uuid.uuid4().hex[:8]}"
        admin = create_engine(server, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        try:
            url = server.set(database=name).render_as_string(hide_password=False)
            results["postgres"] = run_backend(
                "PostgreSQL full-text + PostgreSQL", url, entities, links, args
            )
        finally:
            with admin.connect() as conn:
                conn.execute(
                    text(
                        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :n"
                    ),
                    {"n": name},
                )
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
            admin.dispose()
    if args.json:
        print(
            json.dumps(
                {"entities": len(entities), "links": len(links), "cases": args.cases, **results}
            )
        )


if __name__ == "__main__":
    main()
