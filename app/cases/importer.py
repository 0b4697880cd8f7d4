"""Bulk import of historical seizures from CSV: a column mapping, validation of every row
before anything is written (errors name the row and the column), duplicates, a dry run.

Rows that share a seizure reference become one case with several items. The WCO CEN seizure
fields and the columns of a typical national seizure register are recognised by name.

Rows are numbered as records of the file, the header being row 1. Every mapped cell is
checked before it is parsed: bytes that are not UTF-8, NUL and control characters are
errors of their row and column; a stray quote or a row with more or fewer cells than the
header is an error of its row. The cases are written in a savepoint: all or none.
"""

import csv
import hashlib
import io
import re
from dataclasses import dataclass, field

from sqlalchemy import select

from app.cases import catalog, fields
from app.cases.models import Case
from app.cases.service import open_with_reserved_ref, parse_item
from app.core.errors import ValidationError
from app.extensions import db
from app.security.access import Actor

MAX_ROWS = 50_000
MAX_ERRORS = 200
_NOT_UTF8 = re.compile(r"[\udc80-\udcff]")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_TIME = re.compile(r"([01]?[0-9]|2[0-3]):([0-5][0-9])(:[0-5][0-9])?")
_ASCII_HS = re.compile(r"[0-9\s.]*")
_DIGITS = re.compile(r"[0-9]+")
_GROUP = re.compile(r"[0-9]{3}")

#: target field -> (label, header names it is recognised by, lower case)
TARGETS = {
    "external_ref": (
        "Seizure reference",
        (
            "seizure id",
            "seizureid",
            "seizure reference",
            "reference",
            "ref",
            "case number",
            "case no",
            "record id",
            "cen id",
            "cen_id",
            "seizure_id",
            "seizure number",
            "no.",
            "id",
        ),
    ),
    "event_date": (
        "Date",
        ("date", "seizure date", "seizuredate", "date of seizure", "seizure_date", "event date"),
    ),
    "event_time": ("Time", ("time", "seizure time", "seizuretime", "time of seizure")),
    "direction": ("Direction", ("direction", "flow", "import/export", "traffic direction")),
    "place": (
        "Place / office",
        (
            "place",
            "office",
            "customs office",
            "location",
            "seizure place",
            "seizureplace",
            "place of seizure",
            "seizure location",
        ),
    ),
    "crossing_point": (
        "Border crossing point",
        (
            "crossing point",
            "border crossing point",
            "bcp",
            "border post",
            "border crossing",
            "crossingpoint",
        ),
    ),
    "commodity_area": (
        "Commodity category / CEN area",
        (
            "commodity category",
            "commodity area",
            "commodityarea",
            "category",
            "goods category",
            "cen commodity",
            "commodity group",
            "commodity",
        ),
    ),
    "commodity_type": (
        "Commodity type",
        ("commodity type", "commoditytype", "type", "goods type", "type of goods", "product"),
    ),
    "hs_code": ("HS code", ("hs code", "hscode", "hs", "tariff code", "commodity code")),
    "description": (
        "Description",
        ("description", "goods description", "remarks", "details", "goodsdescription"),
    ),
    "quantity": ("Quantity", ("quantity", "qty", "amount", "seized quantity")),
    "quantity_unit": (
        "Unit",
        ("unit", "quantity unit", "quantityunit", "uom", "units", "unit of measure"),
    ),
    "value": (
        "Value (EUR)",
        (
            "value",
            "value (eur)",
            "value eur",
            "estimated value",
            "estimatedvalue",
            "value_eur",
            "market value",
        ),
    ),
    "transport_mode": (
        "Transport mode",
        (
            "transport mode",
            "transportmode",
            "mode of transport",
            "means of transport",
            "conveyance type",
        ),
    ),
    "conveyance": (
        "Conveyance",
        (
            "conveyance",
            "vehicle",
            "plate",
            "registration",
            "vehicle registration",
            "flight",
            "vessel",
        ),
    ),
    "detection_method": (
        "Detection method",
        ("detection method", "detectionmethod", "detection", "how detected"),
    ),
    "concealment_method": (
        "Concealment method",
        ("concealment method", "concealmentmethod", "concealment", "hiding place"),
    ),
    "route_origin": (
        "Origin / departure country",
        (
            "origin",
            "country of origin",
            "departure country",
            "countryofdeparture",
            "country of departure",
            "departure",
        ),
    ),
    "route_transit": ("Transit", ("transit", "transit countries", "countryoftransit")),
    "route_destination": (
        "Destination",
        ("destination", "country of destination", "countryofdestination", "destination country"),
    ),
    "title": ("Title", ("title", "case title")),
}

