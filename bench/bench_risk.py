"""Risk targeting benchmarks: the selectivity engine, the HTTP API and the simulation.

1. Engine: 500 active profiles of 3-5 conditions, 20,000 declarations of 1-5 items;
   per-declaration assessment in-process (index lookup, evaluation of the candidates, channel
   precedence, random draw) p50/p99, against the same workload evaluated by a plain loop over
   all profiles with the ``rule-engine`` package (same rules, translated to its syntax), in the
   same run. Both must select the same profiles (checked).
2. HTTP: ``POST /api/v1/declarations`` at a fixed rate (default 200/s for 60 s, open loop,
   latency measured from the scheduled send time) against gunicorn with 4 workers on
   PostgreSQL (``TOLLGATE_BENCH_POSTGRES_URL``, default postgresql://postgres@127.0.0.1:5432/
   postgres; a scratch database is created and dropped).
3. Simulation of one profile over 1,000,000 declarations (about 1.5 million items) with numpy
   masks, against a row-by-row Python loop with the engine's compiled closures.
4. The declaration request against its floor, express batches of 500 and the first
   declaration after a worker start or a profile activation, on SQLite and PostgreSQL
   (``bench/bench_risk_request.py``; keys ``request_cpu_ms``, ``floor_cpu_ms``,
   ``batch_declarations_per_s``, ``first_after_*``; PostgreSQL's end in ``_postgres``).
   The HTTP part also reports the CPU gunicorn's workers spend per request.

Usage: python bench/bench_risk.py [--json] [--skip-http] [--quick]
       tollgate risk bench [--json] [--skip-http] [--quick]
"""

import argparse
import collections
import json
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from app.risk import rules  # noqa: E402
from app.risk.engine import Engine, Rates, compile_profiles  # noqa: E402

HS = [f"{c:02d}{rest:02d}" for c in range(1, 98) for rest in (10, 20, 30, 90)]
COUNTRIES = [
    "CN",
    "US",
    "DE",
    "TR",
    "VN",
    "IN",
    "BD",
    "AE",
    "RU",
    "KR",
    "JP",
    "IT",
    "FR",
    "PL",
    "MX",
    "BR",
    "TH",
    "MY",
    "ID",
    "GB",
]
OFFICES = [f"OF{n:02d}" for n in range(30)]
IMPORTERS = [f"IM{n:05d}" for n in range(3000)]
MODES = ["1", "3", "4", "5"]


def percentile(values, pct):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(pct / 100 * (len(ordered) - 1))))]


# --- workload -----------------------------------------------------------------------------


def make_profiles(rng, n, lists):
    """n trees of 3-5 conditions; most start with an indexable equality or HS prefix."""
    out = []
    for pid in range(1, n + 1):
        conds = []
        kind = rng.random()
        if kind < 0.55:
            conds.append(
                {
                    "field": "hs_code",
                    "op": "prefix",
                    "value": [rng.choice(HS)[: rng.choice([2, 4, 4])]],
                }
            )
        elif kind < 0.75:
            conds.append({"field": "origin", "op": "in", "value": rng.sample(COUNTRIES, 2)})
        elif kind < 0.85:
            conds.append({"field": "office", "op": "eq", "value": rng.choice(OFFICES)})
        elif kind < 0.95:
            conds.append({"field": "importer", "op": "in_list", "value": "Watched"})
        else:  # no index anchor: evaluated for every declaration
            conds.append({"field": "value", "op": "gt", "value": rng.choice([50000, 90000])})
        extra = [
            lambda: {"field": "origin", "op": "eq", "value": rng.choice(COUNTRIES)},
            lambda: {"field": "value", "op": "gt", "value": float(rng.choice([100, 1000, 5000]))},
            lambda: {"field": "mass", "op": "lt", "value": float(rng.choice([10, 100, 1000]))},
            lambda: {"field": "tax_rate", "op": "gte", "value": float(rng.choice([0, 5, 8]))},
            lambda: {
                "field": "unit_value",
                "op": "between",
                "value": [0.0, float(rng.choice([5, 20, 100]))],
            },
            lambda: {"field": "departure", "op": "in", "value": rng.sample(COUNTRIES, 3)},
            lambda: {"field": "transport_mode", "op": "eq", "value": rng.choice(MODES)},
        ]
        for make in rng.sample(extra, rng.randint(2, 4)):
            conds.append(make())
        tree = rules.validate(
            {"join": "and", "conditions": conds}, lists={name: "trader" for name in lists}
        )
        out.append(
            SimpleNamespace(
                id=pid,
                code=f"RP-{pid:04d}",
                name=f"Bench {pid}",
                channel=rng.choice(["yellow", "orange", "red", "blue"]),
                version=1,
                instructions="",
                is_sensitive=False,
                conditions=tree,
                valid_from_dt=None,
                valid_to_dt=None,
            )
        )
    return out


