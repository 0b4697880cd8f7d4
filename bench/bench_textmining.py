"""News mining figures: extraction throughput, network build time, corpus ingest time.

    .venv/bin/python bench/bench_textmining.py [--articles 10000] [--repeat 3]
        [--corpus ../shared/data/feedparser-tests] [--skip-corpus] [--json]

* extraction: the 34 annotated seizure articles of the test suite, repeated, through the
  rule-only pipeline and (when an English model is installed) rules + statistical NER;
  tokens per second, best of ``--repeat`` runs;
* network: ``--articles`` synthetic articles (4-12 mentions each, correlated pairs such as
  cocaine/container and heroin/truck) bulk-loaded into a fresh SQLite database, then the
  whole ``build_network`` (query + counting + measures) and the counting alone;
* corpus: every document of feedparser's test corpus imported with ``feeds.import_file``
  (rules-only extraction), one commit per document, as ``tollgate feeds import DIR`` does.

Prints figures; never asserts a time.
"""

import argparse
import json
import random
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import insert  # noqa: E402

from app import create_app  # noqa: E402
from app.extensions import db  # noqa: E402
from app.textmining import network as net  # noqa: E402
from app.textmining.models import Article, Mention  # noqa: E402
from app.textmining.nlp import Extractor, builtin_term_specs, find_model  # noqa: E402
from app.textmining.terms_builtin import BUILTIN_TERMS  # noqa: E402

GOLD = ROOT / "tests" / "textmining" / "data" / "seizure_articles.json"
CORPUS = ROOT.parent / "shared" / "data" / "feedparser-tests"


def bench_extraction(repeat: int, copies: int = 15) -> dict:
    texts = [item["text"] for item in json.loads(GOLD.read_text())] * copies
    results = {}
    for label, model in (("rules", "none"), ("rules+model", "auto")):
        if model == "auto" and find_model() is None:
            results[label] = None
            continue
        started = time.perf_counter()
        extractor = Extractor(builtin_term_specs(), model=model)
        build = time.perf_counter() - started
        tokens = sum(len(extractor.nlp.make_doc(t)) for t in texts)
        best = float("inf")
        mentions = 0
        for _ in range(repeat):
            t0 = time.perf_counter()
            found = extractor.extract_many(texts)
            best = min(best, time.perf_counter() - t0)
            mentions = sum(len(f) for f in found)
        results[label] = {
            "pipeline": extractor.name,
            "texts": len(texts),
            "tokens": tokens,
            "mentions": mentions,
            "seconds": round(best, 3),
            "tokens_per_s": round(tokens / best),
            "build_s": round(build, 2),
        }
    return results


def _synthetic_units(n: int, seed: int = 8):
    rng = random.Random(seed)  # noqa: S311 - benchmark data
    pools = {cat: list(terms) for cat, terms in BUILTIN_TERMS.items()}
    pairs = [
        ("commodity", "cocaine", "transport", "container"),
        ("commodity", "heroin", "transport", "truck"),
        ("commodity", "cigarettes", "transport", "truck"),
        ("commodity", "captagon", "route", "Syria"),
        ("commodity", "cannabis", "route", "Albania"),
    ]
    rows = []
    for article in range(1, n + 1):
        chosen = set()
        a_cat, a, b_cat, b = rng.choice(pairs)
        if rng.random() < 0.6:
            chosen |= {(a_cat, a), (b_cat, b)}
        for _ in range(rng.randint(4, 12) - len(chosen)):
            cat = rng.choice(list(pools))
            chosen.add((cat, rng.choice(pools[cat])))
        for position, (cat, canonical) in enumerate(sorted(chosen)):
            rows.append(
                {
                    "article_id": article,
                    "category": cat,
                    "text": canonical,
                    "canonical": canonical,
                    "start": position * 10,
                    "end": position * 10 + 5,
                    "sentence": position // 3,
                    "source": "rules",
                }
            )
    return rows