_AREA_ALIASES = {
    "narcotics": "drugs",
    "drug": "drugs",
    "cannabis": "drugs",
    "marijuana": "drugs",
    "heroin": "drugs",
    "cocaine": "drugs",
    "amphetamine": "drugs",
    "hashish": "drugs",
    "cigarettes": "tobacco",
    "cigarette": "tobacco",
    "tobacco_products": "tobacco",
    "cigars": "tobacco",
    "alcoholic_beverages": "alcohol",
    "spirits": "alcohol",
    "weapon": "weapons",
    "arms": "weapons",
    "ammunition": "weapons",
    "weapons_and_ammunition": "weapons",
    "firearms": "weapons",
    "counterfeit": "ipr",
    "counterfeit_goods": "ipr",
    "fake_goods": "ipr",
    "protected_species": "cites",
    "wildlife": "cites",
    "cash": "currency",
    "money": "currency",
    "precursor": "precursors",
    "drug_precursors": "precursors",
    "antiquities": "cultural",
    "cultural_goods": "cultural",
    "cultural_heritage": "cultural",
    "miscellaneous": "other",
}
_DIRECTION_ALIASES = {
    "in": "import",
    "entry": "import",
    "i": "import",
    "inbound": "import",
    "imp": "import",
    "out": "export",
    "exit": "export",
    "e": "export",
    "outbound": "export",
    "exp": "export",
    "t": "transit",
}
_MODE_ALIASES = {
    "truck": "road",
    "lorry": "road",
    "car": "road",
    "bus": "road",
    "vehicle": "road",
    "van": "road",
    "ship": "sea",
    "vessel": "sea",
    "maritime": "sea",
    "boat": "sea",
    "plane": "air",
    "flight": "air",
    "aircraft": "air",
    "airport": "air",
    "train": "rail",
    "railway": "rail",
    "post": "postal",
    "mail": "postal",
    "courier": "postal",
    "express": "postal",
    "foot": "pedestrian",
    "walking": "pedestrian",
}
_DETECTION_ALIASES = {
    "profile": "risk_profile",
    "risk_analysis": "risk_profile",
    "x_ray": "scanner",
    "xray": "scanner",
    "scan": "scanner",
    "k9": "dog",
    "canine": "dog",
    "sniffer_dog": "dog",
    "info": "intelligence",
    "tip": "intelligence",
    "tip_off": "intelligence",
    "control": "routine",
    "routine_control": "routine",
    "random_check": "random",
}
_CONCEALMENT_ALIASES = {
    "hidden_compartment": "false_compartment",
    "cavity": "false_compartment",
    "natural_cavity": "vehicle_structure",
    "baggage": "luggage",
    "suitcase": "luggage",
    "cargo": "cargo_mixed",
    "parcel": "postal",
    "not_concealed": "none",
    "no": "none",
    "false_declaration": "misdeclared",
    "swallowed": "body_internal",
    "on_body": "body",
}
_UNIT_ALIASES = {
    "kilogram": "kg",
    "kilograms": "kg",
    "kgs": "kg",
    "gram": "g",
    "grams": "g",
    "gr": "g",
    "litre": "l",
    "liter": "l",
    "litres": "l",
    "liters": "l",
    "lit": "l",
    "piece": "pcs",
    "pieces": "pcs",
    "pc": "pcs",
    "units": "pcs",
    "items": "pcs",
    "stk": "pcs",
    "cigarettes": "sticks",
    "stick": "sticks",
    "pack": "packs",
    "packets": "packs",
    "euro": "eur",
    "euros": "eur",
    "€": "eur",
    "specimen": "specimens",
    "m³": "m3",
}


