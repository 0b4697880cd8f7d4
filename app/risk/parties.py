"""The named parties of a declaration: who the importer, declarant, seller and courier are
(beyond their trader codes) and the persons a declaration names, as the declaration system
sent them.

A declaration body may carry ``parties``: a list of objects with ``role`` (declarant,
importer, seller, courier, named_person), ``name``, and optionally ``kind`` (company,
person, organisation, vessel), ``country`` (ISO alpha-2), ``identifiers`` (a list of
strings: tax numbers, LEI, IMO, registration numbers) and ``birth_date`` (YYYY-MM-DD, for
persons). Each is stored as sent or the declaration is refused with a 422 naming the field
(``parties[1].birth_date``); an unknown key is named too. Screening (``app.screening``)
reads them; a role without a named party falls back to the registry entity holding its
trader code.
"""

from datetime import date

from sqlalchemy import JSON, Date, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, backref, mapped_column, relationship

from app.core.time import today_utc
from app.extensions import db
from app.risk.models import Declaration

ROLES = ("declarant", "importer", "seller", "courier", "named_person")
KINDS = ("company", "person", "organisation", "vessel")
PARTY_KEYS = frozenset({"role", "name", "kind", "country", "identifiers", "birth_date"})
MAX_PARTIES = 20
MAX_NAME = 300
MAX_IDENTIFIERS = 10
MAX_IDENTIFIER = 60


class DeclarationParty(db.Model):
    """One named party of a declaration, exactly as the declaration system sent it."""

    __tablename__ = "risk_declaration_party"

    id: Mapped[int] = mapped_column(primary_key=True)
    declaration_id: Mapped[int] = mapped_column(
        ForeignKey("risk_declaration.id", ondelete="CASCADE"), index=True
    )
    #: position in the body's ``parties`` list (0-based), so errors and pages match the body
    position: Mapped[int] = mapped_column(Integer, default=0)
    #: one of ROLES
    role: Mapped[str] = mapped_column(String(20))
    #: one of KINDS (None: not said; screened as any legal entity)
    kind: Mapped[str | None] = mapped_column(String(20))
    name: Mapped[str] = mapped_column(String(MAX_NAME))
    #: ISO 3166-1 alpha-2
    country: Mapped[str | None] = mapped_column(String(2))
    #: list of str, as sent
    identifiers: Mapped[list] = mapped_column(JSON, default=list)
    birth_date = mapped_column(Date)

    declaration: Mapped[Declaration] = relationship(
        backref=backref(
            "named_parties",
            cascade="all, delete-orphan",
            order_by="DeclarationParty.position",
            lazy="select",
        )
    )

    def as_dict(self) -> dict:
        return {
            "role": self.role,
            "name": self.name,
            "kind": self.kind,
            "country": self.country,
            "identifiers": list(self.identifiers or []),
            "birth_date": self.birth_date.isoformat() if self.birth_date else None,
        }


def _text(raw, path, errors, *, max_len, required=False) -> str | None:
    if raw is None:
        if required:
            errors[path] = "is required"
        return None
    if not isinstance(raw, str):
        errors[path] = "must be text"
        return None
    if not raw.strip():
        errors[path] = "must not be empty"
        return None
    if len(raw) > max_len:
        errors[path] = f"is longer than {max_len} characters"
        return None
    if not raw.isprintable():
        errors[path] = "must not contain control characters"
        return None
    return raw


def _choice(raw, path, errors, choices, *, required=False) -> str | None:
    if raw is None and not required:
        return None
    if not isinstance(raw, str) or raw not in choices:
        errors[path] = f"must be one of {', '.join(choices)}"
        return None
    return raw


def _identifiers(raw, path, errors) -> list[str]:
    if raw is None:
        return []
    if not isinstance(raw, list):
        errors[path] = "must be a list of strings"
        return []
    if len(raw) > MAX_IDENTIFIERS:
        errors[path] = f"at most {MAX_IDENTIFIERS} identifiers"
        return []
    out = []
    for n, value in enumerate(raw):
        text = _text(value, f"{path}[{n}]", errors, max_len=MAX_IDENTIFIER, required=True)
        if text is not None:
            out.append(text)
    return out


