"""A declaration's assessment in process with party screening on and off, side by side.

    .venv/bin/python bench/bench_screening_assess.py [--entries 1000000] [--declarations 2000]
        [--keep DIR | --reuse DIR] [--pools diverse|small] [--parties distinct|kcs] [--json]

Loads a synthetic list of ``--entries`` (bench/bench_screening.py ``build``: the real loader
into a fresh SQLite database, the index warm), seeds the reference lists and a realistic
profile set (the sanctions profile on ``party_on_list``, one on ``party_screening_score`` and
a few HS/origin profiles; random selection off), then submits declarations through
``app.risk.assessment.submit_declaration`` (parse, store, engine, screening, hits, signals,
trail), alternating screening on and off declaration by declaration in the same run:
"off" unregisters the party screener (``providers.register_party_screener(None)``), so
the difference is the screening alone. Each declaration names an importer and a seller in
its ``parties`` block and a declarant by trader code only (the registry look-up); about 2 %
of the names are variants of listed entries (hits, stored). ``--parties distinct``: every
name new (the index's result cache never helps: the worst case); ``--parties kcs``: the
importers and sellers repeat as KCS train.csv's trader IDs do. Per declaration: wall time
and the thread's CPU time (``thread_time``: what the machine's other load inflates least),
and the screener's own CPU; the load average is printed beside them, and the cyclic
collector's pauses in the timed window. The p99 of what screening adds (a difference of two
p99s) comes with its 95 % bootstrap interval over the declarations. The screened declarations
none of whose parties matched (no hit row, no red channel: the common case on a real list)
and those with a match are also compared on their own. The process is readied as a web worker is
(``registry.ready_worker``: the warm-ups, then ``gc.freeze()``). Commits every 50
declarations, outside the timed call, and then runs the worker's ``risk-screening-hits``
job there (a declaration's request flags its matches; the worker writes the hits): its CPU
per declaration with a match is printed.
Prints figures (and JSON with --json); never asserts a time.
"""

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import screening_data  # noqa: E402
from bench.bench_screening import build, rss_mib  # noqa: E402

LIST_NAME = "Synthetic sanctions"
COMMIT_EVERY = 50


def _pct(values, p):
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))]


def _setup() -> None:
    from app.extensions import db
    from app.reference import service as reference
    from app.risk import engine
    from app.risk.settings import set_rates
    from app.security.access import Actor
    from tests.risk.factories import cond, profile, tree

    actor = Actor.system("bench")
    reference.ensure("standard", "demo", "kcs")
    lanes = ("blue", "yellow", "orange", "red")
    set_rates({c: {"target_rate": 0.05, "min_random_rate": 0.0} for c in lanes}, actor=actor)
    on_list = cond("party_on_list", "on_any", [LIST_NAME])
    profile(actor, name="Party on sanctions list", conditions=tree(on_list), channel="red")
    strong = cond("party_screening_score", "gte", 0.9)
    profile(actor, name="Strong screening score", conditions=tree(strong), channel="orange")
    for n, (hs, origin) in enumerate([("8517", "CN"), ("6403", "VN"), ("2402", "AE"),
                                      ("8471", "TW"), ("0808", "US")]):  # fmt: skip
        profile(actor, name=f"Bench profile {n}",
                conditions=tree(cond("hs_code", "prefix", [hs]), cond("origin", "eq", origin)),
                channel="yellow")  # fmt: skip
    db.session.commit()
    engine.reset_cache()


KCS = Path(__file__).resolve().parent.parent.parent / "shared" / "data" / "kcs" / "train.csv"
#: KCS rows screened before the timed window (the result cache as a running worker has it)
KCS_WARM_ROWS = 20_000


def _body(i: int, named: list[dict]) -> dict:
    return {
        "number": f"BSA{i:07d}",
        "date": "2026-12-01",
        "office": "BCP-N",
        "procedure": "4000",
        "transport_mode": "3",
        "declarant": f"DCL{i % 97:03d}",
        "importer": f"IMP{i:06d}",
        "seller": f"SEL{i:06d}",
        "parties": named,
        "items": [{"hs_code": "8517620000", "origin": "CN", "value": 1000.0, "mass": 10.0}],
    }