@dataclass
class ImportReport:
    rows: int = 0
    cases: int = 0
    items: int = 0
    errors: dict = field(default_factory=dict)
    #: (row number, reference, why)
    duplicates: list = field(default_factory=list)
    created: list = field(default_factory=list)
    dry_run: bool = True

    @property
    def ok(self) -> bool:
        return not self.errors


def decode(data: bytes) -> str:
    """The file as text; bytes that are not UTF-8 become lone surrogates (surrogateescape)
    so the cell holding them can be named (``_cell_problem``)."""
    return data.decode("utf-8-sig", errors="surrogateescape")


def _cell_problem(raw: str) -> str | None:
    """Why a cell cannot be imported whatever its column, or None."""
    if found := _NOT_UTF8.search(raw):
        byte = ord(found.group()) - 0xDC00
        return f"is not UTF-8 text (byte 0x{byte:02x}); save the file as CSV UTF-8"
    if "\x00" in raw:
        return "must not contain NUL characters"
    if _CONTROL.search(raw):
        return "must not contain control characters"
    return None


def _number_problem(raw: str | None) -> str | None:
    """Why a quantity or value cell is not a number a register writes, or None.

    ``fields.decimal`` reads ``1.234,56`` and ``1,234.56`` (and a decimal comma); here the
    digit groups are checked first, so ``1,2,3.4`` or ``1 2 3`` is an error, not 123.4 or
    123, and only ASCII digits count."""
    text = (raw or "").strip()
    if not text or text.startswith("-"):
        return None  # blank, or negative: fields.decimal says "must be at least 0"
    bad = f"{text[:40]!r} is not a number"
    spaced = re.split(r"[ \u00a0]+", text)
    if len(spaced) > 1 and not (
        re.fullmatch(r"[0-9]{1,3}", spaced[0])
        and all(_GROUP.fullmatch(g) for g in spaced[1:-1])
        and re.fullmatch(r"[0-9]{3}([.,][0-9]+)?", spaced[-1])
    ):
        return bad
    text = "".join(spaced)
    if not text.isascii():
        return bad
    if "," in text and "." in text:
        decimal_sep = "," if text.rfind(",") > text.rfind(".") else "."
        thousands = "." if decimal_sep == "," else ","
        whole, _, fraction = text.rpartition(decimal_sep)
        groups = whole.split(thousands)
        if not (
            _DIGITS.fullmatch(fraction)
            and re.fullmatch(r"[0-9]{1,3}", groups[0])
            and all(_GROUP.fullmatch(g) for g in groups[1:])
        ):
            return bad
    return None


def _reader(text: str):
    first = text.split("\n", 1)[0]
    delimiter = max(",;\t", key=first.count)
    # strict: a stray quote ("a"b) is an error rather than silently merged text.
    return csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)


def read_header(data: bytes) -> list[str]:
    """The column names of the file; errors for an empty file or repeated names."""
    text = decode(data)
    try:
        header = next(_reader(text), None)
    except csv.Error as exc:
        raise ValidationError({"file": f"row 1: {exc}"}) from None
    for n, name in enumerate(header or [], start=1):
        if _NOT_UTF8.search(name) or "\x00" in name:
            raise ValidationError(
                {"file": f"is not UTF-8 text (row 1, column {n}); save it as CSV UTF-8"}
            )
    header = [h.strip() for h in header or []]
    if not any(header):
        raise ValidationError({"file": "has no header row"})
    seen = set()
    for n, name in enumerate(header, start=1):
        if not name:
            raise ValidationError({"file": f"row 1: column {n} has no name"})
        if name.lower() in seen:
            raise ValidationError({"file": f"row 1: column name {name!r} appears twice"})
        seen.add(name.lower())
    return header


