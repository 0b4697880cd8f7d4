"""Screening wired into the rest of Tollgate: every declaration's parties at assessment, and
every new registry entity.

* ``screen_declaration`` is the risk engine's party screener (``app.risk.providers``): it
  screens the named parties of a new declaration (``app.risk.parties``) and, for a role sent
  by trader code only, the registry entity holding that code; it fills the derived fields
  ``party_screening_score`` and ``party_on_list`` and returns the matches (list entry,
  score, reasons) that the assessment keeps under ``"screening"``. Matches judged false
  positives on unchanged data are left out (``judgements.is_cleared``).
* ``record_declaration_hits`` records the assessment's matches as hits (for a new
  declaration, the worker does, moments after its assessment was stored).
* ``on_entity_created`` screens a new registry entity and records its hits.
"""

import logging
import time
from collections import OrderedDict

from flask import current_app

from app.core import signals
from app.extensions import db
from app.screening import judgements
from app.screening.hits import (
    hit_from_match,
    hit_row,
    insert_hits,
    party_data,
    party_key,
    party_version,
)

log = logging.getLogger("tollgate.screening")

#: party kind (declaration) or entity type (registry) -> FtM schema of the query
SCHEMA = {
    "company": "Company",
    "organisation": "Organization",
    "person": "Person",
    "vessel": "Vessel",
}
#: attributes of a registry entity read as its country
_COUNTRY_ATTRS = ("country", "nationality", "jurisdiction")
#: trader code -> (entity id or None, party data or None, when read): the registry look-up of
#: a party sent by code only, kept for REGISTRY_TTL seconds (one indexed query otherwise)
_registry_cache: OrderedDict = OrderedDict()
REGISTRY_TTL = 60.0
REGISTRY_CACHE_SIZE = 20_000
#: matches kept per party (best first), as yente's default result limit: a common name on a
#: list of a million entries has dozens of namesakes above the threshold, and each kept match
#: is a hit row to judge
MAX_MATCHES_PER_PARTY = 5


def _query(data: dict):
    from app.screening.service import PartyQuery

    return PartyQuery(
        name=data["name"],
        schema=SCHEMA.get(data.get("kind") or "", "LegalEntity"),
        country=data.get("country"),
        identifiers=tuple(data.get("identifiers") or ()),
        birth_date=data.get("birth_date"),
    )


def entity_party(entity) -> dict | None:
    """What is screened of a registry entity (None for a placeholder name such as
    "TRADER_CODE T1": it says nothing about identity)."""
    name = entity.name or ""
    scheme_values = {str(v).upper() for v in (entity.identifiers or {}).values()}
    if not name or any(name.upper() == f"{s.upper()} {v}" for s in (entity.identifiers or {})
                       for v in scheme_values):  # fmt: skip
        return None
    attrs = entity.attributes or {}
    country = next((attrs[a] for a in _COUNTRY_ATTRS if isinstance(attrs.get(a), str)), None)
    birth = attrs.get("birth_date") or attrs.get("date_of_birth")
    return party_data(
        name,
        kind=entity.entity_type if entity.entity_type in SCHEMA else None,
        country=country.upper() if country and len(country) == 2 else None,
        identifiers=[str(v) for v in (entity.identifiers or {}).values()],
        birth_date=birth if isinstance(birth, str) and entity.entity_type == "person" else None,
    )


def _registry_party(code: str, entity_id: int | None):
    """(entity id, party data) for a party sent by trader code only (cached briefly)."""
    now = time.monotonic()
    cached = _registry_cache.get(code)
    # tests empty the database between cases: no cache there
    ttl = 0.0 if current_app.testing else REGISTRY_TTL
    if cached is not None and now - cached[2] < ttl and entity_id in (None, cached[0]):
        return cached[0], cached[1]
    from app.intel.service import find_by_identifier

    # Through the registry's service (its indexed look-up, merges followed), not its tables.
    with db.session.no_autoflush:
        entity = find_by_identifier("trader_code", code)
        # A code-C entity's name must not reach a declaration's assessment or hits (read by
        # anyone who may open the declaration): only entities open to all are screened here.
        usable = entity is not None and entity.handling_code != "C"
        found = (entity.id, entity_party(entity)) if usable else (None, None)
    _registry_cache[code] = (*found, now)
    if len(_registry_cache) > REGISTRY_CACHE_SIZE:
        _registry_cache.popitem(last=False)
    return found


def declaration_parties(decl) -> list[tuple[str, dict, int | None]]:
    """(role, party data, registry entity id or None) of each party of a declaration to
    screen."""
    out = []
    named_roles = set()
    for p in decl.named_parties:
        named_roles.add(p.role)
        out.append((p.role, p.as_dict(), None))
    for role, code, entity_id in decl.parties():
        if not code or role in named_roles:
            continue
        found_id, data = _registry_party(code, entity_id)
        if data is not None:
            out.append((role, data, found_id))
    return out


def _match_doc(match, role, data, key, version) -> dict:
    return {
        "role": role,
        "party": data,
        "party_key": key,
        "party_version": version,
        "list_id": match.list_id,
        "list_name": match.list_name,
        "list_version": match.list_version,
        "sensitivity": match.sensitivity,
        "entry_id": match.entry_id,
        "entry_caption": match.entry_caption,
        "entry_version_key": str(match.entry_version_key),
        "score": match.score,
        "threshold": match.threshold,
        "reasons": list(match.reasons),
    }


