"""Reading list files: line-delimited FollowTheMoney JSON, or CSV with a mapping.

Both readers yield ``(line, EntryRecord | None | RowError)`` (None: an entity of a schema that
is not screened, such as an Address or a Sanction; a RowError names the line and what is wrong
with it, and reading goes on); a file that cannot be read on (a CSV header without a mapped
column) raises the RowError. The loader reads a file twice: once to check all of it (nothing
changes while any line is wrong), once to store it, so a big file is never held in memory.
"""

import csv
import hashlib
import io
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field

from app.core.errors import ValidationError
from app.core.ftm import FtmLineError, check_shape, load_line, model
from app.screening import normalize

#: FtM schemata that are screened, and the schema the matcher treats them as
SCREENED = {
    "Person": "Person",
    "Company": "Company",
    "Organization": "Organization",
    "PublicBody": "Organization",
    "LegalEntity": "LegalEntity",
    "Vessel": "Vessel",
}
#: identifier properties that say what an entity is not (a sanctions programme, an activity)
_NOT_IDENTIFYING = frozenset({"programId", "okvedCode", "wikidataId"})
_DATE = re.compile(r"^\d{4}(-\d{2}(-\d{2})?)?$")
_FTM_DATE = re.compile(r"^\d{4}(-(0[1-9]|1[0-2])(-(0[1-9]|[12]\d|3[01])(T[\d:.]+Z?)?)?)?$")
_MAPPING_KEYS = {
    "id",
    "name",
    "schema",
    "schema_column",
    "aliases",
    "alias_separator",
    "countries",
    "birth_date",
    "identifiers",
}


class RowError(ValueError):
    def __init__(self, line: int, message: str):
        super().__init__(f"line {line}: {message}")
        self.line = line
        self.message = message


@dataclass(slots=True)
class EntryRecord:
    entry_id: str
    schema: str
    caption: str
    names: list[str]
    countries: list[str] = field(default_factory=list)
    identifiers: list[list[str]] = field(default_factory=list)
    birth_dates: list[str] = field(default_factory=list)
    properties: dict = field(default_factory=dict)

    def match_names(self) -> str:
        return normalize.encode_names(normalize.name_tokens(n, self.schema) for n in self.names)

    def match_ids(self) -> str:
        out = []
        for kind, value in self.identifiers:
            norm = normalize.identifier(value)
            if norm and f"{kind}:{norm}" not in out:
                out.append(f"{kind}:{norm}")
        return " ".join(out)

    def version_key(self) -> int:
        """A 63-bit hash of everything the entry says (positive, fits a BIGINT)."""
        body = json.dumps(
            [self.schema, self.caption, self.names, self.countries, self.identifiers,
             self.birth_dates, self.properties],
            sort_keys=True, ensure_ascii=False,
        )  # fmt: skip
        digest = hashlib.blake2b(body.encode("utf-8"), digest_size=8).digest()
        return int.from_bytes(digest, "big") >> 1


def _first_names(props: dict) -> list[str]:
    names = []
    for key in ("name", "alias", "previousName", "weakAlias", "abbreviation"):
        for value in props.get(key, ()):
            if value and value not in names:
                names.append(value)
    return names


def _ftm_record(line: int, data) -> EntryRecord | None:
    """``data``: a line that passed ``check_shape`` (an object with an id, a schema and
    properties); its properties are checked here, without building an FtM proxy (a third of
    the load time of a million entries)."""
    entity_id, schema_name, props = check_shape(data, line)
    if len(entity_id) > 200:
        raise RowError(line, "has an id longer than 200 characters")
    schema = model.get(schema_name)
    if schema is None or schema.abstract:
        what = "unknown" if schema is None else "abstract"
        raise RowError(line, f"entity {entity_id}: {what} schema {schema_name!r}")
    countries: list[str] = []
    identifiers: list[list[str]] = []
    for name, values in props.items():
        prop = schema.get(name)
        if prop is None:
            raise RowError(line, f"entity {entity_id}: unknown property {schema_name}:{name}")
        if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
            raise RowError(line, f"entity {entity_id}: {name} is not a list of strings")
        kind = prop.type.name
        if kind == "date":
            # the ISO prefixes FtM writes (YYYY, YYYY-MM, YYYY-MM-DD[THH:MM...]); a plain regex:
            # FtM's own date parser is a third of the load time of a million entries
            bad = next((v for v in values if not _FTM_DATE.match(v)), None)
        elif kind == "country":
            bad = next((v for v in values if not prop.type.validate(v)), None)
            countries += [c.lower() for c in values if c.lower() not in countries]
        else:
            bad = None
            if kind == "identifier" and name not in _NOT_IDENTIFYING:
                identifiers += [[name, value] for value in values]
        if bad is not None:
            raise RowError(line, f"entity {entity_id}: {name} {bad!r} is not a valid {kind}")
    if schema.name not in SCREENED:
        return None
    names = _first_names(props)
    if not names:
        raise RowError(line, f"entity {entity_id}: a {schema.name} without a name")
    caption = names[0]
    return EntryRecord(
        entry_id=entity_id,
        schema=SCREENED[schema.name],
        caption=caption[:500],
        names=names,
        countries=countries,
        identifiers=identifiers,
        birth_dates=list(props.get("birthDate", ())),
        properties=props,
    )


