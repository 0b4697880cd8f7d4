"""Declaration intake: what a declaration may hold, checked before anything is stored.

After the WCO Data Model and ASYCUDA's validation: every field is known (an unknown one,
items included, is named: ``items[2].orgin``); dates are ISO ``YYYY-MM-DD`` and no more,
within a window around today (``TOLLGATE_DECLARATION_DATE_PAST_DAYS`` /
``TOLLGATE_DECLARATION_DATE_FUTURE_DAYS``); coded fields are in the administrator's
reference lists (``app.reference``); numbers are finite, non-negative JSON numbers below
their caps, a tax rate 0-100 % unless its tax type allows more. Nothing is clamped,
truncated or dropped: a value is stored as sent or the whole declaration is refused with a
422 naming each field. The KCS importer (``app.risk.importer``) applies the same checks
(``Codes``, ``number_problem``, ``date_problem``) and names the row and column.
"""

import math
import re
from datetime import date, timedelta

from flask import current_app

from app.core.errors import ValidationError
from app.core.time import now_utc
from app.reference import service as reference

MAX_ITEMS = 999
#: defaults of the configuration (app/config.py)
DATE_PAST_DAYS = 730
DATE_FUTURE_DAYS = 30
MAX_VALUE = 1e12
MAX_MASS_KG = 1e9
MAX_QUANTITY = 1e12
#: a tax rate above this is refused unless its tax type's highest rate allows it (percent)
MAX_TAX_RATE = 100.0

_DECL_TEXT = {
    "office": 20,
    "procedure": 20,
    "import_type": 20,
    "import_use": 20,
    "payment_type": 20,
    "transport_mode": 20,
    "declarant": 40,
    "importer": 40,
    "seller": 40,
    "courier": 40,
}
#: API item field -> (stored name, kind, max length or None)
_ITEM_FIELDS = {
    "hs_code": ("hs_code", "hs", 14),
    "description": ("description", "text", 500),
    "origin": ("origin_country", "country", None),
    "departure": ("departure_country", "country", None),
    "value": ("value", "number", None),
    "mass": ("mass_kg", "number", None),
    "quantity": ("quantity", "number", None),
    "quantity_unit": ("quantity_unit", "text", 10),
    "tax_rate": ("tax_rate", "number", None),
    "tax_type": ("tax_type", "text", 10),
    "origin_indicator": ("origin_indicator", "text", 4),
}
DECLARATION_KEYS = frozenset(
    {"number", "date", "dispatch_country", "items", "parties", *_DECL_TEXT}
)
ITEM_KEYS = frozenset(_ITEM_FIELDS)
#: stored field -> the reference list its code must be in
LIST_OF = {
    "office": "office",
    "transport_mode": "transport_mode",
    "procedure": "procedure",
    "dispatch_country": "country",
    "origin_country": "country",
    "departure_country": "country",
    "tax_type": "tax_type",
}
_NOUN = {
    "office": "customs offices",
    "transport_mode": "transport modes (UN/ECE Rec. 19)",
    "procedure": "procedure codes",
    "country": "countries (ISO 3166-1 alpha-2)",
    "tax_type": "tax types",
}
_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


class Codes:
    """The reference lists one request or import checks against.

    The codes a declaration names are read in one query (``prefetch``, also over a whole
    batch); a code not fetched yet is looked up when checked. A list asked for whole (an
    import of thousands of rows) is read once."""

    def __init__(self):
        self._lists: dict[str, dict] = {}
        #: list -> {code: Entry, or None when not listed}: the codes fetched one by one
        self._known: dict[str, dict] = {}

    def entries(self, list_name: str) -> dict:
        if list_name not in self._lists:
            self._lists[list_name] = reference.codes(list_name)
        return self._lists[list_name]

    def prefetch(self, wanted: dict[str, set]) -> None:
        """Read the entries of the given codes (list -> codes) not read yet, in one query."""
        missing = {}
        for list_name, codes in wanted.items():
            if list_name in self._lists:
                continue
            known = self._known.setdefault(list_name, {})
            fresh = {c for c in codes if isinstance(c, str) and c and c not in known}
            if fresh:
                missing[list_name] = fresh
        if not missing:
            return
        found = reference.lookup_many(missing)
        for list_name, codes in missing.items():
            self._known[list_name].update((c, found.get((list_name, c))) for c in codes)

    def _entry(self, list_name: str, code):
        if list_name in self._lists:
            return self._lists[list_name].get(code)
        known = self._known.get(list_name, {})
        if code not in known:
            if len(known) >= _WHOLE_LIST_AFTER:  # an import: many codes, read the list once
                return self.entries(list_name).get(code)
            self.prefetch({list_name: {code}})
            known = self._known[list_name]
        return known.get(code)

    def problem(self, field: str, code) -> str | None:
        """Why ``code`` cannot be stored in ``field`` (a stored name), or None."""
        list_name = LIST_OF[field]
        entry = self._entry(list_name, code)
        noun = _NOUN[list_name]
        if entry is None:
            return f"{code!r} is not in the list of {noun}"
        if not entry.is_active:
            return f"{code!r} is deactivated in the list of {noun}"
        return None

    def max_rate(self, tax_type) -> float:
        entry = self._entry("tax_type", tax_type) if tax_type else None
        if entry is not None and entry.max_rate is not None:
            return entry.max_rate
        return MAX_TAX_RATE


