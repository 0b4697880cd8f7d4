"""Bulk storage and assessment of declarations: API batches (express and postal
consignments), demo traffic.

``store_declarations`` writes parsed declarations, their items and parties with multi-row
INSERTs; ``assess_stored`` assesses them in id order with the compiled engine in this
process, exactly as ``assessment.assess_declaration`` does one at a time (same inputs,
same assessment, channel, profile hits and signals), but with the history look-ups made
once for the whole batch and one flush at the end instead of one per declaration.
"""

from sqlalchemy import insert, select
from sqlalchemy.orm import selectinload

from app.core import signals
from app.core.bulk import send_each
from app.core.time import now_utc
from app.extensions import db
from app.risk import providers
from app.risk.engine import get_engine
from app.risk.evaluation import FIRST_CHAPTER, evaluate
from app.risk.models import Declaration, DeclarationItem, ProfileHit, RiskProfile
from app.risk.parties import insert_parties
from app.security.access import Actor

_CHUNK = 1000


def store_declarations(
    parsed: list[dict], *, actor: Actor, unit_id, source: str, links_pending: bool = False
) -> list[int]:
    """Insert declarations parsed by ``assessment.parse_declaration`` (numbers must be new
    and distinct), their items and named parties; returns their ids in the order given."""
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
            "links_pending": links_pending,
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
    for start in range(0, len(items), _CHUNK):
        db.session.execute(insert(DeclarationItem), items[start : start + _CHUNK])
    insert_parties(ids, parsed)
    return ids


def load_declarations(ids) -> list[Declaration]:
    """The declarations (with items, and named parties for the screener) in id order."""
    out = []
    ids = sorted(ids)
    eager = [selectinload(Declaration.items)]
    if providers.has_party_screener():
        eager.append(selectinload(Declaration.named_parties))
    for start in range(0, len(ids), _CHUNK):
        chunk = ids[start : start + _CHUNK]
        out += db.session.scalars(
            select(Declaration)
            .where(Declaration.id.in_(chunk))
            .order_by(Declaration.id)
            .options(*eager)
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

    The same ``evaluation.evaluate`` as ``assessment.assess_declaration`` (a test compares
    them), with the history look-ups made once for the batch. Receivers of
    ``sensitive_profile_hit`` and ``declaration_assessed`` are sent after the batch is
    written, in one savepoint.
    """
    engine = get_engine()
    decls = sorted(declarations, key=lambda d: d.id)
    codes = sorted({d.importer_code for d in decls if d.importer_code})
    ratings = providers.ratings_for(codes) if codes else {}
    first = _first_for_chapter(decls) if FIRST_CHAPTER in engine.needs else {}
    hit_rows, to_signal = [], []
    pairs = [(decl, list(decl.items)) for decl in decls]
    for (decl, items), ml in zip(pairs, providers.ml_scores_many(pairs), strict=True):
        outcome = evaluate(
            engine, decl, items, ratings=ratings, ml=ml, first_chapter=first.get(decl.id, ())
        )
        hit_rows += [{**row, "declaration_id": decl.id} for row in outcome.hit_rows]
        to_signal.append((decl, outcome.assessment, outcome.hits))
    db.session.flush()
    for start in range(0, len(hit_rows), _CHUNK):
        db.session.execute(insert(ProfileHit), hit_rows[start : start + _CHUNK])
    _send_signals(to_signal, actor)
    return [assessment for _, assessment, _ in to_signal]


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