def make_declarations(rng, n):
    decls = []
    for _ in range(n):
        d = {
            "office": rng.choice(OFFICES),
            "importer": rng.choice(IMPORTERS),
            "transport_mode": rng.choice(MODES),
            "declarant": None,
            "seller": None,
            "courier": None,
            "procedure": "4000",
            "trader_rating": None,
        }
        items = []
        for _ in range(rng.randint(1, 5)):
            mass = round(rng.lognormvariate(4, 1.5), 1) + 0.1
            value = round(mass * rng.lognormvariate(2, 1.2), 2)
            origin = rng.choice(COUNTRIES)
            items.append(
                {
                    "hs_code": rng.choice(HS) + f"{rng.randrange(100):02d}",
                    "origin": origin,
                    "departure": rng.choice([origin, *COUNTRIES[:5]]),
                    "value": value,
                    "mass": mass,
                    "unit_value": value / mass,
                    "tax_rate": float(rng.choice([0, 2.5, 5, 8, 12])),
                    "ml_score": None,
                    "unit_value_deviation": None,
                }
            )
        decls.append((d, items))
    return decls


def _re_escape(text):
    return "".join("\\" + c if not c.isalnum() else c for c in text)


def to_rule_engine(tree, lists):
    """The same tree in the rule-engine package's expression language."""

    def lit(v):
        return json.dumps(v)

    def cond(c):
        f, op, v = c["field"], c["op"], c["value"]
        if op == "prefix":
            return "(" + " or ".join(f"{f} =~ {lit('^' + _re_escape(p))}" for p in v) + ")"
        if op == "eq":
            return f"{f} == {lit(v)}"
        if op == "in":
            return f"{f} in [{', '.join(lit(x) for x in v)}]"
        if op == "in_list":
            return f"{f} in [{', '.join(lit(x) for x in lists[v])}]"
        if op in ("gt", "gte", "lt", "lte"):
            sym = {"gt": ">", "gte": ">=", "lt": "<", "lte": "<="}[op]
            return f"{f} {sym} {v}"
        if op == "between":
            return f"({f} >= {v[0]} and {f} <= {v[1]})"
        raise ValueError(op)

    def node(n):
        if "join" in n:
            return "(" + f" {n['join']} ".join(node(c) for c in n["conditions"]) + ")"
        return cond(n)

    return node(tree)


# --- 1. engine ----------------------------------------------------------------------------


