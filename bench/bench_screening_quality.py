"""The sanctions desk's question at scale: at a list's threshold, how many true matches does
screening catch, and how many false hits does the desk review?

    .venv/bin/python bench/bench_screening_quality.py --reuse DIR [--parties 3000] [--json]
        [--thresholds 0.6,0.65,...]

Reads a folder kept by ``bench/bench_screening.py --keep DIR`` (a synthetic list loaded by the
real loader) and screens its parties: variants of listed entries, which must hit their entry,
and unlisted names, which should hit nothing. Every party's candidates come from the
platform's blocking (``Segment.candidates``); three scorers rank the same candidates side by
side, so the figures compare scoring, not blocking:

- ``tollgate``: the platform's matcher (``app.screening.matcher``);
- ``yente``: OpenSanctions' ``logic-v1`` (nomenklatura, yente's default algorithm), on the
  entry's stored FtM properties, with its default configuration;
- ``naive``: rapidfuzz ``token_sort_ratio`` of the normalised names, the best of an entry's
  names.

For every threshold: recall (the variant's entry scores at least the threshold), the share of
unlisted parties with any hit, and per 1,000 parties (at the run's mix) the true and false
hits the desk would review. ``exact_namesakes`` counts unlisted parties whose normalised name
is a listed name: no name scorer can tell those apart, so it is every scorer's floor.
Prints figures; asserts nothing.
"""

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import screening_data  # noqa: E402
from bench.bench_screening import reuse  # noqa: E402

THRESHOLDS = (0.6, 0.65, 0.7, 0.75, 0.8, 0.85, 0.9, 0.95)


def _yente():
    """logic-v1 and its default configuration, or None when nomenklatura is not installed."""
    try:
        from nomenklatura.matching import get_algorithm
        from nomenklatura.matching.types import ScoringConfig
    except ImportError:
        return None
    algorithm = get_algorithm("logic-v1")
    config = ScoringConfig(
        weights={}, config={key: var.default for key, var in algorithm.CONFIG.items()}
    )
    return algorithm, config


def _query_entity(query):
    from followthemoney import ValueEntity

    props = {"name": [query.name]}
    if query.birth_date:
        props["birthDate"] = [query.birth_date]
    if query.country:
        props["country"] = [query.country]
    if query.identifiers:
        props["imoNumber" if query.schema == "Vessel" else "registrationNumber"] = list(
            query.identifiers
        )
    return ValueEntity.from_dict({"id": "query", "schema": query.schema, "properties": props})


def _entry_entities(entry_ids: set[str]) -> dict:
    """The listed entries' FtM entities, from the properties the loader stored."""
    from followthemoney import ValueEntity
    from sqlalchemy import select

    from app.extensions import db
    from app.screening.models import ScreeningEntry

    out = {}
    ids = sorted(entry_ids)
    for start in range(0, len(ids), 500):
        rows = db.session.execute(
            select(ScreeningEntry.entry_id, ScreeningEntry.schema, ScreeningEntry.properties)
            .where(ScreeningEntry.entry_id.in_(ids[start : start + 500]))
        ).all()  # fmt: skip
        for entry_id, schema, props in rows:
            out[entry_id] = ValueEntity.from_dict(
                {"id": entry_id, "schema": schema, "properties": props}
            )
    return out


def score_parties(index, parties) -> list[dict]:
    """Per party: its expected entry and, per scorer, every candidate's score."""
    from rapidfuzz import fuzz

    from app.screening.service import prepare

    yente = _yente()
    listed_names = {
        line for s in index.segments.values() for n in s.names for line in n.split("\t")
    }
    rows, cpu = [], {"tollgate": [], "yente": [], "naive": []}
    for query, expected, kind in parties:
        prepared = prepare(query)
        cands = []
        for segment in index.segments.values():
            positions = segment.candidates(prepared)
            c0 = time.thread_time()
            scored = segment.score(prepared, positions, 0.0)
            cpu["tollgate"].append(time.thread_time() - c0)
            cands += [(segment, c.position, c.score) for c in scored]
        rows.append({
            "expected": expected,
            "kind": kind,
            "namesake": " ".join(prepared.tokens) in listed_names,
            "tollgate": {seg.entry_ids[pos]: s for seg, pos, s in cands},
            "naive": {
                seg.entry_ids[pos]: max(
                    fuzz.token_sort_ratio(" ".join(prepared.tokens), line) / 100
                    for line in seg.names[pos].split("\t")
                )
                for seg, pos, _s in cands
            },
        })  # fmt: skip
    if yente:
        algorithm, config = yente
        entities = _entry_entities({e for row in rows for e in row["tollgate"]})
        for row, (query, _e, _k) in zip(rows, parties, strict=True):
            q = _query_entity(query)
            c0 = time.thread_time()
            row["yente"] = {
                entry_id: algorithm.compare(q, entities[entry_id], config).score
                for entry_id in row["tollgate"]
                if entry_id in entities
            }
            cpu["yente"].append(time.thread_time() - c0)
    return rows, {k: round(statistics.mean(v) * 1000, 3) for k, v in cpu.items() if v}


