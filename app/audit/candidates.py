"""Audit-candidate score: what a post-clearance audit of a trader over a past period would find.

A post-clearance audit looks back: the period's declarations are cleared and scored, their
values and duties known. Per trader and period the score combines

- the ML scores of the period's declarations: a declaration's chance of being non-compliant is
  its riskiest item's score; the chance that the audit finds at least one is
  ``1 - prod(1 - p)`` (a few very risky declarations are what an audit finds, an average
  hides them), the expected findings are ``sum(p)``;
- the revenue at stake: declared value x duty rate, and the expected yield ``sum(p x duty)``;
- the trader's history before the period: control results, audit findings, cases and
  intelligence links;
- the exposure: how many declarations and how much value the period holds;
- the behavioural rating, as one input (it keeps its own display).

Each term is a factor in words with its contribution in log-odds. Pure pandas: the platform's
selection and ``tollgate audit evaluate`` share it.
"""

import math

import numpy as np
import pandas as pd

#: bump when the formula changes (stored in the factors' wording only)
METHOD = "audit-candidate-1"
#: pseudo-count of the Bayesian non-compliance estimate of the history
PRIOR_WEIGHT = 4.0
#: log-odds weights of the terms on top of the ML term
WEIGHTS = {"history": 0.25, "exposure": 0.0, "findings": 0.5, "cases": 0.2, "intel": 0.2}
#: log-odds weight of the behavioural rating's deviation from 50 (the ablation sets it to 0)
RATING_WEIGHT = 0.25
#: declarations scored at or above this are named as "high" in the factors
HIGH_SCORE = 0.5


def _logit(p: float) -> float:
    p = min(max(float(p), 1e-4), 1 - 1e-4)
    return math.log(p / (1 - p))


def declaration_scores(items: pd.DataFrame, code_col: str) -> pd.DataFrame:
    """Items (one row each, with ``score``) -> one row per declaration of a trader.

    ``items`` needs ``declaration_id``, ``code_col``, ``score`` (item ML score or NaN),
    ``value`` and ``tax_rate`` (percent).
    """
    part = items[items[code_col].fillna("") != ""].copy()
    part["duty"] = part["value"].fillna(0).clip(lower=0) * part["tax_rate"].fillna(0) / 100.0
    return part.groupby("declaration_id", sort=False).agg(
        code=(code_col, "first"),
        p=("score", "max"),
        value=("value", "sum"),
        duty=("duty", "sum"),
    )


def _period_terms(decl: pd.DataFrame) -> pd.DataFrame:
    decl = decl.copy()
    decl["p"] = decl["p"].clip(0.0, 0.9999)
    decl["log_miss"] = np.log1p(-decl["p"].fillna(0.0))
    decl["ey"] = decl["p"].fillna(0.0) * decl["duty"]
    decl["high"] = decl["p"] >= HIGH_SCORE
    decl["scored"] = decl["p"].notna()
    grouped = decl.groupby("code", sort=False)
    out = grouped.agg(
        n=("p", "size"),
        n_scored=("scored", "sum"),
        n_high=("high", "sum"),
        max_p=("p", "max"),
        expected_findings=("p", "sum"),
        log_miss=("log_miss", "sum"),
        value=("value", "sum"),
        duty=("duty", "sum"),
        expected_yield=("ey", "sum"),
    )
    out["p_finding"] = 1.0 - np.exp(out["log_miss"])
    return out


