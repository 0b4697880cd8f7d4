"""Analysts' judgements on screening hits: true match, false positive or unsure.

A judgement is kept per party (``party_key``: a registry entity, or the party's data) and
list entry (list id + entry id), with the versions of both sides it was made on. When the
same party matches the same entry again, the latest judgement decides: a false positive on
unchanged data is not a hit (it neither counts in ``party_screening_score`` nor records a
new hit); once the party's data or the list's entry changes, it fires again and asks for a
new judgement. A true match on a registry entity can be merged into the entity: the list
entry is attached as an attribute with its provenance, and the update is trailed.
"""

import threading
import time
from dataclasses import dataclass

from flask import current_app
from sqlalchemy import ForeignKey, Index, Integer, String, Text, func, select
from sqlalchemy.orm import Mapped, mapped_column

from app.core.errors import ValidationError
from app.core.time import now_utc
from app.core.types import UTCDateTime
from app.extensions import db
from app.screening import watcher
from app.screening.hits import ScreeningHit
from app.security import trail
from app.security.access import Actor, NotFound, can_see, get_for

VERDICTS = {
    "true_match": "True match",
    "false_positive": "False positive",
    "unsure": "Unsure",
}
MAX_NOTE = 2000


class ScreeningJudgement(db.Model):
    """An analyst's verdict on a party matching a list entry (append-only: latest wins)."""

    __tablename__ = "screening_judgement"
    __table_args__ = (Index("ix_screening_judgement_pair", "party_key", "list_id", "entry_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    party_key: Mapped[str] = mapped_column(String(80))
    party_version: Mapped[str] = mapped_column(String(40))
    list_id: Mapped[int] = mapped_column(Integer)
    entry_id: Mapped[str] = mapped_column(String(200))
    entry_version_key: Mapped[str] = mapped_column(String(40))
    #: one of VERDICTS
    verdict: Mapped[str] = mapped_column(String(20))
    note: Mapped[str | None] = mapped_column(Text)
    #: the hit the analyst judged
    hit_id: Mapped[int] = mapped_column(ForeignKey("screening_hit.id", ondelete="CASCADE"))
    #: the registry entity the true match was merged into (None: not merged)
    merged_entity_id: Mapped[int | None] = mapped_column(Integer)
    judged_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    judged_by: Mapped[str] = mapped_column(String(80), default="")
    judged_dt = mapped_column(UTCDateTime, default=now_utc, nullable=False)


@dataclass(frozen=True, slots=True)
class Verdict:
    """What screening reads of a pair's latest judgement."""

    id: int
    verdict: str
    party_version: str
    entry_version_key: str


#: every pair's latest judgement, kept in memory: the look-up is on each screened declaration's
#: path (one query with a tuple IN list cost ~0.3 ms there), judgements are few (an analyst's
#: act each) and change rarely. One small query (count, last id, last time) every
#: CHECK_SECONDS tells whether to re-read (in a worker, its watcher's); a judgement recorded
#: here is seen at once.
_cache: dict = {"mark": None, "checked": float("-inf"), "latest": {}}
_cache_lock = threading.Lock()


def _check_seconds() -> float:
    from app.screening.service import CHECK_SECONDS

    # tests empty the database between cases: every look-up checks there
    return 0.0 if current_app.testing else CHECK_SECONDS


def _all_latest() -> dict[tuple, Verdict]:
    period = _check_seconds()
    # a worker's watcher checks off the declarations' path (app.screening.watcher); a
    # judgement recorded in this process (forget_cached) is read here at once
    if time.monotonic() - _cache["checked"] < period or (
        period and _cache["checked"] != float("-inf") and watcher.covers()
    ):
        return _cache["latest"]
    return check()


def check() -> dict[tuple, Verdict]:
    """Re-read the latest judgements if any changed (one small query to tell)."""
    now = time.monotonic()
    j = ScreeningJudgement
    mark = tuple(
        db.session.execute(select(func.count(j.id), func.max(j.id), func.max(j.judged_dt))).one()
    )
    with _cache_lock:
        if mark != _cache["mark"]:
            rows = db.session.execute(
                select(j.party_key, j.list_id, j.entry_id, j.id, j.verdict, j.party_version,
                       j.entry_version_key).order_by(j.id)
            )  # fmt: skip
            _cache["latest"] = {(r[0], r[1], r[2]): Verdict(*r[3:]) for r in rows}
            _cache["mark"] = mark
        _cache["checked"] = now
    return _cache["latest"]


def forget_cached() -> None:
    """A judgement was recorded or removed in this process: the next look-up re-checks."""
    _cache["checked"] = float("-inf")


def latest_judgements(pairs) -> dict[tuple, Verdict]:
    """(party_key, list_id, entry_id) -> the latest judgement, for the given pairs."""
    latest = _all_latest()
    if not latest:
        return {}
    return {pair: latest[pair] for pair in set(pairs) if pair in latest}


def is_cleared(judgement, party_version: str, entry_version_key: str) -> bool:
    """A false positive judged on exactly these versions of the party and the entry."""
    return judges(judgement, party_version, entry_version_key) and (
        judgement.verdict == "false_positive"
    )


def judges(judgement, party_version: str, entry_version_key: str) -> bool:
    """A judgement (any verdict) made on exactly these versions of the party and the entry:
    a hit of them is judged by it (as ``judge`` marks the hits it finds)."""
    return (
        judgement is not None
        and judgement.party_version == party_version
        and judgement.entry_version_key == str(entry_version_key)
    )


def get_hit(hit_id, *, actor: Actor, action="view", log=True) -> ScreeningHit:
    """A hit within need-to-know: its subject's unit and handling code, and for a
    confidential list the ``screening.confidential`` permission (404 otherwise)."""
    hit = get_for(
        actor, ScreeningHit, hit_id, permission="screening.view", action=action, log=False
    )
    if not _list_readable(actor, hit):
        event = trail.record(actor, action, "screening_hit", hit.id, outcome="denied")
        raise NotFound(trail_event=event)
    if log:
        trail.record(actor, action, "screening_hit", hit.id)
    return hit


def _list_readable(actor: Actor, hit: ScreeningHit) -> bool:
    return hit.sensitivity != "C" or actor.can("screening.confidential")


def may_open(actor: Actor, hit_id: int) -> bool:
    """``get_hit``'s need-to-know as a question, with no trail row: whom an alert about the hit
    may reach (registered with ``app.alerts.subjects`` by ``app.screening.init_app``, which
    checks the ``screening.view`` permission first)."""
    hit = db.session.get(ScreeningHit, hit_id)
    return hit is not None and can_see(actor, hit) and _list_readable(actor, hit)


def hit_handling(hit_id: int) -> str:
    """ "C" when the hit's subject or its list is confidential: its details stay out of e-mail
    and webhooks (``app.alerts.subjects.subject_handling``)."""
    hit = db.session.get(ScreeningHit, hit_id)
    return "C" if hit is None or "C" in (hit.handling_code, hit.sensitivity) else "P"


def judge(hit_id, verdict: str, note: str = "", *, actor: Actor, merge: bool = False):
    """Record a verdict on a hit (and every open hit of the same party and entry)."""
    actor.require("screening.judge")
    errors = {}
    if verdict not in VERDICTS:
        errors["verdict"] = f"must be one of {', '.join(VERDICTS)}"
    note = (note or "").strip()
    if len(note) > MAX_NOTE:
        errors["note"] = f"at most {MAX_NOTE} characters"
    if merge and verdict != "true_match":
        errors["merge"] = "only a true match is merged into the registry entity"
    if errors:
        raise ValidationError(errors)
    hit = get_hit(hit_id, actor=actor, action="update", log=False)
    judgement = ScreeningJudgement(
        party_key=hit.party_key,
        party_version=hit.party_version,
        list_id=hit.list_id,
        entry_id=hit.entry_id,
        entry_version_key=hit.entry_version_key,
        verdict=verdict,
        note=note or None,
        hit_id=hit.id,
        judged_by_id=actor.user_id,
        judged_by=actor.username or "",
    )
    db.session.add(judgement)
    db.session.flush()
    forget_cached()
    same = db.session.scalars(
        select(ScreeningHit).where(
            ScreeningHit.party_key == hit.party_key,
            ScreeningHit.party_version == hit.party_version,
            ScreeningHit.list_id == hit.list_id,
            ScreeningHit.entry_id == hit.entry_id,
            ScreeningHit.entry_version_key == hit.entry_version_key,
        )
    ).all()
    for other in same:
        other.judgement_id = judgement.id
    if merge:
        judgement.merged_entity_id = _merge_into_entity(hit, judgement, actor=actor)
    trail.record(
        actor,
        "update",
        "screening_hit",
        hit.id,
        details={
            "verdict": verdict,
            "judgement": judgement.id,
            "merged_entity": judgement.merged_entity_id,
        },
    )
    db.session.flush()
    return judgement


def _merge_into_entity(hit: ScreeningHit, judgement, *, actor: Actor) -> int:
    """Attach the list entry to the registry entity the hit is about (a true match)."""
    from app.intel import service as intel

    if not hit.party_key.startswith("entity:"):
        raise ValidationError(
            {"merge": "this party is not a registry entity yet; nothing to merge into"}
        )
    entity_id = int(hit.party_key.split(":", 1)[1])
    entity = intel.get_entity(entity_id, actor=actor, log=False)
    if not can_see(actor, entity):
        raise NotFound()
    attributes = dict(entity.attributes or {})
    listed = [m for m in attributes.get("screening_matches", []) if isinstance(m, dict)]
    mark = {"list": hit.list_name, "entry_id": hit.entry_id}
    if not any(m.get("list") == mark["list"] and m.get("entry_id") == mark["entry_id"]
               for m in listed):  # fmt: skip
        listed.append(
            {
                **mark,
                "caption": hit.entry_caption,
                "list_version": hit.list_version,
                "judgement_id": judgement.id,
                "judged_by": actor.username,
                "judged_dt": now_utc().isoformat(),
            }
        )
    attributes["screening_matches"] = listed
    intel.update_entity(entity, actor=actor, attributes=attributes)
    return entity.id


# --- reading hits ---------------------------------------------------------------------------

HIT_STATUSES = ("open", "judged", "all")


def hits_query(actor: Actor, *, status: str = "open", subject_type: str | None = None):
    """SELECT of the hits ``actor`` may read (newest first), filtered before counting."""
    from app.security.access import visible_clause

    actor.require("screening.view")
    if status not in HIT_STATUSES:
        raise ValidationError({"status": f"must be one of {', '.join(HIT_STATUSES)}"})
    stmt = select(ScreeningHit).where(visible_clause(actor, ScreeningHit))
    if not (actor.is_system or actor.can("screening.confidential")):
        stmt = stmt.where(ScreeningHit.sensitivity != "C")
    if status == "open":
        stmt = stmt.where(ScreeningHit.judgement_id.is_(None))
    elif status == "judged":
        stmt = stmt.where(ScreeningHit.judgement_id.is_not(None))
    if subject_type is not None:
        if subject_type not in ("declaration", "entity"):
            raise ValidationError({"subject": "must be declaration or entity"})
        stmt = stmt.where(ScreeningHit.subject_type == subject_type)
    return stmt.order_by(ScreeningHit.created_dt.desc(), ScreeningHit.id.desc())


#: hits still unwritten this long after their declaration's assessment: the worker (its
#: ``risk-screening-hits`` job, every 5 s) has stopped or fallen behind, and the list says so
PENDING_LATE_SECONDS = 120


def pending_hits(actor: Actor) -> dict | None:
    """The declarations ``actor`` may see whose hits the worker has still to write: how
    many, since when, and whether that is late (None: none pending)."""
    from app.core.time import as_utc, now_utc
    from app.risk import service as risk

    count, oldest = risk.screening_pending(actor)
    if not count:
        return None
    oldest = as_utc(oldest) if oldest is not None else None
    late = oldest is not None and (now_utc() - oldest).total_seconds() > PENDING_LATE_SECONDS
    return {"count": count, "oldest": oldest, "late": late}


def record_list(actor: Actor, status: str, count: int) -> None:
    """One trail row for a list of hits (its filter and how many came back)."""
    trail.record(actor, "search", "screening_hit", None, query=f"status={status}",
                 details={"results": count})  # fmt: skip


def subject_label(actor: Actor, hit: ScreeningHit) -> str:
    """The declaration number or entity name the hit is about, as ``actor`` may read it."""
    from app.security import seams

    model = seams.restricted_model(hit.subject_type)
    record = db.session.get(model, hit.subject_id) if model is not None else None
    if record is None:
        return f"{hit.subject_type} #{hit.subject_id} (gone)"
    return seams.record_label(actor, record, seams.record_name(record))


def judgements_of(hit: ScreeningHit) -> list[ScreeningJudgement]:
    """Every judgement of the hit's party and entry, newest first (the history)."""
    return db.session.scalars(
        select(ScreeningJudgement)
        .where(
            ScreeningJudgement.party_key == hit.party_key,
            ScreeningJudgement.list_id == hit.list_id,
            ScreeningJudgement.entry_id == hit.entry_id,
        )
        .order_by(ScreeningJudgement.id.desc())
    ).all()
