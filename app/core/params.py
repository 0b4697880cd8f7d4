"""Numbers and ids from query strings, forms and JSON, checked at the boundary.

``int()`` takes far more than a person types: ``" 5"``, ``"5_0"``, other scripts' digits
(``"١٢"``), and numbers of any size, which then reach the database and fail there (SQLite
beyond 64 bits, PostgreSQL INTEGER beyond 2**31 - 1): a 500 instead of an answer. Every
integer a view reads from a client goes through ``whole_number`` (ASCII digits, at most 18)
and is then checked against the range its column or its meaning allows.

What a view does with a bad value is its own choice, made explicit by the helper it calls:

* ``int_arg``: counts and page numbers; HTML pages clamp to the range (and ignore what is not
  a number), the API (``strict=True``) answers 422 naming the parameter;
* ``id_arg``/``id_value``/``id_list``: record ids; on a lenient page a whole number no record
  can have (0, negative, beyond ``MAX_ID``) is ``NO_RECORD``, which matches nothing, so
  "feed 99999999999" lists no articles instead of failing, and text that is not a number is
  ignored, as those pages always did; ``strict`` refuses both, naming the parameter;
* ``add_days``: date bounds computed from a client's date stay within the calendar.
"""

import re
from datetime import date, timedelta

from app.core.database import MAX_ID, valid_id
from app.core.errors import ValidationError

#: an id no record has: a filter on it finds nothing (negative, so ``if feed_id:`` holds)
NO_RECORD = -1
#: stands for any longer number: beyond every column and range, and int() of 5,000 digits
#: raises ValueError (Python's limit on converting long digit strings)
_BEYOND = 10**18
_WHOLE = re.compile(r"(-?)0*([0-9]+)")


def whole_number(raw) -> int | None:
    """``raw`` as an int when it is a whole number in ASCII digits (an int, or text with an
    optional minus sign), else None. A number of more than 18 digits comes back as +/-10**18:
    out of every range, so it is clamped or refused like any other too large a number."""
    if isinstance(raw, bool):
        return None
    if isinstance(raw, int):
        return raw
    if not isinstance(raw, str) or not (match := _WHOLE.fullmatch(raw)):
        return None
    sign, digits = match.groups()
    value = int(digits) if len(digits) <= 18 else _BEYOND
    return -value if sign else value


def int_arg(args, name, default, lo, hi, *, strict=False) -> int:
    """The integer ``args[name]`` (``default`` when absent), within [lo, hi].

    Lenient (HTML pages): a value that is not a whole number gives ``default``, one outside the
    range is clamped. ``strict``: a present value must be a whole number within [lo, hi], else
    a ValidationError naming ``name``."""
    raw = args.get(name)
    if raw is None:
        return default
    value = whole_number(raw.strip() if isinstance(raw, str) and not strict else raw)
    if strict:
        if value is None or not lo <= value <= hi:
            raise ValidationError({name: f"must be a whole number from {lo} to {hi}"})
        return value
    if value is None:
        value = whole_number(default)
        if value is None:
            return default
    return min(max(value, lo), hi)


def id_value(raw, name, *, strict=False) -> int | None:
    """A record id given by a client: None when blank, the id when a primary key can hold it.

    Lenient (filters of HTML pages): text that is not a whole number is ignored (None), as the
    pages always did; a whole number no record can have (0, negative, beyond ``MAX_ID``) is
    ``NO_RECORD``, so the filter finds nothing. ``strict``: either is a ValidationError naming
    ``name``."""
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return None
    number = whole_number(raw.strip() if isinstance(raw, str) else raw)
    if strict and valid_id(number) is None:
        raise ValidationError({name: f"must be a record number from 1 to {MAX_ID}"})
    if number is None:
        return None
    return valid_id(number) or NO_RECORD


def id_arg(args, name, *, strict=False) -> int | None:
    """``id_value`` of the query or form argument ``name``."""
    return id_value(args.get(name), name, strict=strict)


def id_list(values, name, *, strict=False) -> list[int]:
    """Record ids from repeated arguments (``getlist``) or a JSON array: blanks are skipped;
    lenient, anything that is not an id is dropped; ``strict``, it is refused as ``name[i]``."""
    ids = []
    for i, raw in enumerate(values or []):
        value = id_value(raw, f"{name}[{i}]", strict=strict)
        if value is not None and value != NO_RECORD:
            ids.append(value)
    return ids


def add_days(day: date, days: int) -> date:
    """``day`` moved by ``days``, held within the calendar: the bound "until 9999-12-31" (the
    day after, exclusive) or "90 days before 0001-01-01" must not overflow into a 500."""
    try:
        return day + timedelta(days=days)
    except OverflowError:
        return date.max if days > 0 else date.min


_FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


def refuse_nul() -> None:
    """Before every request: a NUL character in a query or form value (or name) is a 422
    naming it. PostgreSQL text cannot hold NUL, so it would fail whichever query it reached
    (a 500), and no field of Tollgate needs one. Uploaded files are not form values: the
    importers check their content themselves."""
    from flask import request

    sources = [request.args]
    if request.mimetype in _FORM_TYPES:
        sources.append(request.form)
    for values in sources:
        for name, value in values.items(multi=True):
            if "\x00" in name or "\x00" in value:
                raise ValidationError(
                    {name.replace("\x00", "\\0"): "must not contain NUL characters"}
                )
