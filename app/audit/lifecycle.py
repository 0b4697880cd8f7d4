"""ML model life cycle: train from the platform's history, activate, roll back, score, drift.

Training uses inspected items only (labels exist only where someone looked), splits by time
(the latest ``test_share`` of dates is held out and gives the stored metrics), then refits
on all labelled items for the version that will score live declarations.
"""

import threading
import time
from datetime import date

import numpy as np
from sqlalchemy import func, select

from app.audit import ml
from app.audit.models import RiskModel
from app.core.errors import ValidationError
from app.core.time import now_utc
from app.extensions import db
from app.risk.fields import DECLARATION_FIELDS, SCORED_ITEM_FIELDS
from app.security.access import Actor, NotFound

#: the live scorer re-checks which version is active at most this often (seconds)
ACTIVE_CHECK_SECONDS = 10.0
MIN_LABELLED = 200


def train_from_history(
    *,
    actor: Actor,
    test_share: float = 0.2,
    params: dict | None = None,
    start: date | None = None,
    end: date | None = None,
    note: str | None = None,
) -> RiskModel:
    """Train a new model version on inspected declarations with a time-based split."""
    from app.audit.history import item_frame

    actor.require("risk.model.manage")
    if not 0.05 <= float(test_share) <= 0.5:
        raise ValidationError({"test_share": "must be between 0.05 and 0.5"})
    frame = item_frame(start, end)
    frame = frame[frame["label"].notna()]
    if len(frame) < MIN_LABELLED:
        raise ValidationError(
            {
                "history": f"only {len(frame)} inspected items with a result; "
                f"training needs at least {MIN_LABELLED}"
            }
        )
    dates = frame["declaration_date"]
    cut = dates.quantile(1 - float(test_share))
    train, test = frame[dates < cut], frame[dates >= cut]
    if len(train) < MIN_LABELLED // 2 or len(test) < 20 or train["label"].nunique() < 2:
        raise ValidationError(
            {
                "history": "the time split leaves too few labelled items on "
                "one side (or only one outcome in training)"
            }
        )
    started = time.perf_counter()
    holdout = ml.train_model(train, train["label"].to_numpy(), params)
    scores = holdout.score_frame(test)
    figures = ml.metrics(test["label"].to_numpy(), scores)
    final = ml.train_model(frame, frame["label"].to_numpy(), params)
    seconds = time.perf_counter() - started
    version = (db.session.scalar(select(func.max(RiskModel.version))) or 0) + 1
    model = RiskModel(
        version=version,
        status="trained",
        train_start=train["declaration_date"].min().date(),
        train_end=train["declaration_date"].max().date(),
        test_start=test["declaration_date"].min().date(),
        test_end=test["declaration_date"].max().date(),
        n_train=len(train),
        n_test=len(test),
        metrics=figures,
        params=final.params,
        score_deciles=[float(x) for x in np.quantile(scores, np.linspace(0.1, 0.9, 9))],
        train_seconds=round(seconds, 2),
        artifact=final.to_json(),
        trained_by_name=actor.username,
        note=note,
    )
    db.session.add(model)
    db.session.flush()
    return model


def get_model(version: int) -> RiskModel:
    model = db.session.scalar(select(RiskModel).where(RiskModel.version == version))
    if model is None:
        raise NotFound(f"No model version {version}.")
    return model


def list_models() -> list[RiskModel]:
    return list(db.session.scalars(select(RiskModel).order_by(RiskModel.version.desc())))


def active_model() -> RiskModel | None:
    return db.session.scalar(select(RiskModel).where(RiskModel.status == "active"))


def activate_model(version: int, *, actor: Actor) -> RiskModel:
    """Make ``version`` the live model; the previously active one is retired."""
    actor.require("risk.model.manage")
    model = get_model(version)
    if model.status == "active":
        return model
    for other in db.session.scalars(select(RiskModel).where(RiskModel.status == "active")):
        other.status = "retired"
    model.status = "active"
    model.activated_dt = now_utc()
    model.activated_by_name = actor.username
    db.session.flush()
    _cache.forget()
    return model


def rollback_model(*, actor: Actor) -> RiskModel:
    """Re-activate the version that was live before the current one."""
    actor.require("risk.model.manage")
    current = active_model()
    stmt = select(RiskModel).where(RiskModel.activated_dt.is_not(None))
    if current is not None:
        stmt = stmt.where(RiskModel.id != current.id)
        if current.activated_dt is not None:
            stmt = stmt.where(RiskModel.activated_dt <= current.activated_dt)
    previous = db.session.scalar(stmt.order_by(RiskModel.activated_dt.desc()).limit(1))
    if previous is None:
        raise ValidationError({"version": "no earlier active version to roll back to"})
    if current is not None:
        current.status = "retired"
        # Forget its activation so a second rollback walks further back, not forth.
        current.activated_dt = None
    previous.status = "active"
    previous.activated_by_name = actor.username
    db.session.flush()
    _cache.forget()
    return previous


# --- live scoring ------------------------------------------------------------------------


class _ModelCache:
    """The active TrainedModel per process, reloaded when another version becomes active."""

    def __init__(self):
        self._lock = threading.Lock()
        self.version = None
        self.key = None
        self.model = None
        self.checked = 0.0

    def forget(self):
        with self._lock:
            self.checked = 0.0
            self.key = self.version = self.model = None

    def get(self) -> tuple[int | None, "ml.TrainedModel | None"]:
        from flask import current_app

        now = time.monotonic()
        interval = 0.0 if current_app.testing else ACTIVE_CHECK_SECONDS
        if now - self.checked < interval:
            return self.version, self.model
        with self._lock:
            row = db.session.execute(
                select(RiskModel.version, RiskModel.trained_dt).where(RiskModel.status == "active")
            ).first()
            key = tuple(row) if row else None
            if key != self.key:
                if row is None:
                    self.model = None
                else:
                    text = db.session.scalar(
                        select(RiskModel.artifact).where(RiskModel.version == row.version)
                    )
                    self.model = ml.TrainedModel.from_json(text)
                self.key = key
                self.version = row.version if row else None
            self.checked = now
            return self.version, self.model


