"""SQLite contention: does one long request hold up every other user? (issue 16, item 2)

    .venv/bin/python bench/sqlite_contention.py [--nodes 2799] [--links-per-node 1.5]
        [--batch 60x500] [--scenarios all] [--interval 0.5] [--json]

Builds a SQLite instance in a temporary folder (two intelligence officers, a declaration
system's API client, ``--nodes`` entities with random links among them), then runs each
scenario: one long request in one process while another officer loads ``/cases/`` (a page
that writes its trail row) every ``--interval`` seconds in a second process. Two processes,
as gunicorn's workers are: the interpreter lock plays no part, only the database's locks.

Scenarios (``--scenarios`` picks some, comma-separated):

- ``graph-over``: POST /intel/graph/analyse over all ``--nodes`` entities, limits lifted;
- ``graph-limit``: the largest chart the configured limits take (a second cluster of
  TOLLGATE_GRAPH_ANALYSE_MAX_NODES entities with TOLLGATE_GRAPH_ANALYSE_MAX_LINKS links);
- ``graph-refused``: all entities with the configured limits (expect 422);
- ``batch-over``: POST /api/v1/declarations with ``--batch`` declarations x items, lifted;
- ``batch-limit``: the slowest batch the limits take: 500 declarations (the most a batch
  may have) sharing TOLLGATE_API_BATCH_MAX_ITEMS items (the cost is mostly per declaration);
- ``batch-500x1``: 500 one-item declarations (issue 22's batches);
- ``batch-refused``: ``--batch`` with the configured limits (expect 413).

Prints, per scenario, the long request's status and duration and the other officer's
``/cases/`` answers while it ran (statuses, slowest, median); ``--json`` prints the figures
as JSON. Run it from a checkout of an older commit to get that commit's figures (limits it
does not know are ignored there). Never asserts a time.
"""

import argparse
import json
import multiprocessing as mp
import random
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

SCENARIOS = (
    "graph-over",
    "graph-limit",
    "graph-refused",
    "batch-over",
    "batch-limit",
    "batch-500x1",
    "batch-refused",
)
#: the bench starts sessions directly: nobody signs in with a password
NO_LOGIN = "!"
#: limits high enough that the "over" scenarios run in full
LIFTED = {
    "TOLLGATE_GRAPH_ANALYSE_MAX_NODES": 10**9,
    "TOLLGATE_GRAPH_ANALYSE_MAX_LINKS": 10**9,
    "TOLLGATE_API_BATCH_MAX_ITEMS": 10**9,
}


def _config(instance: Path) -> dict:
    return {
        "TESTING": True,
        "INSTANCE_PATH": str(instance),
        "SECRET_KEY": "bench-sqlite-contention",
        "SQLALCHEMY_DATABASE_URI": f"sqlite:///{instance / 'tollgate.db'}",
        "WTF_CSRF_ENABLED": False,
        "TOLLGATE_FAST_HASH": True,
        "TOLLGATE_EVIDENCE_DIR": str(instance / "evidence"),
        "TOLLGATE_SEARCH_DIR": str(instance / "search"),
        "TOLLGATE_WORKER_LOCK": str(instance / "worker.lock"),
        "SERVER_NAME": None,
    }