def _named(role: str, query) -> dict:
    kind = "person" if query.schema == "Person" else "company"
    return {"role": role, "name": query.name[:300], "kind": kind}


def _bodies(n: int, entries: int) -> list[dict]:
    """Declaration bodies, two named parties each, all distinct (2 % listed variants among
    the names): the worst case, the index's result cache never helps."""
    parties = screening_data.parties(2 * n, entries, listed_share=0.02)
    return [
        _body(i, [_named(role, q) for role, (q, _e, _k) in
                  zip(("importer", "seller"), parties[2 * i : 2 * i + 2], strict=True)])
        for i in range(n)
    ]  # fmt: skip


def _kcs_bodies(n: int, entries: int) -> tuple[list[dict], list[dict]]:
    """(warm-up parties, bodies): the importer and seller of KCS train.csv's rows in file
    order, each distinct trader ID given one synthetic name, so parties repeat as the real
    traders do (76 % of the parties of rows 20,000-21,000 appeared in the 20,000 rows before).
    The first KCS_WARM_ROWS rows' parties are screened before the timed declarations."""
    import csv

    with KCS.open(encoding="utf-8") as fh:
        rows = [(r["Importer ID"], r["Seller ID"]) for r in csv.DictReader(fh)]
    rows = rows[: KCS_WARM_ROWS + n]
    ids = list(dict.fromkeys(("importer", imp) for imp, _s in rows) | dict.fromkeys(
        ("seller", sel) for _i, sel in rows))  # fmt: skip
    pool = screening_data.parties(len(ids), entries, listed_share=0.02)
    names = {key: _named(key[0], q) for key, (q, _e, _k) in zip(ids, pool, strict=True)}
    warm = [names[("importer", imp)] for imp, _s in rows[:KCS_WARM_ROWS]]
    warm += [names[("seller", sel)] for _i, sel in rows[:KCS_WARM_ROWS]]
    bodies = [
        _body(i, [names[("importer", imp)], names[("seller", sel)]])
        for i, (imp, sel) in enumerate(rows[KCS_WARM_ROWS:])
    ]
    return warm, bodies


def _warm(index, named: list[dict]) -> None:
    """Screen parties as the screener does (same query, so the same cache key)."""
    from app.screening.receivers import _query

    for data in named:
        index.screen(_query({**data, "country": None, "identifiers": [], "birth_date": None}))


def _is_set_up() -> bool:
    from sqlalchemy import select

    from app.extensions import db
    from app.risk.models import RiskProfile as Profile

    return (
        db.session.scalar(select(Profile.id).where(Profile.name == "Party on sanctions list"))
        is not None
    )


def _reuse(folder: Path, figures: dict):
    """An app on an earlier run's database; the index built (timed) as a new process would."""
    from app import create_app
    from app.screening import service

    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{folder / 'bench.db'}",
                      "INSTANCE_PATH": str(folder), "SECRET_KEY": "bench"})  # fmt: skip
    with app.app_context():
        t0 = time.perf_counter()
        index = service.active_index()
        figures["index_build_s"] = round(time.perf_counter() - t0, 1)
        figures["rss_after_index_mib"] = round(rss_mib(), 1)
    return app, index


def _timed_screener(cpu: list):
    """The party screener, its own CPU time (thread_time) noted per declaration."""
    from app.screening import receivers

    def screener(decl):
        c0 = time.thread_time()
        try:
            return receivers.screen_declaration(decl)
        finally:
            cpu.append(time.thread_time() - c0)

    return screener


class _Pauses:
    """The cyclic collector's pauses during the timed window (``gc.callbacks``), by
    generation: a collection lands on whichever declaration allocates past the threshold,
    screened or not, and is part of its time."""

    def __init__(self):
        self.started: dict[int, float] = {}
        self.ms: dict[int, list[float]] = {0: [], 1: [], 2: []}

    def __call__(self, phase, info):
        gen = info["generation"]
        if phase == "start":
            self.started[gen] = time.perf_counter()
        elif gen in self.started:
            self.ms[gen].append((time.perf_counter() - self.started.pop(gen)) * 1000)

    def figures(self) -> dict:
        return {
            f"gc_gen{g}": {"collections": len(v), "ms_total": round(sum(v), 1),
                           "ms_max": round(max(v), 2) if v else 0.0}
            for g, v in self.ms.items()
        }  # fmt: skip


