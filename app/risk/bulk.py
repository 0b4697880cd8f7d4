"""Bulk storage and assessment of declarations for loaders (demo traffic, history loads).

``store_declarations`` writes parsed declarations and their items with two multi-row
INSERTs; ``assess_stored`` assesses them in id order with the compiled engine in this
process, exactly as ``assessment.assess_declaration`` does one at a time (same inputs,
same assessment, channel, profile hits and signals), but with the history look-ups made
once for the whole batch and one flush at the end instead of one per declaration.
"""

from sqlalchemy import insert, select

from app.core import signals
from app.core.bulk import send_each
from app.core.time import now_utc
from app.extensions import db
from app.risk import providers
from app.risk.assessment import engine_inputs
from app.risk.engine import get_engine
from app.risk.models import Declaration, DeclarationItem, ProfileHit, RiskProfile
from app.security.access import Actor

FIRST_CHAPTER = "first_importer_chapter"
_CHUNK = 1000


def store_declarations(parsed: list[dict], *, actor: Actor, unit_id, source: str) -> list[int]:
    """Insert declarations parsed by ``assessment.parse_declaration`` (numbers must be new
    and distinct); returns their ids in the order given."""
    if not parsed:
        return []
    now = now_utc()
    rows = [
        {
            "number": d["number"],
            "declaration_date": d["declaration_date"],
            "office": d["office"],
            "procedure": d["procedure"],
            "import_type": d["import_type"],
            "import_use": d["import_use"],
            "payment_type": d["payment_type"],
            "transport_mode": d["transport_mode"],
            "dispatch_country": d["dispatch_country"],
            "declarant_code": d["declarant"],
            "importer_code": d["importer"],
            "seller_code": d["seller"],
            "courier_code": d["courier"],
            "source": source,
            "unit_id": unit_id,
            "handling_code": "P",
            "created_by_id": actor.user_id,
            "api_client_id": actor.api_client_id,
            "created_dt": now,
        }
        for d in parsed
    ]
    # Plain multi-row INSERTs, then the ids by number (unique): RETURNING in parameter order
    # would be one statement per row on SQLite.
    for start in range(0, len(rows), _CHUNK):
        db.session.execute(insert(Declaration), rows[start : start + _CHUNK])
    numbers = [d["number"] for d in parsed]
    by_number = {}
    for start in range(0, len(numbers), _CHUNK):
        by_number.update(
            db.session.execute(
                select(Declaration.number, Declaration.id).where(
                    Declaration.number.in_(numbers[start : start + _CHUNK])
                )
            ).all()
        )
    ids = [by_number[n] for n in numbers]
    items = [
        {**item, "declaration_id": decl_id}
        for decl_id, d in zip(ids, parsed, strict=True)
        for item in d["items"]
    ]
    db.session.execute(insert(DeclarationItem), items)
    return ids


def load_declarations(ids) -> list[Declaration]:
    """The declarations (with items) in id order."""
    out = []
    ids = sorted(ids)
    for start in range(0, len(ids), _CHUNK):
        chunk = ids[start : start + _CHUNK]
        out += db.session.scalars(
            select(Declaration).where(Declaration.id.in_(chunk)).order_by(Declaration.id)
        ).all()
    return out


def _first_for_chapter(decls: list[Declaration]) -> dict[int, list[bool]]:
    """Per declaration, per item: the importer has no earlier declaration (lower id) with an
    item in this HS chapter (``derived.is_first_for_chapter``, for the whole batch at once)."""
    importers = sorted({d.importer_code for d in decls if d.importer_code})
    seen: set[tuple[str, str]] = set()
    if importers and decls:
        first_id = decls[0].id
        for start in range(0, len(importers), _CHUNK):
            seen.update(
                (code, hs[:2])
                for code, hs in db.session.execute(
                    select(Declaration.importer_code, DeclarationItem.hs_code)
                    .join(Declaration, Declaration.id == DeclarationItem.declaration_id)
                    .where(
                        Declaration.importer_code.in_(importers[start : start + _CHUNK]),
                        Declaration.id < first_id,
                    )
                    .distinct()
                )
            )
    out = {}
    for decl in decls:  # id order: each declaration sees only the ones before it
        code = decl.importer_code
        chapters = [item.hs_code[:2] for item in decl.items]
        out[decl.id] = [bool(code) and (code, ch) not in seen for ch in chapters]
        if code:
            seen.update((code, ch) for ch in chapters)
    return out


