"""The per-item ML explanation, as stored with the assessment, in words for the page and API.

A scorer (``app.risk.providers.register_ml_scorer``) returns per item ``{"score",
"explanation"}``; the assessment keeps them under ``assessment["ml"]["items"]``. An explanation
may be a sentence, a list of sentences, or a list of (reason, contribution) pairs (SHAP-style
log-odds); each reason is shown as written, with its signed contribution when there is one:
"value per kg far below the norm for HS 8517 (+0.21)".
"""

import math
from numbers import Real


def _reason(entry) -> str | None:
    if isinstance(entry, str):
        return entry.strip() or None
    text, weight = None, None
    if isinstance(entry, list | tuple) and len(entry) == 2:
        text, weight = entry
    elif isinstance(entry, dict):
        text = entry.get("text") or entry.get("reason") or entry.get("feature")
        weight = next((entry[k] for k in ("contribution", "weight", "value") if k in entry), None)
    if not isinstance(text, str) or not text.strip():
        return None
    if isinstance(weight, Real) and not isinstance(weight, bool) and math.isfinite(weight):
        return f"{text.strip()} ({weight:+.2f})"
    return text.strip()


def reasons(explanation) -> list[str]:
    """An explanation in any of the shapes a scorer may give, as a list of sentences."""
    if explanation is None:
        return []
    if isinstance(explanation, str | dict) or (
        isinstance(explanation, tuple) and len(explanation) == 2
    ):
        explanation = [explanation]
    if not isinstance(explanation, list | tuple):
        return []
    return [r for r in (_reason(e) for e in explanation) if r]


def ml_explanations(decl) -> list[dict]:
    """``[{"line", "score", "reasons"}]`` per scored item, in line order; [] without a model."""
    ml = (decl.assessment or {}).get("ml") or {}
    out = []
    for entry in ml.get("items") or ():
        if not isinstance(entry, dict):
            continue
        score = entry.get("score")
        out.append(
            {
                "line": entry.get("line"),
                "score": float(score) if isinstance(score, Real) else None,
                "reasons": reasons(entry.get("explanation")),
            }
        )
    return sorted(out, key=lambda e: (e["line"] is None, e["line"] or 0))


def by_line(decl) -> dict:
    """Line number -> that item's explanation entry (for the items table)."""
    return {e["line"]: e for e in ml_explanations(decl)}