def bench_engine(n_profiles, n_decls, n_baseline, seed=11):
    import rule_engine

    rng = random.Random(seed)
    lists = {"Watched": rng.sample(IMPORTERS, 60)}
    rows = make_profiles(rng, n_profiles, lists)
    compiled = compile_profiles(rows, lists)
    engine = Engine(
        compiled,
        version=1,
        seed="bench-seed",
        rates=Rates(target={}, random={"red": 0.01, "yellow": 0.02}),
        ml_threshold=None,
        ml_channel="yellow",
    )
    decls = make_declarations(rng, n_decls)
    now = datetime.now(UTC)
    times, cpu_times, hits_total, candidates = [], [], 0, 0
    numbers = [f"B{k:08d}" for k in range(n_decls)]
    for warm in decls[:500]:
        engine.evaluate(warm[0], warm[1], now)
    for number, (d, items) in zip(numbers, decls, strict=True):
        c0 = time.thread_time_ns()
        t0 = time.perf_counter_ns()
        hits = engine.evaluate(d, items, now)
        _seed, u = engine.draw(number)
        engine.decide(hits, None, u)
        times.append((time.perf_counter_ns() - t0) / 1000)
        # CPU time of this thread: what the assessment costs without the waits for a core
        # that other processes on a shared machine impose.
        cpu_times.append((time.thread_time_ns() - c0) / 1000)
        hits_total += len(hits)
    for d, items in decls[:2000]:
        candidates += len(engine.candidates(d, items))

    # Baseline: every profile, every item, with rule-engine.
    context = rule_engine.Context(default_value=None)
    re_rules = [
        (p.id, rule_engine.Rule(to_rule_engine(p.conditions, lists), context=context)) for p in rows
    ]
    base_times, mismatches = [], 0
    for d, items in decls[:n_baseline]:
        merged = [{**d, **item} for item in items]
        t0 = time.perf_counter_ns()
        fired = [pid for pid, rule in re_rules if any(rule.matches(m) for m in merged)]
        base_times.append((time.perf_counter_ns() - t0) / 1000)
        ours = sorted(p.id for p, _ in engine.evaluate(d, items, now))
        mismatches += sorted(fired) != ours
    return {
        "engine_profiles": n_profiles,
        "engine_declarations": n_decls,
        "engine_unanchored_profiles": len(engine.unanchored),
        "engine_mean_candidates": round(candidates / min(2000, n_decls), 1),
        "engine_hits_per_declaration": round(hits_total / n_decls, 3),
        "engine_p50_us": round(percentile(times, 50), 1),
        "engine_p99_us": round(percentile(times, 99), 1),
        "engine_mean_us": round(statistics.fmean(times), 1),
        "engine_cpu_p50_us": round(percentile(cpu_times, 50), 1),
        "engine_cpu_p99_us": round(percentile(cpu_times, 99), 1),
        "baseline_declarations": n_baseline,
        "baseline_p50_us": round(percentile(base_times, 50), 1),
        "baseline_p99_us": round(percentile(base_times, 99), 1),
        "baseline_ratio_p50": round(percentile(base_times, 50) / percentile(times, 50), 1),
        "baseline_ratio_p99": round(percentile(base_times, 99) / percentile(times, 99), 1),
        "baseline_mismatches": mismatches,
    }


# --- 3. simulation ------------------------------------------------------------------------


def synthetic_history(n_decls, seed=5):
    rng = np.random.default_rng(seed)
    per = rng.integers(1, 3, n_decls)  # 1-2 items: ~1.5 million rows for 1M declarations
    decl_idx = np.repeat(np.arange(n_decls), per)
    n = len(decl_idx)
    mass = np.round(rng.lognormal(4, 1.5, n), 1) + 0.1
    raw = pd.DataFrame(
        {
            "decl_idx": decl_idx,
            "order": decl_idx,
            "office": pd.Categorical(
                np.array(OFFICES)[rng.integers(0, len(OFFICES), n_decls)][decl_idx]
            ),
            "importer": pd.Categorical(
                np.array(IMPORTERS)[rng.integers(0, len(IMPORTERS), n_decls)][decl_idx]
            ),
            "transport_mode": pd.Categorical(
                np.array(MODES)[rng.integers(0, 4, n_decls)][decl_idx]
            ),
            "hs_code": pd.Categorical(
                np.array([h + "10" for h in HS])[rng.integers(0, len(HS), n)]
            ),
            "origin": pd.Categorical(np.array(COUNTRIES)[rng.integers(0, len(COUNTRIES), n)]),
            "value": np.round(mass * rng.lognormal(2, 1.2, n), 2),
            "mass": mass,
            "tax_rate": rng.choice([0.0, 2.5, 5.0, 8.0, 12.0], n),
        }
    )
    frame = raw
    frame["unit_value"] = frame["value"] / frame["mass"]
    inspected = rng.random(n_decls) < 0.3
    history = SimpleNamespace(
        items=frame,
        n_declarations=n_decls,
        declaration_id=np.arange(n_decls),
        inspected=inspected,
        noncompliant=inspected & (rng.random(n_decls) < 0.2),
        revenue=rng.random(n_decls) * 1000,
        random=rng.random(n_decls) < 0.02,
        window="synthetic",
    )
    return history