def _had_match(decl) -> bool:
    return bool(((decl.assessment or {}).get("screening") or {}).get("matches"))


def _bootstrap_p99_gap(on: list, off: list, rounds: int = 1000) -> list[float]:
    """The 95 % interval of p99(on) - p99(off) over resamples of the declarations (seeded):
    a few dozen declarations make a p99, so one run's difference moves by tenths of a ms."""
    import numpy as np

    rng = np.random.default_rng(20)
    a, b = np.asarray(on), np.asarray(off)
    gaps = [
        np.percentile(rng.choice(a, len(a)), 99) - np.percentile(rng.choice(b, len(b)), 99)
        for _ in range(rounds)
    ]
    low, high = np.percentile(gaps, [2.5, 97.5])
    return [round(float(low), 3), round(float(high), 3)]


def _worker_run(screener) -> float:
    """The worker's ``risk-screening-hits`` run, outside the timed calls (in production,
    another process): writes the hits of the declarations flagged since the last run.
    Returns its CPU ms."""
    from app.risk import providers
    from app.risk.assessment import record_pending_screening
    from app.screening import receivers

    providers.register_party_screener(screener, record=receivers.record_declaration_hits)
    c0 = time.thread_time()
    while record_pending_screening():
        pass
    return (time.thread_time() - c0) * 1000


