"""Screening at scale: load a list of 1,000,000 entries, build the index, screen parties.

    .venv/bin/python bench/bench_screening.py [--entries 1000000] [--parties 5000] [--json]
        [--keep DIR | --reuse DIR] [--pools diverse|small]

Generates a synthetic OpenSanctions-like FtM file (bench/screening_data.py), loads it with the
real loader (``app.screening.loader.load_list``: check pass, then store pass) into a fresh
SQLite database in a temporary folder, builds the in-memory index from the database
(``service.active_index()``, timed, RSS before and after), then screens parties: a share are
variants of listed entries (re-ordered, other script, a typo, another company form: the
recall at scale), the rest unlisted names from the same generators (how many hit a namesake).
Per-party times are of the index's uncached path (``ScreeningIndex.screen(..., cache=False)``)
and of the warm cache (a party screened again). Baseline, side by side: the same names
scored without blocking (rapidfuzz ``process.extractOne`` over every listed name) on a few
parties. Prints figures; never asserts a time.

For the assessment comparison (screening on/off) bench code can reuse ``build(entries)``,
which returns (app, index, tmpdir) with the list loaded and the index warm.
"""

import argparse
import json
import resource
import statistics
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import screening_data  # noqa: E402


def rss_mib() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


#: another process writing to the database while the list loads, as a web worker storing
#: declarations does: a short write transaction every 100 ms, each one's wait for the write
#: lock timed (busy timeout 30 s, the platform's), until the stop file appears
_WRITER = """
import json, os, sqlite3, sys, time
conn = sqlite3.connect(sys.argv[1], timeout=30, isolation_level=None)
conn.execute("CREATE TABLE IF NOT EXISTS bench_probe (n INTEGER)")
waits, failed = [], 0
while not os.path.exists(sys.argv[2]):
    t0 = time.perf_counter()
    try:
        conn.execute("BEGIN IMMEDIATE")
        waits.append(time.perf_counter() - t0)
        conn.execute("INSERT INTO bench_probe VALUES (1)")
        conn.execute("COMMIT")
    except sqlite3.OperationalError:
        failed += 1
    time.sleep(0.1)
print(json.dumps({"writes": len(waits), "failed": failed, "waits": waits}))
"""


def _start_writer(db_path: Path):
    import subprocess

    stop = db_path.with_suffix(".stop")
    stop.unlink(missing_ok=True)
    proc = subprocess.Popen(
        [sys.executable, "-c", _WRITER, str(db_path), str(stop)], stdout=subprocess.PIPE, text=True
    )
    return proc, stop


def _writer_figures(proc, stop: Path) -> dict:
    stop.touch()
    out = json.loads(proc.communicate()[0])
    waits = [w * 1000 for w in out["waits"]] or [0.0]
    return {
        "writer_during_load_writes": out["writes"],
        "writer_during_load_failed": out["failed"],
        "writer_wait_ms_p50": round(statistics.median(waits), 1),
        "writer_wait_ms_p99": round(_pct(waits, 99), 1),
        "writer_wait_ms_max": round(max(waits), 1),
    }


def _baseline_reload(path: Path, db_path: Path) -> dict:
    """The same file loaded again as a new version the way the loader did before it staged
    versions: every batch in one transaction (``_commit_batch`` does not commit), the writer
    waiting meanwhile. Then the staged loader once more, so both reloads are side by side."""
    from app.extensions import db
    from app.screening import loader
    from app.security.access import Actor

    out = {}
    for name, commit in (("one_transaction", lambda: None), ("staged", loader._commit_batch)):
        saved, loader._commit_batch = loader._commit_batch, commit
        proc = _start_writer(db_path)
        t0 = time.perf_counter()
        try:
            loader.load_list(path, name="Synthetic sanctions", source="bench",
                             version_date=date(2026, 12, 2), sensitivity="P",
                             actor=Actor.system("bench"))  # fmt: skip
            db.session.commit()
        finally:
            loader._commit_batch = saved
        out[f"reload_{name}_s"] = round(time.perf_counter() - t0, 1)
        out.update({f"reload_{name}_{k}": v for k, v in _writer_figures(*proc).items()})
    return out


