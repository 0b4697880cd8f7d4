"""The declaration request against its floor, express batches and the first declaration.

Measured in one process on one scratch database (SQLite file, or PostgreSQL from
``TOLLGATE_BENCH_POSTGRES_URL``) with 500 active profiles, an active ML model and trader
ratings (``bench_risk._prepare_database`` plus a trained model):

- ``request_cpu_ms``: median CPU time (this thread: the Flask test client runs the request in
  it) of one full ``POST /api/v1/declarations`` - token, parse, engine, ML, rating, store,
  trail, signals, search queue;
- ``floor_cpu_ms``: the same for a bare Flask view (its own Flask app, no Tollgate code) that
  parses the same JSON and inserts the declaration and its items with SQLAlchemy Core in one
  transaction - the floor; the two are interleaved request by request;
- ``request_statements`` / ``floor_statements``: SQL statements per request (COMMIT not
  counted), counted after the timed loop;
- ``request_share_<step>``: the share of a request's CPU in each step (token, parse, reference
  check, engine, ML score, all of the assessment, the inserts, the signals, the commit with the
  trail's chain), under cProfile: what the request spends beyond its floor, and where (the
  engine and the ML score are parts of the assessment; the rest do not overlap);
- ``whatif_no_trail_no_queue_*``: the request with no trail row and no search-queue row
  written at all, with its own floor (run last, monkeypatched): the bound on what optimising
  those two rows can give;
- ``batch_declarations_per_s``: batches of 500 one-item declarations through the same API
  (wall time of the POST, median of the batches);
- ``first_after_start_ms`` / ``first_after_activation_ms``: the first declaration of a fresh
  worker process (``create_app`` as gunicorn's worker does) and the first after a profile
  activation, beside the median of the ones that follow.

Usage: python bench/bench_risk_request.py [--json] [--backend sqlite|postgres] [--quick]
"""

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.bench_risk import _body, _prepare_database, make_declarations  # noqa: E402


def _scratch(backend):
    """(SQLAlchemy URL, cleanup) of an empty database."""
    if backend == "sqlite":
        folder = tempfile.mkdtemp(prefix="tollgate-bench-req-")
        return f"sqlite:///{folder}/bench.db", lambda: None
    import psycopg

    server = os.environ.get(
        "TOLLGATE_BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
    )
    name = f"tollgate_bench_req_{os.getpid()}"
    with psycopg.connect(server, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'CREATE DATABASE "{name}"')

    def drop():
        with psycopg.connect(server, autocommit=True) as conn:
            conn.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s",
                (name,),
            )
            conn.execute(f'DROP DATABASE IF EXISTS "{name}"')

    base = server.rsplit("/", 1)[0]
    return f"{base}/{name}".replace("postgresql://", "postgresql+psycopg://", 1), drop


def _app(url):
    from app import create_app

    return create_app(
        {
            "SQLALCHEMY_DATABASE_URI": url,
            "TESTING": False,
            "INSTANCE_PATH": tempfile.mkdtemp(prefix="tollgate-bench-"),
        }
    )


def _add_model_and_ratings(app):
    """An active ML model and current trader ratings, trained on a labelled history."""
    from app.audit import lifecycle
    from app.audit import service as audit
    from app.extensions import db
    from app.security.access import Actor
    from tests.audit.factories import FAST_PARAMS, import_rows, synthetic_history

    actor = Actor.system("bench")
    with app.app_context():
        import_rows(synthetic_history(600), actor=actor)
        model = lifecycle.train_from_history(actor=actor, params=FAST_PARAMS)
        lifecycle.activate_model(model.version, actor=actor)
        audit.compute_ratings(actor=actor)
        db.session.commit()


