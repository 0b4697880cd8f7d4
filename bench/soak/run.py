"""Soak: the platform as in production (gunicorn, 4 workers, plus the one `tollgate worker`) on
SQLite (WAL) and on PostgreSQL, driven by Locust; feeds polled from a local server.

    python bench/soak/run.py [--backend sqlite|postgres|both] [--json report.json]

SOAK_SECONDS (default 600) and SOAK_USERS (default 50) shorten a run. Beside the API users,
SOAK_PAGES (default 500) open pages of signed-in officers keep their alert badge current for
the whole run, as the badge's script does (GET /alerts/state with If-None-Match at the server's
Poll-Interval); a tenth of them belong to the supervisor the sensitive profile alerts, and
record when they first see each alert (declaration-to-page latency). Two more users open the
sign-in page and now and then sign in and out (the sign-in page's p99 is reported).

Fails (exit 1) on any 5xx, any failed request, any "database is locked", any scheduled job that
ran more or less than once per trigger (job_run), or any ERROR or traceback in the application
and worker logs.
"""

import argparse
import csv
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent
HERE = Path(__file__).resolve().parent
PY = sys.executable
HEARTBEAT_SECONDS = 5
PROFILES = int(os.environ.get("SOAK_PROFILES", "500"))
PAGES = int(os.environ.get("SOAK_PAGES", "500"))
SIGN_IN_USERS = 2
SCOPES = [
    "declarations:write",
    "declarations:read",
    "control-results:write",
    "cases:read",
    "cases:write",
    "entities:read",
    "entities:write",
    "alerts:read",
    "alerts:write",
    "search:read",
]
LOG_PROBLEMS = re.compile(r"database is locked|Traceback|\bERROR\b|\[CRITICAL\]")


# --- inside the platform's environment (run as `run.py setup|check`) ------------------------


def _setup() -> None:
    """Schema, an API client with every scope, and a feed pointing at the local server."""
    from app import create_app
    from app.extensions import db

    app = create_app()
    notes = []
    with app.app_context():
        try:
            from app.cli import upgrade_database

            upgrade_database()
        except Exception as exc:  # noqa: BLE001 - migrations may lag the models mid-work
            notes.append(f"migrations failed ({type(exc).__name__}); schema from the models")
            db.session.rollback()
            db.create_all()
        from app.reference.service import ensure

        # Declarations are checked against the reference lists (the soak's office is BCP-N).
        ensure("standard", "demo")
        from app.security import service
        from app.security.access import Actor

        actor = Actor.system("soak")
        unit = service.create_unit("SOAK", "Soak test unit", "hq", actor=actor)
        _, token = service.create_api_client("soak", unit, SCOPES, actor=actor)
        supervisor = service.create_user(
            "soak-supervisor",
            f"Soak-{uuid.uuid4().hex}",
            full_name="Soak supervisor",
            unit=unit,
            roles=["supervisor"],
            email="soak-supervisor@localhost",
            actor=actor,
        )
        db.session.flush()
        notes.append(_targeting(actor, supervisor))
        db.session.commit()
        signer = _open_pages(app, unit, supervisor, actor)
        db.session.commit()
        feed_url = os.environ.get("SOAK_FEED_URL")
        if feed_url:
            try:
                from app.textmining import feeds

                feeds.create_feed(feed_url, "Soak feed", actor=actor, interval_minutes=1)
                db.session.commit()
            except Exception as exc:  # noqa: BLE001
                db.session.rollback()
                notes.append(f"feed not registered: {type(exc).__name__}: {exc}")
    print(json.dumps({"token": token, "notes": notes, "signer": signer}))