_cache = _ModelCache()


def item_rows(declaration, items) -> list[dict]:
    """Declaration + items (risk domain objects or dicts) as ml row dicts."""

    def get(obj, name):
        return obj.get(name) if isinstance(obj, dict) else getattr(obj, name, None)

    head = {c: get(declaration, c) for c in DECLARATION_FIELDS}
    rows = []
    for item in items:
        row = dict(head)
        for c in SCORED_ITEM_FIELDS:
            row[c] = get(item, c)
        rows.append(row)
    return rows


def score_declaration(declaration, items) -> list[dict] | None:
    """ML scorer for the selectivity engine: per-item score and explanation, or None."""
    version, model = _cache.get()
    if model is None:
        return None
    scored = model.score_rows(item_rows(declaration, items), explain=3)
    for entry in scored:
        entry["model_version"] = version
    return scored


def score_declarations(pairs) -> list[list[dict] | None]:
    """``score_declaration`` of each ``(declaration, items)`` with one predict call (the
    risk engine's bulk path: express batches of hundreds of declarations)."""
    version, model = _cache.get()
    if model is None:
        return [None] * len(pairs)
    rows = [row for decl, items in pairs for row in item_rows(decl, items)]
    scored = model.score_rows(rows, explain=3) if rows else []
    out, start = [], 0
    for _, items in pairs:
        part = scored[start : start + len(items)]
        for entry in part:
            entry["model_version"] = version
        out.append(part)
        start += len(items)
    return out


def score_with(version: int, declaration, items) -> list[float]:
    """Scores of a given (not necessarily active) version; for comparisons and tests."""
    text = db.session.scalar(select(RiskModel.artifact).where(RiskModel.version == version))
    if text is None:
        raise NotFound(f"No model version {version}.")
    model = ml.TrainedModel.from_json(text)
    return [e["score"] for e in model.score_rows(item_rows(declaration, items), explain=0)]


# --- drift and exploration -----------------------------------------------------------------


def drift_report(model: RiskModel, as_of: date | None = None) -> dict:
    """Live score distribution against the held-out one (PSI) and hit rates by selection.

    Hit rate of the ML-selected share (declarations scored at or above the engine's ML
    threshold) is compared with the random selection's, the unbiased reference. ``as_of`` is
    the evaluation date (today by the clock): declarations dated after it are left out and
    counted (``ignored_after``).
    """
    from app.risk import outcomes

    since = model.activated_dt or model.trained_dt
    as_of = as_of or now_utc().date()
    scores, ignored = outcomes.live_scores(since, as_of)
    report = {
        "as_of": as_of,
        "ignored_after": ignored,
        "n_scored": len(scores),
        "psi": None,
        "live_deciles": [],
        "ml_selected": None,
        "random_selected": None,
    }
    if len(scores) >= 20 and model.score_deciles:
        edges = [-np.inf, *model.score_deciles, np.inf]
        live = np.histogram(scores, bins=edges)[0] / len(scores)
        expected = np.full(len(live), 1 / len(live))
        live = np.clip(live, 1e-4, None)
        report["psi"] = float(np.sum((live - expected) * np.log(live / expected)))
        report["live_deciles"] = [float(x) for x in np.quantile(scores, np.linspace(0.1, 0.9, 9))]
    threshold = outcomes.ml_threshold()
    if threshold is not None:
        n, hits = outcomes.inspected_hits(since, as_of, min_score=threshold)
        report["ml_selected"] = {
            "threshold": threshold,
            "inspected": n,
            "hit_rate": hits / n if n else None,
        }
    n, hits = outcomes.inspected_hits(since, as_of, random_only=True)
    report["random_selected"] = {"inspected": n, "hit_rate": hits / n if n else None}
    report["status"] = (
        "drift"
        if report["psi"] is not None and report["psi"] > 0.25
        else "watch"
        if report["psi"] is not None and report["psi"] > 0.1
        else "stable"
        if report["psi"] is not None
        else "too few scores"
    )
    return report


def plan_inspections(scores: dict, capacity: int, exploration_share: float, seed: str = "") -> dict:
    """Pick ``capacity`` ids: the top-scored ones plus a guaranteed random share.

    ``scores`` maps an id to a number or a tuple of numbers (compared in order, highest first).

    ``round(capacity * exploration_share)`` ids are drawn uniformly from those the ranking
    left out, so the model keeps receiving labels it did not choose (Kim et al., TKDE 2022).
    """
    import random

    if capacity < 0:
        raise ValidationError({"capacity": "must not be negative"})
    if not 0 <= exploration_share <= 1:
        raise ValidationError({"exploration_share": "must be between 0 and 1"})

    def order(key):
        value = scores[key]
        value = tuple(-v for v in value) if isinstance(value, tuple) else (-value,)
        return (*value, str(key))

    ranked = sorted(scores, key=order)
    capacity = min(capacity, len(ranked))
    n_random = int(round(capacity * exploration_share))
    n_top = capacity - n_random
    top = ranked[:n_top]
    pool = ranked[n_top:]
    rng = random.Random(f"{seed}:{capacity}:{exploration_share}")  # noqa: S311 - selection, not crypto
    explore = rng.sample(pool, min(n_random, len(pool)))
    return {"ranked": top, "random": explore}
