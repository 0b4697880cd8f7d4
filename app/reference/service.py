"""Reference lists: look-ups for validation and places, and the administrator's changes.

Read side (stable, used by other domains): ``lookup``, ``entries``, ``places``, ``codes``.
Write side: ``add_entry``, ``update_entry``, ``set_active``, ``load_rows`` (each change is
kept in ``ReferenceChange`` with who, when, before and after, and written to the trail), and
``ensure`` (adds the shipped entries of a set that are missing; never changes existing ones).
"""

import csv
import functools
import io
import math
import re
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import and_, bindparam, or_, select

from app.core.errors import ValidationError
from app.core.time import now_utc
from app.extensions import db
from app.reference.models import ReferenceChange, ReferenceEntry
from app.security import trail

DATA = Path(__file__).parent / "data"


@dataclass(frozen=True)
class ListSpec:
    label: str
    #: the form of a code in this list
    pattern: str = r"[A-Za-z0-9][A-Za-z0-9._/-]{0,19}"
    #: places carry a kind, a country and coordinates
    places: bool = False
    kinds: tuple = ()
    #: tax types carry the highest rate a declaration may state
    rates: bool = False
    help: str = ""


LISTS = {
    "office": ListSpec(
        "Customs offices",
        places=True,
        kinds=("border", "port", "airport", "postal", "inland"),
        help="Offices where declarations are lodged (declaration field office).",
    ),
    "crossing": ListSpec(
        "Border crossing points",
        places=True,
        kinds=("road", "rail", "sea", "air", "river", "pedestrian"),
        help="Places where goods cross the border (seizures, routes).",
    ),
    "transport_mode": ListSpec(
        "Transport modes (UN/ECE Recommendation 19)",
        pattern=r"[0-9]{1,2}",
        help="One digit, or two digits (the second a subdivision) as Rec. 19 provides.",
    ),
    "country": ListSpec("Countries (ISO 3166-1 alpha-2)", pattern=r"[A-Z]{2}"),
    "currency": ListSpec("Currencies (ISO 4217)", pattern=r"[A-Z]{3}"),
    "procedure": ListSpec("Customs procedure codes"),
    "tax_type": ListSpec(
        "Tax types",
        rates=True,
        help="A tax type may allow rates above 100 % (its highest rate); otherwise 0-100 %.",
    ),
}
#: shipped sets: "standard" (ISO and UN lists), "demo" (the demo site's places and
#: procedures), "kcs" (the codes the Korea Customs Service files use)
SETS = ("standard", "demo", "kcs")
#: a rate above this is never a tax rate (percent)
MAX_RATE_CAP = 10_000.0
_FIELDS = ("label", "kind", "country", "latitude", "longitude", "max_rate")


@dataclass(frozen=True)
class Entry:
    list_name: str
    code: str
    label: str
    kind: str | None = None
    country: str | None = None
    latitude: float | None = None
    longitude: float | None = None
    max_rate: float | None = None
    is_active: bool = True
    id: int | None = None


#: the columns of an Entry, in its order (a Core select builds one without an ORM object)
_ENTRY_COLUMNS = (
    "list_name",
    "code",
    "label",
    "kind",
    "country",
    "latitude",
    "longitude",
    "max_rate",
    "is_active",
    "id",
)


def _entry(row: ReferenceEntry) -> Entry:
    return Entry(
        row.list_name,
        row.code,
        row.label,
        row.kind,
        row.country,
        row.latitude,
        row.longitude,
        row.max_rate,
        row.is_active,
        row.id,
    )


# --- read side ----------------------------------------------------------------------------


def lookup(list_name: str, code: str) -> Entry | None:
    """The entry ``code`` of ``list_name`` (active or not), or None when it is not listed."""
    _spec(list_name)
    row = db.session.scalar(
        select(ReferenceEntry).where(
            ReferenceEntry.list_name == list_name, ReferenceEntry.code == code
        )
    )
    return _entry(row) if row is not None else None


def entries(list_name: str, *, active_only: bool = True) -> list[Entry]:
    """The entries of one list, ordered by code."""
    _spec(list_name)
    query = select(ReferenceEntry).where(ReferenceEntry.list_name == list_name)
    if active_only:
        query = query.where(ReferenceEntry.is_active.is_(True))
    return [_entry(r) for r in db.session.scalars(query.order_by(ReferenceEntry.code))]


def codes(list_name: str) -> dict[str, Entry]:
    """code -> entry for every entry of a list (inactive ones too: callers say why not)."""
    return {e.code: e for e in entries(list_name, active_only=False)}


def lookup_many(wanted: dict[str, set[str]]) -> dict[tuple[str, str], Entry]:
    """(list, code) -> entry for the codes asked of each list (active or not), in one query;
    a code that is not listed is absent. For checking one declaration: reading whole lists
    cost more than the rest of the request."""
    asked = {}
    for list_name, codes_ in wanted.items():
        _spec(list_name)
        if codes_:
            asked[list_name] = sorted(codes_)
    if not asked:
        return {}
    names = tuple(sorted(asked))
    params = {f"codes_{n}": asked[name] for n, name in enumerate(names)}
    rows = db.session.execute(_lookup_statement(names), params)
    return {(row.list_name, row.code): Entry(*row) for row in rows}


