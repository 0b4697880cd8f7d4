"""Bulk storage and assessment of declarations: every declaration submitted (one, or an
API batch of express and postal consignments), demo traffic.

New declarations (``submit_new``) are assessed BEFORE anything is written: built as
objects outside the session, assessed with the history looked up once for the batch,
then written with multi-row Core INSERTs that already hold the assessment (declarations,
items, named parties, profile hits) and put in the session as loaded rows - no ORM flush,
no reload, no UPDATE. ``store_declarations`` + ``assess_stored`` assess rows already
written (the demo loader, whose history must be stored first). Both go through
``evaluation.evaluate``, the one source of the stored assessment.
"""

from functools import cache

from sqlalchemy import bindparam, insert, inspect, select
from sqlalchemy.orm import make_transient_to_detached, selectinload
from sqlalchemy.orm.attributes import set_committed_value

from app.core import signals
from app.core.bulk import send_each
from app.core.time import now_utc
from app.extensions import db
from app.risk import providers
from app.risk.engine import get_engine
from app.risk.evaluation import FIRST_CHAPTER, evaluate
from app.risk.fields import DECLARATION_FIELDS, TRADER_CODES
from app.risk.models import Declaration, DeclarationItem, ProfileHit, RiskProfile
from app.risk.parties import DeclarationParty, insert_parties
from app.security.access import Actor

_CHUNK = 1000

# Built once (construction and cache key are paid per statement object, not per execution).
_DECLARATION = Declaration.__table__
_INSERT_ONE = insert(_DECLARATION).returning(_DECLARATION.c.id)
_INSERT = {
    model: insert(model.__table__)
    for model in (Declaration, DeclarationItem, DeclarationParty, ProfileHit)
}
#: PostgreSQL returns the ids of a multi-row INSERT in parameter order (insertmanyvalues);
#: SQLite would send one statement per row for that, so it reads them back instead
_RETURNING = {
    model: insert(model.__table__).returning(model.__table__.c.id, sort_by_parameter_order=True)
    for model in (Declaration, DeclarationItem, DeclarationParty)
}
_RETURNING_MAX = 20
_IDS_BY_NUMBER = select(_DECLARATION.c.number, _DECLARATION.c.id).where(
    _DECLARATION.c.number.in_(bindparam("numbers", expanding=True))
)


# --- new declarations: assessed, then written once ------------------------------------------


def submit_new(parsed: list[dict], *, actor: Actor, unit_id, source, links_pending) -> list:
    """Assess and store declarations parsed by ``intake.parse_declaration`` (numbers new
    and distinct); returns them, persistent, in the order given. Signals are sent after
    everything is written (one record's receivers may autoflush, as the services' do)."""
    decls = [
        new_declaration(d, actor=actor, unit_id=unit_id, source=source, links_pending=links_pending)
        for d in parsed
    ]
    outcomes = _assess_new(decls)
    _write_new(decls, outcomes)
    _send_signals(
        [(d, o.assessment, o.hits) for d, o in zip(decls, outcomes, strict=True)],
        actor,
        autoflush=len(decls) == 1,
    )
    return decls


def new_declaration(data, *, actor, unit_id, source, links_pending=False) -> Declaration:
    """A declaration with its items and named parties, outside the session."""
    decl = _fresh(
        Declaration,
        declaration_row(
            data,
            actor=actor,
            unit_id=unit_id,
            source=source,
            links_pending=links_pending,
            now=now_utc(),
        ),
    )
    for key, model, rows in (
        ("items", DeclarationItem, data["items"]),
        ("named_parties", DeclarationParty, data.get("parties") or ()),
    ):
        children = [_fresh(model, row) for row in rows]
        for child in children:
            set_committed_value(child, "declaration", decl)
        set_committed_value(decl, key, children)
    return decl