def floor_app(url):
    """A bare Flask app: parse the JSON, insert the declaration and its items (Core)."""
    from datetime import date

    import sqlalchemy as sa
    from flask import Flask, jsonify, request

    from app.core.time import now_utc
    from app.risk.models import Declaration, DeclarationItem

    engine = sa.create_engine(url)
    decls, items = Declaration.__table__, DeclarationItem.__table__
    with engine.connect() as conn:
        unit_id = conn.execute(sa.text("SELECT id FROM unit WHERE code = 'BENCH'")).scalar_one()
    app = Flask("floor")

    @app.post("/floor")
    def floor():
        body = request.get_json()
        with engine.begin() as conn:
            decl_id = conn.execute(
                sa.insert(decls)
                .values(
                    number=body["number"],
                    declaration_date=date.fromisoformat(body["date"]),
                    office=body["office"],
                    importer_code=body.get("importer"),
                    transport_mode=body.get("transport_mode"),
                    source="api",
                    links_pending=False,
                    is_random_selected=False,
                    unit_id=unit_id,
                    handling_code="P",
                    created_dt=now_utc(),
                )
                .returning(decls.c.id)
            ).scalar_one()
            conn.execute(
                sa.insert(items),
                [
                    {
                        "declaration_id": decl_id,
                        "line_no": n,
                        "hs_code": i["hs_code"],
                        "origin_country": i.get("origin"),
                        "departure_country": i.get("departure"),
                        "value": i["value"],
                        "mass_kg": i.get("mass"),
                        "tax_rate": i.get("tax_rate"),
                    }
                    for n, i in enumerate(body["items"], start=1)
                ],
            )
        return jsonify({"id": decl_id}), 201

    return app, engine


def _cpu_call(fn):
    """(CPU ms of this thread, wall ms, result) of fn()."""
    c0, t0 = time.thread_time_ns(), time.perf_counter_ns()
    result = fn()
    return (time.thread_time_ns() - c0) / 1e6, (time.perf_counter_ns() - t0) / 1e6, result


def _one_item_bodies(rng, n, tag):
    out = []
    for k in range(n):
        d, items = make_declarations(rng, 1)[0]
        i = items[0]
        out.append(
            {
                "number": f"X{tag}{uuid.uuid4().hex[:10]}{k}",
                "date": "2026-03-01",
                "office": d["office"],
                "importer": d["importer"],
                "transport_mode": d["transport_mode"],
                "items": [
                    {
                        "hs_code": i["hs_code"],
                        "origin": i["origin"],
                        "value": i["value"],
                        "mass": i["mass"],
                        "tax_rate": i["tax_rate"],
                    }
                ],
            }
        )
    return out


def measure_requests(url, token, n):
    """Full request against the floor, interleaved; medians of CPU and wall time. The app is
    readied as a gunicorn worker readies it (warm-ups, then gc.freeze: app.wsgi)."""
    from app.core.registry import ready_worker

    app = _app(url)
    ready_worker(app)
    client = app.test_client()
    floor, floor_engine = floor_app(url)
    floor_client = floor.test_client()
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    rng = random.Random(7)
    full, bare = [], []
    for k in range(n + 20):
        body, other = _body(rng, k), _body(rng, k)
        cpu, wall, resp = _cpu_call(
            lambda b=body: client.post("/api/v1/declarations", data=b, headers=headers)
        )
        assert resp.status_code == 201, resp.get_data(as_text=True)
        fcpu, fwall, fresp = _cpu_call(
            lambda b=other: floor_client.post("/floor", data=b, headers=headers)
        )
        assert fresp.status_code == 201, fresp.get_data(as_text=True)
        if k >= 20:  # both warm
            full.append((cpu, wall))
            bare.append((fcpu, fwall))
    statements = _statements(app, client, floor_engine, floor_client, headers, rng)
    floor_engine.dispose()
    request_cpu = statistics.median(c for c, _ in full)
    floor_cpu = statistics.median(c for c, _ in bare)
    return app, {
        "request_n": n,
        "request_cpu_ms": round(request_cpu, 3),
        "request_wall_ms": round(statistics.median(w for _, w in full), 3),
        "floor_cpu_ms": round(floor_cpu, 3),
        "floor_wall_ms": round(statistics.median(w for _, w in bare), 3),
        "request_to_floor_cpu": round(request_cpu / floor_cpu, 2),
        **statements,
    }


def _statements(app, client, floor_engine, floor_client, headers, rng, n=20) -> dict:
    """SQL statements per request, full and floor (counted after the timed loop: the
    listener's own cost stays out of the times)."""
    from sqlalchemy import event

    from app.extensions import db

    with app.app_context():
        engine = db.engine
    counts = {"full": 0, "floor": 0}

    def counter(kind):
        def count(*_args):
            counts[kind] += 1

        return count

    listeners = [(engine, counter("full")), (floor_engine, counter("floor"))]
    for target, fn in listeners:
        event.listen(target, "before_cursor_execute", fn)
    try:
        for k in range(n):
            client.post("/api/v1/declarations", data=_body(rng, 50_000 + k), headers=headers)
            floor_client.post("/floor", data=_body(rng, 60_000 + k), headers=headers)
    finally:
        for target, fn in listeners:
            event.remove(target, "before_cursor_execute", fn)
    return {
        "request_statements": round(counts["full"] / n, 1),
        "floor_statements": round(counts["floor"] / n, 1),
    }