def read_ftm(stream: io.BufferedIOBase) -> Iterator[tuple[int, EntryRecord | None | RowError]]:
    """Each line read as the registry import reads it (``app.core.ftm.load_line``: size,
    UTF-8, nesting, JSON, no NUL or lone surrogate), then checked as a list entry."""
    for number, raw in enumerate(stream, start=1):
        if not raw.strip():
            continue
        try:
            yield number, _ftm_record(number, load_line(raw, number))
        except FtmLineError as exc:
            where = f"entity {exc.entity_id}: " if exc.entity_id else ""
            yield number, RowError(number, where + exc.reason)
        except RowError as exc:
            yield number, exc


def check_mapping(mapping) -> dict:
    """A CSV mapping as the loader uses it, or a ValidationError naming what is wrong."""
    if not isinstance(mapping, dict):
        raise ValidationError({"mapping": "must be a JSON object"})
    unknown = sorted(set(mapping) - _MAPPING_KEYS)
    if unknown:
        raise ValidationError({f"mapping.{unknown[0]}": "is not a mapping key"})
    for key in ("id", "name"):
        if not isinstance(mapping.get(key), str) or not mapping[key]:
            raise ValidationError({f"mapping.{key}": "names no column"})
    if ("schema" in mapping) == ("schema_column" in mapping):
        raise ValidationError({"mapping.schema": "give either schema or schema_column"})
    if "schema" in mapping and mapping["schema"] not in SCREENED:
        raise ValidationError({"mapping.schema": f"{mapping['schema']!r} is not screened"})
    idents = mapping.get("identifiers", {})
    if not isinstance(idents, dict) or not all(isinstance(v, str) for v in idents.values()):
        raise ValidationError({"mapping.identifiers": "must map identifier kinds to columns"})
    return mapping


def _columns(mapping: dict) -> list[str]:
    cols = [mapping["id"], mapping["name"]]
    for key in ("schema_column", "aliases", "countries", "birth_date"):
        if mapping.get(key):
            cols.append(mapping[key])
    return cols + list(mapping.get("identifiers", {}).values())


def _csv_record(line: int, row: dict, mapping: dict) -> EntryRecord:
    entry_id = (row[mapping["id"]] or "").strip()
    name = (row[mapping["name"]] or "").strip()
    if not entry_id or len(entry_id) > 200:
        raise RowError(line, f"column {mapping['id']}: no id (at most 200 characters)")
    if not name:
        raise RowError(line, f"column {mapping['name']}: no name")
    schema = mapping.get("schema") or (row[mapping["schema_column"]] or "").strip()
    if schema not in SCREENED:
        raise RowError(line, f"column {mapping.get('schema_column')}: {schema!r} is not a schema")
    sep = mapping.get("alias_separator", ";")
    names = [name]
    if mapping.get("aliases"):
        names += [a.strip() for a in (row[mapping["aliases"]] or "").split(sep) if a.strip()]
    countries = []
    if mapping.get("countries"):
        for value in (row[mapping["countries"]] or "").split(sep):
            code = value.strip().lower()
            if code and not model.get("Thing").get("country").type.validate(code):
                raise RowError(line, f"column {mapping['countries']}: {value!r} is not a country")
            if code:
                countries.append(code)
    dates = []
    if mapping.get("birth_date"):
        for value in (row[mapping["birth_date"]] or "").split(sep):
            if value.strip() and not _DATE.match(value.strip()):
                raise RowError(line, f"column {mapping['birth_date']}: {value!r} is not a date")
            if value.strip():
                dates.append(value.strip())
    identifiers = [
        [kind, row[col].strip()]
        for kind, col in mapping.get("identifiers", {}).items()
        if (row[col] or "").strip()
    ]
    return EntryRecord(
        entry_id=entry_id,
        schema=SCREENED[schema],
        caption=name[:500],
        names=names,
        countries=countries,
        identifiers=identifiers,
        birth_dates=dates,
        properties={col: row[col] for col in _columns(mapping)},
    )


def read_csv(
    stream: io.BufferedIOBase, mapping: dict
) -> Iterator[tuple[int, EntryRecord | RowError]]:
    mapping = check_mapping(mapping)
    text = io.TextIOWrapper(stream, encoding="utf-8-sig", newline="")
    try:
        reader = csv.DictReader(text)
        header = reader.fieldnames or []
        for col in _columns(mapping):
            if col not in header:
                raise RowError(1, f"the mapping names column {col!r}; the file has no such column")
        for row in reader:
            try:
                if None in row:
                    raise RowError(reader.line_num, "has more cells than the header")
                yield reader.line_num, _csv_record(reader.line_num, row, mapping)
            except RowError as exc:
                yield reader.line_num, exc
    except UnicodeDecodeError:
        raise RowError(getattr(reader, "line_num", 0) + 1, "is not UTF-8 text") from None
    except csv.Error as exc:
        raise RowError(reader.line_num, f"is not CSV ({exc})") from None
    finally:
        text.detach()