def build(entries: int, workdir: Path | None = None, figures: dict | None = None,
          writer: bool = False):  # fmt: skip
    """An app on a fresh SQLite database holding a list of ``entries``, its index warm
    (names from ``screening_data``'s current pools, which name the file)."""
    from app import create_app
    from app.extensions import db
    from app.screening import loader, service
    from app.security.access import Actor

    figures = {} if figures is None else figures
    tmp = Path(workdir or tempfile.mkdtemp(prefix="tollgate-bench-screening-"))
    tmp.mkdir(parents=True, exist_ok=True)
    path = tmp / f"list-{entries}-{screening_data.POOLS['name']}.ftm.json"
    t0 = time.perf_counter()
    if not path.exists():
        screening_data.generate(entries, path)
    figures["generate_s"] = round(time.perf_counter() - t0, 1)
    figures["file_mib"] = round(path.stat().st_size / 2**20, 1)
    for stale in tmp.glob("bench.db*"):
        stale.unlink()
    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp / 'bench.db'}",
                      "INSTANCE_PATH": str(tmp), "SECRET_KEY": "bench"})  # fmt: skip
    with app.app_context():
        db.create_all()
        writer_proc = _start_writer(tmp / "bench.db") if writer else None
        t0, c0 = time.perf_counter(), time.process_time()
        version = loader.load_list(path, name="Synthetic sanctions", source="bench",
                                   version_date=date(2026, 12, 1), sensitivity="P",
                                   actor=Actor.system("bench"))  # fmt: skip
        db.session.commit()
        figures["load_s"] = round(time.perf_counter() - t0, 1)
        # CPU seconds of this process: the wall time on a shared machine is an upper bound
        figures["load_cpu_s"] = round(time.process_time() - c0, 1)
        if writer_proc is not None:
            figures.update(_writer_figures(*writer_proc))
            figures.update(_baseline_reload(path, tmp / "bench.db"))
        figures["entries"] = version.entry_count
        figures["rss_before_index_mib"] = round(rss_mib(), 1)
        t0, c0 = time.perf_counter(), time.process_time()
        service.invalidate()
        index = service.active_index()
        figures["index_build_s"] = round(time.perf_counter() - t0, 1)
        figures["index_build_cpu_s"] = round(time.process_time() - c0, 1)
        figures["rss_after_index_mib"] = round(rss_mib(), 1)
        figures["index_own_mib"] = round(
            sum(s.memory_bytes() for s in index.segments.values()) / 2**20, 1
        )
        figures["blocking_keys"] = sum(len(s.key_ids) for s in index.segments.values())
        figures["postings"] = sum(len(s.postings) for s in index.segments.values())
    return app, index, tmp


def reuse(folder: Path, figures: dict):
    """An app on a kept folder's database (list loaded); the index built, timed."""
    from app import create_app
    from app.screening import service

    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{folder / 'bench.db'}",
                      "INSTANCE_PATH": str(folder), "SECRET_KEY": "bench"})  # fmt: skip
    with app.app_context():
        t0, c0 = time.perf_counter(), time.process_time()
        index = service.active_index()
        figures["index_build_s"] = round(time.perf_counter() - t0, 1)
        figures["index_build_cpu_s"] = round(time.process_time() - c0, 1)
        figures["rss_after_index_mib"] = round(rss_mib(), 1)
    return app, index


def list_statistics(index, parties) -> dict:
    """What lets a reader judge the synthetic list: how long the posting lists are, and how
    many entries a query's blocking leaves to score."""
    import numpy as np

    from app.screening.service import prepare

    lengths = np.concatenate([np.diff(s.offsets) for s in index.segments.values()])
    scored = []
    for query, _e, _k in parties:
        prepared = prepare(query)
        scored.append(sum(len(s.candidates(prepared)) for s in index.segments.values()))
    q = np.percentile(lengths, [50, 90, 99, 99.9]).round(1).tolist()
    return {
        "postings_len_p50_p90_p99_p999": q,
        "postings_len_max": int(lengths.max()),
        "keys_over_1000_entries": int((lengths > 1000).sum()),
        "candidates_scored_mean": round(float(np.mean(scored)), 2),
        "candidates_scored_p50_p99": [
            float(np.percentile(scored, 50)),
            float(np.percentile(scored, 99)),
        ],  # fmt: skip
    }