#: codes of one list looked up one by one before the whole list is read instead
_WHOLE_LIST_AFTER = 40
_DECL_CODES = {"office": "office", "transport_mode": "transport_mode", "procedure": "procedure"}
_ITEM_COUNTRIES = ("origin", "departure")


def wanted_codes(bodies) -> dict[str, set]:
    """list -> the codes these declaration bodies seem to name, as parsing will read them
    (for ``Codes.prefetch``; whatever this misses is looked up when checked)."""
    out: dict[str, set] = {"office": set(), "transport_mode": set(), "procedure": set()}
    countries, taxes = set(), set()

    def text(raw):
        return raw.strip() if isinstance(raw, str) else None

    for body in bodies:
        if not isinstance(body, dict):
            continue
        for key, list_name in _DECL_CODES.items():
            out[list_name].add(text(body.get(key)))
        countries.add((text(body.get("dispatch_country")) or "").upper())
        items = body.get("items")
        for item in items if isinstance(items, list) else ():
            if isinstance(item, dict):
                countries.update((text(item.get(k)) or "").upper() for k in _ITEM_COUNTRIES)
                taxes.add(text(item.get("tax_type")))
    out |= {"country": countries, "tax_type": taxes}
    return {k: {c for c in v if c} for k, v in out.items()}


def _config(name: str, default):
    return current_app.config.get(f"TOLLGATE_{name}", default)


def number_problem(field: str, value: float, *, max_rate: float = MAX_TAX_RATE) -> str | None:
    """Why a parsed number cannot be stored in ``field`` (a stored name), or None."""
    if not math.isfinite(value) or value < 0:
        return "must be a finite number, zero or more"
    cap = {
        "value": _config("DECLARATION_MAX_VALUE", MAX_VALUE),
        "mass_kg": _config("DECLARATION_MAX_MASS_KG", MAX_MASS_KG),
        "quantity": MAX_QUANTITY,
        "tax_rate": max_rate,
    }.get(field)
    if cap is not None and value > cap:
        if field == "tax_rate":
            return f"{value:g} % is above {cap:g} % (the highest rate of its tax type)"
        return f"{value:g} is above the highest accepted ({cap:g})"
    return None


def date_problem(day: date, *, history: bool = False) -> str | None:
    """Why a declaration date is refused, or None. Live declarations lie within the
    configured window around today; imported history may be old but never in the future."""
    today = now_utc().date()
    future = int(_config("DECLARATION_DATE_FUTURE_DAYS", DATE_FUTURE_DAYS))
    if day > today + timedelta(days=future):
        return f"{day.isoformat()} is more than {future} days after today ({today.isoformat()})"
    past = int(_config("DECLARATION_DATE_PAST_DAYS", DATE_PAST_DAYS))
    if not history and day < today - timedelta(days=past):
        return f"{day.isoformat()} is more than {past} days before today ({today.isoformat()})"
    return None


def parse_date(raw) -> date:
    """``YYYY-MM-DD`` exactly (no time, no trailing text); ValueError otherwise."""
    if not isinstance(raw, str) or not _ISO_DATE.fullmatch(raw):
        raise ValueError
    return date.fromisoformat(raw)


# --- one declaration ----------------------------------------------------------------------


def _text(raw, path, errors, *, max_len, required=False, upper=False):
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        if required:
            errors[path] = "is required"
        return None
    if isinstance(raw, bool) or not isinstance(raw, str | int):
        errors[path] = "must be text"
        return None
    text = str(raw).strip()
    if len(text) > max_len:
        errors[path] = f"is longer than {max_len} characters"
        return None
    return text.upper() if upper else text


def _country(raw, path, errors):
    text = _text(raw, path, errors, max_len=40, upper=True)
    if text is not None and (len(text) != 2 or not text.isalpha() or not text.isascii()):
        errors[path] = f"{raw!r} is not an ISO 3166 alpha-2 country code"
        return None
    return text


