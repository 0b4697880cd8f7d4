"""Trader-level evaluation of the audit-candidate score: the auditor's question.

At the end of a test period B, which importers should be audited? The ranking may use the
history of A with its control results and the declarations of B without theirs; B's labels
only score the ranking afterwards.
"""

import numpy as np
import pandas as pd

from app.audit import candidates

SHARES = (0.05, 0.10)


def history_from(frame: pd.DataFrame, code_col: str = "importer_code") -> tuple[dict, float]:
    """code -> {"inspected", "noncompliant"} at declaration level, and the overall rate."""
    decl = (
        frame[frame[code_col] != ""]
        .groupby("declaration_id", sort=False)
        .agg(code=(code_col, "first"), label=("label", "max"))
    )
    decl = decl[decl["label"].notna()]
    if decl.empty:
        return {}, 0.1
    by = decl.groupby("code")["label"].agg(["size", "sum"])
    history = {
        code: {"inspected": int(r.size), "noncompliant": int(r.sum)}
        for code, r in zip(by.index, by.itertuples(index=False), strict=True)
    }
    return history, max(0.02, float(decl["label"].mean()))


def rank_traders(
    test_items: pd.DataFrame,
    scores: np.ndarray,
    *,
    history: dict,
    prior: float,
    ratings: dict | None = None,
    rating_weight: float = candidates.RATING_WEIGHT,
) -> list[str]:
    """Importer codes of the test items, best audit candidate first. ``test_items`` carries
    no label here: the caller passes B without its results."""
    items = test_items.drop(columns=["label"], errors="ignore").copy()
    items["score"] = scores
    decl = candidates.declaration_scores(items, "importer_code")
    ranked = candidates.score_candidates(
        decl, history=history, prior=prior, ratings=ratings, rating_weight=rating_weight
    )
    return [c["trader_code"] for c in ranked]


def _truth(test_items: pd.DataFrame) -> tuple[dict, dict, dict]:
    """From B's labels: importer -> at least one fraud; -> fraudulent declarations;
    -> value of the fraudulent declarations."""
    items = test_items[test_items["importer_code"] != ""]
    decl = items.groupby("declaration_id", sort=False).agg(
        code=("importer_code", "first"), label=("label", "max"), value=("value", "sum")
    )
    fraud = decl[decl["label"] == 1]
    positive = (decl.groupby("code")["label"].max() == 1).to_dict()
    frauds = fraud.groupby("code").size().astype(float).to_dict()
    value = fraud.groupby("code")["value"].sum().astype(float).to_dict()
    return positive, frauds, value


def figures(ranking: list[str], test_items: pd.DataFrame) -> dict:
    """Precision at 5/10 % of traders, and the shares of B's frauds and fraudulent value."""
    positive, frauds, value = _truth(test_items)
    out = {}
    for share in SHARES:
        pct = int(round(share * 100))
        out[f"trader_precision_at_{pct}"] = candidates.precision_at(ranking, positive, share)
        out[f"fraud_share_top_{pct}"] = candidates.capture_at(ranking, frauds, share)
        out[f"fraud_value_share_top_{pct}"] = candidates.capture_at(ranking, value, share)
    return out


def baselines(test_items: pd.DataFrame, train_items: pd.DataFrame) -> dict:
    """The two naive rankings over the same population: most declarations in B first; most
    past frauds (declarations of A found fraudulent) first. Ties by code."""
    items = test_items[test_items["importer_code"] != ""]
    counts = items.groupby("importer_code")["declaration_id"].nunique()
    population = sorted(counts.index)
    most = sorted(population, key=lambda c: (-counts[c], c))
    past = train_items[(train_items["importer_code"] != "") & (train_items["label"] == 1)]
    past_frauds = past.groupby("importer_code")["declaration_id"].nunique()
    frauds_first = sorted(population, key=lambda c: (-past_frauds.get(c, 0), c))
    return {
        "most_declarations": figures(most, test_items),
        "most_past_frauds": figures(frauds_first, test_items),
    }


def trader_evaluation(
    train_items: pd.DataFrame, test_items: pd.DataFrame, scores: np.ndarray, ratings: dict
) -> dict:
    """Every trader-level field of ``tollgate audit evaluate``."""
    history, prior = history_from(train_items)
    blind = test_items.drop(columns=["label"])
    ranking = rank_traders(blind, scores, history=history, prior=prior, ratings=ratings)
    without = rank_traders(
        blind, scores, history=history, prior=prior, ratings=ratings, rating_weight=0.0
    )
    positive, _frauds, _value = _truth(test_items)
    result = {
        "trader_ranking": ranking,
        "trader_population": len(ranking),
        "trader_base_rate": float(np.mean([bool(positive.get(c)) for c in ranking]))
        if ranking
        else None,
        **figures(ranking, test_items),
        "trader_baselines": baselines(test_items, train_items),
        "trader_ablation": {
            "with_rating": figures(ranking, test_items),
            "without_rating": figures(without, test_items),
            "rating_weight": candidates.RATING_WEIGHT,
        },
    }
    return result
