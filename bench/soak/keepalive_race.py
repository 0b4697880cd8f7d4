"""The keep-alive race on its own: how many requests over reused connections are reset
unanswered when clients pause about as long as gunicorn keeps an idle connection.

Starts gunicorn (gthread, as Tollgate runs it) around a tiny WSGI app that answers 201, once
with gunicorn's default keep-alive of 2 s and once with Tollgate's 5 s (app/gunicorn_conf.py),
and sends from THREADS clients ROUNDS requests each over one kept connection apiece, pausing
1.95-2.05 s between them. Session 5 measured: 2 s, 2 resets in 1,000; 5 s, none.

Usage: python bench/soak/keepalive_race.py [--threads N] [--rounds N] [--json]
"""

import argparse
import json
import random
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import requests

APP = """
def app(environ, start_response):
    environ["wsgi.input"].read()
    start_response("201 Created", [("Content-Type", "text/plain"), ("Content-Length", "2")])
    return [b"ok"]
"""


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run(keepalive: int, threads: int, rounds: int) -> dict:
    workdir = Path(tempfile.mkdtemp(prefix="keepalive-race-"))
    (workdir / "race_app.py").write_text(APP)
    port = _port()
    server = subprocess.Popen(  # noqa: S603 - our own gunicorn, 127.0.0.1
        [sys.executable, "-m", "gunicorn", "--workers", "2", "--worker-class", "gthread",
         "--threads", "8", "--keep-alive", str(keepalive), "--no-control-socket",
         "--bind", f"127.0.0.1:{port}", "race_app:app"],
        cwd=workdir, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}/"
    try:
        for _ in range(100):
            try:
                requests.get(url, timeout=2)
                break
            except requests.RequestException:
                time.sleep(0.1)
        answered, resets = [0], []
        lock = threading.Lock()

        def client():
            session = requests.Session()
            for _ in range(rounds):
                try:
                    ok = session.post(url, json={"n": 1}, timeout=30).status_code == 201
                    with lock:
                        answered[0] += ok
                except requests.RequestException as exc:
                    with lock:
                        resets.append(type(exc.__context__ or exc).__name__)
                time.sleep(random.uniform(1.95, 2.05))  # noqa: S311 - not cryptographic

        workers = [threading.Thread(target=client) for _ in range(threads)]
        for w in workers:
            w.start()
        for w in workers:
            w.join()
    finally:
        server.terminate()
        server.wait(timeout=30)
    return {"keepalive_s": keepalive, "requests": threads * rounds, "answered": answered[0],
            "reset_unanswered": len(resets)}  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=40)
    parser.add_argument("--rounds", type=int, default=25)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    results = [run(k, args.threads, args.rounds) for k in (2, 5)]
    if args.json:
        print(json.dumps(results, indent=2))
        return
    print(f"{'keep-alive':>10} {'requests':>9} {'answered':>9} {'reset unanswered':>17}")
    for r in results:
        who = "gunicorn's default" if r["keepalive_s"] == 2 else "Tollgate"
        print(
            f"{r['keepalive_s']:>8} s {r['requests']:>9} {r['answered']:>9} "
            f"{r['reset_unanswered']:>17}   ({who})"
        )


if __name__ == "__main__":
    main()
