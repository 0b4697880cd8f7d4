"""CSV import of entities and links with an i2-style import specification (field -> column).

Rows naming an identifier already registered reuse that entity (deterministic identity);
other new entities are created and their resolution candidates proposed, so an import
never silently duplicates. Errors name the row (the header being row 1) and the column
(``row 4: Company Name``); nothing is written unless every row is valid: the rows are
written in a savepoint that is rolled back on any error (the caller commits once).

Cells are read strictly: a row with more or fewer cells than the header, bytes that are not
UTF-8, NUL or control characters, cells beyond ``MAX_CELL`` characters and stray quotes
are errors of their row and column, not silently dropped or merged.
"""

import csv
import io
from dataclasses import dataclass, field

from app.core.csv_cells import cell_problem, header_not_utf8
from app.core.errors import ValidationError
from app.extensions import db
from app.intel import service
from app.intel.identifiers import SCHEMES, normalise
from app.intel.models import ENTITY_TYPES, LINK_TYPES
from app.security.access import Actor

MAX_ROWS = 50_000
MAX_BYTES = 20 * 1024 * 1024
MAX_CELL = 4000
ENTITY_FIELDS = {"type", "name", "aliases", "handling_code"}
LINK_FIELDS = {
    "link_type",
    "start_date",
    "end_date",
    "grade",
    "source.name",
    "source.type",
    "target.name",
    "target.type",
}


@dataclass
class ImportSummary:
    rows: int = 0
    created: list = field(default_factory=list)
    reused: list = field(default_factory=list)
    links: list = field(default_factory=list)
    candidates: int = 0


def parse_mapping(text: str | None) -> dict[str, str]:
    """ "field: CSV column" lines -> {field: column}."""
    mapping = {}
    for number, line in enumerate((text or "").splitlines(), start=1):
        if not line.strip():
            continue
        if ":" not in line:
            raise ValidationError({"mapping": f"line {number}: write it as 'field: column'"})
        key, column = line.split(":", 1)
        mapping[key.strip().lower()] = column.strip()
    return mapping


def _valid_field(name: str, kind: str) -> bool:
    if kind == "entities":
        if name in ENTITY_FIELDS:
            return True
        prefix, _, rest = name.partition(".")
        return (prefix == "identifiers" and rest in SCHEMES) or (
            prefix == "attributes" and bool(rest)
        )
    if name in LINK_FIELDS:
        return True
    end, _, scheme = name.partition(".")
    return end in ("source", "target") and scheme in SCHEMES


def _cell_problem(raw: str) -> str | None:
    """Why a cell cannot be imported whatever its field, or None."""
    return cell_problem(raw, max_len=MAX_CELL)


def read_rows(data: bytes, kind: str, mapping: dict[str, str]):
    """Decode and map the CSV; returns [(row number, {field: value})]."""
    if len(data) > MAX_BYTES:
        raise ValidationError({"file": f"larger than {MAX_BYTES // (1024 * 1024)} MB"})
    # Undecodable bytes become lone surrogates, so the cell holding them can be named.
    text = data.decode("utf-8-sig", errors="surrogateescape")
    # strict: a stray quote ("a"b) is an error rather than silently merged text.
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        header = next(reader, [])
    except csv.Error as exc:
        raise ValidationError({"file": f"row 1 is not valid CSV ({exc})"}) from None
    for number, name in enumerate(header, start=1):
        if header_not_utf8(name):
            raise ValidationError(
                {"file": f"not UTF-8 text (row 1, column {number}); save it as CSV UTF-8"}
            )
    if not any(h.strip() for h in header):
        raise ValidationError({"file": "no header row"})
    seen = set()
    for name in header:
        if name.strip() and name in seen:
            raise ValidationError({"file": f"row 1: column name {name!r} appears twice"})
        seen.add(name)
    if not mapping:
        mapping = {h.strip().lower(): h for h in header if _valid_field(h.strip().lower(), kind)}
    errors = {}
    for name, column in mapping.items():
        if not _valid_field(name, kind):
            errors[f"mapping.{name}"] = "is not a field of this import"
        elif column not in header:
            errors[f"mapping.{name}"] = f"column {column!r} is not in the file"
    required = {"name"} if kind == "entities" else {"link_type"}
    for name in required - set(mapping):
        errors[f"mapping.{name}"] = "is required"
    if errors:
        raise ValidationError(errors)
    positions = {name: index for index, name in enumerate(header)}
    rows = []
    number = 1
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            errors[f"row {number + 1}"] = f"unreadable CSV ({exc})"
            break
        number += 1
        if number - 1 > MAX_ROWS:
            raise ValidationError({"file": f"more than {MAX_ROWS} rows"})
        if not any(cell.strip() for cell in cells):
            continue
        if len(cells) != len(header):
            where = header[len(cells)] if len(cells) < len(header) else f"column {len(header) + 1}"
            errors[f"row {number}: {where}"] = (
                f"{'missing' if len(cells) < len(header) else 'has no header'}: the row has "
                f"{len(cells)} cells, the header has {len(header)}"
            )
            continue
        values, bad = {}, False
        for name, column in mapping.items():
            raw = cells[positions[column]]
            if problem := _cell_problem(raw):
                errors[f"row {number}: {column}"] = problem
                bad = True
            values[name] = raw.strip()
        if not bad and any(values.values()):
            rows.append((number, values))
        if len(errors) >= 200:
            break
    if errors:
        raise ValidationError(errors)
    return rows, mapping