def screen_parties(parties) -> tuple[list[dict], list[dict], int]:
    """(matches, cleared, more) of ``(role, data, entity id or None)`` parties: the match
    documents (at most MAX_MATCHES_PER_PARTY best per party, as yente's default limit), the
    judged false positives left out, and how many weaker matches were not kept."""
    from app.screening.service import active_index

    index = active_index()
    if not index.segments:
        return [], [], 0
    found = []
    for n, (role, data, entity_id) in enumerate(parties):
        matches = index.screen(_query(data))
        if not matches:
            continue  # most parties: their key and version (a JSON text's hash) are not needed
        key, version = party_key(data, entity_id), party_version(data)
        found.extend((n, _match_doc(m, role, data, key, version)) for m in matches)
    if not found:
        return [], [], 0
    latest = judgements.latest_judgements(
        (m["party_key"], m["list_id"], m["entry_id"]) for _n, m in found
    )
    matches, cleared, kept, more = [], [], {}, 0
    for n, m in found:  # best first within each party
        j = latest.get((m["party_key"], m["list_id"], m["entry_id"]))
        if judgements.is_cleared(j, m["party_version"], m["entry_version_key"]):
            cleared.append({**m, "judgement_id": j.id})
        elif kept.get(n, 0) < MAX_MATCHES_PER_PARTY:
            kept[n] = kept.get(n, 0) + 1
            matches.append(m)
        else:
            more += 1
    return matches, cleared, more


def screen_declaration(decl) -> dict | None:
    """The risk engine's party screener (see the module docstring)."""
    from app.screening.service import active_index

    if not active_index().segments:  # no active list: nothing to screen, nothing to say
        return None
    parties = declaration_parties(decl)
    matches, cleared, more = screen_parties(parties)
    return {
        "fields": {
            "party_screening_score": max((m["score"] for m in matches), default=None),
            "party_on_list": frozenset(m["list_name"] for m in matches),
        },
        "summary": {
            "parties": len(parties),
            "matches": matches,
            "more": more,
            "cleared": [
                {k: c[k] for k in ("role", "list_id", "entry_id", "judgement_id")} for c in cleared
            ],
        },
    }


def record_declaration_hits(pairs) -> None:
    """The party screener's recorder (``providers.register_party_screener``): the matches
    of each (declaration, stored screening summary) as hits, in one INSERT. For a new
    declaration the worker calls it moments after the assessment was stored
    (``risk.assessment.record_pending_screening``), so a hit says when it was screened
    (the assessment's time, not the writing's), is judged already if an analyst judged
    the same party and entry, on the same versions, in between, and holds no party data
    if a retention review anonymised the declaration in between."""
    latest = judgements.check()  # off the declarations' path: read now, not as cached
    rows = []
    for decl, summary in pairs:
        screened = decl.assessed_dt or decl.created_dt
        for m in summary["matches"]:
            row = hit_row(
                m,
                subject=decl,
                subject_type="declaration",
                role=m["role"],
                data=m["party"] if m.get("party") is not None else party_data(None),
                key=m["party_key"],
                version=m["party_version"],
            )
            j = latest.get((m["party_key"], m["list_id"], m["entry_id"]))
            judged = judgements.judges(j, m["party_version"], m["entry_version_key"])
            rows.append({**row, "judgement_id": j.id if judged else None, "created_dt": screened})
    insert_hits(rows)


def on_entity_created(sender, entity=None, actor=None, **_):
    """Screen a new registry entity against the active lists; its hits are recorded.
    A fault is logged and undone (a savepoint): screening must not refuse the registration."""
    from app.screening.service import active_index

    data = entity_party(entity) if entity is not None else None
    if data is None or not active_index().segments:
        return
    if db.session().in_nested_transaction():
        # a bulk load sends its entities in one savepoint of its own (app.core.bulk.send_each)
        _record_entity_hits(entity, data, actor)
        return
    try:
        with db.session.begin_nested():
            _record_entity_hits(entity, data, actor)
    except Exception:
        log.exception("screening the new entity %s failed", entity.id)


def _record_entity_hits(entity, data, actor) -> None:
    matches, _cleared, _more = screen_parties([(None, data, entity.id)])
    hits = [
        hit_from_match(
            m,
            subject=entity,
            subject_type="entity",
            role=None,
            data=data,
            key=m["party_key"],
            version=m["party_version"],
        )
        for m in matches
    ]
    if not hits:
        return
    db.session.add_all(hits)
    db.session.flush()  # the best hit's id: the sanctions desk's alert is about it
    signals.screening_entity_hit.send(
        None, hit=hits[0], entity=entity, name=data["name"], actor=actor
    )


def on_record_forgotten(sender, record_type=None, record_id=None, decision=None, **_):
    """A retention review anonymised or deleted a declaration or an entity: its hits forget
    the party's data (anonymise) or go with it (delete; their judgements too)."""
    from sqlalchemy import delete, select, update

    from app.screening.hits import ScreeningHit
    from app.screening.judgements import ScreeningJudgement

    if record_type not in ("declaration", "entity") or not str(record_id or "").isdigit():
        return
    subject = (ScreeningHit.subject_type == record_type, ScreeningHit.subject_id == int(record_id))
    if decision == "delete":
        ids = select(ScreeningHit.id).where(*subject)
        db.session.execute(delete(ScreeningJudgement).where(ScreeningJudgement.hit_id.in_(ids)))
        judgements.forget_cached()
        db.session.execute(delete(ScreeningHit).where(*subject))
    else:
        forgotten = party_data(None)
        db.session.execute(update(ScreeningHit).where(*subject).values(party=forgotten))


def connect() -> None:
    """Register the party screener and the signal receivers (``app.screening.init_app``)."""
    from app.risk import providers

    providers.register_party_screener(screen_declaration, record=record_declaration_hits)
    signals.entity_created.connect(on_entity_created, weak=False)
    signals.record_forgotten.connect(on_record_forgotten, weak=False)