def declaration_row(data, *, actor, unit_id, source, links_pending, now) -> dict:
    """A parsed declaration's header as its stored columns: the one list the new path and the
    stored path (the demo loader) both write. The parsed trader keys (``importer``) are
    stored as codes (``importer_code``); a new declaration is public (code P) until a
    service raises it."""
    row = {field: data[field] for field in DECLARATION_FIELDS if field not in TRADER_CODES}
    row.update({code: data[code.removesuffix("_code")] for code in TRADER_CODES})
    row["dispatch_country"] = data["dispatch_country"]
    return {
        **row,
        "source": source,
        "links_pending": links_pending,
        "unit_id": unit_id,
        "handling_code": "P",
        "created_by_id": actor.user_id,
        "api_client_id": actor.api_client_id,
        "created_dt": now,
    }


def _fresh(model, values: dict):
    """A new object holding ``values`` and, in its other columns, their defaults - filled
    in as the ORM's loader fills a row it reads (no attribute events: the constructor's
    were a fifth of a batch's CPU). ``values`` holds column attributes only."""
    obj = _new_instance(model)()
    held = obj.__dict__
    for key, _, default in _columns(model):
        if key in values:
            held[key] = values[key]
        elif default is None:
            held[key] = None
        else:
            held[key] = default.arg if default.is_scalar else default.arg(None)
    return obj


@cache
def _new_instance(model):
    return inspect(model).class_manager.new_instance


def _assess_new(decls: list[Declaration]) -> list:
    engine = get_engine()
    codes = sorted({d.importer_code for d in decls if d.importer_code})
    ratings = providers.ratings_for(codes) if codes else {}
    pairs = [(decl, list(decl.items)) for decl in decls]
    # every stored declaration is earlier than these
    needs_first = FIRST_CHAPTER in engine.needs
    first = _first_for_chapter(decls, None) if needs_first else [()] * len(decls)
    scored = zip(pairs, providers.ml_scores_many(pairs), first, strict=True)
    return [
        evaluate(engine, decl, items, ratings=ratings, ml=ml, first_chapter=first_chapter)
        for (decl, items), ml, first_chapter in scored
    ]


@cache
def _columns(model) -> tuple:
    """(attribute key, column, Python default or None) of the model's columns but its id."""
    out = []
    for attr in inspect(model).column_attrs:
        column = attr.columns[0]
        if column.primary_key:
            continue
        default = column.default
        if default is not None and not (default.is_scalar or default.is_callable):
            default = None
        out.append((attr.key, column.key, default))
    return tuple(out)


def _row(obj) -> dict:
    """The INSERT's values of an object made by ``_fresh`` (every column held)."""
    held = obj.__dict__
    return {column: held[key] for key, column, _ in _columns(type(obj))}


def _write_new(decls: list[Declaration], outcomes: list) -> None:
    """Multi-row INSERTs of the assessed declarations, their items, parties and profile
    hits (screening hits follow from the worker); the objects join the session as rows
    already loaded."""
    for decl, outcome in zip(decls, outcomes, strict=True):
        # The matches are in the assessment; the worker writes them as hits moments later
        # (``assessment.record_pending_screening``): a flag in the row costs the request
        # nothing; writing the hits cost a declaration with a match ~0.2 ms at p50 and
        # ~0.6 ms at p99 (bench_screening_assess, issue 20).
        decl.screening_pending = providers.screening_found(outcome.assessment.get("screening"))
    ids = _insert_declarations([_row(d) for d in decls])
    for decl, decl_id in zip(decls, ids, strict=True):
        decl.id = decl_id
        for child in (*decl.items, *decl.named_parties):
            child.declaration_id = decl_id
    _insert_children(DeclarationItem, [i for d in decls for i in d.items], ("line_no",))
    _insert_children(DeclarationParty, [p for d in decls for p in d.named_parties], ("position",))
    hits = [
        {**row, "declaration_id": decl.id}
        for decl, outcome in zip(decls, outcomes, strict=True)
        for row in outcome.hit_rows
    ]
    for start in range(0, len(hits), _CHUNK):
        db.session.execute(_INSERT[ProfileHit], hits[start : start + _CHUNK])
    for decl in decls:
        for child in (*decl.items, *decl.named_parties):
            make_transient_to_detached(child)
        make_transient_to_detached(decl)
        # new: no control result yet (say so, rather than ask the database)
        set_committed_value(decl, "control_result", None)
        set_committed_value(decl, "control_versions", [])
        db.session.add(decl)  # detached with its identity: joins as persistent, no INSERT