def bench_simulation(n_decls):
    from app.risk import simulation

    t0 = time.perf_counter()
    history = synthetic_history(n_decls)
    load_s = time.perf_counter() - t0
    tree = rules.validate(
        {
            "join": "and",
            "conditions": [
                {"field": "hs_code", "op": "prefix", "value": ["61", "62", "8471"]},
                {"field": "origin", "op": "in", "value": ["CN", "VN", "BD"]},
                {"field": "unit_value", "op": "lt", "value": 8.0},
            ],
        }
    )
    t0 = time.perf_counter()
    result = simulation.simulate([(1, "red", tree)], history, {})
    sim_s = time.perf_counter() - t0
    fast = result["profiles"][1]

    # Row by row: the engine's closure on each item, folding to declarations in Python.
    fn = rules.compile_tree(tree, {})
    frame = history.items
    t0 = time.perf_counter()
    selected = np.zeros(n_decls, dtype=bool)
    for idx, hs, origin, uv in zip(
        frame["decl_idx"].tolist(),
        frame["hs_code"].tolist(),
        frame["origin"].tolist(),
        frame["unit_value"].tolist(),
        strict=True,
    ):
        if fn({}, {"hs_code": hs, "origin": origin, "unit_value": uv}):
            selected[idx] = True
    hits = int((selected & history.noncompliant).sum())
    base_s = time.perf_counter() - t0
    assert int(selected.sum()) == fast["selected"] and hits == fast["hits"]
    return {
        "simulation_declarations": n_decls,
        "simulation_items": len(frame),
        "simulation_frame_build_s": round(load_s, 2),
        "simulation_s": round(sim_s, 3),
        "simulation_baseline_s": round(base_s, 2),
        "simulation_speedup": round(base_s / sim_s, 1),
        "simulation_selected": fast["selected"],
    }


# --- 2. HTTP ------------------------------------------------------------------------------


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _prepare_database(url, n_profiles):
    """Schema, 500 active profiles and an API token in a scratch database."""
    from app import create_app
    from app.extensions import db
    from app.risk import profiles as profile_service
    from app.risk.settings import set_rates
    from app.security import service
    from app.security.access import Actor
    from app.security.models import Unit

    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": url,
            "TESTING": False,
            "INSTANCE_PATH": tempfile.mkdtemp(prefix="tollgate-bench-"),
        }
    )
    with app.app_context():
        db.create_all()
        actor = Actor.system("bench")
        unit = Unit(code="BENCH", name="Bench unit", kind="risk")
        db.session.add(unit)
        db.session.flush()
        # Declarations are checked against the reference lists: the bench's offices in them.
        from app.reference.service import ensure, load_rows

        ensure("standard", "demo")
        load_rows(
            "office", "code,label\n" + "".join(f"{o},Bench {o}\n" for o in OFFICES), actor=actor
        )
        rng = random.Random(11)
        lists = {"Watched": rng.sample(IMPORTERS, 60)}
        profile_service.save_list("Watched", "trader", lists["Watched"], actor=actor)
        set_rates(
            {
                "red": {"target_rate": 0.08, "min_random_rate": 0.01},
                "yellow": {"target_rate": 0.12, "min_random_rate": 0.02},
            },
            actor=actor,
        )
        for row in make_profiles(rng, n_profiles, lists):
            p = profile_service.create_profile(
                {
                    "name": row.name,
                    "risk_area": "bench",
                    "channel": row.channel,
                    "conditions": row.conditions,
                },
                actor=actor,
            )
            profile_service.mark_simulated(p, {"selected": 0, "window": "bench"}, actor=actor)
            p.status = "active"
        profile_service.save_list("Watched", "trader", lists["Watched"], actor=actor)
        _, token = service.create_api_client("bench", unit, ["declarations:write"], actor=actor)
        db.session.commit()
        db.engine.dispose()
    return token


