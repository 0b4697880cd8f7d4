"""Turning form, JSON and CSV values into typed case fields, with errors that name the field.

Every parser takes the raw value and the field's name (``items[1].quantity``, ``row 4:
Quantity``) and raises ``ValidationError({name: message})``.
"""

import re
from datetime import UTC, date, datetime, time
from decimal import Decimal, InvalidOperation

from babel.numbers import (
    NumberFormatError,
    format_decimal,
    get_group_symbol,
    parse_decimal,
)

from app.core.errors import ValidationError
from app.core.time import now_utc

_HS = re.compile(r"^\d{4,10}$")
#: one comma followed by exactly three digits, and no point: "12,500"
_AMBIGUOUS_COMMA = re.compile(r"^[+-]?\d{1,3},\d{3}$")


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
        if _AMBIGUOUS_COMMA.match(raw):
            # "12,500" is twelve thousand five hundred in one locale and 12.5 in another:
            # without the typist's locale (API, import) it is refused, never guessed.
            raise ValidationError(
                {
                    name: f"{value!r} is ambiguous (a comma before three digits): write "
                    f"{raw.replace(',', '')} or {raw.replace(',', '.')} without grouping"
                }
            )
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
    return _checked(number, name, minimum=minimum, places=places, typed=value)


def _checked(number: Decimal, name, *, minimum, places, typed) -> Decimal:
    if isinstance(typed, str) and number.as_tuple().exponent < -places:
        # a typed 12.505 EUR is refused, not rounded: the record keeps what was written
        raise ValidationError({name: f"{typed!r} has more than {places} decimal places"})
    if minimum is not None and number < minimum:
        raise ValidationError({name: f"must be at least {minimum}"})
    if abs(number) >= Decimal(10) ** 12:
        raise ValidationError({name: "is too large"})
    return number.quantize(Decimal(1).scaleb(-places))


def amount(value, name, locale: str, *, required=False, minimum=Decimal(0), places=2):
    """A number as a person typed it in ``locale`` (Babel, strict): in ``en`` "12,500" is
    12500 and "12,50" is refused; in ``de`` "12.500,00" is 12500 and "12,50" is 12.5.
    Grouping that does not fit the locale is refused with Babel's suggestions, never read
    another way. Numbers that are not text (JSON) go through ``decimal``."""
    if blank(value) or not isinstance(value, str):
        return decimal(value, name, required=required, minimum=minimum, places=places)
    raw = value.strip()
    group = get_group_symbol(locale)
    if group.isspace():  # fr and others group with a (narrow) no-break space: accept any space
        raw = re.sub(r"[ \u00a0\u202f]", group, raw)
    try:
        number = parse_decimal(raw, locale=locale, strict=True)
    except NumberFormatError as exc:
        hint = ""
        if getattr(exc, "suggestions", None):
            hint = " (did you mean " + " or ".join(exc.suggestions) + "?)"
        example = format_decimal(Decimal("12500.5"), locale=locale, format="#,##0.00")
        raise ValidationError(
            {name: f"{value!r} is not a number as written in {locale} (e.g. {example}){hint}"}
        ) from None
    if not number.is_finite():
        raise ValidationError({name: "must be a finite number"})
    return _checked(number, name, minimum=minimum, places=places, typed=value)


def not_future(value: date | datetime | None, name, *, today: date | None = None):
    """A past event's date: not after today (UTC, from the clock)."""
    if value is None:
        return None
    day = value.astimezone(UTC).date() if isinstance(value, datetime) else value
    today = today or now_utc().date()
    if day > today:
        raise ValidationError({name: f"{day.isoformat()} is in the future (today is {today})"})
    return value


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
