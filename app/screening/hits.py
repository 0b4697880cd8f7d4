"""Screening hits: a party (of a declaration, or a registry entity) matched a list entry.

A hit keeps what was screened (the party as sent or registered), the list entry, the score
and its reasons, and the versions of both sides: ``party_version`` (a hash of the party's
screened data) and ``entry_version_key`` (the list's hash of the entry). A judgement
(``app.screening.judgements``) is kept per party and list entry with both versions, so a
judged false positive does not fire again until either side changes.

A hit carries its subject's need-to-know (unit and handling code, copied from the
declaration or entity); the name of a confidential (code C) list and its entry is read only
by holders of ``screening.confidential`` (``seams.list_entry_label``).
"""

import hashlib
import json
from functools import lru_cache

from sqlalchemy import JSON, Float, ForeignKey, Index, Integer, String, insert
from sqlalchemy.orm import Mapped, mapped_column

from app.core.time import now_utc
from app.core.types import UTCDateTime
from app.extensions import db
from app.security.access import Restricted

SUBJECT_TYPES = ("declaration", "entity")


class ScreeningHit(Restricted, db.Model):
    """One match of one party on one list entry, at the time it was screened."""

    __tablename__ = "screening_hit"
    __record_type__ = "screening_hit"
    __table_args__ = (
        Index("ix_screening_hit_party", "party_key", "list_id", "entry_id"),
        Index("ix_screening_hit_subject", "subject_type", "subject_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    #: the subject's unit (None for entities the system registered from declarations)
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("unit.id"), index=True)
    #: "declaration" or "entity"
    subject_type: Mapped[str] = mapped_column(String(20))
    subject_id: Mapped[int] = mapped_column(Integer)
    #: the party's role on a declaration (importer, seller, named_person ...); None: entity
    role: Mapped[str | None] = mapped_column(String(20))
    #: "entity:<id>" for a registry entity, else "party:<hash of the screened data>"
    party_key: Mapped[str] = mapped_column(String(80))
    #: hash of what was screened (name, kind, country, identifiers, birth date)
    party_version: Mapped[str] = mapped_column(String(40))
    #: {"name", "kind", "country", "identifiers", "birth_date"} as screened
    party: Mapped[dict] = mapped_column(JSON)
    list_id: Mapped[int] = mapped_column(Integer, index=True)
    list_name: Mapped[str] = mapped_column(String(120))
    list_version: Mapped[str] = mapped_column(String(20))
    #: the list's sensitivity (P/C) when the hit was recorded
    sensitivity: Mapped[str] = mapped_column(String(1), default="P")
    entry_id: Mapped[str] = mapped_column(String(200))
    entry_caption: Mapped[str] = mapped_column(String(500))
    entry_version_key: Mapped[str] = mapped_column(String(40))
    score: Mapped[float] = mapped_column(Float)
    threshold: Mapped[float] = mapped_column(Float)
    reasons: Mapped[list] = mapped_column(JSON)
    #: the latest judgement of this hit (None: not judged yet)
    judgement_id: Mapped[int | None] = mapped_column(Integer)
    created_dt = mapped_column(UTCDateTime, default=now_utc, nullable=False, index=True)


def party_data(name, kind=None, country=None, identifiers=(), birth_date=None) -> dict:
    return {
        "name": name,
        "kind": kind,
        "country": country,
        "identifiers": list(identifiers or ()),
        "birth_date": birth_date,
    }


def party_version(data: dict) -> str:
    """A hash of what is screened: any change to the party makes a new version."""
    return _version(
        str(data.get("name") or ""),
        data.get("kind"),
        data.get("country"),
        tuple(str(i) for i in data["identifiers"]),
        data.get("birth_date"),
    )


@lru_cache(maxsize=50_000)
def _version(name, kind, country, identifiers, birth_date) -> str:
    # cached: a declaration's party is hashed several times on its path, and traders repeat
    canonical = {
        "name": " ".join(name.split()).casefold(),
        "kind": kind,
        "country": country,
        "identifiers": sorted(" ".join(i.split()).upper() for i in identifiers),
        "birth_date": birth_date,
    }
    raw = json.dumps(canonical, sort_keys=True, ensure_ascii=False).encode()
    return hashlib.sha1(raw, usedforsecurity=False).hexdigest()


def party_key(data: dict, entity_id: int | None = None) -> str:
    """A registry entity is one party whatever its data; an unregistered party is known by
    its data only (so its key is its version)."""
    if entity_id is not None:
        return f"entity:{entity_id}"
    return f"party:{party_version(data)}"


def hit_row(match, *, subject, subject_type, role, data, key, version) -> dict:
    """A hit's column values for a ``screening.service.Match`` (or its summary dict)."""
    get = match.get if isinstance(match, dict) else lambda k: getattr(match, k)
    return {
        "subject_type": subject_type,
        "subject_id": subject.id,
        "role": role,
        "party_key": key,
        "party_version": version,
        "party": data,
        "list_id": get("list_id"),
        "list_name": get("list_name"),
        "list_version": str(get("list_version")),
        "sensitivity": get("sensitivity") or "P",
        "entry_id": get("entry_id"),
        "entry_caption": get("entry_caption"),
        "entry_version_key": str(get("entry_version_key")),
        "score": float(get("score")),
        "threshold": float(get("threshold")),
        "reasons": list(get("reasons") or ()),
        "unit_id": subject.unit_id,
        "handling_code": subject.handling_code or "P",
    }


def hit_from_match(match, **kwargs) -> ScreeningHit:
    """A hit row object for a match (``hit_row``'s arguments)."""
    return ScreeningHit(**hit_row(match, **kwargs))


#: the table's INSERT, not the ORM's bulk insert of the mapped class (~0.5 ms a call more)
_INSERT = insert(ScreeningHit.__table__)


def insert_hits(rows: list[dict]) -> None:
    """Hits of a declaration's assessment, in one INSERT and no object in the session
    (nothing reads them back in the request): a flush of ORM objects cost ~0.6 ms a
    declaration with a match."""
    if rows:
        now = now_utc()
        db.session.execute(_INSERT, [{"created_dt": now, **r} for r in rows])