def _body(rng, k):
    d, items = make_declarations(rng, 1)[0]
    return json.dumps(
        {
            "number": f"H{uuid.uuid4().hex[:12]}{k}",
            "date": "2026-03-01",
            "office": d["office"],
            "importer": d["importer"],
            "transport_mode": d["transport_mode"],
            "items": [
                {
                    "hs_code": i["hs_code"],
                    "origin": i["origin"],
                    "departure": i["departure"],
                    "value": i["value"],
                    "mass": i["mass"],
                    "tax_rate": i["tax_rate"],
                }
                for i in items
            ],
        }
    ).encode()


def _server_cpu_s(pid) -> float:
    """User + system CPU seconds of a process and its children (gunicorn's workers), from
    /proc (Linux)."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        # after the command: state, ppid, ... utime (11th), stime (12th)
        if int(entry) == pid or int(fields[1]) == pid:
            total += int(fields[11]) + int(fields[12])
    return total / ticks


def bench_http(rate, duration, n_profiles, workers=4):
    import http.client

    import psycopg

    server = os.environ.get(
        "TOLLGATE_BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
    )
    name = f"tollgate_bench_risk_{os.getpid()}"
    with psycopg.connect(server, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    base = server.rsplit("/", 1)[0]
    url = f"{base}/{name}".replace("postgresql://", "postgresql+psycopg://", 1)
    port = _free_port()
    proc = None
    try:
        token = _prepare_database(url, n_profiles)
        env = {
            **os.environ,
            "TOLLGATE_DATABASE_URL": url,
            "TOLLGATE_SECRET_KEY": uuid.uuid4().hex,
            "TOLLGATE_SEARCH_BACKEND": "postgres",
        }
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "--workers",
                str(workers),
                "--worker-class",
                "gthread",
                "--threads",
                "4",
                "--bind",
                f"127.0.0.1:{port}",
                "--log-level",
                "warning",
                "app.wsgi:app",
            ],
            cwd=ROOT,
            env=env,
        )
        deadline = time.time() + 60
        while time.time() < deadline:
            try:
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
                conn.request("GET", "/healthz")
                if conn.getresponse().status == 200:
                    break
            except OSError:
                time.sleep(0.3)
        headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
        rng = random.Random(3)
        # Warm every worker (engine compiled, connections open).
        # Each worker warms its declaration path before it accepts (app.wsgi): on a loaded
        # machine that takes a while.
        warm = http.client.HTTPConnection("127.0.0.1", port, timeout=180)
        for k in range(40):
            warm.request("POST", "/api/v1/declarations", body=_body(rng, k), headers=headers)
            warm.getresponse().read()
        total = int(rate * duration)
        bodies = [_body(rng, k) for k in range(total)]
        cpu_before = _server_cpu_s(proc.pid)
        latencies, service, errors = [], [], []
        skipped = [0]
        lock = threading.Lock()
        start = time.perf_counter() + 0.5
        next_index = iter(range(total))

        def client():
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            while True:
                with lock:
                    k = next(next_index, None)
                if k is None:
                    return
                scheduled = start + k / rate
                delay = scheduled - time.perf_counter()
                if delay > 0:
                    time.sleep(delay)
                if time.perf_counter() - start > duration * 1.5:
                    # The server cannot keep up: stop instead of queueing for ever.
                    with lock:
                        skipped[0] += 1
                    continue
                sent = time.perf_counter()
                for _attempt in (1, 2):
                    try:
                        conn.request(
                            "POST", "/api/v1/declarations", body=bodies[k], headers=headers
                        )
                        resp = conn.getresponse()
                        resp.read()
                        status = resp.status
                        break
                    except (BrokenPipeError, ConnectionResetError, http.client.RemoteDisconnected):
                        # the server closed an idle keep-alive connection (gunicorn: after 2 s;
                        # at low rates each client thread waits longer between requests): the
                        # request never reached it, so a new connection sends it, as HTTP
                        # clients do; the time of both attempts is counted
                        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
                        status = "connection closed twice"
                    except OSError as exc:
                        status = str(exc)
                        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
                        break
                # Open loop: latency from the scheduled send (no coordinated omission).
                elapsed = (time.perf_counter() - scheduled) * 1000
                with lock:
                    latencies.append(elapsed)
                    service.append((time.perf_counter() - sent) * 1000)
                    if status != 201:
                        errors.append(status)

        threads = [threading.Thread(target=client) for _ in range(48)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        wall = time.perf_counter() - start
        server_cpu = _server_cpu_s(proc.pid) - cpu_before
        return {
            # CPU of gunicorn's workers (all processes) per request answered: what one
            # declaration costs the web tier, whatever else the machine runs.
            "http_server_cpu_ms_per_request": round(server_cpu * 1000 / max(1, len(latencies)), 2),
            "load_avg_1m_http": round(os.getloadavg()[0], 2),
            "http_rate": rate,
            "http_duration_s": duration,
            "http_requests": len(latencies),
            "http_not_sent": skipped[0],
            "http_achieved_rate": round(len(latencies) / wall, 1),
            "http_service_p50_ms": round(percentile(service, 50), 2),
            "http_service_p99_ms": round(percentile(service, 99), 2),
            "http_p50_ms": round(percentile(latencies, 50), 2),
            "http_p99_ms": round(percentile(latencies, 99), 2),
            "http_errors": len(errors),
            # what the errors were (status codes, or the connection's error), most common first
            "http_error_kinds": dict(collections.Counter(map(str, errors)).most_common(5)),
            "http_workers": workers,
        }
    finally:
        if proc is not None:
            proc.terminate()
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        with psycopg.connect(server, autocommit=True) as conn:
            conn.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s", (name,)
            )
            conn.execute(f'DROP DATABASE IF EXISTS "{name}"')


def main(as_json=False, skip_http=False, quick=False, only_http=False, http_rates=(200,)):
    out = {}
    if not only_http:
        out.update(bench_engine(500, 2000 if quick else 20000, 100 if quick else 500))
        out.update(bench_simulation(100_000 if quick else 1_000_000))
        # The declaration request against its floor, express batches, the first declaration
        # after a start and after an activation: on SQLite and on PostgreSQL.
        from bench import bench_risk_request

        for backend in ("sqlite", "postgres"):
            out.update(bench_risk_request.run(backend, quick=quick))
        out["load_avg_1m"] = round(os.getloadavg()[0], 2)
    if not skip_http:
        # The first rate is the (200/s) and keeps the plain keys; further rates (a
        # rate this machine sustains, say) are reported under keys suffixed with the rate.
        for n, rate in enumerate(http_rates):
            figures = bench_http(rate, 10 if quick else 60, 500)
            if n:
                figures = {f"{k}_at_{rate}": v for k, v in figures.items()}
            out.update(figures)
    if as_json:
        print(json.dumps(out))
    else:
        for key, value in out.items():
            print(f"{key:32} {value}")
    return out


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--skip-http", action="store_true")
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--only-http", action="store_true")
    parser.add_argument(
        "--http-rate",
        type=int,
        action="append",
        help="requests/s of the HTTP run (repeatable; default 200)",
    )
    args = parser.parse_args()
    main(
        as_json=args.json,
        skip_http=args.skip_http,
        quick=args.quick,
        only_http=args.only_http,
        http_rates=tuple(args.http_rate or (200,)),
    )