def assess_stored(declarations: list[Declaration], *, actor: Actor) -> list[dict]:
    """Assess stored declarations in id order; returns their assessments in that order.

    Mirrors ``assessment.assess_declaration`` (keep the two in step: a test compares
    them). Receivers of ``sensitive_profile_hit`` and ``declaration_assessed`` are sent
    after the batch is written, in one savepoint.
    """
    engine = get_engine()
    decls = sorted(declarations, key=lambda d: d.id)
    needs = engine.needs
    codes = sorted({d.importer_code for d in decls if d.importer_code})
    all_ratings = providers.ratings_for(codes) if codes else {}
    first = _first_for_chapter(decls) if FIRST_CHAPTER in needs else None
    hit_rows, to_signal, out = [], [], []
    for decl in decls:
        items = list(decl.items)
        ratings = (
            {decl.importer_code: all_ratings[decl.importer_code]}
            if decl.importer_code in all_ratings
            else {}
        )
        ml = providers.ml_scores_for(decl, items)
        for item, score in zip(items, ml or [], strict=False):
            item.ml_score = score["score"]
        dvals, ivals = engine_inputs(
            decl, items, needs=needs - {FIRST_CHAPTER}, ratings=ratings, ml=ml
        )
        if first is not None:
            for values, flag in zip(ivals, first[decl.id], strict=True):
                values[FIRST_CHAPTER] = flag
        when = now_utc()
        hits = engine.evaluate(dvals, ivals, when)
        ml_score = max((s["score"] for s in ml), default=None) if ml else None
        seed, draw = engine.draw(decl.number)
        decision = engine.decide(hits, ml_score, draw)
        channel = decision["channel"]
        profiles = []
        for p, matched in hits:
            conditions = p.matched_conditions(dvals, ivals[matched[0]])
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
                    "matched": conditions,
                }
            )
            hit_rows.append(
                {
                    "profile_id": p.id,
                    "declaration_id": decl.id,
                    "profile_version": p.version,
                    "channel": p.channel,
                    "item_lines": lines,
                    "hit_dt": when,
                }
            )
        assessment = {
            "channel": channel,
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
            "trader_rating": None
            if decl.importer_code not in ratings
            else {"code": decl.importer_code, "rating": ratings[decl.importer_code]},
            "random": {
                "seed": seed,
                "draw": draw,
                "channel": decision["random_channel"],
                "selected": decision["random_channel"] is not None,
                "rates": engine.rates.random,
            },
            "engine_version": engine.version,
            "assessed_dt": when.isoformat(),
        }
        decl.channel = decl.engine_channel = channel
        decl.assessment = assessment
        decl.assessed_dt = when
        decl.random_seed, decl.random_draw = seed, draw
        decl.random_channel = decision["random_channel"]
        decl.is_random_selected = decision["random_channel"] is not None
        decl.ml_score = ml_score
        decl.trader_rating = ratings.get(decl.importer_code)
        decl.engine_version = engine.version
        to_signal.append((decl, assessment, hits))
        out.append(assessment)
    db.session.flush()
    for start in range(0, len(hit_rows), _CHUNK):
        db.session.execute(insert(ProfileHit), hit_rows[start : start + _CHUNK])
    _send_signals(to_signal, actor)
    return out


def _send_signals(to_signal, actor) -> None:
    sensitive_ids = {p.id for _, _, hits in to_signal for p, _ in hits if p.is_sensitive}
    # Held here so receivers' look-ups of the same rows hit the identity map.
    profiles = {
        p.id: p
        for p in db.session.scalars(select(RiskProfile).where(RiskProfile.id.in_(sensitive_ids)))
    }
    keep = _receiver_rows() if sensitive_ids else []
    sensitive = []
    for decl, assessment, hits in to_signal:
        for entry, (p, _) in zip(assessment["profiles"], hits, strict=True):
            if p.is_sensitive:
                sensitive.append(
                    {
                        "declaration": decl,
                        "profile": profiles[p.id],
                        "matched": entry["matched"],
                        "actor": actor,
                    }
                )
    send_each(signals.sensitive_profile_hit, sensitive)
    send_each(
        signals.declaration_assessed,
        [{"declaration": d, "assessment": a, "actor": actor} for d, a, _ in to_signal],
    )
    del keep


def _receiver_rows() -> list:
    """The user accounts (alert recipients), loaded once and held while the signals run:
    the session's identity map is weak, so receivers would otherwise reload them per alert."""
    from app.security.models import User

    return db.session.scalars(select(User)).all()