def score_candidates(
    decl: pd.DataFrame,
    *,
    history: dict | None = None,
    prior: float = 0.1,
    ratings: dict | None = None,
    rating_weight: float = RATING_WEIGHT,
) -> list[dict]:
    """Rank the traders of ``decl`` (see :func:`declaration_scores`), best candidate first.

    ``history``: code -> {"inspected", "noncompliant", "findings" (case reference or None),
    "cases", "intel_links", "areas"}; ``prior``: the history's non-compliance rate;
    ``ratings``: code -> behavioural rating 0..100 (missing: no rating term).
    """
    if decl.empty:
        return []
    history, ratings = history or {}, ratings or {}
    terms = _period_terms(decl)
    base = _logit(prior)
    out = []
    for code, r in zip(terms.index, terms.itertuples(index=False), strict=True):
        h = history.get(code, {})
        factors = []
        p_find, text = _ml_term(r, prior)
        logit = _logit(p_find)
        factors.append({"text": text, "points": round(logit, 3), "area": None})
        factors.append(
            {
                "text": f"revenue at stake {r.duty:,.0f} (value {r.value:,.0f}); "
                f"expected yield {r.expected_yield:,.0f}",
                "points": 0.0,
                "area": None,
            }
        )
        logit += _history_terms(h, prior, base, factors)
        rating = ratings.get(code)
        if rating is not None and rating_weight:
            points = rating_weight * (_logit(rating / 100.0) - _logit(0.5))
            factors.append({"text": f"behavioural rating {rating:.0f}", "points": round(points, 3)})
            logit += points
        if WEIGHTS["exposure"]:
            points = WEIGHTS["exposure"] * math.log(int(r.n))
            logit += points
        factors.append(
            {
                "text": f"exposure: {int(r.n)} declaration{'s' if r.n != 1 else ''} in the period",
                "points": 0.0,
                "area": None,
            }
        )
        score = 1.0 / (1.0 + math.exp(-logit))
        out.append(
            {
                "trader_code": str(code),
                "audit_score": round(100.0 * score, 2),
                "p_finding": round(p_find, 4),
                "expected_findings": round(float(r.expected_findings), 3),
                "expected_yield": round(float(r.expected_yield), 2),
                "duty_at_stake": round(float(r.duty), 2),
                "declared_value": round(float(r.value), 2),
                "n_declarations": int(r.n),
                "rating": rating,
                "factors": factors,
                "risk_areas": list(h.get("areas") or []) or ["valuation"],
                "_key": logit,
            }
        )
    out.sort(key=lambda c: (-c["_key"], -c["expected_yield"], c["trader_code"]))
    for c in out:
        del c["_key"]
    return out


def _ml_term(r, prior: float) -> tuple[float, str]:
    """P(the audit finds at least one non-compliant declaration) and its words."""
    if r.n_scored:
        return float(r.p_finding), (
            f"{int(r.n_high)} of {int(r.n)} declarations in the period score high on the "
            f"ML model (highest {r.max_p:.2f}); expected findings {r.expected_findings:.1f}"
        )
    return 1 - (1 - prior) ** int(r.n), (
        f"no ML score for the period's declarations: the history's rate {prior:.0%}"
    )


def _history_terms(h: dict, prior: float, base: float, factors: list) -> float:
    """Log-odds of the trader's history before the period; appends the factors in words."""
    added = 0.0
    inspected, nc = int(h.get("inspected") or 0), int(h.get("noncompliant") or 0)
    if inspected:
        p = (nc + PRIOR_WEIGHT * prior) / (inspected + PRIOR_WEIGHT)
        points = WEIGHTS["history"] * (_logit(p) - base)
        factors.append(
            {
                "text": f"history: {nc} of {inspected} inspected declarations non-compliant",
                "points": round(points, 3),
                "area": None,
            }
        )
        added += points
    else:
        factors.append({"text": "history: no inspected declarations", "points": 0.0})
    if h.get("findings"):
        factors.append(
            {"text": f"audit findings in case {h['findings']}", "points": WEIGHTS["findings"]}
        )
        added += WEIGHTS["findings"]
    cases = int(h.get("cases") or 0)
    if cases:
        points = WEIGHTS["cases"] * min(1.0, cases / 2)
        factors.append(
            {"text": f"party to {cases} case{'s' if cases > 1 else ''}", "points": points}
        )
        added += points
    links = int(h.get("intel_links") or 0)
    if links:
        points = WEIGHTS["intel"] * min(1.0, links / 3)
        factors.append(
            {
                "text": f"{links} intelligence link{'s' if links > 1 else ''} in the registry",
                "points": points,
            }
        )
        added += points
    return added


def precision_at(ranking: list[str], positive: dict, share: float) -> float | None:
    """Share of the top ``share`` of ``ranking`` that is positive (at least one fraud)."""
    if not ranking:
        return None
    n = max(1, int(round(len(ranking) * share)))
    return float(np.mean([bool(positive.get(c)) for c in ranking[:n]]))


def capture_at(ranking: list[str], amount: dict, share: float) -> float | None:
    """Share of the total ``amount`` (frauds, fraudulent value) held by the top ``share``."""
    total = float(sum(amount.values()))
    if not ranking or total <= 0:
        return None
    n = max(1, int(round(len(ranking) * share)))
    return float(sum(amount.get(c, 0.0) for c in ranking[:n]) / total)