def bench_network(n: int, repeat: int) -> dict:
    rows = _synthetic_units(n)
    base = datetime(2026, 1, 1, tzinfo=UTC)
    articles = [
        {
            "id": i,
            "identity": f"{i:064d}",
            "title": f"a{i}",
            "html": "",
            "text": "",
            "content_hash": f"{i:064d}",
            "fingerprint": [],
            "keywords": [],
            "group_id": i,
            "published_dt": base + timedelta(minutes=i),
            "created_dt": base + timedelta(minutes=i),
        }
        for i in range(1, n + 1)
    ]
    t0 = time.perf_counter()
    db.session.execute(insert(Article), articles)
    db.session.execute(insert(Mention), rows)
    db.session.commit()
    load = time.perf_counter() - t0
    full, compute_only, edges = float("inf"), float("inf"), 0
    for _ in range(repeat):
        t0 = time.perf_counter()
        graph = net.build_network(net.NetworkFilter(min_count=2, limit=100_000))
        full = min(full, time.perf_counter() - t0)
        edges = graph.edge_total
        units = net.load_units(net.NetworkFilter())
        t0 = time.perf_counter()
        net.compute_network(units, filters=net.NetworkFilter(min_count=2, limit=100_000))
        compute_only = min(compute_only, time.perf_counter() - t0)
    t0 = time.perf_counter()
    pair = net.build_network(
        net.NetworkFilter(min_count=2, category_a="commodity", category_b="transport")
    )
    pair_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    net.export_graph(graph, "graphml")
    export_s = time.perf_counter() - t0
    return {
        "articles": n,
        "mentions": len(rows),
        "load_s": round(load, 2),
        "build_network_s": round(full, 3),
        "compute_only_s": round(compute_only, 3),
        "commodity_transport_s": round(pair_s, 3),
        "commodity_transport_edges": pair.edge_total,
        "edges_at_support_2": edges,
        "graphml_export_s": round(export_s, 3),
    }


def bench_corpus(corpus: Path) -> dict | None:
    from app.textmining import feeds
    from app.textmining.ingest import Grouper

    if not corpus.is_dir():
        return None
    files = sorted(corpus.rglob("*.xml"))
    extractor = Extractor(builtin_term_specs(), model="none")
    feed = feeds.offline_feed("bench")
    db.session.commit()
    grouper = Grouper()
    stored = rejected = new = 0
    slowest = (0.0, "")
    t0 = time.perf_counter()
    for path in files:
        t1 = time.perf_counter()
        outcome = feeds.import_file(path, feed=feed, extractor=extractor, grouper=grouper)
        db.session.commit()
        took = time.perf_counter() - t1
        slowest = max(slowest, (took, path.name))
        stored += outcome.status == "stored"
        rejected += outcome.status == "rejected"
        new += outcome.new
    total = time.perf_counter() - t0
    return {
        "documents": len(files),
        "stored": stored,
        "rejected": rejected,
        "new_articles": new,
        "seconds": round(total, 2),
        "documents_per_s": round(len(files) / total, 1),
        "slowest_document_s": round(slowest[0], 3),
        "slowest_document": slowest[1],
    }


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--corpus", type=Path, default=CORPUS)
    parser.add_argument("--skip-corpus", action="store_true")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)

    results = {"extraction": bench_extraction(args.repeat)}
    with tempfile.TemporaryDirectory() as tmp:
        app = create_app(
            {
                "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp}/bench.db",
                "INSTANCE_PATH": tmp,
                "SECRET_KEY": "bench",
                "TOLLGATE_NLP_MODEL": "none",
            }
        )
        with app.app_context():
            db.create_all()
            results["network"] = bench_network(args.articles, args.repeat)
        app2 = create_app(
            {
                "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp}/corpus.db",
                "INSTANCE_PATH": tmp,
                "SECRET_KEY": "bench",
                "TOLLGATE_NLP_MODEL": "none",
            }
        )
        with app2.app_context():
            db.create_all()
            results["corpus"] = None if args.skip_corpus else bench_corpus(args.corpus)
            db.engine.dispose()
        with app.app_context():
            db.engine.dispose()

    if args.json:
        print(json.dumps(results, indent=2))
        return
    print(f"Extraction (34 annotated seizure articles x 15, best of {args.repeat}):")
    for label, r in results["extraction"].items():
        if r is None:
            print(f"  {label:12} no English model installed")
        else:
            print(
                f"  {label:12} {r['tokens_per_s']:>8,} tokens/s  ({r['tokens']:,} tokens, "
                f"{r['mentions']:,} mentions in {r['seconds']} s; pipeline {r['pipeline']}, "
                f"built in {r['build_s']} s)"
            )
    n = results["network"]
    print(f"Network ({n['articles']:,} articles, {n['mentions']:,} mentions, SQLite):")
    print(
        f"  build_network (query + count + measures) {n['build_network_s']} s; counting "
        f"alone {n['compute_only_s']} s; {n['edges_at_support_2']:,} edges at support 2"
    )
    print(
        f"  commodity <-> transport {n['commodity_transport_s']} s "
        f"({n['commodity_transport_edges']} edges); GraphML export {n['graphml_export_s']} s"
    )
    c = results["corpus"]
    if c is None:
        print("Corpus: skipped (no ../shared/data/feedparser-tests)")
    else:
        print(
            f"Corpus ingest ({c['documents']:,} documents): {c['seconds']} s, "
            f"{c['documents_per_s']} documents/s; {c['stored']} stored "
            f"({c['new_articles']} new articles), {c['rejected']} rejected; slowest "
            f"document {c['slowest_document_s']} s ({c['slowest_document']})"
        )


if __name__ == "__main__":
    main()
