"""The seizure record: its fields (one list, used by the seizure form, the case form and the
API) and the minimum record a seizure must have (WCO CEN): where (an office or crossing point
of the reference list), when (not in the future), and at least one item with its commodity
and quantity.

One check, ``check_minimum``, in every path that records a seizure:

- the seizure form and the API (``POST /api/v1/cases`` with kind ``seizure``): refused, every
  missing part named (form errors; a 422 naming the fields);
- the CSV import of historical seizures: a row whose place is not on the reference list or
  whose item has no quantity is an error of its row and column;
- a seizure opened from a control result (``from_control``): the control result is a fact
  recorded by the declaration system and must not be lost for want of a quantity, so the case
  opens, and its journal and a task assigned to the recorder name what is missing ("Complete
  the seizure record: ..."); the case page shows the same list until it is complete.

A date in the future is refused by the field parser itself (``fields.not_future``)."""

from app.core.errors import ValidationError

#: how the goods moved and were found (a seizure's movement: the list, the export, a merge)
MOVEMENT_FIELDS = (
    "direction",
    "transport_mode",
    "conveyance",
    "route_origin",
    "route_transit",
    "route_destination",
    "detection_method",
    "concealment_method",
)

#: the fields of a seizure record beyond the fields every case has (title, summary ...)
RECORD_FIELDS = ("event_dt", "place_ref", *MOVEMENT_FIELDS, "declaration_number")

#: the fields of the seizure form (the case's own, then the record's)
FORM_FIELDS = ("title", "summary", "priority", "handling_conditions", *RECORD_FIELDS)

#: the minimum record: case fields, then the fields of at least one item
MINIMUM_FIELDS = ("place_ref", "event_dt")
MINIMUM_ITEM_FIELDS = ("commodity_area", "description", "quantity", "quantity_unit")

_MESSAGES = {
    "place_ref": "is required: choose the office or crossing point from the list",
    "event_dt": "is required: the date and time of the seizure",
    "commodity_area": "is required: at least one seized item",
    "description": "is required: what was seized",
    "quantity": "is required: how much was seized",
    "quantity_unit": "is required with the quantity",
}


def _blank(value) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def missing(values: dict, items) -> dict:
    """field -> message for each missing part of the minimum record (empty: complete).
    ``values`` and ``items`` as sent (form, JSON, CSV) or as stored (a case's columns)."""
    errors = {name: _MESSAGES[name] for name in MINIMUM_FIELDS if _blank(values.get(name))}
    rows = [row if isinstance(row, dict) else vars(row) for row in items or ()]
    if not any(not _blank(r.get("commodity_area")) and not _blank(r.get("quantity")) for r in rows):
        first = rows[0] if rows else {}
        for name in MINIMUM_ITEM_FIELDS:
            if _blank(first.get(name)):
                errors[f"items[0].{name}"] = _MESSAGES[name]
    return errors


def check_minimum(values: dict, items) -> None:
    """Raise one ValidationError naming every missing part of the minimum record."""
    if errors := missing(values, items):
        raise ValidationError(errors)


def case_missing(case) -> dict:
    """What a stored seizure case still lacks of the minimum record (empty: complete)."""
    if case.kind != "seizure":
        return {}
    values = {"place_ref": case.place_ref, "event_dt": case.event_dt}
    items = [{n: getattr(i, n) for n in MINIMUM_ITEM_FIELDS} for i in sorted(case.items, key=_pos)]
    return missing(values, items)


def _pos(item):
    return item.position


def describe(errors: dict) -> str:
    """The missing parts in words, for the journal and the task."""
    names = {
        "place_ref": "the place (office or crossing point)",
        "event_dt": "the date and time",
        "items[0].commodity_area": "the commodity of an item",
        "items[0].description": "the description of an item",
        "items[0].quantity": "the quantity of an item",
        "items[0].quantity_unit": "the unit of the quantity",
    }
    return ", ".join(names.get(k, k) for k in errors)