@functools.cache
def _lookup_statement(names: tuple[str, ...]):
    """Built once per set of lists (every declaration asks the same ones): building and
    keying the statement cost more than running it."""
    return select(*(getattr(ReferenceEntry, f) for f in _ENTRY_COLUMNS)).where(
        or_(
            *(
                and_(
                    ReferenceEntry.list_name == name,
                    ReferenceEntry.code.in_(bindparam(f"codes_{n}", expanding=True)),
                )
                for n, name in enumerate(names)
            )
        )
    )


def places() -> list[Entry]:
    """Active customs offices and border crossing points (with their coordinates)."""
    return entries("office") + entries("crossing")


def _spec(list_name: str) -> ListSpec:
    spec = LISTS.get(list_name)
    if spec is None:
        raise ValidationError({"list": f"no reference list {list_name!r}"})
    return spec


# --- checking an entry --------------------------------------------------------------------


def _number(raw, where, errors, low, high):
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return None
    try:
        value = float(str(raw).strip()) if not isinstance(raw, bool) else math.nan
    except ValueError:
        value = math.nan
    if not math.isfinite(value) or not low <= value <= high:
        errors[where] = f"{raw!r} is not a number from {low:g} to {high:g}"
        return None
    return value


def clean(list_name: str, data: dict) -> dict:
    """Check one entry's fields; ValidationError names each bad one."""
    spec = _spec(list_name)
    errors: dict[str, str] = {}
    code = str(data.get("code") or "").strip()
    if not re.fullmatch(spec.pattern, code):
        errors["code"] = f"{code!r} is not a code of this list (form: {spec.pattern})"
    label = str(data.get("label") or "").strip()
    if not label or len(label) > 200 or not label.isprintable():
        errors["label"] = "is required (at most 200 printable characters)"
    out = {"code": code, "label": label}
    if spec.places:
        kind = str(data.get("kind") or "").strip() or None
        if kind is not None and kind not in spec.kinds:
            errors["kind"] = f"{kind!r} is not one of {', '.join(spec.kinds)}"
        country = str(data.get("country") or "").strip().upper() or None
        if country is not None and not re.fullmatch(r"[A-Z]{2}", country):
            errors["country"] = f"{country!r} is not an ISO 3166-1 alpha-2 code"
        lat = _number(data.get("latitude"), "latitude", errors, -90, 90)
        lon = _number(data.get("longitude"), "longitude", errors, -180, 180)
        if (lat is None) != (lon is None) and not {"latitude", "longitude"} & errors.keys():
            errors["latitude" if lat is None else "longitude"] = "give both coordinates or none"
        out |= {"kind": kind, "country": country, "latitude": lat, "longitude": lon}
    if spec.rates:
        out["max_rate"] = _number(data.get("max_rate"), "max_rate", errors, 0, MAX_RATE_CAP)
    if errors:
        raise ValidationError(errors)
    return out


# --- write side ---------------------------------------------------------------------------


def _snapshot(row: ReferenceEntry) -> dict:
    return {"code": row.code, "is_active": row.is_active} | {f: getattr(row, f) for f in _FIELDS}


def _changed(row, action, before, actor) -> None:
    db.session.add(
        ReferenceChange(
            entry_id=row.id,
            action=action,
            before=before,
            after=_snapshot(row),
            changed_by_id=actor.user_id,
            changed_by=actor.username[:80],
        )
    )
    trail.record(
        actor,
        "create" if action == "create" else "update",
        "reference_entry",
        row.id,
        details={"list": row.list_name, "code": row.code, "action": action},
    )


def add_entry(list_name: str, data: dict, *, actor) -> ReferenceEntry:
    actor.require("admin.reference")
    values = clean(list_name, data)
    if lookup(list_name, values["code"]) is not None:
        raise ValidationError({"code": f"{values['code']} is already in this list (edit it)"})
    row = ReferenceEntry(list_name=list_name, **values)
    db.session.add(row)
    db.session.flush()
    _changed(row, "create", None, actor)
    return row


def get_entry(entry_id: int) -> ReferenceEntry:
    from app.security.access import NotFound

    row = db.session.get(ReferenceEntry, entry_id)
    if row is None:
        raise NotFound(f"No reference entry {entry_id}.")
    return row


def update_entry(entry_id: int, data: dict, *, actor) -> ReferenceEntry:
    """Change an entry's label, kind, place or rate (its code stays: records carry it)."""
    actor.require("admin.reference")
    row = get_entry(entry_id)
    values = clean(row.list_name, {**data, "code": row.code})
    before = _snapshot(row)
    for name, value in values.items():
        setattr(row, name, value)
    if _snapshot(row) != before:
        row.updated_dt = now_utc()
        db.session.flush()
        _changed(row, "update", before, actor)
    return row


