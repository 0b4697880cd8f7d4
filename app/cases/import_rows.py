"""One row of a seizure CSV import: every mapped cell is checked before it is parsed (bytes
that are not UTF-8, NUL and control characters, numbers with stray digit groups), then the
row becomes the case's fields and one goods item, or a ValidationError keyed
``row N, column X`` for every cell at fault."""

import re

from app.cases import catalog, fields, places
from app.cases import import_columns as columns
from app.cases.goods import parse_item
from app.core.csv_cells import cell_problem
from app.core.errors import ValidationError

_TIME = re.compile(r"([01]?[0-9]|2[0-3]):([0-5][0-9])(:[0-5][0-9])?")
_ASCII_HS = re.compile(r"[0-9\s.]*")
_DIGITS = re.compile(r"[0-9]+")
_GROUP = re.compile(r"[0-9]{3}")


def _cell_problem(raw: str) -> str | None:
    """Why a cell cannot be imported whatever its column, or None."""
    return cell_problem(raw)


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


def _area_for(area_raw, type_raw, where):
    if not fields.blank(area_raw):
        return fields.choice(
            area_raw,
            where("commodity_area"),
            catalog.COMMODITY_AREAS,
            aliases=columns.AREA_ALIASES,
            required=True,
        )
    key = str(type_raw or "").strip().lower().replace(" ", "_")
    return columns.AREA_ALIASES.get(key) or (key if key in catalog.COMMODITY_AREAS else "other")


class _Row:
    """One CSV row being read: its cells by import field, and the errors found so far, each
    keyed ``row N, column X`` (the column the user mapped) or ``row N, field``."""

    def __init__(self, values: dict, mapping: dict, n: int, known_places: dict):
        self.values, self.mapping, self.n = values, mapping, n
        self.known_places = known_places
        self.errors: dict = {}

    def where(self, target):
        if target in self.mapping:
            return f"row {self.n}, column {self.mapping[target]!r}"
        return f"row {self.n}, {target}"

    def get(self, target):
        return self.values.get(self.mapping[target]) if target in self.mapping else None

    def attempt(self, func):
        """``func()``, or None with its errors kept: every cell is checked, not the first."""
        try:
            return func()
        except ValidationError as exc:
            self.errors.update(exc.fields)
            return None

    def choice(self, target, options, aliases):
        return self.attempt(
            lambda: fields.choice(self.get(target), self.where(target), options, aliases=aliases)
        )


def _check_cells(row: _Row) -> None:
    """Bytes and characters no column may hold, and malformed numbers: refused before any
    cell is parsed, so a parser never sees them."""
    for target in row.mapping:
        raw = row.values.get(row.mapping[target]) or ""
        problem = _cell_problem(raw)
        if not problem and target in ("quantity", "value"):
            problem = _number_problem(raw)
        if problem:
            row.errors[row.where(target)] = problem
    if row.errors:
        raise ValidationError(row.errors)


def _row_moment(row: _Row):
    """The date of the seizure, with its time when the file has one."""
    where, get = row.where, row.get
    day = row.attempt(
        lambda: fields.parse_date(get("event_date"), where("event_date"), required=True)
    )
    moment = row.attempt(lambda: fields.text(get("event_time"), where("event_time"), max_len=8))
    if moment and not _TIME.fullmatch(moment):
        row.errors[where("event_time")] = f"{moment!r} is not a time (HH:MM)"
        moment = None
    elif moment:
        hour, minute = _TIME.fullmatch(moment).group(1, 2)
        moment = f"{int(hour):02d}:{minute}"
    if day and moment:
        stamp = row.attempt(
            lambda: fields.parse_datetime(f"{day.isoformat()} {moment[:5]}", where("event_time"))
        )
    elif day:
        stamp = row.attempt(lambda: fields.parse_datetime(day, where("event_date")))
    else:
        stamp = None
    # the minimum seizure record (app.cases.seizures): a seizure is not in the future
    return row.attempt(lambda: fields.not_future(stamp, where("event_date")))


