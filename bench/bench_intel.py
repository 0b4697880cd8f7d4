"""Intelligence at scale: search, neighbourhood expansion, shortest path and reindex time,
Whoosh on SQLite beside PostgreSQL full-text on PostgreSQL.

    .venv/bin/python bench/bench_intel.py [--entities 100000] [--links 300000]
        [--repeat 200] [--json]
        [--postgres-url postgresql+psycopg://postgres@127.0.0.1:5432/postgres]

Builds a fresh SQLite database in a temporary folder (and, with --postgres-url, a temporary
database on that server, dropped at the end), bulk-loads the same seeded network into each
(two units, a tenth of the entities handling code C of the other unit so need-to-know
filtering does real work; companies sharing directors, addresses and phones in clusters,
plus random long-range links), rebuilds the search index with ``reindex`` (timed), then
times the services an analyst's page calls: ``search`` (exact and misspelled names,
identifiers), ``graph.expand`` (first 25 neighbours) and ``graph.shortest_path``. Prints
median and p95 per scenario; never asserts a time.
"""

import argparse
import contextlib
import json
import random
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import create_engine, insert, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from app import create_app  # noqa: E402
from app.extensions import db  # noqa: E402
from app.intel import graph  # noqa: E402
from app.intel.fingerprints import blocking_tokens, fingerprint  # noqa: E402
from app.intel.models import Entity, EntityIdentifier, EntityToken, Link  # noqa: E402
from app.search import service as search  # noqa: E402
from app.security import service as security  # noqa: E402
from app.security.access import AccessDenied, Actor  # noqa: E402
from app.security.models import Unit, User  # noqa: E402

FIRST = [
    "Arben",
    "Besnik",
    "Driton",
    "Fatmir",
    "Ilir",
    "Luan",
    "Mentor",
    "Valon",
    "Agim",
    "Ivan",
    "Petar",
    "Milan",
    "Dragan",
    "Goran",
    "Nikola",
    "Ahmet",
    "Mehmet",
    "Elena",
    "Ana",
    "Maria",
    "Vesna",
    "Teuta",
    "Drita",
    "Ardit",
    "Sokol",
    "Genc",
    "Bujar",
]
LAST = [
    "Krasniqi",
    "Gashi",
    "Berisha",
    "Morina",
    "Shala",
    "Hoxha",
    "Kastrati",
    "Bytyqi",
    "Petrovic",
    "Jovanovic",
    "Nikolic",
    "Markovic",
    "Yilmaz",
    "Demir",
    "Kaya",
    "Popov",
    "Ivanov",
    "Georgiev",
    "Rexhepi",
    "Hasani",
    "Osmani",
    "Zeqiri",
    "Selimi",
    "Bajrami",
]
CO_A = [
    "Balkan",
    "Dardania",
    "Adriatic",
    "Euro",
    "Kosova",
    "Illyria",
    "Prishtina",
    "Danube",
    "Vardar",
    "Drini",
    "Sharri",
    "Rugova",
    "Ibar",
    "Morava",
    "Struma",
    "Pelister",
    "Orient",
    "Nova",
    "Meridian",
    "Korab",
    "Ulpiana",
    "Alpha",
    "Delta",
    "Sigma",
    "Atlas",
    "Vega",
]
CO_B = [
    "Trading",
    "Logistics",
    "Freight",
    "Distribution",
    "Commerce",
    "Transport",
    "Supply",
    "Cargo",
    "Foods",
    "Tobacco",
    "Textiles",
    "Metals",
    "Pharma",
    "Electronics",
]
LINK_KINDS = [
    "director_of",
    "registered_at",
    "uses_phone",
    "ships_with",
    "owns",
    "drives",
    "associate_of",
]


def _typo(rng, word):
    if len(word) < 5:
        return word
    i = rng.randrange(1, len(word) - 1)
    return word[:i] + word[i + 1 :]  # one letter dropped


