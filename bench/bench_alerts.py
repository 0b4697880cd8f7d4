"""Alerts: the cost of sensitive profiles in the real-time assessment, and the time from a
declaration to the recipient's live inbox.

1. Assessment latency (POST /api/v1/declarations through the Flask test client, commit
   included) with 50 matching profiles that are *not* sensitive, then with the same 50
   profiles sensitive (each hit raises an alert, routed and queued in the same transaction).
2. Declaration to inbox: a real threaded HTTP server; a client polls the supervisor's inbox
   state (GET /alerts/state with If-None-Match, at the server's Poll-Interval, as the badge's
   script does); we post declarations at random moments of the poll cycle and time until a
   poll names the new alert (p50/p95). Dominated by the poll interval (--poll).
3. The cost of one poll of an open page: GET /alerts/state answered 304 (nothing new), the
   request every open page makes every Poll-Interval seconds.

Runs against a scratch SQLite database (or TOLLGATE_BENCH_DATABASE_URL).
Usage: python bench/bench_alerts.py [--json] [--declarations N] [--inbox N] [--poll S]
"""

import argparse
import json
import logging
import os
import random
import statistics
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from werkzeug.serving import make_server  # noqa: E402

from app import create_app  # noqa: E402
from app.extensions import db  # noqa: E402
from app.security import service  # noqa: E402
from app.security.access import Actor  # noqa: E402
from app.security.models import Unit, User  # noqa: E402

PROFILES = 50
logging.getLogger("werkzeug").setLevel(logging.WARNING)  # one line per poll otherwise


def percentile(values, pct):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(pct / 100 * (len(ordered) - 1))))]


def summary(times):
    return {
        "n": len(times),
        "median_ms": round(statistics.median(times), 2),
        "p95_ms": round(percentile(times, 95), 2),
        "mean_ms": round(statistics.fmean(times), 2),
    }


_seq = iter(range(1, 10**9))


def declaration():
    return {
        "number": f"B{next(_seq):09d}",
        "date": "2026-03-02",
        "office": "BCP-N",
        "procedure": "4000",
        "transport_mode": "3",
        "declarant": "DCL001",
        "importer": "IMP001",
        "seller": "SEL001",
        "items": [
            {
                "hs_code": "8517620000",
                "origin": "CN",
                "departure": "CN",
                "value": 1000.0,
                "mass": 10.0,
                "tax_rate": 5.0,
            }
        ],
    }


def make_profiles(sensitive, recipients):
    from app.risk import profiles

    system = Actor.system("bench")
    made = []
    for n in range(PROFILES):
        p = profiles.create_profile(
            {
                "name": f"Bench profile {n}",
                "risk_area": "bench",
                "channel": "yellow",
                "conditions": {
                    "join": "and",
                    "conditions": [{"field": "hs_code", "op": "prefix", "value": ["8517"]}],
                },
                "instructions": "Check the goods.",
                "is_sensitive": sensitive,
                "recipients": recipients if sensitive else {},
            },
            actor=system,
        )
        profiles.mark_simulated(p, {"selected": 0, "window": "bench"}, actor=system)
        profiles.set_status(p.id, "active", actor=system)
        made.append(p)
    db.session.commit()
    return made


def retire(made):
    from app.risk import profiles

    for p in made:
        profiles.set_status(p.id, "retired", actor=Actor.system("bench"))
    db.session.commit()


def time_assessments(client, token, n):
    headers = {"Authorization": f"Bearer {token}"}
    for _ in range(5):  # warm the engine's compiled profiles
        client.post("/api/v1/declarations", json=declaration(), headers=headers)
    times = []
    for _ in range(n):
        start = time.perf_counter()
        resp = client.post("/api/v1/declarations", json=declaration(), headers=headers)
        times.append((time.perf_counter() - start) * 1000)
        assert resp.status_code == 201, resp.get_data(as_text=True)
    return summary(times)


def session_cookie(app, user):
    token = service.start_session(user, "127.0.0.1")
    db.session.commit()
    serializer = app.session_interface.get_signing_serializer(app)
    return f"{app.config['SESSION_COOKIE_NAME']}={serializer.dumps({'sid': token})}"


def inbox_latency(app, base, cookie, api_token, n, poll):
    """Post ``n`` declarations one at a time; time until a poll of the state names the alert."""
    seen = {}
    ready = threading.Event()
    stop = threading.Event()

    def listen():
        etag = None
        while not stop.is_set():
            headers = {"Cookie": cookie, **({"If-None-Match": etag} if etag else {})}
            req = urllib.request.Request(f"{base}/alerts/state", headers=headers)  # noqa: S310
            try:
                with urllib.request.urlopen(req, timeout=30) as resp:  # noqa: S310 - local
                    etag = resp.headers["ETag"]
                    latest = json.loads(resp.read()).get("latest")
                    if latest:
                        seen.setdefault(latest["id"], time.perf_counter())
            except urllib.error.HTTPError as exc:
                if exc.code != 304:
                    raise
            ready.set()
            stop.wait(poll)

    thread = threading.Thread(target=listen, daemon=True)
    thread.start()
    ready.wait(10)
    time.sleep(0.5)
    times = []
    rng = random.Random(7)
    for _ in range(n):
        # Post at a random moment of the stream's poll cycle, as real traffic does.
        time.sleep(rng.uniform(0, poll))
        body = json.dumps(declaration()).encode()
        req = urllib.request.Request(  # noqa: S310 - the local bench server
            f"{base}/api/v1/declarations",
            data=body,
            method="POST",
            headers={"Content-Type": "application/json", "Authorization": f"Bearer {api_token}"},
        )
        start = time.perf_counter()
        with urllib.request.urlopen(req, timeout=30) as resp:  # noqa: S310
            assert resp.status == 201
        with app.app_context():
            from sqlalchemy import func, select

            from app.alerts.models import Alert

            alert_id = db.session.scalar(select(func.max(Alert.id)))
        deadline = time.perf_counter() + 30
        while alert_id not in seen and time.perf_counter() < deadline:
            time.sleep(0.01)
        if alert_id in seen:
            times.append((seen[alert_id] - start) * 1000)
    stop.set()
    return summary(times) if times else {"n": 0}


