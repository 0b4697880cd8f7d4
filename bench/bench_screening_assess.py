"""A declaration's assessment in process with party screening on and off, side by side.

    .venv/bin/python bench/bench_screening_assess.py [--entries 1000000] [--declarations 2000]
        [--keep DIR] [--json]

Loads a synthetic list of ``--entries`` (bench/bench_screening.py ``build``: the real loader
into a fresh SQLite database, the index warm), seeds the reference lists and a realistic
profile set (the sanctions profile on ``party_on_list``, one on ``party_screening_score`` and
a few HS/origin profiles; random selection off), then submits declarations through
``app.risk.assessment.submit_declaration`` (parse, store, engine, screening, hits, signals,
trail), alternating screening on and off declaration by declaration in the same run:
"off" unregisters the party screener (``providers.register_party_screener(None)``), so
the difference is the screening alone. Each declaration names an importer and a seller in
its ``parties`` block (distinct names: the index's result cache does not help) and a
declarant by trader code only (the registry look-up); about 2 % of the names are variants of
listed entries (hits, stored). Commits every 50 declarations, outside the timed call.
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


def _bodies(n: int, entries: int) -> list[dict]:
    """Declaration bodies, two named parties each (2 % listed variants among the names)."""
    parties = screening_data.parties(2 * n, entries, listed_share=0.02)
    bodies = []
    for i in range(n):
        named = []
        pair = parties[2 * i : 2 * i + 2]
        for role, (query, _expected, _kind) in zip(("importer", "seller"), pair, strict=True):
            kind = "person" if query.schema == "Person" else "company"
            named.append({"role": role, "name": query.name[:300], "kind": kind})
        bodies.append(
            {
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
        )
    return bodies


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


def measure(bodies: list[dict]) -> dict:
    from app.extensions import db
    from app.risk import providers
    from app.risk.assessment import submit_declaration
    from app.screening import receivers
    from app.security.access import Actor

    actor = Actor.system("bench")
    times = {"on": [], "off": []}
    channels = {"on": {}, "off": {}}
    warm = 20
    for i, body in enumerate(bodies):
        mode = "on" if i % 2 == 0 else "off"
        providers.register_party_screener(receivers.screen_declaration if mode == "on" else None)
        t0 = time.perf_counter()
        decl = submit_declaration(body, actor=actor, link_entities=False)
        elapsed = (time.perf_counter() - t0) * 1000
        if i >= warm:
            times[mode].append(elapsed)
            channels[mode][decl.channel] = channels[mode].get(decl.channel, 0) + 1
        if i % COMMIT_EVERY == COMMIT_EVERY - 1:
            db.session.commit()
    db.session.commit()
    providers.register_party_screener(receivers.screen_declaration)
    out = {}
    for mode, values in times.items():
        out[f"assess_{mode}_n"] = len(values)
        out[f"assess_{mode}_ms_p50"] = round(statistics.median(values), 3)
        out[f"assess_{mode}_ms_p99"] = round(_pct(values, 99), 3)
        out[f"assess_{mode}_ms_mean"] = round(statistics.fmean(values), 3)
        out[f"channels_{mode}"] = channels[mode]
    out["screening_adds_ms_p50"] = round(out["assess_on_ms_p50"] - out["assess_off_ms_p50"], 3)
    out["screening_adds_ms_p99"] = round(out["assess_on_ms_p99"] - out["assess_off_ms_p99"], 3)
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
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()

    figures: dict = {}
    if args.reuse:
        app, index = _reuse(args.reuse, figures)
    else:
        app, index, _tmp = build(args.entries, args.keep, figures)
    with app.app_context():
        if not args.reuse:
            _setup()
        bodies = _bodies(args.declarations, args.entries)
        if args.reuse:  # numbers not used by the earlier run
            from app.extensions import db
            from app.risk.models import Declaration

            start = db.session.query(Declaration).count()
            for n, body in enumerate(bodies):
                body["number"] = f"BSR{start + n:07d}"
        figures.update(measure(bodies))
        from app.extensions import db
        from app.screening.hits import ScreeningHit

        figures["hits_stored"] = db.session.query(ScreeningHit).count()
    figures["index_entries"] = len(index)
    figures["rss_end_mib"] = round(rss_mib(), 1)
    figures["load_avg"] = Path("/proc/loadavg").read_text().split()[:3]
    if args.json:
        print(json.dumps(figures))
        return
    width = max(map(len, figures))
    for key, value in figures.items():
        print(f"{key:{width}}  {value}")


if __name__ == "__main__":
    main()