def build_rows(n_entities: int, n_links: int, seed: int):
    """The same seeded network for every backend: entity rows and link pairs."""
    rng = random.Random(seed)  # noqa: S311 - benchmark data
    entities = []
    for i in range(n_entities):
        kind = rng.random()
        if kind < 0.35:
            etype, name = "person", f"{rng.choice(FIRST)} {rng.choice(LAST)} {i}"
            idents = {"passport": f"P{i:08d}"}
        elif kind < 0.65:
            etype = "organisation"
            name = f"{rng.choice(CO_A)} {rng.choice(CO_B)} {i}"
            idents = {"eori": f"XK{i:010d}"}
        elif kind < 0.75:
            etype, name, idents = "address", f"Rr. {rng.choice(LAST)} {i}, Pristina", {}
        elif kind < 0.85:
            etype, name = "phone", f"+38344{i:07d}"
            idents = {"phone": name}
        elif kind < 0.93:
            etype, name = "vehicle", f"Truck {i:06d}"
            idents = {"plate": f"01-{i:06d}"}
        else:
            etype, name, idents = "bank_account", f"Account {i}", {}
        entities.append((etype, name, idents))
    links = set()
    cluster = 40
    while len(links) < n_links:
        a = rng.randrange(n_entities)
        if rng.random() < 0.85:  # mostly inside a cluster: shared directors, phones
            base = (a // cluster) * cluster
            b = base + rng.randrange(cluster)
        else:
            b = rng.randrange(n_entities)
        if a != b and b < n_entities:
            links.add((a, b))
    return entities, sorted(links)


def load(entities, links, seed: int):
    rng = random.Random(seed + 1)  # noqa: S311 - benchmark data
    unit_a = Unit(code="HQ-INT", name="Central Intelligence Unit", kind="intelligence")
    unit_b = Unit(code="BCP-M", name="BCP Merdare", kind="border")
    db.session.add_all([unit_a, unit_b])
    db.session.flush()
    user = User(
        username="bench",
        full_name="Bench Analyst",
        unit=unit_a,
        password_hash=security.hash_password("bench-password-123"),
    )
    user.set_roles(["intelligence_officer"])
    db.session.add(user)
    db.session.commit()
    batch = 5000
    for start in range(0, len(entities), batch):
        rows, idents, tokens = [], [], []
        for i in range(start, min(start + batch, len(entities))):
            etype, name, ids = entities[i]
            hidden = rng.random() < 0.1
            rows.append(
                {
                    "id": i + 1,
                    "entity_type": etype,
                    "name": name,
                    "aliases": [],
                    "identifiers": ids,
                    "attributes": {},
                    "roles": [],
                    "fingerprint": fingerprint(name),
                    "unit_id": unit_b.id if hidden else unit_a.id,
                    "handling_code": "C" if hidden else "P",
                    "is_active": True,
                }
            )
            idents += [{"entity_id": i + 1, "scheme": s, "value": v} for s, v in ids.items()]
            tokens += [{"entity_id": i + 1, "token": t} for t in blocking_tokens([name])]
        db.session.execute(insert(Entity), rows)
        if idents:
            db.session.execute(insert(EntityIdentifier), idents)
        db.session.execute(insert(EntityToken), tokens)
        db.session.commit()
    for start in range(0, len(links), batch):
        rows = [
            {
                "source_id": a + 1,
                "target_id": b + 1,
                "link_type": rng.choice(LINK_KINDS),
                "unit_id": unit_a.id,
                "handling_code": "P",
                "grade": "2B",
            }
            for a, b in links[start : start + batch]
        ]
        db.session.execute(insert(Link), rows)
        db.session.commit()
    if db.engine.dialect.name == "postgresql":
        db.session.execute(text("ANALYZE"))
        db.session.commit()
    return Actor.for_user(user)


def timed(fn, repeat):
    samples = []
    for i in range(repeat):
        started = time.perf_counter()
        fn(i)
        samples.append((time.perf_counter() - started) * 1000)
        db.session.rollback()  # drop the trail rows: each call stands alone
    samples.sort()
    return {
        "median_ms": round(statistics.median(samples), 2),
        "p95_ms": round(samples[int(len(samples) * 0.95) - 1], 2),
    }


def run_backend(label, database_url, entities, links, args):
    instance = tempfile.mkdtemp(prefix="tollgate-bench-intel-")
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
        figures["load_s"] = round(time.perf_counter() - started, 1)
        backend = "postgres" if db.engine.dialect.name == "postgresql" else "whoosh"
        figures["reindex_s"], figures["indexed"] = None, 0
        if not args.graph_only:
            started = time.perf_counter()
            counts = search.reindex(backend, types=None)
            figures["reindex_s"] = round(time.perf_counter() - started, 1)
            figures["indexed"] = sum(counts.values())
        rng = random.Random(args.seed + 2)  # noqa: S311 - benchmark data
        n = len(entities)
        picks = [rng.randrange(n) for _ in range(args.repeat)]
        word = {i: entities[i][1].split()[0] for i in picks}

        def exact(i):
            search.search(actor, entities[picks[i]][1], backend=backend)

        def misspelled(i):
            name = entities[picks[i]][1].split()
            search.search(actor, " ".join(_typo(rng, w) for w in name[:2]), backend=backend)

        def identifier(i):
            ids = entities[picks[i]][2]
            search.search(actor, next(iter(ids.values()), word[picks[i]]), backend=backend)

        visible = [i for i in picks]

        def expand(i):
            with contextlib.suppress(AccessDenied):  # hidden entity: the 404 is timed too
                graph.expand(visible[i] + 1, actor=actor)

        pairs = [(rng.randrange(n) + 1, rng.randrange(n) + 1) for _ in range(args.repeat)]
        found = []

        def path(i):
            a, b = pairs[i]
            if a == b:
                return
            with contextlib.suppress(AccessDenied):  # an end outside need-to-know
                found.append(graph.shortest_path(a, b, actor=actor, max_depth=6)["found"])

        # pairs known to be connected: the ends of a random walk of 4 links
        adjacency = {}
        for a, b in links:
            adjacency.setdefault(a, []).append(b)
            adjacency.setdefault(b, []).append(a)
        walks = []
        while len(walks) < max(20, args.repeat // 4):
            start = node = rng.randrange(n)
            for _ in range(4):
                node = rng.choice(adjacency.get(node, [node]))
            if node != start:
                walks.append((start + 1, node + 1))
        walk_found = []

        def walk_path(i):
            a, b = walks[i]
            with contextlib.suppress(AccessDenied):
                walk_found.append(graph.shortest_path(a, b, actor=actor)["found"])

        if not args.graph_only:
            figures["search exact name"] = timed(exact, args.repeat)
            figures["search misspelled name"] = timed(misspelled, args.repeat)
            figures["search identifier"] = timed(identifier, args.repeat)
        figures["expand (25 neighbours)"] = timed(expand, args.repeat)
        figures["shortest path (<= 6 links)"] = timed(path, max(20, args.repeat // 4))
        figures["paths found"] = f"{sum(found)}/{len(found)}"
        figures["shortest path (connected pair)"] = timed(walk_path, len(walks))
        figures["connected paths found"] = f"{sum(walk_found)}/{len(walk_found)}"
        db.session.remove()
        db.engine.dispose()
    print(
        f"\n{label}: load {figures['load_s']} s, reindex {figures['reindex_s']} s "
        f"({figures['indexed']} documents)"
    )
    for key, value in figures.items():
        if isinstance(value, dict):
            print(f"  {key:32} median {value['median_ms']:8.2f} ms   p95 {value['p95_ms']:8.2f} ms")
    print(
        f"  paths found: {figures['paths found']} random pairs, "
        f"{figures['connected paths found']} connected pairs"
    )
    return figures


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entities", type=int, default=100_000)
    parser.add_argument("--links", type=int, default=300_000)
    parser.add_argument("--repeat", type=int, default=200)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--postgres-url",
        default=None,
        help="server URL; a temporary database is created and dropped",
    )
    parser.add_argument("--skip-sqlite", action="store_true")
    parser.add_argument(
        "--graph-only", action="store_true", help="skip the search index: only expansion and paths"
    )
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    entities, links = build_rows(args.entities, args.links, args.seed)
    print(f"{len(entities)} entities, {len(links)} links")
    results = {}
    if not args.skip_sqlite:
        folder = tempfile.mkdtemp(prefix="tollgate-bench-intel-db-")
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
        print(json.dumps({"entities": len(entities), "links": len(links), **results}))


if __name__ == "__main__":
    main()