#: where a request's CPU goes: (name, file ending, function) whose cumulative time is reported
STEPS = (
    ("token", "app/security/service.py", "client_for_token"),
    ("parse", "app/risk/intake.py", "parse_declaration"),
    ("reference_check", "app/risk/intake.py", "prefetch"),
    ("engine", "app/risk/evaluation.py", "evaluate"),
    ("ml_score", "app/risk/providers.py", "ml_scores_many"),
    ("assess_all", "app/risk/bulk.py", "_assess_new"),
    ("insert", "app/risk/bulk.py", "_write_new"),
    ("signals", "app/risk/bulk.py", "_send_signals"),
    ("commit_trail", "app/core/web.py", "_finish"),
)


def request_breakdown(app, token, n):
    """Shares of a request's CPU by step, under cProfile (which slows every call alike, so
    the shares hold, not the times): what the request spends beyond its floor, and where."""
    import cProfile
    import pstats

    client = app.test_client()
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    rng = random.Random(11)
    bodies = [_body(rng, 10_000 + k) for k in range(n)]
    profile = cProfile.Profile()
    c0 = time.thread_time()
    profile.enable()
    for body in bodies:
        client.post("/api/v1/declarations", data=body, headers=headers)
    profile.disable()
    total = time.thread_time() - c0
    stats = pstats.Stats(profile).stats
    out = {}
    for name, ending, function in STEPS:
        cumulative = sum(
            row[3]
            for (path, _line, fn), row in stats.items()
            if fn == function and path.endswith(ending)
        )
        out[f"request_share_{name}"] = round(cumulative / total, 3)
    return out


def bound_without_trail_and_queue(url, token, n) -> dict:
    """What-if, run last: the same request with no trail row and no search-queue row written
    at all (``trail.record`` a no-op, ``search_index_requested`` with no receivers) - the most
    any optimisation of those two rows could save. The platform may write neither less."""
    from app.core import signals
    from app.security import trail

    saved_record = trail.record
    saved_receivers = dict(signals.search_index_requested.receivers)
    trail.record = lambda *a, **k: None
    signals.search_index_requested.receivers.clear()
    try:
        app, figures = measure_requests(url, token, n)
        batches = measure_batches(app, token, 3)
    finally:
        trail.record = saved_record
        signals.search_index_requested.receivers.update(saved_receivers)
    with app.app_context():
        from app.extensions import db

        db.engine.dispose()
    return {
        "whatif_no_trail_no_queue_cpu_ms": figures["request_cpu_ms"],
        "whatif_no_trail_no_queue_floor_cpu_ms": figures["floor_cpu_ms"],
        "whatif_no_trail_no_queue_to_floor_cpu": figures["request_to_floor_cpu"],
        "whatif_no_trail_no_queue_batch_per_s": batches["batch_declarations_per_s"],
        "whatif_no_trail_no_queue_batch_cpu_ms": batches["batch_cpu_ms_per_declaration"],
    }


def measure_batches(app, token, batches, size=500):
    client = app.test_client()
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    rng = random.Random(9)
    rates, cpus = [], []
    for b in range(batches + 1):
        payload = json.dumps({"declarations": _one_item_bodies(rng, size, f"b{b}")})
        cpu, wall, resp = _cpu_call(
            lambda p=payload: client.post("/api/v1/declarations", data=p, headers=headers)
        )
        assert resp.status_code == 201, resp.get_data(as_text=True)[:500]
        assert len(resp.json["declarations"]) == size
        if b:  # the first batch warms the path
            rates.append(size / (wall / 1000))
            cpus.append(cpu / size)
    return {
        "batch_size": size,
        "batch_count": batches,
        "batch_declarations_per_s": round(statistics.median(rates), 1),
        "batch_cpu_ms_per_declaration": round(statistics.median(cpus), 3),
    }