def set_active(entry_id: int, active: bool, *, actor) -> ReferenceEntry:
    actor.require("admin.reference")
    row = get_entry(entry_id)
    if row.is_active != active:
        before = _snapshot(row)
        row.is_active = active
        row.updated_dt = now_utc()
        db.session.flush()
        _changed(row, "activate" if active else "deactivate", before, actor)
    return row


def load_rows(list_name: str, text: str, *, actor) -> dict:
    """Load a CSV (header: code,label[,kind,country,latitude,longitude][,max_rate]) into a
    list, all or nothing: new codes are added, listed ones updated; errors name the row."""
    actor.require("admin.reference")
    spec = _spec(list_name)
    try:
        rows = list(csv.DictReader(io.StringIO(text.removeprefix("\ufeff"))))
    except csv.Error as exc:
        raise ValidationError({"file": f"is not valid CSV: {exc}"}) from None
    if not rows:
        raise ValidationError({"file": "has no rows (header: code,label,...)"})
    errors, cleaned = {}, []
    for n, raw in enumerate(rows, start=2):
        if None in raw:
            errors[f"row {n}"] = "has more cells than the header"
            continue
        try:
            cleaned.append(clean(list_name, raw))
        except ValidationError as exc:
            errors.update({f"row {n}, column {k}": v for k, v in exc.fields.items()})
    if errors:
        raise ValidationError(dict(list(errors.items())[:50]))
    existing = {
        r.code: r
        for r in db.session.scalars(
            select(ReferenceEntry).where(ReferenceEntry.list_name == list_name)
        )
    }
    added = updated = 0
    for values in cleaned:
        row = existing.get(values["code"])
        if row is None:
            row = existing[values["code"]] = ReferenceEntry(list_name=list_name, **values)
            db.session.add(row)
            db.session.flush()
            _changed(row, "create", None, actor)
            added += 1
            continue
        before = _snapshot(row)
        for name, value in values.items():
            setattr(row, name, value)
        if _snapshot(row) != before:
            row.updated_dt = now_utc()
            db.session.flush()
            _changed(row, "update", before, actor)
            updated += 1
    return {"list": spec.label, "added": added, "updated": updated, "rows": len(cleaned)}


def changes(list_name: str, limit: int = 50) -> list[tuple[ReferenceChange, str]]:
    """The latest changes of a list, newest first, with the entry's code."""
    query = (
        select(ReferenceChange, ReferenceEntry.code)
        .join(ReferenceEntry, ReferenceEntry.id == ReferenceChange.entry_id)
        .where(ReferenceEntry.list_name == list_name)
        .order_by(ReferenceChange.id.desc())
        .limit(limit)
    )
    return [(change, code) for change, code in db.session.execute(query)]


# --- shipped sets -------------------------------------------------------------------------


def _csv(path: Path) -> list[dict]:
    with open(path, encoding="utf-8", newline="") as stream:
        return [{k: (v or None) for k, v in row.items()} for row in csv.DictReader(stream)]


def shipped(set_name: str) -> dict[str, list[dict]]:
    """list name -> entries (dicts of ReferenceEntry columns) of one shipped set."""
    if set_name == "standard":
        import pycountry

        countries = [{"code": c.alpha_2, "label": c.name} for c in pycountry.countries]
        return {
            "country": countries + _csv(DATA / "country_extra.csv"),
            "currency": [{"code": c.alpha_3, "label": c.name} for c in pycountry.currencies],
            "transport_mode": _csv(DATA / "transport_mode.csv"),
        }
    if set_name not in SETS:
        raise ValidationError({"set": f"no shipped set {set_name!r} (sets: {', '.join(SETS)})"})
    return {path.stem: _csv(path) for path in sorted((DATA / set_name).glob("*.csv"))}


@functools.cache
def _shipped_rows(set_name: str) -> tuple:
    """(list name, checked values) of a shipped set, read once per process."""
    return tuple(
        (list_name, dict.fromkeys(_FIELDS) | clean(list_name, item))
        for list_name, items in shipped(set_name).items()
        for item in items
    )


def ensure(*set_names: str) -> int:
    """Add the entries of shipped sets that are not listed yet; returns how many were added.
    Listed codes are left as they are (an administrator's edits and deactivations stand)."""
    have = set(db.session.execute(select(ReferenceEntry.list_name, ReferenceEntry.code)))
    rows, now = [], now_utc()
    for set_name in set_names:
        for list_name, values in _shipped_rows(set_name):
            if (list_name, values["code"]) not in have:
                have.add((list_name, values["code"]))
                rows.append(
                    {"list_name": list_name, **values, "is_active": True, "created_dt": now}
                )
    if rows:
        db.session.execute(ReferenceEntry.__table__.insert(), rows)
    return len(rows)
