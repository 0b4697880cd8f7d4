"""Plug-in points for other domains: the trader rating provider, the ML scorer and the
party screener.

The audit domain registers its implementations in its ``init_app``, the screening domain
its party screener; the selectivity engine uses them when present (fields
``trader_rating``, ``ml_score``, ``party_screening_score`` and ``party_on_list``) and works
without them.
A provider that raises is logged and ignored: local information may only add risk, never
block an assessment.
"""

import logging
from collections.abc import Callable

log = logging.getLogger(__name__)

_rating_provider: Callable | None = None
_ml_scorer: Callable | None = None
#: (scorer, batch scorer) registered together
_ml_many: tuple | None = None
_party_screener: Callable | None = None
_screening_recorder: Callable | None = None


class ListNames(frozenset):
    """The names of the lists a party matched (``party_on_list``); reads as a list of names
    where the assessment quotes the values it saw."""

    def __str__(self) -> str:
        return ", ".join(sorted(self)) or "none"

    def __format__(self, spec: str) -> str:
        return format(str(self), spec)


#: the derived declaration fields a party screener fills in (None / empty without one)
NO_SCREENING = {"party_screening_score": None, "party_on_list": ListNames()}


def register_rating_provider(fn: Callable) -> None:
    """``fn(codes: list[str]) -> {code: rating 0..100}`` (higher = riskier)."""
    global _rating_provider
    _rating_provider = fn


def register_ml_scorer(fn: Callable, many: Callable | None = None) -> None:
    """``fn(declaration, items) -> [{"score": 0..1, "explanation": ...} or float, ...]``,
    one per item, in item order. ``many([(declaration, items), ...])`` scores a batch in
    one call (a list of what ``fn`` returns, one per declaration): a model's predict has a
    fixed cost per call that a batch of 500 express declarations would pay 500 times."""
    global _ml_scorer, _ml_many
    _ml_scorer, _ml_many = fn, (fn, many) if many is not None else None


def has_rating_provider() -> bool:
    return _rating_provider is not None


def has_ml_scorer() -> bool:
    return _ml_scorer is not None


def ratings_for(codes: list[str]) -> dict[str, float]:
    """Ratings of the given trader codes (empty without a provider or on its failure)."""
    if _rating_provider is None or not codes:
        return {}
    try:
        result = _rating_provider([c for c in codes if c]) or {}
    except Exception:
        log.exception("trader rating provider failed; assessing without ratings")
        return {}
    ratings = {}
    for code, value in result.items():
        try:
            ratings[code] = min(100.0, max(0.0, float(value)))
        except (TypeError, ValueError):
            continue
    return ratings


def ml_scores_for(declaration, items) -> list[dict] | None:
    """Per-item ``{"score", "explanation"}`` or None without a scorer or on its failure."""
    if _ml_scorer is None:
        return None
    try:
        raw = _ml_scorer(declaration, items)
    except Exception:
        log.exception("ML scorer failed; assessing without ML scores")
        return None
    return _checked_scores(raw, items)


def ml_scores_many(pairs: list[tuple]) -> list[list[dict] | None]:
    """``ml_scores_for`` of each ``(declaration, items)``, in one call of the scorer when it
    scores batches."""
    # The batch scorer goes with the scorer it was registered with (a test may swap the
    # scorer alone).
    if _ml_scorer is None or _ml_many is None or _ml_many[0] is not _ml_scorer:
        return [ml_scores_for(decl, items) for decl, items in pairs]
    try:
        raw = _ml_many[1](pairs)
        if len(raw) != len(pairs):
            raise ValueError(f"{len(raw)} results for {len(pairs)} declarations")
    except Exception:
        log.exception("ML scorer failed on a batch; assessing without ML scores")
        return [None] * len(pairs)
    return [_checked_scores(r, items) for r, (_, items) in zip(raw, pairs, strict=True)]


def _checked_scores(raw, items) -> list[dict] | None:
    if raw is None:  # the scorer has no model yet
        return None
    if len(raw) != len(items):
        log.warning(
            "ML scorer returned %s scores for %s items; ignored",
            len(raw),
            len(items),
        )
        return None
    scores = []
    for entry in raw:
        if isinstance(entry, dict):
            score, explanation = entry.get("score"), entry.get("explanation")
        else:
            score, explanation = entry, None
        try:
            score = min(1.0, max(0.0, float(score)))
        except (TypeError, ValueError):
            return None
        scores.append({"score": score, "explanation": explanation})
    return scores


def register_party_screener(fn: Callable | None, record: Callable | None = None) -> None:
    """``fn(declaration) -> {"fields": {"party_screening_score": float | None,
    "party_on_list": frozenset of list names}, "summary": dict} | None``.

    Called for every new declaration before the rules run (its named parties are on
    ``declaration.named_parties``, not yet written); ``summary`` is kept in the stored
    assessment under ``"screening"``. ``record([(declaration, summary), ...])`` writes what
    the screener found (its hits) from the stored summaries: for new declarations, by the
    worker moments later (``assessment.record_pending_screening``; the declaration's row
    carries ``screening_pending`` until then), for the demo's stored ones in their
    transaction. The matches themselves are the assessment's record, stored with it or
    not at all. None unregisters (tests, benchmarks)."""
    global _party_screener, _screening_recorder
    _party_screener, _screening_recorder = fn, record if fn is not None else None


def screening_found(summary) -> bool:
    """The screener's summary holds matches (hits to record)."""
    return bool(summary and summary.get("matches"))


def record_screening(pairs) -> None:
    """The screener's ``record`` for the (declaration, screening summary) pairs with a match
    (the declarations written: their ids are known)."""
    if _screening_recorder is None:
        return
    found = [(decl, summary) for decl, summary in pairs if screening_found(summary)]
    if found:
        _screening_recorder(found)


def has_party_screener() -> bool:
    return _party_screener is not None


def party_screening_for(declaration) -> dict | None:
    """The screener's result, or None without a screener or on its failure (a screening
    fault must not hold the declaration's channel back)."""
    if _party_screener is None:
        return None
    try:
        result = _party_screener(declaration)
    except Exception:
        log.exception("party screener failed; assessing without screening")
        return None
    if not result:
        return None
    fields = result.get("fields") or {}
    on_list = fields.get("party_on_list")
    return {
        "fields": {
            "party_screening_score": fields.get("party_screening_score"),
            "party_on_list": ListNames(on_list or ()),
        },
        "summary": result.get("summary"),
    }
