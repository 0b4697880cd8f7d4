"""Which locale a person's typed numbers are read in, and reading a form's amounts with it.

The locale is the first of the browser's languages (Accept-Language, in its order of
preference) that the site lists in ``TOLLGATE_NUMBER_LOCALES``; otherwise the site default
``TOLLGATE_NUMBER_LOCALE``. Forms show the locale they read numbers in, with an example, so
the rule is visible. Views call these before the services; the services receive Decimals (or
a JSON client's machine-format numbers, read without any locale)."""

from babel import Locale, UnknownLocaleError
from babel.numbers import format_decimal
from flask import current_app, request

from app.cases import fields
from app.core.errors import ValidationError

#: money fields of case forms -> decimal places
AMOUNT_FIELDS = {"evaded_duties": 2, "penalty": 2, "assessed_debt": 2, "value": 2, "quantity": 3}


def _normal(tag: str) -> str | None:
    try:
        return str(Locale.parse(tag.replace("-", "_")))
    except (ValueError, UnknownLocaleError):
        return None


def input_locale() -> str:
    """The locale in which this request's typed numbers are read."""
    allowed = {}
    for tag in current_app.config.get("TOLLGATE_NUMBER_LOCALES") or ():
        if (norm := _normal(tag)) is not None:
            allowed[norm.lower()] = norm
    default = _normal(current_app.config.get("TOLLGATE_NUMBER_LOCALE") or "en") or "en"
    for tag, _quality in request.accept_languages:
        norm = _normal(tag) if tag != "*" else None
        if norm is None:
            continue
        if norm.lower() in allowed:
            return allowed[norm.lower()]
        language = norm.split("_")[0].lower()
        if language in allowed:  # de_AT typed like de
            return allowed[language]
    return default


def example(locale: str) -> str:
    return format_decimal(12500.5, locale=locale, format="#,##0.00")


def show(value, locale: str, places: int = 2) -> str:
    """A stored amount as the person would type it back (for an edit form)."""
    if value is None:
        return ""
    return format_decimal(value, locale=locale, format="#,##0." + "0" * places)


def read_amounts(values: dict, locale: str, *, prefix: str = "") -> dict:
    """``values`` with each amount field parsed in ``locale`` (a Decimal); raises one
    ValidationError naming every field at fault (``prefix`` + name)."""
    out, errors = dict(values), {}
    for name, places in AMOUNT_FIELDS.items():
        if name in values:
            try:
                out[name] = fields.amount(values[name], prefix + name, locale, places=places)
            except ValidationError as exc:
                errors.update(exc.fields)
    if errors:
        raise ValidationError(errors)
    return out


def read_items(items: list[dict], locale: str) -> list[dict]:
    """Seizure item rows with their quantity and value read in ``locale``."""
    out, errors = [], {}
    for i, row in enumerate(items):
        try:
            out.append(read_amounts(row, locale, prefix=f"items[{i}]."))
        except ValidationError as exc:
            errors.update(exc.fields)
    if errors:
        raise ValidationError(errors)
    return out


def with_amounts(form, record):
    """``form`` with its amount fields showing ``record``'s values as typed in this locale."""
    locale = input_locale()
    for name, places in AMOUNT_FIELDS.items():
        if hasattr(form, name) and hasattr(record, name):
            getattr(form, name).data = show(getattr(record, name), locale, places)
    return form
