"""Declarations arriving in real time: validation, storage, assessment and channel raises."""

import logging
from dataclasses import replace

from sqlalchemy import bindparam, select, update

from app.core import signals
from app.core.database import lock_rows
from app.core.errors import ValidationError
from app.core.time import now_utc
from app.extensions import db
from app.risk import providers, rules
from app.risk.intake import MAX_ITEMS as MAX_ITEMS  # re-exported (the API schema)
from app.risk.intake import Codes, parse_declaration, wanted_codes
from app.risk.models import (
    CHANNEL_RANK,
    CHANNELS,
    ChannelRaise,
    Declaration,
)
from app.security import trail
from app.security.access import Actor, get_for

log = logging.getLogger(__name__)

MAX_BATCH = 500
#: built once: asked for every declaration submitted
_ID_BY_NUMBER = select(Declaration.id).where(Declaration.number == bindparam("number"))
_PARTY_COLUMNS = {
    "declarant": "declarant_code",
    "importer": "importer_code",
    "seller": "seller_code",
    "courier": "courier_code",
}


# --- submission ---------------------------------------------------------------------------


def submit_declarations(
    bodies: list,
    *,
    actor: Actor,
    unit_id: int | None = None,
    source: str = "api",
    link_entities: bool = True,
    prefix: str = "declarations",
) -> list[Declaration]:
    """Validate every body first (all or nothing), then store and assess each."""
    actor.require("risk.declaration.view")
    if not isinstance(bodies, list) or not bodies:
        raise ValidationError({prefix: "must list at least one declaration"})
    if len(bodies) > MAX_BATCH:
        raise ValidationError({prefix: f"at most {MAX_BATCH} declarations per request"})
    errors, parsed, codes = {}, [], Codes()
    codes.prefetch(wanted_codes(bodies))  # the whole batch's codes in one query
    for n, body in enumerate(bodies):
        try:
            parsed.append(parse_declaration(body, f"{prefix}[{n}]." if prefix else "", codes))
        except ValidationError as exc:
            errors.update(exc.fields)
    numbers = [p["number"] for p in parsed]
    seen = set()
    for n, number in enumerate(numbers):
        if number in seen:
            errors[f"{prefix}[{n}].number"] = f"{number} appears twice in this request"
        seen.add(number)
    if not errors and numbers:
        existing = set(
            db.session.scalars(select(Declaration.number).where(Declaration.number.in_(numbers)))
        )
        for n, number in enumerate(numbers):
            if number in existing:
                errors[f"{prefix}[{n}].number" if prefix else "number"] = (
                    f"declaration {number} was already submitted"
                )
    if errors:
        raise ValidationError(errors)
    from app.risk.service import owning_unit_id

    return _store_and_assess_batch(
        parsed,
        actor=actor,
        unit_id=owning_unit_id(actor, unit_id),
        source=source,
        links_pending=link_entities,
    )


def _store_and_assess_batch(parsed, *, actor, unit_id, source, links_pending):
    """Assessed first, then written by multi-row INSERTs that hold the assessment
    (``bulk.submit_new``: no ORM flush, no reload, history looked up once): one
    declaration and a batch of express consignments take the same path."""
    from app.core.bulk import request_index_many
    from app.risk import bulk

    decls = bulk.submit_new(
        parsed, actor=actor, unit_id=unit_id, source=source, links_pending=links_pending
    )
    if len(decls) == 1:
        # As one declaration always was: queued without a savepoint per receiver (two
        # savepoints cost more than the rest of writing it); a batch's are isolated.
        signals.search_index_requested.send(None, record_type="declaration", record_id=decls[0].id)
    else:
        request_index_many("declaration", [d.id for d in decls])
    for decl in decls:
        _record_creation(decl, actor)
    return decls


def submit_declaration(
    body: dict,
    *,
    actor: Actor,
    unit_id: int | None = None,
    source: str = "api",
    link_entities: bool = True,
) -> Declaration:
    """One declaration: validate (errors name plain fields, ``items[0].hs_code``), store,
    link traders, assess."""
    actor.require("risk.declaration.view")
    data = parse_declaration(body)
    if db.session.scalar(_ID_BY_NUMBER, {"number": data["number"]}):
        raise ValidationError({"number": f"declaration {data['number']} was already submitted"})
    from app.risk.service import owning_unit_id

    # Registering the traders (entity resolution, mentions, their trail rows) is not needed
    # for the channel: the worker does it moments later (``link_pending_parties``), so the
    # declaration system's request stays short.
    (decl,) = _store_and_assess_batch(
        [data],
        actor=actor,
        unit_id=owning_unit_id(actor, unit_id),
        source=source,
        links_pending=link_entities,
    )
    return decl


