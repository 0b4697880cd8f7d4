"""FollowTheMoney's model, imported without its side effect on the csv module.

Importing ``followthemoney`` raises the csv module's process-wide cell limit from 131,072 to
31,457,280 characters (``followthemoney/statement/serialize.py`` calls
``csv.field_size_limit``). The CSV importers (cases, risk, intel, reference) refuse an
oversized cell by that limit; once the exchange or a screening list had been used, a worker
would take cells of 30 MB. Every module that needs FtM imports it from here.

Here too is the one way a line of an FtM file is read (``load_line``: size, UTF-8, nesting,
JSON without NaN, no NUL or lone surrogate; ``check_shape``: an object with an id, a schema
and properties, and no top-level key FtM tools do not write), so that the registry import
and the screening lists refuse the same hostile line with the same words.
"""

import csv
import json
from contextlib import contextmanager

from app.core import json_input
from app.core.errors import ValidationError


@contextmanager
def without_csv_side_effect():
    """Import followthemoney's modules inside this block: the csv cell limit is put back."""
    limit = csv.field_size_limit()
    try:
        yield
    finally:
        csv.field_size_limit(limit)


with without_csv_side_effect():
    from followthemoney import model
    from followthemoney.exc import InvalidData
    from followthemoney.proxy import EntityProxy

__all__ = [
    "CONTEXT_KEYS",
    "MAX_LINE_BYTES",
    "EntityProxy",
    "FtmLineError",
    "InvalidData",
    "check_shape",
    "load_line",
    "model",
    "without_csv_side_effect",
]

# --- one line of an FtM file, read safely: the registry import and the screening lists
# --- read every line through these two (the same limits, the same errors)

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


def load_line(raw: bytes | str, line: int):
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


def check_shape(data, line: int) -> tuple[str, str, dict]:
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
