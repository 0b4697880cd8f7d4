"""Goods lines of a seizure: parsing an item from a form, JSON or CSV dict, and keeping the
case's denormalised totals. No access checks here: the operations in ``service`` (opening,
adding items) and ``merging`` check access and call these."""

from decimal import Decimal

from app.cases import catalog, fields
from app.cases.models import Case, SeizureItem
from app.core.errors import ValidationError

MAX_ITEMS = 200


def parse_item(raw: dict, name: str = "item") -> dict:
    """One seizure item from a form, JSON or CSV dict; raises naming ``name.field``."""
    if not isinstance(raw, dict):
        raise ValidationError({name: "must be an object"})
    errors, item = {}, {}
    parsers = {
        "commodity_area": lambda v, n: fields.choice(v, n, catalog.COMMODITY_AREAS, required=True),
        "hs_code": fields.hs_code,
        "description": lambda v, n: fields.text(v, n, max_len=500, required=True),
        "quantity": lambda v, n: fields.decimal(v, n, places=3),
        "quantity_unit": lambda v, n: fields.choice(v, n, catalog.QUANTITY_UNITS),
        "value": lambda v, n: fields.decimal(v, n),
        "concealment_method": lambda v, n: fields.choice(v, n, catalog.CONCEALMENT_METHODS),
    }
    for key in raw:
        if key not in parsers:
            errors[f"{name}.{key}"] = "is not an item field"
    for key, parser in parsers.items():
        try:
            item[key] = parser(raw.get(key), f"{name}.{key}")
        except ValidationError as exc:
            errors.update(exc.fields)
    if not errors and item["quantity"] is not None and not item["quantity_unit"]:
        errors[f"{name}.quantity_unit"] = "is required when a quantity is given"
    if errors:
        raise ValidationError(errors)
    return item


def parse_items(items) -> list[dict]:
    if items is None:
        return []
    if not isinstance(items, list | tuple):
        raise ValidationError({"items": "must be a list"})
    if len(items) > MAX_ITEMS:
        raise ValidationError({"items": f"at most {MAX_ITEMS} items per case"})
    parsed, errors = [], {}
    for i, raw in enumerate(items):
        try:
            parsed.append(parse_item(raw, f"items[{i}]"))
        except ValidationError as exc:
            errors.update(exc.fields)
    if errors:
        raise ValidationError(errors)
    return parsed


def refresh_totals(case: Case) -> None:
    """Denormalised commodity area (of the most valuable item) and total value."""
    items = list(case.items)
    if not items:
        case.commodity_area = None
        case.total_value = None
        return
    case.total_value = sum((i.value or Decimal(0) for i in items), Decimal(0))
    top = max(items, key=lambda i: (i.value or Decimal(0), -i.position))
    case.commodity_area = top.commodity_area


def append_items(case: Case, items: list[dict]) -> list[SeizureItem]:
    start = max((i.position for i in case.items), default=0)
    rows = []
    for n, item in enumerate(items, start=1):
        row = SeizureItem(position=start + n, **item)
        case.items.append(row)
        rows.append(row)
    refresh_totals(case)
    return rows