def _record_creation(decl: Declaration, actor: Actor) -> None:
    """The trail row, added last: it is chained (under a database lock) only when the
    request commits, so concurrent assessments do not queue behind each other."""
    trail.record(actor, "create", "declaration", decl.id, details={"channel": decl.channel})


#: declarations linked per transaction: small, because on SQLite a transaction holds the one
#: write lock that every web request also needs (a soak with batches of 500 made requests wait
#: past the busy timeout)
LINK_BATCH = 25


def link_pending_parties(limit: int = LINK_BATCH) -> int:
    """Register the traders of declarations submitted since the last run (the worker's
    ``risk-link-parties`` job); returns how many declarations were linked."""
    decls = db.session.scalars(
        select(Declaration)
        .where(Declaration.links_pending.is_(True))
        .order_by(Declaration.id)
        .limit(limit)
    ).all()
    actor = Actor.system("risk-link-parties")
    for decl in decls:
        _link_parties(decl, actor)
        decl.links_pending = False
    db.session.commit()
    return len(decls)


#: declarations whose screening hits are written per transaction (a few hits each)
SCREENING_BATCH = 100
#: claims declarations whose hits are pending, in one statement: a claimed one is no longer
#: pending for anyone else (PostgreSQL re-checks the flag of a row another claim updated)
_CLAIM_SCREENING = (
    update(Declaration)
    .where(
        Declaration.screening_pending,
        Declaration.id.in_(
            select(Declaration.id)
            .where(Declaration.screening_pending)
            .order_by(Declaration.id)
            .limit(bindparam("limit"))
            .scalar_subquery()
        ),
    )
    .values(screening_pending=False)
    .returning(Declaration.id)
    .execution_options(synchronize_session=False)
)
_ANY_SCREENING_PENDING = select(Declaration.id).where(Declaration.screening_pending).limit(1)


def record_pending_screening(limit: int = SCREENING_BATCH) -> int:
    """Write the screening hits of declarations assessed since the last run (the worker's
    ``risk-screening-hits`` job); returns how many declarations were done.

    The assessment stored with each declaration holds its matches, so the declaration's
    request writes only a flag and the hits follow moments later: what the channel and
    the sanctions desk's alert need is in the assessment, and a hit row is what an analyst
    judges. Claimed, written and un-flagged in one transaction."""
    if not providers.has_party_screener():
        return 0
    if db.session.scalar(_ANY_SCREENING_PENDING) is None:
        return 0  # the common case: a read of an (almost) empty partial index, no write
    ids = sorted(db.session.scalars(_CLAIM_SCREENING, {"limit": limit}))
    if not ids:
        db.session.rollback()
        return 0
    decls = db.session.scalars(select(Declaration).where(Declaration.id.in_(ids))).all()
    pairs = [(d, (d.assessment or {}).get("screening")) for d in sorted(decls, key=lambda d: d.id)]
    try:
        with db.session.begin_nested():
            providers.record_screening(pairs)
    except Exception:
        # One declaration's hits that cannot be written must not hold up the others' or
        # come back every run: each is tried alone, and one that fails is logged once (it
        # stays claimed); its matches stay in its assessment, on its page.
        for pair in pairs:
            try:
                with db.session.begin_nested():
                    providers.record_screening([pair])
            except Exception:
                log.exception(
                    "the screening hits of declaration %s could not be written; its "
                    "assessment keeps its matches",
                    pair[0].number,
                )
    db.session.commit()
    return len(ids)


def _link_parties(decl: Declaration, actor: Actor) -> None:
    """Register the traders in the entity registry and note the mentions (best effort)."""
    from app.intel.service import ensure_organisation, record_mention  # intel imports risk

    # The declaration system may not edit entities itself; the engine registers on its behalf.
    agent = replace(actor, permissions=actor.permissions | {"entity.view", "entity.edit"})
    for role, code, _ in decl.parties():
        if not code:
            continue
        try:
            with db.session.begin_nested():
                entity = ensure_organisation("trader_code", code, actor=agent, roles=[role])
                db.session.flush()
                setattr(decl, f"{role}_entity_id", entity.id)
                record_mention(entity.id, "declaration", decl.id, role, actor=agent)
        except Exception:
            log.exception("linking %s %s of declaration %s failed", role, code, decl.number)


# --- assessment ---------------------------------------------------------------------------