def _birth_date(raw, path, errors) -> date | None:
    from app.risk.intake import parse_date

    if raw is None:
        return None
    try:
        day = parse_date(raw)
    except ValueError:
        errors[path] = f"{raw!r} is not a date (YYYY-MM-DD)"
        return None
    if day > today_utc():
        errors[path] = f"{raw} is in the future"
        return None
    return day


def parse_parties(raw, prefix: str, errors: dict, codes) -> list[dict]:
    """The ``parties`` block checked field by field; errors name ``parties[n].field``."""
    from app.risk.intake import _unknown

    path = f"{prefix}parties"
    if raw is None:
        return []
    if not isinstance(raw, list):
        errors[path] = "must be a list of parties"
        return []
    if len(raw) > MAX_PARTIES:
        errors[path] = f"at most {MAX_PARTIES} parties"
        return []
    out = []
    for n, party in enumerate(raw):
        pp = f"{path}[{n}]."
        if not isinstance(party, dict):
            errors[pp.rstrip(".")] = "must be a JSON object"
            continue
        _unknown(party, PARTY_KEYS, pp, errors, "party")
        row = {
            "position": n,
            "role": _choice(party.get("role"), f"{pp}role", errors, ROLES, required=True),
            "name": _text(party.get("name"), f"{pp}name", errors, max_len=MAX_NAME, required=True),
            "kind": _choice(party.get("kind"), f"{pp}kind", errors, KINDS),
            "country": None,
            "identifiers": _identifiers(party.get("identifiers"), f"{pp}identifiers", errors),
            "birth_date": _birth_date(party.get("birth_date"), f"{pp}birth_date", errors),
        }
        country = party.get("country")
        if country is not None:
            if not isinstance(country, str) or len(country) != 2 or not country.isupper():
                errors[f"{pp}country"] = f"{country!r} is not an ISO 3166 alpha-2 country code"
            elif problem := codes.problem("dispatch_country", country):
                errors[f"{pp}country"] = problem
            else:
                row["country"] = country
        if row["birth_date"] is not None and row["kind"] not in (None, "person"):
            errors[f"{pp}birth_date"] = "only a person has a birth date"
        out.append(row)
    return out


def party_rows(parsed: list[dict]) -> list[DeclarationParty]:
    return [DeclarationParty(**p) for p in parsed]


def insert_parties(declaration_ids: list[int], parsed: list[dict]) -> None:
    """Bulk path (``app.risk.bulk``): the named parties of declarations stored by multi-row
    INSERTs, ``declaration_ids`` in the order of ``parsed``."""
    from sqlalchemy import insert

    rows = [
        {"declaration_id": decl_id, **party}
        for decl_id, data in zip(declaration_ids, parsed, strict=True)
        for party in data.get("parties") or ()
    ]
    if rows:
        db.session.execute(insert(DeclarationParty), rows)


def screening_for(reader, assessment: dict | None) -> dict | None:
    """The assessment's screening (app.screening's summary) as ``reader`` may read it: each
    match names the list, the entry and why it matched, except on a confidential list the
    reader may not know (``seams.list_entry_label``), where only the role, party and score
    are shown. None when the declaration was not screened."""
    from app.security.seams import list_entry_label

    summary = (assessment or {}).get("screening")
    if not summary:
        return None
    matches = []
    for m in summary.get("matches") or ():
        sensitivity = m.get("sensitivity")
        list_name = list_entry_label(reader, sensitivity, m.get("list_name") or "")
        hidden = list_name != m.get("list_name")
        matches.append(
            {
                "role": m.get("role"),
                "party": (m.get("party") or {}).get("name"),
                "list": list_name,
                "list_version": None if hidden else m.get("list_version"),
                "entry_id": None if hidden else m.get("entry_id"),
                "entry": None if hidden else m.get("entry_caption"),
                "score": m.get("score"),
                "threshold": m.get("threshold"),
                "reasons": [] if hidden else list(m.get("reasons") or ()),
            }
        )
    return {
        "parties": summary.get("parties", 0),
        "matches": matches,
        "cleared": len(summary.get("cleared") or ()),
        "more": summary.get("more", 0),
    }