def build(instance: Path, nodes: int, links_per_node: float, seed: int) -> dict:
    """The database and the credentials of the three callers."""
    from sqlalchemy import insert

    from app import create_app
    from app.extensions import db
    from app.intel.models import Entity, Link
    from app.security import service
    from app.security.access import Actor
    from app.security.models import Unit, User

    app = create_app(_config(instance))
    limits = {k: app.config.get(k) for k in LIFTED}  # None on a commit that has none
    with app.app_context():
        db.create_all()
        try:  # declarations are checked against the reference lists (since issue 17)
            from app.reference.service import ensure

            ensure("standard", "demo")
        except ImportError:  # a commit before the lists
            pass
        unit = Unit(code="HQ-INT", name="Central Intelligence Unit", kind="intelligence")
        db.session.add(unit)
        db.session.flush()
        users = []
        for name in ("analyst", "officer"):
            user = User(username=name, full_name=name.title(), unit=unit, password_hash=NO_LOGIN)
            user.set_roles(["intelligence_officer"])
            db.session.add(user)
            users.append(user)
        db.session.flush()
        tokens = [service.start_session(u, "127.0.0.1") for u in users]
        _, bearer = service.create_api_client(
            "declaration system", unit, ["declarations:write"], actor=Actor.system("bench")
        )
        db.session.commit()
        rng = random.Random(seed)  # noqa: S311 - benchmark data
        # entities 1..nodes: the chart; then a cluster as large and dense as the
        # configured limits allow (graph-limit)
        dense = limits["TOLLGATE_GRAPH_ANALYSE_MAX_NODES"] or 0
        db.session.execute(
            insert(Entity),
            [
                {
                    "id": i,
                    "entity_type": "company",
                    "name": f"Company {i:05d}",
                    "aliases": [],
                    "identifiers": {},
                    "attributes": {},
                    "roles": [],
                    "fingerprint": f"company {i:05d}",
                    "unit_id": unit.id,
                    "handling_code": "P",
                    "is_active": True,
                }
                for i in range(1, nodes + dense + 1)
            ],
        )
        pairs = _pairs(rng, 1, nodes, int(nodes * links_per_node))
        if dense:
            wanted = min(limits["TOLLGATE_GRAPH_ANALYSE_MAX_LINKS"], dense * (dense - 1) // 2)
            pairs |= _pairs(rng, nodes + 1, nodes + dense, wanted)
        db.session.execute(
            insert(Link),
            [
                {
                    "source_id": a,
                    "target_id": b,
                    "link_type": "director_of",
                    "unit_id": unit.id,
                    "handling_code": "P",
                    "grade": "2B",
                }
                for a, b in sorted(pairs)
            ],
        )
        db.session.commit()
        db.engine.dispose()
    return {"analyst": tokens[0], "officer": tokens[1], "bearer": bearer, "limits": limits}


def _pairs(rng, first: int, last: int, count: int) -> set:
    """``count`` random links among the entities first..last."""
    pairs = set()
    while len(pairs) < count:
        a, b = rng.randint(first, last), rng.randint(first, last)
        if a != b:
            pairs.add((min(a, b), max(a, b)))
    return pairs


def _client(config: dict, session_token: str | None):
    from app import create_app

    app = create_app(config)
    client = app.test_client()
    if session_token:
        with client.session_transaction() as sess:
            sess["sid"] = session_token
    return client


def probe(config, token, interval, ready, stop, out):
    """The other officer: /cases/ every ``interval`` s until ``stop``; (start, seconds, status)."""
    client = _client(config, token)
    client.get("/cases/")  # warm up (templates, first connection)
    ready.set()
    samples, origin = [], time.time()
    while not stop.is_set():
        started = time.time()
        status = client.get("/cases/").status_code
        samples.append((started - origin, time.time() - started, status))
        stop.wait(interval)
    out.put(("probe", origin, samples))


def long_request(config, kind, credential, payload, out):
    client = _client(config, credential if kind == "graph" else None)
    client.get("/")  # warm up
    started = time.time()
    if kind == "graph":
        resp = client.post("/intel/graph/analyse", json=payload)
    else:
        resp = client.post(
            "/api/v1/declarations",
            json=payload,
            headers={"Authorization": f"Bearer {credential}"},
        )
    body = resp.get_json(silent=True) or {}
    message = (body.get("error") or {}).get("message", "") if isinstance(body, dict) else ""
    out.put(("long", started, time.time() - started, resp.status_code, message[:160]))


def _declarations(prefix: str, count: int, items: int) -> list[dict]:
    item = {"hs_code": "8517620000", "origin": "CN", "value": 1000.0, "mass": 10.0}
    return [
        {
            "number": f"{prefix}-{n:05d}",
            "date": "2026-03-02",
            "office": "BCP-N",
            "procedure": "4000",
            "importer": f"IMP{n % 50:03d}",
            "items": [dict(item, value=1000.0 + i) for i in range(items)],
        }
        for n in range(count)
    ]


def _scenario(name: str, args, creds: dict) -> tuple[str, object, dict]:
    """(kind, payload, config overrides) of a scenario."""
    limits = creds["limits"]
    count, items = (int(x) for x in args.batch.split("x"))
    if name == "graph-over":
        return "graph", {"nodes": list(range(1, args.nodes + 1))}, LIFTED
    if name == "graph-limit":
        dense = limits["TOLLGATE_GRAPH_ANALYSE_MAX_NODES"] or 0
        return "graph", {"nodes": list(range(args.nodes + 1, args.nodes + dense + 1))}, {}
    if name == "graph-refused":
        return "graph", {"nodes": list(range(1, args.nodes + 1))}, {}
    if name == "batch-over":
        return "batch", _declarations("OVER", count, items), LIFTED
    if name == "batch-limit":
        limit = limits["TOLLGATE_API_BATCH_MAX_ITEMS"] or count * items
        return "batch", _declarations("LIMIT", 500, max(1, limit // 500)), {}
    if name == "batch-500x1":
        return "batch", _declarations("ONE", 500, 1), {}
    return "batch", _declarations("REFUSED", count, items), {}


def run(name: str, args, instance: Path, creds: dict) -> dict:
    kind, payload, overrides = _scenario(name, args, creds)
    config = _config(instance) | overrides
    ctx = mp.get_context("spawn")
    out, ready, stop = ctx.Queue(), ctx.Event(), ctx.Event()
    prober = ctx.Process(
        target=probe, args=(config, creds["officer"], args.interval, ready, stop, out)
    )
    prober.start()
    ready.wait(120)
    time.sleep(args.interval)
    credential = creds["analyst"] if kind == "graph" else creds["bearer"]
    worker = ctx.Process(target=long_request, args=(config, kind, credential, payload, out))
    worker.start()
    results = {}
    while "long" not in results:
        item = out.get(timeout=900)
        results[item[0]] = item
    time.sleep(args.interval * 2)  # one more probe after the long request ended
    stop.set()
    while "probe" not in results:
        item = out.get(timeout=120)
        results[item[0]] = item
    worker.join()
    prober.join()
    _, long_started, long_s, status, message = results["long"]
    _, origin, samples = results["probe"]
    begin, end = long_started - origin, long_started - origin + long_s
    during = [(lat, st) for t0, lat, st in samples if t0 + lat >= begin and t0 <= end]
    latencies = sorted(lat for lat, _ in during) or [0.0]
    statuses: dict[str, int] = {}
    for _, st in during:
        statuses[str(st)] = statuses.get(str(st), 0) + 1
    return {
        "scenario": name,
        "request": kind,
        "size": f"{len(payload['nodes'])} entities"
        if kind == "graph"
        else f"{len(payload)} declarations, {sum(len(d['items']) for d in payload)} items",
        "status": status,
        "seconds": round(long_s, 2),
        "message": message,
        "cases_page": {
            "requests": len(during),
            "statuses": statuses,
            "slowest_s": round(latencies[-1], 2),
            "median_s": round(statistics.median(latencies), 2),
        },
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nodes", type=int, default=2799)
    parser.add_argument("--links-per-node", type=float, default=1.5)
    parser.add_argument("--batch", default="60x500", help="declarations x items")
    parser.add_argument("--scenarios", default="all")
    parser.add_argument("--interval", type=float, default=0.5)
    parser.add_argument("--seed", type=int, default=16)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    names = SCENARIOS if args.scenarios == "all" else tuple(args.scenarios.split(","))
    unknown = set(names) - set(SCENARIOS)
    if unknown:
        parser.error(f"unknown scenarios {sorted(unknown)}; choose from {', '.join(SCENARIOS)}")
    instance = Path(tempfile.mkdtemp(prefix="tollgate-bench-contention-"))
    try:
        figures = _run_all(names, args, instance)
    finally:
        shutil.rmtree(instance, ignore_errors=True)
    if args.json:
        print(json.dumps(figures, indent=2))


def _run_all(names, args, instance: Path) -> dict:
    creds = build(instance, args.nodes, args.links_per_node, args.seed)
    figures = {"nodes": args.nodes, "links_per_node": args.links_per_node, "scenarios": []}
    figures["limits"] = creds["limits"]
    for name in names:
        result = run(name, args, instance, creds)
        figures["scenarios"].append(result)
        if not args.json:
            page = result["cases_page"]
            print(
                f"{name:14} {result['request']} {result['size']}: {result['status']} in "
                f"{result['seconds']} s | /cases/ meanwhile: {page['requests']} requests "
                f"{page['statuses']}, slowest {page['slowest_s']} s, median {page['median_s']} s"
                + (f" | {result['message']}" if result["message"] else ""),
                flush=True,
            )
    return figures


if __name__ == "__main__":
    main()
