"""The ML pieces on their own: metrics, leakage-free encodings, the real-time path."""

from datetime import date

import numpy as np
import pandas as pd
import pytest

from app.audit import ml
from app.audit.lifecycle import plan_inspections
from app.core.errors import ValidationError
from tests.audit.factories import FAST_PARAMS
from tests.audit.factories import synthetic_history as _synthetic_history


def synthetic_history(n, **kwargs):
    """The planted history on fixed 2025 dates (these tests split by date)."""
    return _synthetic_history(n, start=date(2025, 1, 1), **kwargs)


KCS_TO_FRAME = ml.KCS_COLUMNS


def _frame(rows):
    raw = pd.DataFrame(rows).rename(columns=KCS_TO_FRAME)
    raw["label"] = raw["label"].astype(int)
    return ml.normalise_frame(raw)


def test_precision_and_recall_at_inspection_rates():
    y = np.array([1, 1, 0, 0, 0, 0, 0, 0, 0, 1])
    scores = np.array([0.9, 0.8, 0.7, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.05])
    assert ml.precision_at(y, scores, 0.2) == 1.0
    assert ml.precision_at(y, scores, 0.3) == pytest.approx(2 / 3)
    assert ml.recall_at(y, scores, 0.2) == pytest.approx(2 / 3)
    figures = ml.metrics(y, scores)
    assert {
        "precision_at_1",
        "precision_at_5",
        "precision_at_10",
        "recall_at_5",
        "recall_at_10",
        "auc",
    } <= set(figures)


def test_out_of_fold_encoding_does_not_see_its_own_label():
    # Every row has its own importer: an in-sample encoding would reproduce the label.
    rows = synthetic_history(400)
    for n, row in enumerate(rows):
        row["Importer ID"] = f"UNIQUE-{n}"
    frame = _frame(rows)
    y = frame["label"].to_numpy().astype(float)
    enc = ml.Encoder.fit(frame, y, smoothing=10)
    oof = enc.transform(frame, oof_y=y, folds=5, seed=1)
    col = ml.FEATURES.index("risk_importer")
    assert np.allclose(oof[:, col], enc.prior)
    in_sample = enc.transform(frame)[:, col]
    assert np.corrcoef(in_sample, y)[0, 1] > 0.9  # what the OOF encoding avoids


def test_real_time_features_match_the_batch_features():
    frame = _frame(synthetic_history(300))
    y = frame["label"].to_numpy().astype(float)
    enc = ml.Encoder.fit(frame, y, smoothing=10)
    batch = enc.transform(frame.head(20))
    for i, row in enumerate(frame.head(20).to_dict("records")):
        row["declaration_date"] = row["declaration_date"].date()
        assert np.allclose(enc.row_features(row), batch[i], equal_nan=True)


def test_trained_model_learns_the_planted_risk_and_survives_a_json_round_trip():
    frame = _frame(synthetic_history(800, seed=3))
    train = frame[frame["declaration_date"] < "2025-09-01"]
    test = frame[frame["declaration_date"] >= "2025-09-01"]
    model = ml.train_model(train, train["label"].to_numpy(), FAST_PARAMS)
    scores = model.score_frame(test)
    figures = ml.metrics(test["label"].to_numpy(), scores)
    assert figures["auc"] > 0.75
    assert figures["precision_at_10"] > 2 * figures["base_rate"]
    again = ml.TrainedModel.from_json(model.to_json())
    assert np.allclose(again.score_frame(test), scores)
    rows = test.head(3).to_dict("records")
    scored = again.score_rows(rows)
    assert np.allclose([s["score"] for s in scored], scores[:3])
    assert all(isinstance(s["explanation"], list) for s in scored)


def test_explanations_name_the_risky_importer():
    frame = _frame(synthetic_history(800, seed=4))
    model = ml.train_model(frame, frame["label"].to_numpy(), FAST_PARAMS)
    row = {
        **frame.iloc[0].to_dict(),
        "importer_code": "IMP-000",
        "declaration_date": date(2025, 6, 1),
    }
    words = model.score_rows([row])[0]["explanation"]
    assert any("importer" in w for w in words), words


def test_training_refuses_a_single_outcome():
    frame = _frame(synthetic_history(100))
    with pytest.raises(ValueError, match="both outcomes"):
        ml.train_model(frame, np.zeros(len(frame)), FAST_PARAMS)


@pytest.mark.parametrize(
    ("capacity", "share", "n_random"), [(10, 0.1, 1), (10, 0.2, 2), (50, 0.1, 5), (7, 0.0, 0)]
)
def test_plan_respects_the_exploration_share(capacity, share, n_random):
    scores = {f"T{i:03d}": 1.0 - i / 200 for i in range(200)}
    plan = plan_inspections(scores, capacity, share, seed="x")
    assert len(plan["random"]) == n_random
    assert len(plan["ranked"]) == capacity - n_random
    ranked_top = sorted(scores, key=lambda k: -scores[k])[: capacity - n_random]
    assert plan["ranked"] == ranked_top
    assert not set(plan["random"]) & set(ranked_top)


def test_exploration_draws_spread_over_the_pool():
    scores = {f"T{i:03d}": 1.0 - i / 1000 for i in range(1000)}
    drawn = set()
    for seed in range(40):
        drawn |= set(plan_inspections(scores, 10, 0.3, seed=str(seed))["random"])
    # Random picks come from the whole remainder, not just the next best.
    assert max(int(c[1:]) for c in drawn) > 500


def test_plan_rejects_bad_shares():
    with pytest.raises(ValidationError):
        plan_inspections({"a": 1.0}, 1, 1.5)