def warm_hit_insert(profile_id: int, declaration_id: int) -> None:
    """A worker's warm-up (``app.risk.warmup``): one profile hit row through the statement
    the path inserts hits with, in a transaction the caller rolls back."""
    row = {"profile_id": profile_id, "declaration_id": declaration_id, "profile_version": 1,
           "channel": "yellow", "item_lines": [1], "hit_dt": now_utc()}  # fmt: skip
    db.session.execute(_INSERT[ProfileHit], [row])


def _insert_declarations(rows: list[dict]) -> list[int]:
    """Their ids, in the order given."""
    if len(rows) == 1:
        return [db.session.execute(_INSERT_ONE, rows[0]).scalar_one()]
    if _ids_in_order(len(rows)):
        return _insert_returning(Declaration, rows)
    # Plain multi-row INSERTs, then the ids by number (unique): RETURNING in parameter order
    # would be one statement per row on SQLite.
    for start in range(0, len(rows), _CHUNK):
        db.session.execute(_INSERT[Declaration], rows[start : start + _CHUNK])
    numbers = [r["number"] for r in rows]
    by_number = {}
    for start in range(0, len(numbers), _CHUNK):
        chunk = numbers[start : start + _CHUNK]
        by_number.update(db.session.execute(_IDS_BY_NUMBER, {"numbers": chunk}).all())
    return [by_number[n] for n in numbers]


def _ids_in_order(n: int) -> bool:
    # A batch reads its ids back: ordered RETURNING of 500 rows cost ~1 ms of CPU per
    # declaration on PostgreSQL (sentinel matching), against ~0.3 ms for the SELECT path.
    return n <= _RETURNING_MAX and db.engine.dialect.name == "postgresql"


def _insert_returning(model, rows: list[dict]) -> list[int]:
    ids = []
    for start in range(0, len(rows), _CHUNK):
        ids += db.session.execute(_RETURNING[model], rows[start : start + _CHUNK]).scalars()
    return ids


@cache
def _ids_of_children(model, key: str):
    table = model.__table__
    return select(table.c.id, table.c.declaration_id, table.c[key]).where(
        table.c.declaration_id.in_(bindparam("parents", expanding=True))
    )


def _insert_children(model, objects: list, unique: tuple[str]) -> None:
    """Insert rows of a declaration's children and give each object its id (read back by
    the declaration and the column unique within it: the line number, the position)."""
    if not objects:
        return
    rows = [_row(o) for o in objects]
    if _ids_in_order(len(rows)):
        for obj, row_id in zip(objects, _insert_returning(model, rows), strict=True):
            obj.id = row_id
        return
    for start in range(0, len(rows), _CHUNK):
        db.session.execute(_INSERT[model], rows[start : start + _CHUNK])
    (key,) = unique
    parents = sorted({o.declaration_id for o in objects})
    found = {}
    for start in range(0, len(parents), _CHUNK):
        chunk = parents[start : start + _CHUNK]
        found.update(
            ((parent, at), row_id)
            for row_id, parent, at in db.session.execute(
                _ids_of_children(model, key), {"parents": chunk}
            )
        )
    for obj in objects:
        obj.id = found[(obj.declaration_id, getattr(obj, key))]


# --- declarations already stored (the demo loader) ----------------------------------------


def store_declarations(
    parsed: list[dict], *, actor: Actor, unit_id, source: str, links_pending: bool = False
) -> list[int]:
    """Insert declarations parsed by ``assessment.parse_declaration`` (numbers must be new
    and distinct), their items and named parties; returns their ids in the order given."""
    if not parsed:
        return []
    now = now_utc()
    rows = [
        declaration_row(
            d, actor=actor, unit_id=unit_id, source=source, links_pending=links_pending, now=now
        )
        for d in parsed
    ]
    ids = _insert_declarations(rows)
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