def _row_error(errors, number, mapping, exc: ValidationError, prefix=""):
    for key, message in exc.fields.items():
        name = prefix + key
        column = mapping.get(name) or mapping.get(key) or key
        errors[f"row {number}: {column}"] = message


def _known(idents: dict, *, actor):
    """The entity the actor may see that holds one of the identifiers, reused by the import.
    One they may not see is not reused (no link to it, no word of it in the summary): the row
    registers its own entity, as create_entity does (bad values are reported there)."""
    clean = {}
    for scheme, value in idents.items():
        try:
            clean[scheme] = normalise(scheme, value)
        except ValidationError:
            continue
    held = service.registered_holder(clean, actor=actor)
    return held[1] if held else None


def _resolve_end(values, end, default_type, *, actor, handling_code, summary, cache):
    """Find or create one end of a link row: identifiers first, then the same name."""
    idents = {
        k.split(".", 1)[1]: v
        for k, v in values.items()
        if k.startswith(f"{end}.") and k.split(".", 1)[1] in SCHEMES and v
    }
    name = values.get(f"{end}.name", "")
    etype = values.get(f"{end}.type") or default_type
    found = _known(idents, actor=actor)
    if found is not None:
        summary.reused.append(found.id)
        return found
    key = (etype, name.lower(), tuple(sorted(idents.items())))
    if key in cache:
        return cache[key]
    if not name:
        raise ValidationError({f"{end}.name": "is required when no known identifier is given"})
    entity = service.create_entity(
        etype,
        name,
        actor=actor,
        identifiers=idents,
        handling_code=handling_code,
        provenance=("import", None),
    )
    summary.created.append(entity.id)
    cache[key] = entity
    return entity


def import_csv(
    data: bytes,
    kind: str,
    *,
    actor: Actor,
    mapping: dict | None = None,
    default_type: str = "organisation",
    handling_code: str = "P",
) -> ImportSummary:
    """Import entities or links; raises ValidationError listing every bad row/column."""
    actor.require("entity.edit")
    if kind not in ("entities", "links"):
        raise ValidationError({"kind": "must be entities or links"})
    if default_type not in ENTITY_TYPES:
        raise ValidationError({"entity_type": "unknown entity type"})
    rows, mapping = read_rows(data, kind, mapping or {})
    savepoint = db.session.begin_nested()
    try:
        summary = _import_rows(rows, kind, mapping, actor, default_type, handling_code)
    except BaseException:
        savepoint.rollback()  # not one entity, link or trail row of a failed import remains
        raise
    savepoint.commit()
    from app.intel.resolution import pending_matches

    new = set(summary.created)
    summary.candidates = sum(
        1
        for m in pending_matches(actor, limit=10_000)
        if m.entity_a_id in new or m.entity_b_id in new
    )
    return summary


def _import_rows(rows, kind, mapping, actor, default_type, handling_code) -> ImportSummary:
    summary = ImportSummary(rows=len(rows))
    errors: dict[str, str] = {}
    cache: dict = {}
    for number, values in rows:
        try:
            if kind == "entities":
                _import_entity(
                    values, default_type, actor=actor, handling_code=handling_code, summary=summary
                )
            else:
                link_type = values.get("link_type", "").lower().replace(" ", "_")
                if link_type not in LINK_TYPES:
                    raise ValidationError({"link_type": f"unknown link type {link_type!r}"})
                ends = []
                for end in ("source", "target"):
                    try:
                        ends.append(
                            _resolve_end(
                                values,
                                end,
                                default_type,
                                actor=actor,
                                handling_code=handling_code,
                                summary=summary,
                                cache=cache,
                            )
                        )
                    except ValidationError as exc:
                        _row_error(errors, number, mapping, exc, prefix=f"{end}.")
                if len(ends) == 2:
                    link = service.add_link(
                        ends[0].id,
                        ends[1].id,
                        link_type,
                        actor=actor,
                        provenance_type="import",
                        start_date=values.get("start_date"),
                        end_date=values.get("end_date"),
                        grade=values.get("grade"),
                        handling_code=handling_code,
                    )
                    summary.links.append(link.id)
        except ValidationError as exc:
            _row_error(errors, number, mapping, exc)
        if len(errors) >= 200:
            break
    if errors:
        raise ValidationError(errors)
    return summary


def _import_entity(values, default_type, *, actor, handling_code, summary):
    etype = (values.get("type") or default_type).lower().replace(" ", "_")
    if etype not in ENTITY_TYPES:
        raise ValidationError({"type": f"unknown entity type {etype!r}"})
    idents = {
        k.split(".", 1)[1]: v for k, v in values.items() if k.startswith("identifiers.") and v
    }
    found = _known(idents, actor=actor)
    if found is not None:
        summary.reused.append(found.id)
        return found
    attrs = {k.split(".", 1)[1]: v for k, v in values.items() if k.startswith("attributes.") and v}
    aliases = [a for a in values.get("aliases", "").split(";") if a.strip()]
    code = values.get("handling_code") or handling_code
    entity = service.create_entity(
        etype,
        values.get("name", ""),
        actor=actor,
        aliases=aliases,
        identifiers=idents,
        attributes=attrs,
        handling_code=code.upper(),
        provenance=("import", None),
    )
    summary.created.append(entity.id)
    return entity
