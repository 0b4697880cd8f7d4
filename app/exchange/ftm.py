"""Reading and writing FollowTheMoney (FtM) line-delimited JSON, checked against
followthemoney's own model: the reusable part of the exchange (the registry import reads
files through ``read_proxies``; the screening lists read their lines through the same
``app.core.ftm.load_line`` and ``check_shape``, and check properties their own faster way).

    with open(path, "rb") as fh:
        for batch in batches(read_proxies(fh), 1000):
            for number, proxy in batch:      # number: the line in the file (1-based)
                ...                          # proxy: a followthemoney EntityProxy

A line that is not one valid FtM entity raises ``FtmLineError`` naming the line, the entity id
when it has one, and the reason: not UTF-8, not JSON, not an object, no id, an unknown schema
(or an abstract one, which no entity may have), an unknown property of its schema (named:
followthemoney itself drops those silently), a value that is not text, or a value the
property's type refuses (a date that is no date, a country that is no country code).
Nothing here touches the database or needs an application context.
"""

import json
from collections.abc import Iterable, Iterator

from app.core.ftm import (
    CONTEXT_KEYS,
    MAX_LINE_BYTES,
    EntityProxy,
    FtmLineError,
    InvalidData,
    check_shape,
    load_line,
    model,
)

__all__ = ["CONTEXT_KEYS", "MAX_LINE_BYTES", "FtmLineError", "batches", "dumps", "parse_line",
           "read_proxies"]  # fmt: skip


def parse_line(raw: bytes | str, line: int, *, schemata: Iterable[str] | None = None):
    """One line as a validated EntityProxy; ``schemata`` limits the schemata accepted (a
    schema outside it is refused by name). Raises FtmLineError."""
    data = load_line(raw, line)
    entity_id, schema_name, properties = check_shape(data, line)
    schema = model.get(schema_name)
    if schema is None:
        raise FtmLineError(line, f"unknown schema {schema_name!r}", entity_id)
    if schema.abstract:
        raise FtmLineError(line, f"schema {schema_name!r} is abstract", entity_id)
    if schemata is not None and schema.name not in schemata:
        raise FtmLineError(line, f"schema {schema_name!r} is not one this import takes", entity_id)
    for name, values in properties.items():
        if name not in schema.properties:
            raise FtmLineError(
                line, f"unknown property {name!r} of schema {schema_name!r}", entity_id
            )
        if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
            raise FtmLineError(line, f"property {name!r} is not a list of texts", entity_id)
    missing = [name for name in sorted(schema.required) if not properties.get(name)]
    if missing:
        raise FtmLineError(line, f"required property {missing[0]!r} is missing", entity_id)
    try:
        schema.validate({"properties": properties})
    except InvalidData as exc:
        problems = (exc.errors or {}).get("properties", {}) if hasattr(exc, "errors") else {}
        name, message = next(iter(problems.items()), ("", str(exc)))
        raise FtmLineError(
            line, f"property {name!r}: {message}" if name else message, entity_id
        ) from None
    proxy = model.get_proxy(data, cleaned=False)
    _check_kept(proxy, properties, line)
    return proxy


def _check_kept(proxy: EntityProxy, properties: dict, line: int) -> None:
    """followthemoney drops a value its type cleans to nothing (an IMO number whose check
    digit is wrong): name it rather than lose it silently."""
    for name, values in properties.items():
        if len(proxy.get(name)) >= len({v for v in values if v.strip()}):
            continue  # every value kept: the common case, no second cleaning
        prop = proxy.schema.properties[name]
        for value in values:
            if value.strip() and prop.type.clean(value, format=prop.format, proxy=proxy) is None:
                reason = f"property {name!r}: {value!r} is not a valid {prop.type.name}"
                raise FtmLineError(line, reason, proxy.id)


def read_proxies(
    stream: Iterable[bytes | str], *, schemata: Iterable[str] | None = None
) -> Iterator[tuple[int, EntityProxy]]:
    """(line number, proxy) for each non-blank line of ``stream`` (a binary file), lazily:
    a file of a million entities is never held in memory."""
    allowed = set(schemata) if schemata is not None else None
    for number, raw in enumerate(stream, 1):
        if not raw.strip():
            continue
        yield number, parse_line(raw, number, schemata=allowed)


def batches(items: Iterable, size: int) -> Iterator[list]:
    """``items`` in lists of ``size`` (the last one shorter)."""
    batch = []
    for item in items:
        batch.append(item)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def dumps(proxy: EntityProxy, **context) -> str:
    """One line of FtM JSON for ``proxy`` (``context``: extra top-level keys of CONTEXT_KEYS)."""
    data = proxy.to_dict()
    data.update({k: v for k, v in context.items() if v is not None})
    return json.dumps(data, ensure_ascii=False, sort_keys=True)