def reproduce_draw(decl: Declaration) -> float:
    """Recompute a declaration's random draw from its stored seed (audit of the draw)."""
    import hashlib

    digest = hashlib.sha256(decl.random_seed.encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def explain(decl: Declaration) -> list[str]:
    """The assessment as sentences for the declaration page."""
    a = decl.assessment or {}
    lines = []
    for p in a.get("profiles", []):
        lines.append(
            f"Profile {p['code']} ({p['name']}) → {p['channel']}: "
            + "; ".join(p.get("matched") or [])
        )
    ml = a.get("ml")
    if ml:
        lines.append(
            f"ML score {ml['score']:.2f}"
            + (f" ≥ threshold {ml['threshold']:.2f} → {ml['channel']}" if ml["selected"] else "")
        )
    rnd = a.get("random") or {}
    if rnd.get("selected"):
        lines.append(f"Random selection → {rnd['channel']} (draw {rnd['draw']:.4f})")
    if not lines:
        lines.append("No profile fired and no random selection: released (green).")
    return lines


# --- raising a channel --------------------------------------------------------------------


def get_declaration(declaration_id: int, *, actor: Actor, action="view", log=True):
    return get_for(
        actor,
        Declaration,
        declaration_id,
        permission="risk.declaration.view",
        action=action,
        log=log,
    )


def request_raise(
    declaration_id: int, to_channel: str, reason: str, *, actor: Actor
) -> ChannelRaise:
    """Ask to raise a channel (never lower); a supervisor approves before it applies."""
    actor.require("risk.channel.raise")
    decl = get_declaration(declaration_id, actor=actor, action="update")
    errors = {}
    if to_channel not in CHANNELS:
        errors["to_channel"] = "unknown channel"
    elif CHANNEL_RANK[to_channel] <= CHANNEL_RANK[decl.channel or "green"]:
        errors["to_channel"] = (
            f"must be above the current channel ({decl.channel}); a channel may only be raised"
        )
    if not (reason or "").strip():
        errors["reason"] = "say why the channel must be raised"
    pending = db.session.scalar(
        select(ChannelRaise.id).where(
            ChannelRaise.declaration_id == decl.id, ChannelRaise.status == "pending"
        )
    )
    if pending:
        errors["to_channel"] = "a raise is already waiting for approval"
    if errors:
        raise ValidationError(errors)
    raise_row = ChannelRaise(
        declaration_id=decl.id,
        from_channel=decl.channel or "green",
        to_channel=to_channel,
        reason=reason.strip()[:2000],
        requested_by_id=actor.user_id,
    )
    db.session.add(raise_row)
    db.session.flush()
    return raise_row


def decide_raise(raise_id: int, approve: bool, note: str = "", *, actor: Actor) -> ChannelRaise:
    """A supervisor approves (the channel rises) or rejects a pending raise."""
    actor.require("risk.channel.approve")
    lock_rows(ChannelRaise, raise_id)  # two supervisors deciding at once: one decision
    row = db.session.get(ChannelRaise, raise_id)
    if row is None:
        raise ValidationError({"raise_id": "no such request"})
    decl = get_declaration(row.declaration_id, actor=actor, action="update")
    if row.status != "pending":
        raise ValidationError({"status": f"this request was already {row.status}"})
    if row.requested_by_id is not None and row.requested_by_id == actor.user_id:
        raise ValidationError({"approve": "the officer who asked cannot approve it"})
    row.status = "approved" if approve else "rejected"
    row.decided_by_id = actor.user_id
    row.decided_dt = now_utc()
    row.decision_note = (note or "").strip()[:2000] or None
    if approve and CHANNEL_RANK[row.to_channel] > CHANNEL_RANK[decl.channel or "green"]:
        decl.channel = row.to_channel
        assessment = dict(decl.assessment or {})
        assessment["raised"] = {
            "from": row.from_channel,
            "to": row.to_channel,
            "reason": row.reason,
            "approved_by": actor.username,
            "approved_dt": row.decided_dt.isoformat(),
        }
        decl.assessment = assessment
    db.session.flush()
    return row


def fields_catalogue() -> list[dict]:
    """The fields, operators and lists the rule editor offers (for static/js/risk_editor.js)."""
    return [
        {
            "name": f.name,
            "label": f.label,
            "level": f.level,
            "kind": f.kind,
            "list_kind": f.list_kind,
            "hint": f.hint,
            "ops": [
                op
                for op, (_, kinds, shape) in rules.OPERATORS.items()
                if f.kind in kinds and (shape != "list_name" or f.list_kind)
            ],
        }
        for f in rules.FIELDS.values()
    ]