def _pct(values, p):
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))]


def measure(index, parties) -> dict:
    times, cpu, cached, found, by_kind, unlisted_hits = [], [], [], 0, {}, 0
    for query, expected, kind in parties:
        t0, c0 = time.perf_counter(), time.thread_time()
        matches = index.screen(query, cache=False)
        times.append(time.perf_counter() - t0)
        cpu.append(time.thread_time() - c0)
        index.screen(query)
        t0 = time.perf_counter()
        index.screen(query)
        cached.append(time.perf_counter() - t0)
        ids = {m.entry_id for m in matches}
        if expected is None:
            unlisted_hits += bool(ids)
        else:
            ok = expected in ids
            found += ok
            hit, total = by_kind.get(kind, (0, 0))
            by_kind[kind] = (hit + ok, total + 1)
    listed = sum(1 for _q, e, _k in parties if e is not None)
    ms = [t * 1000 for t in times]
    return {
        "parties": len(parties),
        "listed_variants": listed,
        "recall": round(found / listed, 4) if listed else None,
        "recall_by_kind": {k: f"{h}/{t}" for k, (h, t) in sorted(by_kind.items())},
        "unlisted_with_a_hit": round(unlisted_hits / max(1, len(parties) - listed), 4),
        "screen_ms_p50": round(statistics.median(ms), 3),
        "screen_ms_p99": round(_pct(ms, 99), 3),
        "screen_ms_max": round(max(ms), 3),
        # CPU time of the screening thread: what the machine's other load does not inflate
        "screen_cpu_ms_p50": round(statistics.median(t * 1000 for t in cpu), 3),
        "screen_cpu_ms_p99": round(_pct([t * 1000 for t in cpu], 99), 3),
        "cached_ms_p99": round(_pct([t * 1000 for t in cached], 99), 4),
    }


def baseline(index, parties, n: int = 5) -> dict:
    """No blocking: every listed name scored with rapidfuzz against the party's name."""
    from rapidfuzz import fuzz, process

    from app.screening.normalize import name_tokens

    names = [line for s in index.segments.values() for line in s.names]
    times = []
    for query, _e, _k in parties[:n]:
        text = " ".join(name_tokens(query.name, query.schema))
        t0 = time.perf_counter()
        process.extractOne(text, names, scorer=fuzz.token_sort_ratio)
        times.append((time.perf_counter() - t0) * 1000)
    return {"full_scan_parties": n, "full_scan_ms_median": round(statistics.median(times), 1)}


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--entries", type=int, default=1_000_000)
    parser.add_argument("--parties", type=int, default=5000)
    parser.add_argument("--keep", type=Path, help="work folder to keep (and reuse the file)")
    parser.add_argument("--reuse", type=Path, help="a --keep folder: its database as it is")
    parser.add_argument("--pools", choices=("diverse", "small"), default="diverse",
                        help="name pools of the synthetic list; small: the hard case")  # fmt: skip
    parser.add_argument(
        "--writer", action="store_true", help="another process writes every 100 ms meanwhile"
    )
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    screening_data.use_pools(args.pools)

    figures: dict = {"rss_start_mib": round(rss_mib(), 1), "pools": args.pools}
    if args.reuse:
        app, index = reuse(args.reuse, figures)
    else:
        app, index, _tmp = build(args.entries, args.keep, figures, writer=args.writer)
    parties = screening_data.parties(args.parties, args.entries)
    with app.app_context():
        figures.update(measure(index, parties))
        figures.update(list_statistics(index, parties))
        figures.update(baseline(index, parties))
    figures["rss_end_mib"] = round(rss_mib(), 1)
    figures["rss_peak_mib"] = round(peak_mib(), 1)
    figures["load_avg"] = Path("/proc/loadavg").read_text().split()[:3]
    if args.json:
        print(json.dumps(figures))
        return
    width = max(map(len, figures))
    for key, value in figures.items():
        print(f"{key:{width}}  {value}")


if __name__ == "__main__":
    main()
