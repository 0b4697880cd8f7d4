"""The minimum record of a seizure typed in the seizure form (WCO CEN): where (an office or
crossing point of the reference list), when (not in the future), and at least one item with
its commodity and quantity. An empty form is refused with an error on each field at fault.

Imports and system callers (a control result, the API) keep their own rules: they carry
what their source has, and say so in the journal."""

from app.core.errors import ValidationError


def check_minimum(values: dict, items: list[dict]) -> None:
    """Raise one ValidationError naming every missing part of the minimum record."""
    errors = {}
    if not str(values.get("place_ref") or "").strip():
        errors["place_ref"] = "is required: choose the office or crossing point from the list"
    if not str(values.get("event_dt") or "").strip():
        errors["event_dt"] = "is required: the date and time of the seizure"
    complete = [
        row for row in items if row.get("commodity_area") and row.get("quantity") not in (None, "")
    ]
    if not complete:
        first = items[0] if items else {}
        if not first.get("commodity_area"):
            errors["items[0].commodity_area"] = "is required: at least one seized item"
        if not first.get("description"):
            errors["items[0].description"] = "is required: what was seized"
        if first.get("quantity") in (None, ""):
            errors["items[0].quantity"] = "is required: how much was seized"
        if not first.get("quantity_unit"):
            errors["items[0].quantity_unit"] = "is required with the quantity"
    if errors:
        raise ValidationError(errors)
