"""Reading and writing FollowTheMoney (FtM) line-delimited JSON, checked against
followthemoney's own model: the reusable part of the exchange (the registry import and the
screening lists both read files through ``read_proxies``).

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

from app.core import json_input
from app.core.errors import ValidationError
from app.core.ftm import EntityProxy, InvalidData, model

#: the longest line read (an OpenSanctions entity with every alias is a few tens of kB)
MAX_LINE_BYTES = 1_000_000
#: top-level keys besides id, schema and properties that FtM tools write and readers keep
CONTEXT_KEYS = {
    "caption",
    "datasets",
    "referents",
    "first_seen",
    "last_seen",
    "last_change",
    "target",
    # Tollgate's own: a record's handling code (P/C) and a link's 3x5x2 grade ("1A")
    "handling_code",
    "grade",
}
#: json_input's nesting limit for one line: an FtM entity is three levels deep
_MAX_DEPTH = 16


class FtmLineError(ValueError):
    """One line of an FtM file that is not a valid entity: where and why."""

    def __init__(self, line: int, reason: str, entity_id: str | None = None):
        self.line, self.reason, self.entity_id = line, reason, entity_id
        where = f"line {line}" + (f" (entity {entity_id})" if entity_id else "")
        super().__init__(f"{where}: {reason}")

    @property
    def field(self) -> str:
        return f"line {self.line}"


def _load(raw: bytes | str, line: int):
    if isinstance(raw, str):
        raw = raw.encode("utf-8", "surrogatepass")
    if len(raw) > MAX_LINE_BYTES:
        raise FtmLineError(line, f"longer than {MAX_LINE_BYTES:,} bytes")
    try:
        text = json_input.decode(raw, "line")
        json_input.check_depth(text, "line", limit=_MAX_DEPTH)
    except ValidationError as exc:
        raise FtmLineError(line, next(iter(exc.fields.values()))) from None
    try:
        data = json.loads(text, parse_constant=_no_constant)
    except ValueError as exc:  # JSONDecodeError, NaN / Infinity, an integer of 4,300 digits
        raise FtmLineError(line, f"is not valid JSON: {exc}") from None
    # NUL (PostgreSQL text cannot hold it) or a lone surrogate (no UTF-8 for it) in a value
    if problem := json_input.first_bad_string(data, "line"):
        path, message = problem
        raise FtmLineError(line, f"{path.replace('line', 'value', 1)} {message}")
    return data


def _no_constant(name):
    raise ValueError(f"{name} is not a JSON number")


def _check_shape(data, line: int) -> tuple[str, str, dict]:
    if not isinstance(data, dict):
        raise FtmLineError(line, "is not a JSON object (one entity per line)")
    entity_id = data.get("id")
    if not isinstance(entity_id, str) or not entity_id.strip():
        raise FtmLineError(line, "has no entity id (a non-empty text 'id')")
    schema_name = data.get("schema")
    if not isinstance(schema_name, str) or not schema_name:
        raise FtmLineError(line, "has no schema (a text 'schema')", entity_id)
    unknown_keys = sorted(set(data) - {"id", "schema", "properties"} - CONTEXT_KEYS)
    if unknown_keys:
        raise FtmLineError(line, f"unknown key {unknown_keys[0]!r}", entity_id)
    properties = data.get("properties", {})
    if not isinstance(properties, dict):
        raise FtmLineError(line, "'properties' is not an object", entity_id)
    return entity_id, schema_name, properties


def parse_line(raw: bytes | str, line: int, *, schemata: Iterable[str] | None = None):
    """One line as a validated EntityProxy; ``schemata`` limits the schemata accepted (a
    schema outside it is refused by name). Raises FtmLineError."""
    data = _load(raw, line)
    entity_id, schema_name, properties = _check_shape(data, line)
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
