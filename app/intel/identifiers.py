"""Identifier schemes: normalisation and check-digit validation (python-stdnum where it can)."""

import re

from stdnum import iban as std_iban
from stdnum import imo as std_imo
from stdnum.eu import vat as std_eu_vat
from stdnum.exceptions import ValidationError as StdnumError
from stdnum.iso6346 import validate as iso6346_validate

from app.core.errors import ValidationError

_EORI = re.compile(r"^[A-Z]{2}[A-Z0-9]{1,15}$")
_PHONE = re.compile(r"^\+?[0-9]{6,15}$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_GENERIC = re.compile(r"^[A-Z0-9][A-Z0-9/.\-]{0,59}$")


def _compact(value: str) -> str:
    return re.sub(r"[\s\-]", "", str(value)).upper()


def _eori(value):
    value = _compact(value)
    if not _EORI.match(value):
        raise ValueError("EORI must be a 2-letter country code and up to 15 letters or digits")
    return value


def _tin(value):
    value = _compact(value)
    # A VAT number from an EU member state is checked against its national algorithm;
    # other TINs only have to look like one.
    if value[:2].isalpha() and value[:2].lower() in std_eu_vat.MEMBER_STATES | {"el"}:
        try:
            return std_eu_vat.validate(value)
        except StdnumError as exc:
            raise ValueError(f"not a valid EU VAT/TIN ({exc})") from None
    if not re.match(r"^[A-Z0-9]{5,20}$", value):
        raise ValueError("TIN must be 5 to 20 letters or digits")
    return value


def _container(value):
    value = _compact(value)
    try:
        return iso6346_validate(value)
    except StdnumError as exc:
        raise ValueError(f"not a valid ISO 6346 container number ({exc})") from None


def _imo(value):
    value = _compact(value).removeprefix("IMO")
    try:
        return std_imo.validate(value)
    except StdnumError as exc:
        raise ValueError(f"not a valid IMO number ({exc})") from None


def _iban(value):
    try:
        return std_iban.validate(value)
    except StdnumError as exc:
        raise ValueError(f"not a valid IBAN ({exc})") from None


def _phone(value):
    value = re.sub(r"[\s\-().]", "", str(value))
    if value.startswith("00"):
        value = "+" + value[2:]
    if not _PHONE.match(value):
        raise ValueError("phone numbers have 6 to 15 digits, optionally after +")
    return value


def _email(value):
    value = str(value).strip().lower()
    if not _EMAIL.match(value):
        raise ValueError("not an e-mail address")
    return value


def _generic(value):
    value = _compact(value)
    if not _GENERIC.match(value):
        raise ValueError("use letters, digits, '/', '.' or '-' (at most 60)")
    return value


SCHEMES = {
    "eori": ("EORI number", _eori),
    "tin": ("Tax identification number", _tin),
    "trader_code": ("Trader code (national customs)", _generic),
    "container": ("Container number (ISO 6346)", _container),
    "imo": ("IMO ship number", _imo),
    "iban": ("IBAN", _iban),
    "phone": ("Phone number", _phone),
    "email": ("E-mail address", _email),
    "plate": ("Vehicle registration plate", _generic),
    "vin": ("Vehicle identification number", _generic),
    "passport": ("Passport number", _generic),
    "id_card": ("Identity card number", _generic),
    "national_id": ("National identity number", _generic),
    "aircraft_reg": ("Aircraft registration", _generic),
    "company_reg": ("Company registration number", _generic),
    "mmsi": ("MMSI", _generic),
}


def normalise(scheme: str, value, *, field: str | None = None) -> str:
    """Return the canonical form of ``value`` or raise ValidationError naming ``field``."""
    field = field or f"identifiers.{scheme}"
    if scheme not in SCHEMES:
        raise ValidationError({field: f"unknown identifier scheme {scheme!r}"})
    if value is None or not str(value).strip():
        raise ValidationError({field: "is empty"})
    try:
        return SCHEMES[scheme][1](str(value).strip())
    except ValueError as exc:
        raise ValidationError({field: str(exc)}) from None


def normalise_all(identifiers: dict | None, *, prefix: str = "identifiers") -> dict:
    """Validate a scheme -> value mapping; every bad entry is reported, not just the first."""
    clean, errors = {}, {}
    for scheme, value in (identifiers or {}).items():
        scheme = str(scheme).strip().lower()
        try:
            clean[scheme] = normalise(scheme, value, field=f"{prefix}.{scheme}")
        except ValidationError as exc:
            errors.update(exc.fields)
    if errors:
        raise ValidationError(errors)
    return clean