def measure(bodies: list[dict]) -> dict:
    import gc

    from app.extensions import db
    from app.risk import providers
    from app.risk.assessment import submit_declaration
    from app.screening import receivers
    from app.security.access import Actor

    actor = Actor.system("bench")
    times = {"on": [], "off": []}
    cpu = {"on": [], "off": []}
    cpu_no_match: list[float] = []  # screened declarations none of whose parties matched
    cpu_match: list[float] = []  # and those with a match (hit rows, match documents)
    hook: list = []
    channels = {"on": {}, "off": {}}
    warm = 20
    screener = _timed_screener(hook)
    # the declarants' registry look-ups as a running worker has them (cached REGISTRY_TTL s;
    # a cold look-up goes through intel's find_by_identifier: ~10 ms under cProfile)
    for code in {b["declarant"] for b in bodies}:
        receivers._registry_party(code, None)
    worker_cpu = 0.0
    pauses = _Pauses()
    gc.callbacks.append(pauses)
    for i, body in enumerate(bodies):
        mode = "on" if i % 2 == 0 else "off"
        providers.register_party_screener(
            screener if mode == "on" else None, record=receivers.record_declaration_hits
        )
        t0, c0 = time.perf_counter(), time.thread_time()
        decl = submit_declaration(body, actor=actor, link_entities=False)
        # the declaration's rows are written by the assessment's own flush (its hits, by the
        # worker's run after the commit: _worker_run)
        db.session.flush()
        c1, elapsed = time.thread_time(), (time.perf_counter() - t0) * 1000
        if i >= warm:
            times[mode].append(elapsed)
            cpu[mode].append((c1 - c0) * 1000)
            channels[mode][decl.channel] = channels[mode].get(decl.channel, 0) + 1
            if mode == "on":
                (cpu_match if _had_match(decl) else cpu_no_match).append((c1 - c0) * 1000)
        if i % COMMIT_EVERY == COMMIT_EVERY - 1:
            db.session.commit()
            worker_cpu += _worker_run(screener)
    db.session.commit()
    worker_cpu += _worker_run(screener)
    gc.callbacks.remove(pauses)
    providers.register_party_screener(
        receivers.screen_declaration, record=receivers.record_declaration_hits
    )
    out = {}
    # what the worker spends writing the hits afterwards, per declaration with a match
    matched = max(1, sum(1 for _ in cpu_match))
    out["worker_hits_cpu_ms_per_matched_declaration"] = round(worker_cpu / matched, 3)
    for mode in ("off", "on"):
        for name, values in ((f"assess_{mode}", times[mode]), (f"assess_{mode}_cpu", cpu[mode])):
            out[f"{name}_ms_p50"] = round(statistics.median(values), 3)
            out[f"{name}_ms_p99"] = round(_pct(values, 99), 3)
        out[f"assess_{mode}_n"] = len(times[mode])
        out[f"channels_{mode}"] = channels[mode]
    out["screening_adds_ms_p50"] = round(out["assess_on_ms_p50"] - out["assess_off_ms_p50"], 3)
    out["screening_adds_ms_p99"] = round(out["assess_on_ms_p99"] - out["assess_off_ms_p99"], 3)
    for p in (50, 99):
        on, off = out[f"assess_on_cpu_ms_p{p}"], out[f"assess_off_cpu_ms_p{p}"]
        out[f"screening_adds_cpu_ms_p{p}"] = round(on - off, 3)
    # how far the p99 of a difference of two p99s moves with the sample: a bootstrap interval
    out["screening_adds_cpu_ms_p99_ci95"] = _bootstrap_p99_gap(cpu["on"], cpu["off"])
    # the common case on a real list: no party matched, so no hit row, no red channel
    for name, values in (("no_match", cpu_no_match), ("match", cpu_match)):
        out[f"assess_on_{name}_n"] = len(values)
        for p in (50, 99):
            on = _pct(values, p) if p == 99 else statistics.median(values)
            off = out[f"assess_off_cpu_ms_p{p}"]
            out[f"screening_adds_cpu_{name}_ms_p{p}"] = round(on - off, 3)
    out.update(pauses.figures())
    hook_ms = [t * 1000 for t in hook[warm // 2 :]]
    out["screener_cpu_ms_p50"] = round(statistics.median(hook_ms), 3)
    out["screener_cpu_ms_p99"] = round(_pct(hook_ms, 99), 3)
    return out


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--entries", type=int, default=1_000_000)
    parser.add_argument("--declarations", type=int, default=2000)
    parser.add_argument("--keep", type=Path, help="work folder to keep (and reuse the list file)")
    parser.add_argument(
        "--reuse",
        type=Path,
        help="a --keep folder of an earlier run: its database (list loaded, profiles set up) "
        "is used as it is; only the index is built (declaration numbers continue)",
    )
    parser.add_argument(
        "--pools",
        choices=("diverse", "small"),
        default="diverse",
        help="name pools of the synthetic list (bench/screening_data.py); small: the hard case",
    )
    parser.add_argument(
        "--parties",
        choices=("distinct", "kcs"),
        default="distinct",
        help="distinct: every party new (worst case); kcs: importers and sellers repeat as the "
        "trader IDs of KCS train.csv do, the result cache warmed on the 20,000 rows before",
    )
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    screening_data.use_pools(args.pools)

    figures: dict = {}
    if args.reuse:
        app, index = _reuse(args.reuse, figures)
    else:
        app, index, _tmp = build(args.entries, args.keep, figures)
    with app.app_context():
        if not args.reuse or not _is_set_up():
            _setup()  # a folder kept by bench_screening.py holds the list only
        if args.parties == "kcs":
            warm, bodies = _kcs_bodies(args.declarations, args.entries)
            _warm(index, warm)
        else:
            bodies = _bodies(args.declarations, args.entries)
        figures.update(pools=args.pools, parties=args.parties)
        if args.reuse:  # numbers not used by the earlier run
            from app.extensions import db
            from app.risk.models import Declaration

            start = db.session.query(Declaration).count()
            for n, body in enumerate(bodies):
                body["number"] = f"BSR{start + n:07d}"
        # as a web worker before its first request: the warm-ups, then gc.freeze()
        from app.core.registry import ready_worker

        ready_worker(app)
        figures["load_avg_start"] = Path("/proc/loadavg").read_text().split()[:3]
        figures.update(measure(bodies))
        from app.extensions import db
        from app.screening.hits import ScreeningHit

        figures["hits_stored"] = db.session.query(ScreeningHit).count()
    figures["index_entries"] = len(index)
    figures["rss_end_mib"] = round(rss_mib(), 1)
    figures["load_avg_end"] = Path("/proc/loadavg").read_text().split()[:3]
    if args.json:
        print(json.dumps(figures))
        return
    width = max(map(len, figures))
    for key, value in figures.items():
        print(f"{key:{width}}  {value}")


if __name__ == "__main__":
    main()
