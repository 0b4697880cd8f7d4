"""``tollgate audit ...``: rate traders, train models, evaluate on KCS-format files."""

import json
import tempfile
import time
from pathlib import Path

import click
from flask.cli import with_appcontext

from app.extensions import db


@click.group("audit")
def audit_group():
    """Trader ratings, the ML risk model and its evaluation."""


@audit_group.command("rate")
@click.option(
    "--as-of",
    "as_of",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    default=None,
    help="Evaluation date (YYYY-MM-DD); default today. Later declarations are ignored.",
)
@with_appcontext
def rate_command(as_of):
    """Recompute every trader's rating now."""
    from app.audit.service import compute_ratings
    from app.security.access import Actor

    summary = compute_ratings(actor=Actor.system("cli"), as_of=as_of.date() if as_of else None)
    db.session.commit()
    click.echo(json.dumps(summary))


@audit_group.command("train")
@click.option("--activate", is_flag=True, help="Activate the new version at once.")
@with_appcontext
def train_command(activate):
    """Train a model version from the database's inspected declarations."""
    from app.audit.lifecycle import activate_model, train_from_history
    from app.security.access import Actor

    actor = Actor.system("cli")
    model = train_from_history(actor=actor)
    if activate:
        activate_model(model.version, actor=actor)
    db.session.commit()
    click.echo(
        json.dumps(
            {
                "version": model.version,
                "status": model.status,
                "train_seconds": model.train_seconds,
                **model.metrics,
            }
        )
    )


def evaluate_files(
    train_path: str, test_path: str, *, work_dir: str | None = None, params: dict | None = None
) -> dict:
    """Import both files through the risk importer into a scratch SQLite database, train
    with the platform's code on the first, score the second; all figures in one dict."""
    from app import create_app

    with tempfile.TemporaryDirectory(prefix="tollgate-eval-", dir=work_dir) as tmp:
        scratch = create_app(
            {
                "SQLALCHEMY_DATABASE_URI": f"sqlite:///{Path(tmp) / 'scratch.db'}",
                "INSTANCE_PATH": tmp,
                "TOLLGATE_SEARCH_DIR": str(Path(tmp) / "search"),
                "TOLLGATE_EVIDENCE_DIR": str(Path(tmp) / "evidence"),
                "TOLLGATE_WORKER_LOCK": str(Path(tmp) / "worker.lock"),
                "TESTING": True,
            }
        )
        with scratch.app_context():
            try:
                return _evaluate_in_scratch(train_path, test_path, params)
            finally:
                db.session.remove()
                db.engine.dispose()


def _evaluate_in_scratch(train_path, test_path, params) -> dict:

    from app.audit import ml
    from app.audit.history import item_frame
    from app.risk.importer import import_declarations
    from app.security.access import Actor

    actor = Actor.system("audit-evaluate")
    db.create_all()
    started = time.perf_counter()
    train_report = import_declarations(train_path, actor=actor)
    import_declarations(test_path, actor=actor)
    db.session.commit()
    import_s = time.perf_counter() - started
    frame = item_frame()
    train_ids = set(train_report.declaration_ids)
    in_train = frame["declaration_id"].isin(train_ids).to_numpy()
    train = frame[in_train & frame["label"].notna().to_numpy()]
    test = frame[~in_train & frame["label"].notna().to_numpy()]
    if train.empty or test.empty:
        raise click.ClickException("both files need inspected (labelled) rows")
    y_test = test["label"].to_numpy()
    model, scores, timing = ml.timed_fit_and_score(train, train["label"].to_numpy(), test, params)
    figures = ml.metrics(y_test, scores)
    baseline = ml.metrics(y_test, ml.train_baseline(train, train["label"].to_numpy(), test))

    # Trader level: what an auditor knows at the end of B: A with its results (ratings
    # as of A's last day, the model), B's declarations without theirs.
    test_all = frame[~in_train]
    trader = _trader_figures(actor, train, test_all, model)
    keep = (
        "precision_at_1",
        "precision_at_2",
        "precision_at_5",
        "precision_at_10",
        "recall_at_5",
        "recall_at_10",
        "auc",
        "base_rate",
        "n",
    )
    return {
        **{k: figures[k] for k in keep},
        "baseline": {k: baseline[k] for k in keep},
        **trader,
        "train_rows": int(len(train)),
        "test_rows": int(len(test)),
        "import_s": round(import_s, 2),
        "train_s": round(timing["train_s"], 2),
        "score_ms_per_item": round(timing["score_ms_per_item"], 4),
    }