def sweep(rows, scorer: str, thresholds) -> list[dict]:
    listed = [r for r in rows if r["expected"]]
    unlisted = [r for r in rows if not r["expected"]]
    out = []
    for t in thresholds:
        caught = sum(r[scorer].get(r["expected"], 0.0) >= t for r in listed)
        # a listed variant that also hits another entry: a false hit beside the true one
        extra = sum(sum(s >= t for e, s in r[scorer].items() if e != r["expected"]) for r in listed)
        unlisted_hit = sum(any(s >= t for s in r[scorer].values()) for r in unlisted)
        false_hits = sum(sum(s >= t for s in r[scorer].values()) for r in unlisted) + extra
        per = 1000 / len(rows)
        out.append({
            "threshold": t,
            "recall": round(caught / len(listed), 4),
            "unlisted_with_a_hit": round(unlisted_hit / len(unlisted), 4),
            "true_hits_per_1000": round(caught * per, 1),
            "false_hits_per_1000": round(false_hits * per, 1),
        })  # fmt: skip
    return out


def recall_by_kind(rows, scorer: str, threshold: float) -> dict:
    kinds: dict[str, list[int]] = {}
    for r in rows:
        if r["expected"]:
            hit = r[scorer].get(r["expected"], 0.0) >= threshold
            kinds.setdefault(r["kind"], [0, 0])
            kinds[r["kind"]][0] += hit
            kinds[r["kind"]][1] += 1
    return {k: f"{h}/{n}" for k, (h, n) in sorted(kinds.items())}


def false_hit_examples(index, rows, parties, threshold: float, n: int = 12) -> list[str]:
    """Unlisted parties that hit at the threshold, with the entry's name: what the desk sees."""
    names = {eid: seg.names[pos].split("\t")[0] for seg in index.segments.values()
             for pos, eid in enumerate(seg.entry_ids)}  # fmt: skip
    out = []
    for row, (query, expected, _k) in zip(rows, parties, strict=True):
        if expected or row["namesake"]:
            continue
        best = max(row["tollgate"].items(), key=lambda kv: kv[1], default=(None, 0.0))
        if best[1] >= threshold:
            yente = row.get("yente", {}).get(best[0])
            out.append(f"{query.name!r} ~ {names[best[0]]!r}: tollgate {best[1]:.2f}"
                       + (f", yente {yente:.2f}" if yente is not None else ""))  # fmt: skip
        if len(out) >= n:
            break
    return out


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--reuse", type=Path, required=True, help="a bench_screening --keep DIR")
    parser.add_argument("--entries", type=int, default=1_000_000, help="the kept list's size")
    parser.add_argument("--parties", type=int, default=3000)
    parser.add_argument("--pools", choices=("diverse", "small"), default="diverse")
    parser.add_argument("--thresholds", default=",".join(map(str, THRESHOLDS)))
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    screening_data.use_pools(args.pools)
    thresholds = [float(t) for t in args.thresholds.split(",")]

    figures: dict = {"pools": args.pools}
    app, index = reuse(args.reuse, figures)
    parties = screening_data.parties(args.parties, args.entries)
    with app.app_context():
        rows, cpu = score_parties(index, parties)
        figures["parties"] = len(rows)
        figures["listed_variants"] = sum(1 for r in rows if r["expected"])
        figures["exact_namesakes_of_unlisted"] = round(
            sum(r["namesake"] for r in rows if not r["expected"])
            / max(1, sum(1 for r in rows if not r["expected"])),
            4,
        )
        figures["candidates_per_party_mean"] = round(
            statistics.mean(len(r["tollgate"]) for r in rows), 2
        )
        figures["scoring_cpu_ms_per_party"] = cpu
        for scorer in ("tollgate", "yente", "naive"):
            if scorer == "yente" and "yente" not in rows[0]:
                figures["yente"] = "nomenklatura not installed (make bench-deps)"
                continue
            figures[f"{scorer}_sweep"] = sweep(rows, scorer, thresholds)
            figures[f"{scorer}_recall_by_kind_at_0.7"] = recall_by_kind(rows, scorer, 0.7)
        figures["false_hits_at_0.7"] = false_hit_examples(index, rows, parties, 0.7)
    figures["load_avg"] = Path("/proc/loadavg").read_text().split()[:3]
    if args.json:
        print(json.dumps(figures))
        return
    for key, value in figures.items():
        if key.endswith("_sweep"):
            print(f"\n{key}: threshold  recall  unlisted-hit  true/1000  false/1000")
            for r in value:
                t, rec, unl = r["threshold"], r["recall"], r["unlisted_with_a_hit"]
                true, false = r["true_hits_per_1000"], r["false_hits_per_1000"]
                print(f"  {t:.2f}  {rec:.3f}  {unl:.3f}  {true:7.1f}  {false:7.1f}")
        elif key == "false_hits_at_0.7":
            print("\nunlisted parties hitting at 0.7 (not exact namesakes):")
            for line in value:
                print("  " + line)
        else:
            print(f"{key}: {value}")


if __name__ == "__main__":
    main()
