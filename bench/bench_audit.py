"""Audit: the ML risk score on the KCS data, its real-time cost, and rating recomputation.

1. Model quality: train on train.csv, score valid.csv (read directly with pandas; the
   ``tollgate audit evaluate`` command does the same through the platform importer and
   database). Precision@1/2/5/10%, Recall@5/10%, AUC, next to a plain LightGBM on the raw
   columns. Never tuned on valid.csv.
2. Real-time cost: one item at a time through ``TrainedModel.score_rows`` (the path the
   selectivity engine calls), with and without the plain-words explanation; stored size.
3. Ratings and the assessment path (``--full``): import both files into a scratch SQLite
   database, recompute every trader's rating, activate the model and time
   ``submit_declaration`` (validation, storage, entity links, profiles, ML score, commit).

Usage: python bench/bench_audit.py [--json] [--kcs DIR] [--full] [--assess N]
"""

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np  # noqa: E402

from app.audit import ml  # noqa: E402

KCS = Path(__file__).resolve().parent.parent.parent / "shared" / "data" / "kcs"


def model_figures(kcs: Path) -> tuple[dict, ml.TrainedModel, object]:
    train = ml.read_kcs_csv(kcs / "train.csv")
    test = ml.read_kcs_csv(kcs / "valid.csv")
    model, scores, timing = ml.timed_fit_and_score(train, train["label"].to_numpy(), test)
    figures = ml.metrics(test["label"].to_numpy(), scores)
    started = time.perf_counter()
    baseline_scores = ml.train_baseline(train, train["label"].to_numpy(), test)
    baseline_s = time.perf_counter() - started
    rows = test.head(1000).to_dict("records")
    started = time.perf_counter()
    for row in rows:
        model.score_rows([row], explain=3)
    explained_ms = (time.perf_counter() - started) * 1000 / len(rows)
    out = {
        **{k: round(v, 4) if isinstance(v, float) else v for k, v in figures.items()},
        "baseline": {
            k: round(v, 4) if isinstance(v, float) else v
            for k, v in ml.metrics(test["label"].to_numpy(), baseline_scores).items()
        },
        "baseline_train_s": round(baseline_s, 2),
        "train_s": round(timing["train_s"], 2),
        "score_ms_per_item": round(timing["score_ms_per_item"], 4),
        "score_ms_per_item_explained": round(explained_ms, 4),
        "model_mb": round(len(model.to_json()) / 1e6, 2),
        "train_rows": len(train),
        "test_rows": len(test),
    }
    return out, model, test