def _number(raw, path, errors, *, required=False):
    if raw is None:
        if required:
            errors[path] = "is required"
        return None
    if isinstance(raw, bool) or not isinstance(raw, int | float):
        errors[path] = f"{raw!r} is not a number"
        return None
    value = float(raw) if not isinstance(raw, int) or abs(raw) < 2**63 else math.inf
    if not math.isfinite(value) or value < 0:
        errors[path] = "must be a finite number, zero or more"
        return None
    return value


def _unknown(raw: dict, known, path: str, errors: dict, what: str) -> None:
    for key in sorted(set(raw) - known, key=str):
        errors[f"{path}{key}"] = f"unknown field (a {what} has: {', '.join(sorted(known))})"


def _item(raw, ip, n, errors) -> dict:
    _unknown(raw, ITEM_KEYS, ip, errors, "declaration item")
    out = {"line_no": n + 1}
    for key, (name, kind, max_len) in _ITEM_FIELDS.items():
        where = f"{ip}{key}"
        if kind == "number":
            out[name] = _number(raw.get(key), where, errors, required=key == "value")
        elif kind == "country":
            out[name] = _country(raw.get(key), where, errors)
        else:
            out[name] = _text(raw.get(key), where, errors, max_len=max_len, required=kind == "hs")
    hs = out["hs_code"]
    if hs is not None:
        hs = out["hs_code"] = hs.replace(".", "").replace(" ", "")
        if not hs.isdigit() or not hs.isascii() or not 6 <= len(hs) <= 10:
            errors[f"{ip}hs_code"] = f"{raw.get('hs_code')!r} is not an HS code (6-10 digits)"
    return out


def _check_item(item, ip, codes: Codes, errors) -> None:
    api_name = {v[0]: k for k, v in _ITEM_FIELDS.items()}
    for name in ("origin_country", "departure_country", "tax_type"):
        where = f"{ip}{api_name[name]}"
        if item[name] is None or where in errors:
            continue
        if problem := codes.problem(name, item[name]):
            errors[where] = problem
    max_rate = codes.max_rate(item["tax_type"])
    for name in ("value", "mass_kg", "quantity", "tax_rate"):
        where = f"{ip}{api_name[name]}"
        if item[name] is None or where in errors:
            continue
        if problem := number_problem(name, item[name], max_rate=max_rate):
            errors[where] = problem


def parse_declaration(body, prefix: str = "", codes: Codes | None = None) -> dict:
    """Check one declaration body; raise ValidationError naming each bad field by JSON path."""
    codes = codes or Codes()
    errors: dict[str, str] = {}
    p = prefix
    if not isinstance(body, dict):
        raise ValidationError({p.rstrip(".") or "body": "must be a JSON object"})
    codes.prefetch(wanted_codes([body]))
    _unknown(body, DECLARATION_KEYS, p, errors, "declaration")
    out = {"number": _text(body.get("number"), f"{p}number", errors, max_len=40, required=True)}
    raw_date = body.get("date")
    if not raw_date:
        errors[f"{p}date"] = "is required (YYYY-MM-DD)"
    else:
        try:
            out["declaration_date"] = parse_date(raw_date)
        except ValueError:
            errors[f"{p}date"] = f"{raw_date!r} is not a date (YYYY-MM-DD)"
        else:
            if problem := date_problem(out["declaration_date"]):
                errors[f"{p}date"] = problem
    for name, max_len in _DECL_TEXT.items():
        out[name] = _text(
            body.get(name), f"{p}{name}", errors, max_len=max_len, required=name == "office"
        )
    out["dispatch_country"] = _country(body.get("dispatch_country"), f"{p}dispatch_country", errors)
    for name in ("office", "transport_mode", "procedure", "dispatch_country"):
        if out[name] is None or f"{p}{name}" in errors:
            continue
        if problem := codes.problem(name, out[name]):
            errors[f"{p}{name}"] = problem
    items = body.get("items")
    if not isinstance(items, list) or not items:
        errors[f"{p}items"] = "must list at least one item"
        items = []
    elif len(items) > MAX_ITEMS:
        errors[f"{p}items"] = f"at most {MAX_ITEMS} items"
        items = []
    parsed_items = []
    for n, raw in enumerate(items):
        ip = f"{p}items[{n}]."
        if not isinstance(raw, dict):
            errors[ip.rstrip(".")] = "must be a JSON object"
            continue
        item = _item(raw, ip, n, errors)
        _check_item(item, ip, codes, errors)
        parsed_items.append(item)
    # Named parties (app.risk.parties): names for screening, stored as sent.
    from app.risk.parties import parse_parties

    out["parties"] = parse_parties(body.get("parties"), p, errors, codes)
    if errors:
        raise ValidationError(errors)
    out["items"] = parsed_items
    return out