def _row_case(row: _Row, default_place_type) -> dict:
    """The case fields of the row (the seizure's when, where, how and route)."""
    where, get, attempt = row.where, row.get, row.attempt
    case = {"event_dt": _row_moment(row)}
    crossing = attempt(
        lambda: fields.text(get("crossing_point"), where("crossing_point"), max_len=120)
    )
    place = attempt(lambda: fields.text(get("place"), where("place"), max_len=120))
    given = where("place") in row.errors or where("crossing_point") in row.errors  # but refused
    if not (crossing or place or given):
        target = "crossing_point" if "crossing_point" in row.mapping else "place"
        row.errors[where(target)] = "is required (the place of the seizure)"
    case["place"] = crossing or place
    case["place_type"] = "bcp" if crossing else default_place_type
    if crossing or place:
        # the minimum seizure record: a place of the reference list ("Merdare" and
        # "BCP Merdare" must not split the statistics); the list names it and its type
        column = "crossing_point" if crossing else "place"
        case["place_ref"] = row.known_places.get(" ".join(case["place"].split()).casefold())
        if case["place_ref"] is None:
            row.errors[where(column)] = (
                f"{case['place'][:60]!r} is not an office or crossing point of the reference "
                "list (its code or name as listed)"
            )
    case["direction"] = row.choice("direction", catalog.DIRECTIONS, columns.DIRECTION_ALIASES)
    case["transport_mode"] = row.choice(
        "transport_mode", catalog.TRANSPORT_MODES, columns.MODE_ALIASES
    )
    case["detection_method"] = row.choice(
        "detection_method", catalog.DETECTION_METHODS, columns.DETECTION_ALIASES
    )
    case["concealment_method"] = row.choice(
        "concealment_method", catalog.CONCEALMENT_METHODS, columns.CONCEALMENT_ALIASES
    )
    for target, size in (
        ("conveyance", 200),
        ("route_origin", 80),
        ("route_transit", 200),
        ("route_destination", 80),
        ("title", 300),
    ):
        case[target] = attempt(lambda t=target, s=size: fields.text(get(t), where(t), max_len=s))
    return case


def _row_item(row: _Row) -> dict | None:
    """The goods item of the row, through the one item parser (``goods.parse_item``); its
    errors are named by the column the user mapped."""
    where, get, attempt = row.where, row.get, row.attempt
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
        unit_raw = row.choice("quantity_unit", catalog.QUANTITY_UNITS, columns.UNIT_ALIASES)
    hs_raw = get("hs_code")
    if hs_raw and not (hs_raw.isascii() and _ASCII_HS.fullmatch(hs_raw)):
        # fields.hs_code matches \d, which also takes other scripts' digits
        row.errors[where("hs_code")] = f"{hs_raw.strip()!r} is not an HS code (4 to 10 digits)"
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
        if item["quantity"] is None:  # the minimum seizure record: how much was seized
            row.errors[where("quantity")] = "is required: how much was seized"
        return item
    except ValidationError as exc:
        for key, message in exc.fields.items():
            target = key.split(".", 1)[1] if "." in key else key
            if target == "description" and "description" not in row.mapping:
                target = "commodity_type"
            if target == "commodity_area" and area is None:
                continue  # already reported against the category column
            row.errors.setdefault(where(target), message)
        return None


def parse_row(
    values: dict, mapping: dict, n: int, default_place_type: str | None, known_places=None
):
    """(seizure reference, case fields, item) of one CSV row, or ValidationError keyed
    ``row N, column X`` naming every cell at fault. ``known_places``: ``places.by_name()``,
    read once per file by the caller."""
    row = _Row(values, mapping, n, places.by_name() if known_places is None else known_places)
    _check_cells(row)
    case = _row_case(row, default_place_type)
    ref = row.attempt(
        lambda: fields.text(row.get("external_ref"), row.where("external_ref"), max_len=100)
    )
    item = _row_item(row)
    if row.errors:
        raise ValidationError(row.errors)
    return ref, case, item