def suggest_mapping(header: list[str]) -> dict:
    """target field -> column, guessed from the column names."""
    by_name = {h.strip().lower(): h for h in header}
    mapping, used = {}, set()
    for target, (_label, names) in TARGETS.items():
        for name in names:
            column = by_name.get(name)
            if column and column not in used:
                mapping[target] = column
                used.add(column)
                break
    return mapping


def _check_mapping(mapping: dict, header: list[str]) -> dict:
    errors = {}
    clean = {}
    for target, column in (mapping or {}).items():
        if not column:
            continue
        if target not in TARGETS:
            errors[f"mapping.{target}"] = "is not an import field"
        elif column not in header:
            errors[f"mapping.{target}"] = f"column {column!r} is not in the file"
        else:
            clean[target] = column
    if "event_date" not in clean:
        errors["mapping.event_date"] = "map the column holding the seizure date"
    if "place" not in clean and "crossing_point" not in clean:
        errors["mapping.place"] = "map the place or the border crossing point column"
    if "commodity_area" not in clean and "commodity_type" not in clean:
        errors["mapping.commodity_area"] = "map the commodity category or commodity type column"
    if "description" not in clean and "commodity_type" not in clean:
        errors["mapping.description"] = "map the description or commodity type column"
    if errors:
        raise ValidationError(errors)
    return clean


def _area_for(area_raw, type_raw, where):
    if not fields.blank(area_raw):
        return fields.choice(
            area_raw,
            where("commodity_area"),
            catalog.COMMODITY_AREAS,
            aliases=_AREA_ALIASES,
            required=True,
        )
    key = str(type_raw or "").strip().lower().replace(" ", "_")
    return _AREA_ALIASES.get(key) or (key if key in catalog.COMMODITY_AREAS else "other")