def full_path(kcs: Path, n_assess: int) -> dict:
    from app import create_app
    from app.audit import lifecycle, service
    from app.extensions import db
    from app.risk.assessment import submit_declaration
    from app.risk.importer import import_declarations
    from app.security.access import Actor

    with tempfile.TemporaryDirectory(prefix="bench-audit-") as tmp:
        app = create_app(
            {
                "SQLALCHEMY_DATABASE_URI": f"sqlite:///{Path(tmp) / 'bench.db'}",
                "INSTANCE_PATH": tmp,
                "TOLLGATE_SEARCH_DIR": str(Path(tmp) / "search"),
                "TOLLGATE_EVIDENCE_DIR": str(Path(tmp) / "evidence"),
                "TOLLGATE_WORKER_LOCK": str(Path(tmp) / "worker.lock"),
            }
        )
        with app.app_context():
            db.create_all()
            actor = Actor.system("bench")
            started = time.perf_counter()
            import_declarations(kcs / "train.csv", actor=actor)
            db.session.commit()
            import_s = time.perf_counter() - started
            started = time.perf_counter()
            summary = service.compute_ratings(actor=actor)
            db.session.commit()
            rating_s = time.perf_counter() - started
            started = time.perf_counter()
            model = lifecycle.train_from_history(actor=actor)
            lifecycle.activate_model(model.version, actor=actor)
            db.session.commit()
            lifecycle_s = time.perf_counter() - started
            test = ml.read_kcs_csv(kcs / "valid.csv").head(n_assess)
            timings = []
            for row in test.to_dict("records"):
                body = {
                    "number": f"B{row['number']}",
                    "date": row["declaration_date"].date().isoformat(),
                    "office": row["office"],
                    "procedure": row["procedure"],
                    "declarant": row["declarant_code"],
                    "importer": row["importer_code"],
                    "seller": row["seller_code"] or None,
                    "items": [
                        {
                            "hs_code": row["hs_code"],
                            "origin": row["origin_country"],
                            "departure": row["departure_country"],
                            "value": row["value"],
                            "mass": row["mass_kg"],
                            "tax_rate": row["tax_rate"],
                        }
                    ],
                }
                started = time.perf_counter()
                submit_declaration(body, actor=actor)
                db.session.commit()
                timings.append((time.perf_counter() - started) * 1000)
            db.session.remove()
            db.engine.dispose()
    return {
        "import_train_s": round(import_s, 1),
        "ratings_s": round(rating_s, 2),
        "traders_rated": summary["rated"],
        "train_from_db_s": round(lifecycle_s, 1),
        "db_model_precision_at_5": round(model.metrics["precision_at_5"], 4),
        "db_model_precision_at_10": round(model.metrics["precision_at_10"], 4),
        "assess_ms_p50": round(statistics.median(timings), 2),
        "assess_ms_p95": round(float(np.percentile(timings, 95)), 2),
        "assessed": len(timings),
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--kcs", type=Path, default=KCS)
    parser.add_argument(
        "--full",
        action="store_true",
        help="also import into a scratch DB, rate traders, time assessments",
    )
    parser.add_argument("--assess", type=int, default=300)
    args = parser.parse_args()
    if not (args.kcs / "train.csv").exists():
        sys.exit(f"KCS data not found in {args.kcs}")
    figures, _model, _test = model_figures(args.kcs)
    if args.full:
        figures["full"] = full_path(args.kcs, args.assess)
    if args.json:
        print(json.dumps(figures, sort_keys=True))
        return
    base = figures["baseline"]
    print(
        f"KCS train {figures['train_rows']} rows -> valid {figures['test_rows']} rows "
        f"(fraud rate {figures['base_rate']:.3f})"
    )
    print(f"{'':18}{'platform':>10}{'raw GBDT':>10}   published LightGBM")
    published = {"precision_at_5": "0.762", "precision_at_10": "0.641"}
    for key in (
        "precision_at_1",
        "precision_at_2",
        "precision_at_5",
        "precision_at_10",
        "recall_at_5",
        "recall_at_10",
        "auc",
    ):
        print(f"{key:18}{figures[key]:>10.3f}{base[key]:>10.3f}   {published.get(key, '')}")
    print(
        f"training {figures['train_s']:.1f} s (raw GBDT {figures['baseline_train_s']:.1f} s); "
        f"stored model {figures['model_mb']} MB"
    )
    print(
        f"real-time scoring, one item at a time: {figures['score_ms_per_item']:.3f} ms, "
        f"with explanation {figures['score_ms_per_item_explained']:.3f} ms"
    )
    if args.full:
        full = figures["full"]
        print(
            f"import train.csv {full['import_train_s']} s; ratings of "
            f"{full['traders_rated']} traders {full['ratings_s']} s; training from the DB "
            f"(time split + refit) {full['train_from_db_s']} s, held-out P@5 "
            f"{full['db_model_precision_at_5']:.3f}, P@10 {full['db_model_precision_at_10']:.3f}"
        )
        print(
            f"submit_declaration with the active model: p50 {full['assess_ms_p50']} ms, "
            f"p95 {full['assess_ms_p95']} ms over {full['assessed']}"
        )


if __name__ == "__main__":
    main()
