"""Turning form, JSON and CSV values into typed case fields, with errors that name the field.

Every parser takes the raw value and the field's name (``items[1].quantity``, ``row 4:
Quantity``) and raises ``ValidationError({name: message})``.
"""

import re
from datetime import UTC, date, datetime, time
from decimal import Decimal, InvalidOperation

from app.core.errors import ValidationError

_HS = re.compile(r"^\d{4,10}$")


def blank(value) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def text(value, name, *, max_len=300, required=False) -> str | None:
    if blank(value):
        if required:
            raise ValidationError({name: "is required"})
        return None
    if not isinstance(value, str | int | float | Decimal):
        raise ValidationError({name: "must be text"})
    value = str(value).strip()
    if len(value) > max_len:
        raise ValidationError({name: f"is too long (at most {max_len} characters)"})
    return value


def choice(value, name, choices: dict, *, required=False, aliases: dict | None = None):
    if blank(value):
        if required:
            raise ValidationError({name: "is required"})
        return None
    key = str(value).strip()
    if key in choices:
        return key
    folded = key.lower().replace("-", "_").replace(" ", "_")
    if folded in choices:
        return folded
    for code, label in choices.items():
        if key.lower() == str(label).lower():
            return code
    if aliases and folded in aliases:
        return aliases[folded]
    raise ValidationError({name: f"{key!r} is not one of: {', '.join(map(str, choices))}"})


def choices_list(values, name, choices: dict) -> list:
    if blank(values):
        return []
    if isinstance(values, str):
        values = [v for v in re.split(r"[,;|]", values) if v.strip()]
    if not isinstance(values, list | tuple | set):
        raise ValidationError({name: "must be a list"})
    result = []
    for i, v in enumerate(values):
        code = choice(v, f"{name}[{i}]", choices, required=True)
        if code not in result:
            result.append(code)
    return result


def decimal(value, name, *, required=False, minimum=Decimal(0), places=2) -> Decimal | None:
    if blank(value):
        if required:
            raise ValidationError({name: "is required"})
        return None
    if isinstance(value, bool):
        raise ValidationError({name: "must be a number"})
    raw = value
    if isinstance(value, str):
        raw = value.strip().replace(" ", "").replace("\u00a0", "")
        # 1.234,56 and 1,234.56 both occur in national registers
        if "," in raw and "." in raw:
            raw = (
                raw.replace(".", "").replace(",", ".")
                if raw.rfind(",") > raw.rfind(".")
                else raw.replace(",", "")
            )
        elif "," in raw:
            raw = raw.replace(",", ".")
    try:
        number = Decimal(str(raw))
    except (InvalidOperation, ValueError):
        raise ValidationError({name: f"{value!r} is not a number"}) from None
    if not number.is_finite():
        raise ValidationError({name: "must be a finite number"})
    if minimum is not None and number < minimum:
        raise ValidationError({name: f"must be at least {minimum}"})
    if abs(number) >= Decimal(10) ** 12:
        raise ValidationError({name: "is too large"})
    return number.quantize(Decimal(1).scaleb(-places))


_DATE_FORMATS = ("%Y-%m-%d", "%d.%m.%Y", "%d/%m/%Y", "%Y/%m/%d")
_DATETIME_FORMATS = (
    "%Y-%m-%dT%H:%M",
    "%Y-%m-%d %H:%M",
    "%Y-%m-%dT%H:%M:%S",
    "%Y-%m-%d %H:%M:%S",
    "%d.%m.%Y %H:%M",
    "%d/%m/%Y %H:%M",
)


def parse_date(value, name, *, required=False) -> date | None:
    if blank(value):
        if required:
            raise ValidationError({name: "is required"})
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    raw = str(value).strip()
    for fmt in _DATE_FORMATS:
        try:
            return datetime.strptime(raw, fmt).date()
        except ValueError:
            continue
    raise ValidationError({name: f"{raw!r} is not a date (YYYY-MM-DD or DD.MM.YYYY)"})


def parse_datetime(value, name, *, required=False) -> datetime | None:
    """Aware UTC datetime from an ISO string, a date, or a date with time."""
    if blank(value):
        if required:
            raise ValidationError({name: "is required"})
        return None
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, date):
        return datetime.combine(value, time(0), tzinfo=UTC)
    raw = str(value).strip()
    try:
        parsed = datetime.fromisoformat(raw.replace("Z", "+00:00"))
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    except ValueError:
        pass
    for fmt in _DATETIME_FORMATS:
        try:
            return datetime.strptime(raw, fmt).replace(tzinfo=UTC)
        except ValueError:
            continue
    only_date = parse_date(raw, name)
    return datetime.combine(only_date, time(0), tzinfo=UTC)


def integer(value, name, *, required=False, minimum=None, maximum=None) -> int | None:
    if blank(value):
        if required:
            raise ValidationError({name: "is required"})
        return None
    if isinstance(value, bool):
        raise ValidationError({name: "must be a whole number"})
    try:
        number = int(str(value).strip())
    except ValueError:
        raise ValidationError({name: f"{value!r} is not a whole number"}) from None
    if minimum is not None and number < minimum:
        raise ValidationError({name: f"must be at least {minimum}"})
    if maximum is not None and number > maximum:
        raise ValidationError({name: f"must be at most {maximum}"})
    return number


def hs_code(value, name) -> str | None:
    if blank(value):
        return None
    raw = re.sub(r"[\s.]", "", str(value))
    if not _HS.match(raw):
        raise ValidationError({name: f"{value!r} is not an HS code (4 to 10 digits)"})
    return raw


def country(value, name) -> str | None:
    """An ISO 3166 alpha-2 code or a place name (routes are often written as names)."""
    return text(value, name, max_len=80)