def poll_cost(base, cookie, n):
    """Wall time of ``n`` polls answered 304 over one kept-alive connection."""
    import http.client

    port = int(base.rsplit(":", 1)[1])
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    conn.request("GET", "/alerts/state", headers={"Cookie": cookie})
    first = conn.getresponse()
    first.read()
    etag = first.getheader("ETag")
    times = []
    for _ in range(n):
        start = time.perf_counter()
        conn.request("GET", "/alerts/state", headers={"Cookie": cookie, "If-None-Match": etag})
        resp = conn.getresponse()
        resp.read()
        times.append((time.perf_counter() - start) * 1000)
        assert resp.status == 304, resp.status
    conn.close()
    return summary(times)


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--declarations", type=int, default=200)
    parser.add_argument("--inbox", type=int, default=20)
    parser.add_argument("--poll", type=int, default=10, help="Poll-Interval of open pages (s)")
    args = parser.parse_args()
    tmp = tempfile.mkdtemp(prefix="tollgate-bench-")
    url = os.environ.get("TOLLGATE_BENCH_DATABASE_URL") or f"sqlite:///{tmp}/b.db"
    app = create_app(
        {
            "INSTANCE_PATH": tmp,
            "SQLALCHEMY_DATABASE_URI": url,
            "TOLLGATE_FAST_HASH": True,
            "SECRET_KEY": "bench",
            "SESSION_COOKIE_SECURE": False,
            "TOLLGATE_ALERT_POLL_SECONDS": args.poll,
            # Fold nothing: every declaration is a distinct subject anyway.
        }
    )
    results = {"profiles": PROFILES, "poll_seconds": args.poll}
    with app.app_context():
        db.create_all()
        from app.reference.service import ensure
        from app.risk.settings import set_rates

        ensure("standard", "demo")  # declarations are checked against the reference lists

        unit = Unit(code="BCP-N", name="Northern border")
        sup = User(
            username="sup",
            full_name="Bench Supervisor",
            email="sup@bench.test",
            unit=unit,
            password_hash=service.hash_password("bench password 1"),
        )
        sup.set_roles(["supervisor"])
        db.session.add_all([unit, sup])
        db.session.commit()
        set_rates(
            {
                c: {"target_rate": 0.05, "min_random_rate": 0.0}
                for c in ("blue", "yellow", "orange", "red")
            },
            actor=Actor.system("bench"),
        )
        _, token = service.create_api_client(
            "bench cdps", unit, ["declarations:write"], actor=Actor.system("bench")
        )
        db.session.commit()
        client = app.test_client()
        recipients = {"users": [sup.id], "roles": ["supervisor"]}

        plain = make_profiles(False, recipients)
        results["assessment_50_plain_profiles"] = time_assessments(client, token, args.declarations)
        retire(plain)
        sensitive = make_profiles(True, recipients)
        results["assessment_50_sensitive_profiles"] = time_assessments(
            client, token, args.declarations
        )
        from sqlalchemy import func, select

        from app.alerts.models import Alert, Delivery

        results["alerts_raised"] = db.session.scalar(select(func.count(Alert.id)))
        results["deliveries_queued"] = db.session.scalar(select(func.count(Delivery.id)))
        retire(sensitive[1:])  # one sensitive profile for the inbox measurement
        cookie = session_cookie(app, sup)

    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        base = f"http://127.0.0.1:{server.server_port}"
        results["declaration_to_inbox"] = inbox_latency(
            app, base, cookie, token, args.inbox, args.poll
        )
        results["poll_unchanged"] = poll_cost(base, cookie, 500)
    finally:
        server.shutdown()

    plain_ms = results["assessment_50_plain_profiles"]
    sens_ms = results["assessment_50_sensitive_profiles"]
    if args.json:
        print(json.dumps(results))
        return
    print(
        f"Assessment (POST /api/v1/declarations, {args.declarations} declarations, "
        f"{PROFILES} matching profiles)"
    )
    print(f"  not sensitive : median {plain_ms['median_ms']} ms, p95 {plain_ms['p95_ms']} ms")
    print(
        f"  sensitive     : median {sens_ms['median_ms']} ms, p95 {sens_ms['p95_ms']} ms "
        f"({results['alerts_raised']} alerts, {results['deliveries_queued']} deliveries "
        "queued)"
    )
    inbox = results["declaration_to_inbox"]
    if inbox.get("n"):
        print(
            f"Declaration to live inbox (Poll-Interval {args.poll} s, {inbox['n']} declarations): "
            f"median {inbox['median_ms']} ms, p95 {inbox['p95_ms']} ms"
        )
    else:
        print("Declaration to live inbox: no alert seen")
    cost = results["poll_unchanged"]
    print(
        f"One poll of an open page, nothing new (304, {cost['n']} polls): "
        f"median {cost['median_ms']} ms, p95 {cost['p95_ms']} ms"
    )


if __name__ == "__main__":
    main()