def _parse_row(values: dict, mapping: dict, n: int, default_place_type: str | None):
    """(case fields, item) of one CSV row, or ValidationError keyed ``row N, column X``."""

    def where(target):
        return f"row {n}, column {mapping[target]!r}" if target in mapping else f"row {n}, {target}"

    def get(target):
        return values.get(mapping[target]) if target in mapping else None

    errors, case, item = {}, {}, {}

    def attempt(func):
        try:
            return func()
        except ValidationError as exc:
            errors.update(exc.fields)
            return None

    for target in mapping:
        raw = values.get(mapping[target]) or ""
        problem = _cell_problem(raw)
        if not problem and target in ("quantity", "value"):
            problem = _number_problem(raw)
        if problem:
            errors[where(target)] = problem
    if errors:
        raise ValidationError(errors)
    day = attempt(lambda: fields.parse_date(get("event_date"), where("event_date"), required=True))
    moment = attempt(lambda: fields.text(get("event_time"), where("event_time"), max_len=8))
    if moment and not _TIME.fullmatch(moment):
        errors[where("event_time")] = f"{moment!r} is not a time (HH:MM)"
        moment = None
    elif moment:
        hour, minute = _TIME.fullmatch(moment).group(1, 2)
        moment = f"{int(hour):02d}:{minute}"
    if day and moment:
        stamp = attempt(
            lambda: fields.parse_datetime(f"{day.isoformat()} {moment[:5]}", where("event_time"))
        )
    else:
        stamp = attempt(lambda: fields.parse_datetime(day, where("event_date"))) if day else None
    case["event_dt"] = stamp
    crossing = attempt(
        lambda: fields.text(get("crossing_point"), where("crossing_point"), max_len=120)
    )
    place = attempt(lambda: fields.text(get("place"), where("place"), max_len=120))
    given = where("place") in errors or where("crossing_point") in errors  # but refused
    if not (crossing or place or given):
        target = "crossing_point" if "crossing_point" in mapping else "place"
        errors[where(target)] = "is required (the place of the seizure)"
    case["place"] = crossing or place
    case["place_type"] = "bcp" if crossing else default_place_type
    case["direction"] = attempt(
        lambda: fields.choice(
            get("direction"), where("direction"), catalog.DIRECTIONS, aliases=_DIRECTION_ALIASES
        )
    )
    case["transport_mode"] = attempt(
        lambda: fields.choice(
            get("transport_mode"),
            where("transport_mode"),
            catalog.TRANSPORT_MODES,
            aliases=_MODE_ALIASES,
        )
    )
    case["detection_method"] = attempt(
        lambda: fields.choice(
            get("detection_method"),
            where("detection_method"),
            catalog.DETECTION_METHODS,
            aliases=_DETECTION_ALIASES,
        )
    )
    case["concealment_method"] = attempt(
        lambda: fields.choice(
            get("concealment_method"),
            where("concealment_method"),
            catalog.CONCEALMENT_METHODS,
            aliases=_CONCEALMENT_ALIASES,
        )
    )
    for target, size in (
        ("conveyance", 200),
        ("route_origin", 80),
        ("route_transit", 200),
        ("route_destination", 80),
        ("title", 300),
    ):
        case[target] = attempt(lambda t=target, s=size: fields.text(get(t), where(t), max_len=s))
    ref = attempt(lambda: fields.text(get("external_ref"), where("external_ref"), max_len=100))

    area = attempt(lambda: _area_for(get("commodity_area"), get("commodity_type"), where))
    ctype = (get("commodity_type") or "").strip()
    desc = (get("description") or "").strip()
    description = (
        f"{ctype}: {desc}"
        if ctype and desc and ctype.lower() not in desc.lower()
        else (desc or ctype)
    )
    unit_raw = get("quantity_unit")
    if not fields.blank(unit_raw):
        unit_raw = attempt(
            lambda: fields.choice(
                unit_raw, where("quantity_unit"), catalog.QUANTITY_UNITS, aliases=_UNIT_ALIASES
            )
        )
    hs_raw = get("hs_code")
    if hs_raw and not (hs_raw.isascii() and _ASCII_HS.fullmatch(hs_raw)):
        # fields.hs_code matches \d, which also takes other scripts' digits
        errors[where("hs_code")] = f"{hs_raw.strip()!r} is not an HS code (4 to 10 digits)"
        hs_raw = None
    raw_item = {
        "commodity_area": area,
        "hs_code": hs_raw,
        "description": description,
        "quantity": get("quantity"),
        "quantity_unit": unit_raw,
        "value": get("value"),
    }
    try:
        item = parse_item(raw_item, "item")
    except ValidationError as exc:
        for key, message in exc.fields.items():
            target = key.split(".", 1)[1] if "." in key else key
            if target == "description" and "description" not in mapping:
                target = "commodity_type"
            if target == "commodity_area" and area is None:
                continue  # already reported against the category column
            errors.setdefault(where(target), message)
    if errors:
        raise ValidationError(errors)
    return ref, case, item


def _fingerprint(case: dict, item: dict) -> str:
    parts = [
        case["event_dt"].isoformat() if case["event_dt"] else "",
        case["place"] or "",
        item["commodity_area"],
        item["description"].lower(),
        str(item["quantity"] or ""),
        item["quantity_unit"] or "",
        str(item["value"] or ""),
    ]
    return "csv:" + hashlib.sha256("|".join(parts).encode()).hexdigest()[:32]


