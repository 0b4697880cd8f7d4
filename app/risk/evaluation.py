"""The assessment of one declaration from its inputs - the one source of the stored
assessment, its channel columns and its profile hits.

Both paths call ``evaluate``: new declarations, one or a batch, not yet written
(``bulk.submit_new``, the API and the service) and declarations already stored
(``bulk.assess_stored``: demo traffic); both look the history up once for the whole
batch and pass the results in (ratings, ML scores, the importer's first declaration in
a chapter).
"""

from dataclasses import dataclass

from app.core.time import now_utc
from app.risk import providers
from app.risk.derived import cached_peer_medians, is_first_for_chapter

#: the derived item field the bulk path computes for a whole batch at once
FIRST_CHAPTER = "first_importer_chapter"


@dataclass
class Outcome:
    """What ``evaluate`` decided: the stored assessment, the profiles that fired
    (``(CompiledProfile, item indexes)``) and their hit rows (ProfileHit columns but the
    declaration's)."""

    assessment: dict
    hits: list
    hit_rows: list[dict]


def engine_inputs(decl, items, *, needs=frozenset(), ratings=None, ml=None):
    """The dicts the compiled rules read: declaration fields and one dict per item."""
    medians = cached_peer_medians()
    d = {
        "office": decl.office,
        "procedure": decl.procedure,
        "import_type": decl.import_type,
        "import_use": decl.import_use,
        "payment_type": decl.payment_type,
        "transport_mode": decl.transport_mode,
        "dispatch_country": decl.dispatch_country,
        "declarant": decl.declarant_code,
        "importer": decl.importer_code,
        "seller": decl.seller_code,
        "courier": decl.courier_code,
        "trader_rating": (ratings or {}).get(decl.importer_code),
    }
    out = []
    for n, item in enumerate(items):
        unit_value = item.value / item.mass_kg if item.mass_kg else None
        median = medians.get(item.hs_code[:6])
        deviation = (
            100.0 * (unit_value / median - 1.0) if unit_value is not None and median else None
        )
        values = {
            "hs_code": item.hs_code,
            "origin": item.origin_country,
            "departure": item.departure_country,
            "value": item.value,
            "mass": item.mass_kg,
            "unit_value": unit_value,
            "tax_rate": item.tax_rate,
            "tax_type": item.tax_type,
            "origin_indicator": item.origin_indicator,
            "ml_score": ml[n]["score"] if ml else None,
            "unit_value_deviation": deviation,
        }
        if "first_importer_chapter" in needs:
            values["first_importer_chapter"] = is_first_for_chapter(
                decl.importer_code, item.hs_code, decl.id
            )
        out.append(values)
    return d, out


def evaluate(engine, decl, items, *, ratings: dict, ml, first_chapter=None) -> Outcome:
    """Evaluate the profiles, the ML score and the random draw for ``decl``; set its
    assessment and channel columns and its items' ML scores. ``ratings``: code -> rating
    (of this importer at least); ``ml``: the scorer's per-item result or None;
    ``first_chapter``: per item, the bulk path's ``first_importer_chapter`` (None: looked up
    here when a profile needs it)."""
    for item, score in zip(items, ml or [], strict=False):
        item.ml_score = score["score"]
    needs = engine.needs if first_chapter is None else engine.needs - {FIRST_CHAPTER}
    dvals, ivals = engine_inputs(decl, items, needs=needs, ratings=ratings, ml=ml)
    if first_chapter is not None and FIRST_CHAPTER in engine.needs:
        for values, flag in zip(ivals, first_chapter, strict=True):
            values[FIRST_CHAPTER] = flag
    screening = providers.party_screening_for(decl)
    dvals.update(screening["fields"] if screening else providers.NO_SCREENING)
    when = now_utc()
    hits = engine.evaluate(dvals, ivals, when)
    ml_score = max((s["score"] for s in ml), default=None) if ml else None
    seed, draw = engine.draw(decl.number)
    decision = engine.decide(hits, ml_score, draw)
    profiles, hit_rows = _fired(hits, items, dvals, ivals, when)
    rating = ratings.get(decl.importer_code) if decl.importer_code else None
    assessment = {
        "channel": decision["channel"],
        "reasons": decision["reasons"],
        "profiles": profiles,
        "ml": None
        if ml is None
        else {
            "score": ml_score,
            "threshold": engine.ml_threshold,
            "channel": engine.ml_channel,
            "selected": decision["ml_hit"],
            "items": [{"line": items[n].line_no, **s} for n, s in enumerate(ml)],
        },
        "trader_rating": None if rating is None else {"code": decl.importer_code, "rating": rating},
        "random": {
            "seed": seed,
            "draw": draw,
            "channel": decision["random_channel"],
            "selected": decision["random_channel"] is not None,
            "rates": engine.rates.random,
        },
        "screening": screening["summary"] if screening else None,
        "engine_version": engine.version,
        "assessed_dt": when.isoformat(),
    }
    decl.channel = decl.engine_channel = decision["channel"]
    decl.assessment = assessment
    decl.assessed_dt = when
    decl.random_seed, decl.random_draw = seed, draw
    decl.random_channel = decision["random_channel"]
    decl.is_random_selected = decision["random_channel"] is not None
    decl.ml_score = ml_score
    decl.trader_rating = rating
    decl.engine_version = engine.version
    return Outcome(assessment, hits, hit_rows)


def _fired(hits, items, dvals, ivals, when) -> tuple[list[dict], list[dict]]:
    """The assessment's entry of each profile that fired, and its hit row."""
    profiles, hit_rows = [], []
    for p, matched in hits:
        lines = [items[n].line_no for n in matched]
        profiles.append(
            {
                "id": p.id,
                "code": p.code,
                "name": p.name,
                "channel": p.channel,
                "version": p.version,
                "instructions": p.instructions,
                "sensitive": p.is_sensitive,
                "items": lines,
                "matched": p.matched_conditions(dvals, ivals[matched[0]]),
            }
        )
        hit_rows.append(
            {
                "profile_id": p.id,
                "profile_version": p.version,
                "channel": p.channel,
                "item_lines": lines,
                "hit_dt": when,
            }
        )
    return profiles, hit_rows