def _first_for_chapter(decls: list[Declaration], first_id: int | None) -> list[list[bool]]:
    """Per declaration, per item: the importer has no earlier declaration with an item in
    this HS chapter (``derived.is_first_for_chapter``, for the whole batch at once). Earlier:
    stored with an id below ``first_id`` (None: every stored one), or before in ``decls``."""
    importers = sorted({d.importer_code for d in decls if d.importer_code})
    seen: set[tuple[str, str]] = set()
    for start in range(0, len(importers), _CHUNK):
        stmt = (
            select(Declaration.importer_code, DeclarationItem.hs_code)
            .join(Declaration, Declaration.id == DeclarationItem.declaration_id)
            .where(Declaration.importer_code.in_(importers[start : start + _CHUNK]))
            .distinct()
        )
        if first_id is not None:
            stmt = stmt.where(Declaration.id < first_id)
        seen.update((code, hs[:2]) for code, hs in db.session.execute(stmt))
    out = []
    for decl in decls:  # in order: each declaration sees only the ones before it
        code = decl.importer_code
        chapters = [item.hs_code[:2] for item in decl.items]
        out.append([bool(code) and (code, ch) not in seen for ch in chapters])
        if code:
            seen.update((code, ch) for ch in chapters)
    return out


def assess_stored(declarations: list[Declaration], *, actor: Actor) -> list[dict]:
    """Assess stored declarations in id order; returns their assessments in that order.

    The same ``evaluation.evaluate`` as new declarations get (``submit_new``; a test
    compares them), with the history look-ups made once for the batch. The screening hits
    are written with the profile hits; ``sensitive_profile_hit`` is sent after the batch is
    written, each receiver in one savepoint.
    """
    engine = get_engine()
    decls = sorted(declarations, key=lambda d: d.id)
    codes = sorted({d.importer_code for d in decls if d.importer_code})
    ratings = providers.ratings_for(codes) if codes else {}
    needs_first = FIRST_CHAPTER in engine.needs and decls
    first = _first_for_chapter(decls, decls[0].id) if needs_first else [()] * len(decls)
    hit_rows, to_signal = [], []
    pairs = [(decl, list(decl.items)) for decl in decls]
    scored = zip(pairs, providers.ml_scores_many(pairs), first, strict=True)
    for (decl, items), ml, first_chapter in scored:
        outcome = evaluate(engine, decl, items, ratings=ratings, ml=ml, first_chapter=first_chapter)
        hit_rows += [{**row, "declaration_id": decl.id} for row in outcome.hit_rows]
        to_signal.append((decl, outcome.assessment, outcome.hits))
    db.session.flush()
    for start in range(0, len(hit_rows), _CHUNK):
        db.session.execute(insert(ProfileHit), hit_rows[start : start + _CHUNK])
    providers.record_screening([(d, a.get("screening")) for d, a, _ in to_signal])
    _send_signals(to_signal, actor)
    return [assessment for _, assessment, _ in to_signal]


def _send_signals(to_signal, actor, *, autoflush: bool = False) -> None:
    """``sensitive_profile_hit`` per sensitive profile fired; each receiver in a savepoint
    (``app.core.bulk.send_each``). (A signal per declaration assessed had one receiver, the
    screening hits, now written with the declaration's rows: ``providers.record_screening``.)"""
    sensitive_ids = {p.id for _, _, hits in to_signal for p, _ in hits if p.is_sensitive}
    # Held here so receivers' look-ups of the same rows hit the identity map.
    profiles = (
        {
            p.id: p
            for p in db.session.scalars(
                select(RiskProfile).where(RiskProfile.id.in_(sensitive_ids))
            )
        }
        if sensitive_ids
        else {}
    )
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
    send_each(signals.sensitive_profile_hit, sensitive, autoflush=autoflush)
    del keep


def _receiver_rows() -> list:
    """The user accounts (alert recipients), loaded once and held while the signals run:
    the session's identity map is weak, so receivers would otherwise reload them per alert."""
    from app.security.models import User

    return db.session.scalars(select(User)).all()