def first_declarations(url, token, n=40, warm=True):
    """A fresh interpreter plays a gunicorn worker: it imports ``app.wsgi`` (create_app and
    the warm-up), times its first declaration and the ones after it; then a profile is
    activated and it times the first declaration after that and the ones after it."""
    code = (
        f"import json, sys; sys.path.insert(0, {str(ROOT)!r}); "
        "from bench.bench_risk_request import _worker_run; "
        f"print(json.dumps(_worker_run({token!r}, {n}, {warm!r})))"
    )
    env = {**os.environ, "TOLLGATE_DATABASE_URL": url, "TOLLGATE_SECRET_KEY": uuid.uuid4().hex}
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    )
    figures = json.loads(out.stdout.strip().splitlines()[-1])
    # The baseline (no warm-up, the engine rebuilt by the declaration that notices a change)
    # under its own keys, beside the figures of the worker as gunicorn runs it.
    return figures if warm else {k.replace("first_", "cold_first_"): v for k, v in figures.items()}


def _timed_declarations(client, token, rng, n):
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    walls = []
    for k in range(n + 1):
        body = _body(rng, k)
        _, wall, resp = _cpu_call(
            lambda b=body: client.post("/api/v1/declarations", data=b, headers=headers)
        )
        assert resp.status_code == 201, resp.get_data(as_text=True)
        walls.append(wall)
    return walls[0], statistics.median(walls[1:])


def _worker_run(token, n, warm=True):
    t0 = time.perf_counter()
    if warm:
        import gunicorn  # noqa: F401  (app.wsgi warms up in a gunicorn worker only)

        from app.wsgi import app
    else:
        from app import create_app

        app = create_app()

    started_ms = (time.perf_counter() - t0) * 1000
    client = app.test_client()
    rng = random.Random(13)
    first, median = _timed_declarations(client, token, rng, n)
    out = {
        "worker_start_ms": round(started_ms, 1),
        "first_after_start_ms": round(first, 2),
        "median_after_start_ms": round(median, 2),
        "first_after_start_ratio": round(first / median, 2),
    }
    _activate_a_profile(app)
    first, median = _timed_declarations(client, token, rng, n)
    out.update(
        {
            "first_after_activation_ms": round(first, 2),
            "median_after_activation_ms": round(median, 2),
            "first_after_activation_ratio": round(first / median, 2),
        }
    )
    return out


def _activate_a_profile(app):
    """A new profile put into production (the engine's version moves)."""
    from app.extensions import db
    from app.risk import profiles as profile_service
    from app.security.access import Actor

    actor = Actor.system("bench")
    with app.app_context():
        p = profile_service.create_profile(
            {
                "name": f"Bench activation {uuid.uuid4().hex[:6]}",
                "risk_area": "bench",
                "channel": "red",
                "conditions": {
                    "join": "and",
                    "conditions": [{"field": "hs_code", "op": "prefix", "value": ["9999"]}],
                },
            },
            actor=actor,
        )
        profile_service.mark_simulated(p, {"selected": 0, "window": "bench"}, actor=actor)
        profile_service.activate(p.id, actor=actor)
        db.session.commit()


def run(backend="sqlite", quick=False, n_profiles=500):
    url, cleanup = _scratch(backend)
    try:
        token = _prepare_database(url, n_profiles)
        _add_model_and_ratings(_app(url))
        out = {}
        out.update(first_declarations(url, token))
        out.update(first_declarations(url, token, warm=False))
        app, figures = measure_requests(url, token, 100 if quick else 400)
        out.update(figures)
        out.update(request_breakdown(app, token, 50 if quick else 200))
        out.update(measure_batches(app, token, 2 if quick else 5))
        with app.app_context():
            from app.extensions import db

            db.engine.dispose()
        out.update(bound_without_trail_and_queue(url, token, 100 if quick else 400))
        return {f"{k}_{backend}" if backend != "sqlite" else k: v for k, v in out.items()}
    finally:
        cleanup()


def main(as_json=False, backends=("sqlite", "postgres"), quick=False):
    out = {"load_avg_1m": round(os.getloadavg()[0], 2)}
    for backend in backends:
        out.update(run(backend, quick=quick))
    if as_json:
        print(json.dumps(out))
    else:
        for key, value in out.items():
            print(f"{key:40} {value}")
    return out


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--backend", action="append", choices=["sqlite", "postgres"])
    args = parser.parse_args()
    main(
        as_json=args.json, backends=tuple(args.backend or ("sqlite", "postgres")), quick=args.quick
    )