def _trader_figures(actor, train, test_all, model) -> dict:
    from sqlalchemy import select

    from app.audit.evaluation import trader_evaluation
    from app.audit.models import TraderRating
    from app.audit.service import compute_ratings

    started = time.perf_counter()
    as_of = train["declaration_date"].max().date()
    compute_ratings(actor=actor, as_of=as_of, roles=("importer",))
    ratings = dict(
        db.session.execute(
            select(TraderRating.trader_code, TraderRating.score).where(
                TraderRating.role == "importer", TraderRating.is_current.is_(True)
            )
        ).all()
    )
    blind = test_all.drop(columns=["label"])
    scores = model.score_frame(blind)
    result = trader_evaluation(train, test_all, scores, ratings)
    result["ranking_s"] = round(time.perf_counter() - started, 2)
    return result


@audit_group.command("evaluate")
@click.option("--train", "train_path", required=True, type=click.Path(exists=True, dir_okay=False))
@click.option("--test", "test_path", required=True, type=click.Path(exists=True, dir_okay=False))
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def evaluate_command(train_path, test_path, as_json):
    """Train on one KCS-format file and report precision/recall on another."""
    from app.core.errors import ValidationError

    try:
        result = evaluate_files(train_path, test_path)
    except ValidationError as exc:
        raise click.ClickException(f"import refused: {exc}") from None
    if as_json:
        click.echo(json.dumps(result, sort_keys=True))
        return
    base = result["baseline"]
    click.echo(
        f"train rows {result['train_rows']}, test rows {result['test_rows']} "
        f"(fraud rate {result['base_rate']:.3f}); import {result['import_s']:.1f} s"
    )
    click.echo(f"{'':18}{'platform':>10}{'baseline':>10}")
    for key in (
        "precision_at_1",
        "precision_at_2",
        "precision_at_5",
        "precision_at_10",
        "recall_at_5",
        "recall_at_10",
        "auc",
    ):
        click.echo(f"{key:18}{result[key]:>10.3f}{base[key]:>10.3f}")
    if result["trader_precision_at_5"] is not None:
        _echo_traders(result)
    click.echo(
        f"training {result['train_s']:.1f} s; scoring "
        f"{result['score_ms_per_item']:.3f} ms per item (one at a time)"
    )


def _echo_traders(result: dict) -> None:
    base = result["trader_baselines"]
    ablation = result["trader_ablation"]
    click.echo(
        f"importers in the test period: {result['trader_population']} "
        f"(base rate with a fraud {result['trader_base_rate']:.3f})"
    )
    columns = {
        "audit score": result,
        "most decl.": base["most_declarations"],
        "past frauds": base["most_past_frauds"],
        "no rating": ablation["without_rating"],
    }
    click.echo(f"{'':26}" + "".join(f"{name:>13}" for name in columns))
    for key in (
        "trader_precision_at_5",
        "trader_precision_at_10",
        "fraud_share_top_5",
        "fraud_share_top_10",
        "fraud_value_share_top_5",
        "fraud_value_share_top_10",
    ):
        cells = "".join(
            f"{v[key]:>13.3f}" if v[key] is not None else f"{'-':>13}" for v in columns.values()
        )
        click.echo(f"{key:26}{cells}")