def _open_pages(app, unit, supervisor, actor) -> dict:
    """Sessions for PAGES open pages (SOAK_PAGES_FILE: their cookies, and whether each is the
    alerted supervisor's), ten per officer; returns the name and password of an officer the
    sign-in users sign in as."""
    from app.extensions import db
    from app.security import service

    password = f"Soak-{uuid.uuid4().hex}"
    officers = [
        service.create_user(
            f"soak-officer-{n}",
            password,
            full_name=f"Soak officer {n}",
            unit=unit,
            roles=["supervisor"],
            actor=actor,
        )
        for n in range(max(1, PAGES // 10))
    ]
    db.session.flush()
    serializer = app.session_interface.get_signing_serializer(app)
    name = app.config["SESSION_COOKIE_NAME"]
    pages = []
    for n in range(PAGES):
        watcher = n % 10 == 0  # a tenth of the pages: the alerted supervisor's
        user = supervisor if watcher else officers[n % len(officers)]
        token = service.start_session(user, "127.0.0.1")
        pages.append({"cookie": f"{name}={serializer.dumps({'sid': token})}", "watcher": watcher})
    Path(os.environ["SOAK_PAGES_FILE"]).write_text(json.dumps(pages))
    return {"username": officers[0].username, "password": password}


def _targeting(actor, supervisor) -> str:
    """Targeting as in production: PROFILES active profiles (the risk bench's generator, with
    the soak's importers on its watch list) and one sensitive profile that fires on about one
    declaration in 70 and alerts the soak unit's supervisor, whose alerts the API client (same
    unit) lists and acknowledges."""
    import random

    sys.path.insert(0, str(HERE.parent))
    from bench_risk import IMPORTERS, make_profiles

    from app.risk import profiles as profile_service

    rng = random.Random(11)
    watched = [*rng.sample(IMPORTERS, 60), "Baltic Freight Ltd"]
    profile_service.save_list("Watched", "trader", watched, actor=actor)
    rows = [
        {
            "name": row.name,
            "risk_area": "soak",
            "channel": row.channel,
            "conditions": row.conditions,
        }
        for row in make_profiles(rng, PROFILES, {"Watched": watched})
    ]
    rows.append(
        {
            "name": "Soak: cigarettes from Turkey, high value, light",
            "risk_area": "cigarette smuggling",
            "channel": "red",
            "instructions": "Scan the container; call the duty supervisor before release.",
            "is_sensitive": True,
            "recipients": {"users": [supervisor.id], "units": [], "roles": []},
            "conditions": {
                "join": "and",
                "conditions": [
                    {"field": "hs_code", "op": "prefix", "value": ["240220"]},
                    {"field": "origin", "op": "eq", "value": "TR"},
                    {"field": "value", "op": "gt", "value": 60000.0},
                    {"field": "mass", "op": "lt", "value": 1000.0},
                ],
            },
        }
    )
    for row in rows:
        profile = profile_service.create_profile(row, actor=actor)
        profile_service.mark_simulated(profile, {"selected": 0, "window": "soak"}, actor=actor)
        profile_service.set_status(profile.id, "active", actor=actor)
    return f"{len(rows)} active risk profiles, one of them sensitive"


def _check() -> None:
    """Every interval job ran exactly once per trigger between its first and last run."""
    from sqlalchemy import select

    from app import create_app
    from app.extensions import db
    from app.jobs.models import JobRun
    from app.jobs.registry import registered_jobs

    app = create_app()
    result = {}
    with app.app_context():
        specs = {s.id: s for s in registered_jobs(app)}
        runs = db.session.scalars(select(JobRun).order_by(JobRun.job_id, JobRun.scheduled_dt))
        by_job: dict[str, list] = {}
        for run in runs:
            by_job.setdefault(run.job_id, []).append(run)
        for job_id, job_runs in sorted(by_job.items()):
            spec = specs.get(job_id)
            problems = [
                f"{r.scheduled_dt.isoformat()} {r.status}: {(r.error or '')[:200]}"
                for r in job_runs
                if r.status != "ok"
            ]
            expected = len(job_runs)
            if spec is not None and spec.trigger == "interval":
                step = timedelta(**spec.trigger_args)
                span = job_runs[-1].scheduled_dt - job_runs[0].scheduled_dt
                expected = int(span / step) + 1
                for a, b in zip(job_runs, job_runs[1:], strict=False):
                    if b.scheduled_dt - a.scheduled_dt != step:
                        problems.append(
                            f"gap {a.scheduled_dt.isoformat()} -> {b.scheduled_dt.isoformat()}"
                        )
            result[job_id] = {
                "runs": len(job_runs),
                "expected": expected,
                "ok": sum(r.status == "ok" for r in job_runs),
                "problems": problems,
            }
        soak_seconds = float(os.environ.get("SOAK_SECONDS", "0") or 0)
        for job_id, spec in specs.items():
            if spec.trigger != "interval" or job_id in by_job:
                continue
            step = timedelta(**spec.trigger_args).total_seconds()
            if soak_seconds > 2 * step + 30:
                result[job_id] = {
                    "runs": 0,
                    "expected": int(soak_seconds // step) - 1,
                    "ok": 0,
                    "problems": [f"never ran in {soak_seconds:.0f}s (every {step:.0f}s)"],
                }
        if "ops.heartbeat" in by_job:
            from app.ops.models import SchedulerHeartbeat

            beats = db.session.scalars(select(SchedulerHeartbeat.scheduled_dt)).all()
            runs = {r.scheduled_dt for r in by_job["ops.heartbeat"] if r.status == "ok"}
            if set(beats) != runs or len(beats) != len(runs):
                result["ops.heartbeat"]["problems"].append(
                    f"{len(beats)} heartbeats for {len(runs)} successful runs"
                )
        records = _record_counts()
    print(json.dumps({"jobs": result, "records": records}))


def _record_counts() -> dict:
    """What the soak left behind: declarations, profile hits, alerts and deliveries by
    status, articles."""
    from sqlalchemy import func, select

    from app.alerts.models import Alert, AlertEvent, Delivery
    from app.extensions import db
    from app.risk.models import Declaration, ProfileHit
    from app.textmining.models import Article

    def by_status(model):
        rows = db.session.execute(select(model.status, func.count()).group_by(model.status))
        return dict(sorted(rows.all()))

    answered = {}
    path = os.environ.get("SOAK_ANSWERED_FILE")
    if path and os.path.exists(path):
        for line in Path(path).read_text().splitlines():
            number, _, when = line.partition(" ")
            answered[number] = when
    from app.security.trail_verify import verify_trail

    # The chain, every checkpoint the worker signed during the run, and the triggers.
    verified = verify_trail()
    chain_ok, chain_rows = verified.ok, verified.rows
    chain_message = "; ".join(verified.lines())
    page_latency = _page_latency(answered)
    stored = set(db.session.scalars(select(Declaration.number)))
    lost = sorted(f"{n} (answered at {answered[n]})" for n in set(answered) - stored)
    return {
        "declarations": db.session.scalar(select(func.count()).select_from(Declaration)),
        "declarations answered but not stored": lost,
        # many writers in 5 processes chained rows at once: the chain must still verify
        "access trail": f"{chain_rows} rows, chain and checkpoints "
        + ("verified" if chain_ok else f"BROKEN: {chain_message}"),
        "profile hits": db.session.scalar(select(func.count()).select_from(ProfileHit)),
        "alerts": by_status(Alert),
        "deliveries": by_status(Delivery),
        "articles": db.session.scalar(select(func.count()).select_from(Article)),
        "declaration to open page": page_latency,
        # a lost update: two officers both told they acknowledged the same alert
        "alerts acknowledged twice": db.session.scalar(
            select(func.count()).select_from(
                select(AlertEvent.alert_id)
                .where(AlertEvent.action == "acknowledged")
                .group_by(AlertEvent.alert_id)
                .having(func.count() > 1)
                .subquery()
            )
        ),
    }


def _page_latency(answered: dict) -> dict:
    """From a declaration's 201 to the first open page of the alerted supervisor that knew of
    its alert. A page that sees a newer alert knows every older one too (its inbox list is
    refreshed), so each alert takes the first sighting of itself or of a newer alert."""
    from sqlalchemy import select

    from app.alerts.models import Alert
    from app.extensions import db

    path = os.environ.get("SOAK_SEEN_FILE")
    if not path or not os.path.exists(path):
        return {"alerts": 0}
    sightings = sorted(
        (float(when), int(alert_id))
        for alert_id, when in (ln.split() for ln in Path(path).read_text().splitlines() if ln)
    )
    alerts = db.session.execute(
        select(Alert.id, Alert.subject_label)
        .where(Alert.subject_type == "declaration")
        .order_by(Alert.id)
    ).all()
    latencies, unseen = [], 0
    for alert in alerts:
        seen = next((when for when, newest in sightings if newest >= alert.id), None)
        if alert.subject_label not in answered:
            continue
        if seen is None:
            unseen += 1
            continue
        latencies.append(seen - float(answered[alert.subject_label]))
    if not latencies:
        return {"alerts": 0, "never seen": unseen}
    latencies.sort()

    def pct(p):
        return round(latencies[min(len(latencies) - 1, int(p / 100 * len(latencies)))], 2)

    return {"alerts": len(latencies), "never seen": unseen, "p50_s": pct(50), "p95_s": pct(95)}


# --- the orchestration ---------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_http(url: str, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=5) as resp:  # noqa: S310 - 127.0.0.1
                if resp.status == 200:
                    return
        except OSError:
            time.sleep(0.5)
    raise RuntimeError(f"{url} did not answer")


def _run_inside(env: dict, what: str) -> dict:
    done = subprocess.run(
        [PY, str(Path(__file__).resolve()), what],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"{what} failed:\n{done.stderr[-4000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def _postgres_database(server_url: str):
    """Create a fresh database for one soak; returns (url for Tollgate, drop function)."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    server = make_url(server_url.replace("postgresql://", "postgresql+psycopg://", 1))
    name = f"tollgate_soak_{uuid.uuid4().hex[:8]}"
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
        if os.environ.get("SOAK_PG_LOG_STATEMENTS"):
            # Diagnosis only: the server logs every statement of this database (pid-tagged
            # with the server's log_line_prefix), e.g. to follow one request's transaction.
            level = os.environ["SOAK_PG_LOG_STATEMENTS"]
            if level not in ("mod", "all"):
                raise SystemExit("SOAK_PG_LOG_STATEMENTS must be mod or all")
            conn.execute(text(f"ALTER DATABASE \"{name}\" SET log_statement = '{level}'"))

    def drop():
        with admin.connect() as conn:
            conn.execute(
                text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :n"),
                {"n": name},
            )
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        admin.dispose()

    return server.set(database=name).render_as_string(hide_password=False), drop


def _stats(prefix: Path) -> dict:
    rows = {}
    with open(f"{prefix}_stats.csv", newline="") as fh:
        for row in csv.DictReader(fh):
            rows[row["Name"]] = {
                "requests": int(row["Request Count"]),
                "failures": int(row["Failure Count"]),
                "rps": round(float(row["Requests/s"]), 2),
                "p50_ms": float(row["50%"] or 0),
                "p95_ms": float(row["95%"] or 0),
                "p99_ms": float(row["99%"] or 0),
            }
    return rows


def _failures(prefix: Path) -> list[dict]:
    path = Path(f"{prefix}_failures.csv")
    if not path.exists():
        return []
    with open(path, newline="") as fh:
        return [
            {"name": r["Name"], "error": r["Error"][:300], "occurrences": int(r["Occurrences"])}
            for r in csv.DictReader(fh)
        ]


def soak(
    backend: str, seconds: int, users: int, workdir: Path, server_url: str | None, keep: bool
) -> dict:
    from feeds import serve

    print(f"\n== soak on {backend}: {users} users for {seconds}s ==", flush=True)
    instance = workdir / backend
    instance.mkdir(parents=True)
    drop = None
    if backend == "sqlite":
        db_url = f"sqlite:///{instance / 'tollgate.db'}"
    else:
        db_url, drop = _postgres_database(server_url)
    feed_server = serve()
    port = _free_port()
    env = {
        **os.environ,
        "TOLLGATE_DATABASE_URL": db_url,
        "TOLLGATE_SECRET_KEY": uuid.uuid4().hex,
        "TOLLGATE_SECURE_COOKIES": "0",
        "TOLLGATE_EVIDENCE_DIR": str(instance / "evidence"),
        "TOLLGATE_SEARCH_DIR": str(instance / "search"),
        "TOLLGATE_WORKER_LOCK": str(instance / "worker.lock"),
        # The trail's checkpoints and their key stay with this run (never in instance/ of the
        # checkout); one a minute, so the run's verification checks several.
        "TOLLGATE_TRAIL_CHECKPOINT_FILE": str(instance / "trail-checkpoints.jsonl"),
        "TOLLGATE_TRAIL_CHECKPOINT_KEY_FILE": str(instance / "trail-checkpoint.key"),
        "TOLLGATE_TRAIL_CHECKPOINT_MINUTES": "1",
        "TOLLGATE_FEED_ALLOWED_HOSTS": "127.0.0.1",
        "TOLLGATE_SMTP_PORT": str(_free_port()),  # nothing listens: delivery retries, no e-mail
        "TOLLGATE_TEST_JOBS": "1",
        "TOLLGATE_TEST_JOB_SECONDS": str(HEARTBEAT_SECONDS),
        "SOAK_FEED_URL": f"http://127.0.0.1:{feed_server.server_address[1]}/customs.rss",
        "PYTHONUNBUFFERED": "1",
    }
    env["SOAK_PAGES_FILE"] = str(instance / "pages.json")
    env["SOAK_SEEN_FILE"] = str(instance / "seen.txt")
    report = {
        "backend": backend,
        "seconds": seconds,
        "users": users,
        "open_pages": PAGES,
        "problems": [],
    }
    procs = []
    try:
        setup = _run_inside(env, "setup")
        report["notes"] = setup["notes"]
        for note in setup["notes"]:
            print(f"note: {note}")
        app_log = open(instance / "app.log", "w")  # noqa: SIM115 - closed below
        worker_log = open(instance / "worker.log", "w")  # noqa: SIM115
        gunicorn = [
            # production settings, as `tollgate serve`: gthread, 8 threads, keep-alive 5 s
            PY, "-m", "gunicorn", "--config", str(ROOT / "app" / "gunicorn_conf.py"),
            "--workers", "4", "--bind", f"127.0.0.1:{port}", "--timeout", "60",
            "--access-logfile", str(instance / "access.log"),
            "--access-logformat", "%(s)s %(m)s %(U)s %(M)s %(t)s",
            "app.wsgi:app",
        ]  # fmt: skip
        procs.append(subprocess.Popen(gunicorn, env=env, cwd=ROOT, stdout=app_log, stderr=app_log))
        procs.append(
            subprocess.Popen(
                [PY, "-m", "app.cli", "worker"],
                env=env,
                cwd=ROOT,
                stdout=worker_log,
                stderr=worker_log,
            )
        )
        _wait_http(f"http://127.0.0.1:{port}/healthz")
        prefix = instance / "locust"
        answered = instance / "answered.txt"
        started = time.monotonic()
        locust = subprocess.run(
            [
                str(Path(PY).parent / "locust"), "-f", str(HERE / "locustfile.py"),
                "--headless", "-u", str(users + PAGES + SIGN_IN_USERS),
                "-r", str(max(1, (users + PAGES) // 10)),
                "-t", f"{seconds}s", "--host", f"http://127.0.0.1:{port}",
                "--csv", str(prefix), "--only-summary", "--stop-timeout", "10",
            ],
            env={
                **env,
                "SOAK_TOKEN": setup["token"],
                "SOAK_ANSWERED_FILE": str(answered),
                "SOAK_SIGNER": json.dumps(setup["signer"]),
            },
            cwd=HERE,
            capture_output=True,
            text=True,
            check=False,
        )  # fmt: skip
        elapsed = time.monotonic() - started
        for line in locust.stdout.splitlines() + locust.stderr.splitlines():
            if line.startswith("soak:"):
                print(line)
                report.setdefault("notes", []).append(line)
        report["requests"] = _stats(prefix)
        report["locust_failures"] = _failures(prefix)
        report["elapsed_s"] = round(elapsed, 1)
    finally:
        for proc in reversed(procs):
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in procs:
            try:
                proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                proc.kill()
        feed_server.shutdown()
        feed_server.server_close()
    report["feed_requests"] = feed_server.hits
    statuses = {}
    for line in (instance / "access.log").read_text().splitlines():
        code = line.split(" ", 1)[0]
        statuses[code] = statuses.get(code, 0) + 1
    report["status_codes"] = dict(sorted(statuses.items()))
    failed = sum(f["occurrences"] for f in report.get("locust_failures", []))
    if failed:
        report["problems"].append(f"{failed} requests failed (see the failures above)")
    server_errors = sum(n for code, n in statuses.items() if code.startswith("5"))
    if server_errors:
        report["problems"].append(f"{server_errors} responses with a 5xx status")
    for name in ("app.log", "worker.log"):
        bad = [ln for ln in (instance / name).read_text().splitlines() if LOG_PROBLEMS.search(ln)]
        if bad:
            report["problems"].append(f"{name}: {len(bad)} error lines, first: {bad[0][:300]}")
    checked = _run_inside(
        {**env, "SOAK_SECONDS": str(seconds), "SOAK_ANSWERED_FILE": str(instance / "answered.txt")},
        "check",
    )
    report["jobs"], report["records"] = checked["jobs"], checked["records"]
    if report["records"]["declarations answered but not stored"]:
        report["problems"].append(
            "declarations answered 201 but not stored: "
            + ", ".join(report["records"]["declarations answered but not stored"][:5])
        )
    seen = report["records"]["declaration to open page"]
    if seen.get("never seen"):
        report["problems"].append(f"{seen['never seen']} alerts never reached an open page")
    if "BROKEN" in report["records"]["access trail"]:
        report["problems"].append(f"access trail: {report['records']['access trail']}")
    if report["records"]["alerts acknowledged twice"]:
        report["problems"].append(
            f"{report['records']['alerts acknowledged twice']} alerts acknowledged twice"
        )
    for job_id, job in report["jobs"].items():
        if job["problems"] or job["runs"] != job["expected"]:
            report["problems"].append(
                f"job {job_id}: {job['runs']} runs for {job['expected']} triggers; "
                + "; ".join(job["problems"][:3])
            )
    if drop and not keep:
        drop()
    elif drop:
        print(f"database kept: {db_url}")
    total = sum(r["requests"] for name, r in report["requests"].items() if name != "Aggregated")
    report["throughput_rps"] = round(total / max(report["elapsed_s"], 1), 1)
    return report


def _print(report: dict) -> None:
    print(f"\n{report['backend']}: {report['throughput_rps']} requests/s over "
          f"{report['elapsed_s']}s, {report['users']} users, "
          f"{report['open_pages']} open pages")  # fmt: skip
    print(f"{'request type':32} {'count':>7} {'fail':>5} {'rps':>6} {'p50':>7} {'p95':>7} "
          f"{'p99':>7}")  # fmt: skip
    for name, r in report["requests"].items():
        print(f"{name:32} {r['requests']:>7} {r['failures']:>5} {r['rps']:>6} "
              f"{r['p50_ms']:>6.0f}ms {r['p95_ms']:>6.0f}ms {r['p99_ms']:>6.0f}ms")  # fmt: skip
    print(f"status codes: {report['status_codes']}; feed polls served: {report['feed_requests']}")
    for job_id, job in report["jobs"].items():
        print(f"job {job_id:28} {job['runs']:>4} runs / {job['expected']:>4} triggers")
    print("records: " + "; ".join(f"{k} {v}" for k, v in report["records"].items()))
    for failure in report["locust_failures"][:10]:
        print(f"  failure x{failure['occurrences']} {failure['name']}: {failure['error']}")
    verdict = "PASS" if not report["problems"] else "FAIL: " + " | ".join(report["problems"])
    print(verdict)


def main() -> int:
    if len(sys.argv) > 1 and sys.argv[1] in ("setup", "check"):
        sys.path.insert(0, str(ROOT))
        (_setup if sys.argv[1] == "setup" else _check)()
        return 0
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--backend", choices=["sqlite", "postgres", "both"], default="both")
    parser.add_argument(
        "--json", default=str(ROOT / "instance" / "soak-report.json"), help="report file"
    )
    parser.add_argument(
        "--keep",
        action="store_true",
        help="keep logs, the SQLite folder and the PostgreSQL database",
    )
    args = parser.parse_args()
    seconds = int(os.environ.get("SOAK_SECONDS", "600"))
    users = int(os.environ.get("SOAK_USERS", "50"))
    server_url = os.environ.get("SOAK_POSTGRES_URL") or os.environ.get(
        "TOLLGATE_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test"
    )
    backends = ["sqlite", "postgres"] if args.backend == "both" else [args.backend]
    workdir = Path(tempfile.mkdtemp(prefix="tollgate-soak-"))
    sys.path.insert(0, str(HERE))
    sys.path.insert(0, str(ROOT))
    reports = []
    try:
        for backend in backends:
            report = soak(backend, seconds, users, workdir, server_url, args.keep)
            _print(report)
            reports.append(report)
    finally:
        if args.keep:
            print(f"logs kept in {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    Path(args.json).parent.mkdir(parents=True, exist_ok=True)
    Path(args.json).write_text(json.dumps(reports, indent=1))
    print(f"\nreport written to {args.json}")
    return 1 if any(r["problems"] for r in reports) else 0


if __name__ == "__main__":
    sys.exit(main())