def run_import(
    data: bytes,
    mapping: dict,
    *,
    actor: Actor,
    dry_run=True,
    skip_duplicates=False,
    handling_code="P",
    default_place_type=None,
    unit_id=None,
) -> ImportReport:
    """Validate every row, then (unless ``dry_run`` or any error) open one closed seizure case
    per seizure. Either every seizure is imported or none."""
    actor.require("case.create")
    header = read_header(data)
    mapping = _check_mapping(mapping, header)
    report = ImportReport(dry_run=bool(dry_run))
    groups: dict[str, dict] = {}
    order: list[str] = []
    reader = _reader(decode(data))
    n = 1
    try:
        next(reader)
        for row in reader:
            n += 1
            if not any(cell.strip() for cell in row):
                continue
            report.rows += 1
            if report.rows > MAX_ROWS:
                raise ValidationError({"file": f"more than {MAX_ROWS} rows; split the file"})
            if len(row) != len(header):
                report.errors[f"row {n}"] = f"has {len(row)} columns, the header has {len(header)}"
                continue
            values = dict(zip(header, row, strict=True))
            try:
                ref, case, item = _parse_row(values, mapping, n, default_place_type)
            except ValidationError as exc:
                report.errors.update(exc.fields)
                if len(report.errors) >= MAX_ERRORS:
                    break
                continue
            key = f"import:{ref}" if ref else _fingerprint(case, item)
            if key in groups:
                group = groups[key]
                if not ref:
                    report.duplicates.append((n, "", f"same as row {group['row']}"))
                    continue
                for name, value in case.items():
                    if value is not None and group["case"].get(name) not in (None, value):
                        report.errors[f"row {n}, column {mapping.get(name, name)!r}"] = (
                            f"differs from row {group['row']} of seizure {ref}"
                        )
                group["items"].append(item)
                continue
            groups[key] = {"row": n, "ref": ref, "case": case, "items": [item]}
            order.append(key)
    except csv.Error as exc:
        # n is the last row read whole: the error is in the next record
        report.errors[f"row {n + 1}"] = f"is not valid CSV: {exc}"

    # Duplicates are looked for in the unit the seizures are imported into only: "already
    # imported" about another unit's case would tell which seizures that unit holds.
    target_unit = unit_id if unit_id is not None else actor.unit_id
    existing = set()
    keys = list(groups)
    for start in range(0, len(keys), 500):
        chunk = keys[start : start + 500]
        existing |= set(
            db.session.scalars(
                select(Case.external_ref).where(
                    Case.external_ref.in_(chunk), Case.unit_id == target_unit
                )
            )
        )
    for key in order:
        if key in existing:
            group = groups[key]
            report.duplicates.append((group["row"], group["ref"] or "", "already imported"))
    if report.duplicates and not skip_duplicates:
        for row, ref, why in report.duplicates:
            report.errors[f"row {row}"] = f"duplicate seizure{' ' + ref if ref else ''}: {why}"
    todo = [k for k in order if k not in existing]
    report.cases = len(todo)
    report.items = sum(len(groups[k]["items"]) for k in todo)
    if report.errors or dry_run:
        return report

    # A savepoint: a database error at the n-th case leaves none of the others behind.
    with db.session.begin_nested():
        for key in todo:
            group = groups[key]
            case_values = {k: v for k, v in group["case"].items() if v is not None}
            first = group["items"][0]
            title = case_values.pop("title", None) or (
                f"Seizure of {catalog.COMMODITY_AREAS[first['commodity_area']].lower()} at "
                f"{case_values.get('place', 'unknown place')}"
            )
            case = open_with_reserved_ref(
                key,
                "seizure",
                actor=actor,
                title=title,
                unit_id=unit_id,
                handling_code=handling_code,
                items=group["items"],
                with_tasks=False,
                status="closed",
                resolution="confiscated",
                journal_text=f"Historical seizure imported from CSV (row {group['row']}).",
                **case_values,
            )
            report.created.append(case.reference)
    return report
