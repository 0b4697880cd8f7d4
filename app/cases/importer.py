"""Bulk import of historical seizures from CSV: a column mapping, validation of every row
before anything is written (errors name the row and the column), duplicates, a dry run.

Rows that share a seizure reference become one case with several items. The WCO CEN seizure
fields and the columns of a typical national seizure register are recognised by name.

Rows are numbered as records of the file, the header being row 1. Every mapped cell is
checked before it is parsed: bytes that are not UTF-8, NUL and control characters are
errors of their row and column; a stray quote or a row with more or fewer cells than the
header is an error of its row. The cases are written in a savepoint: all or none.
"""

import csv
import hashlib
import io
from dataclasses import dataclass, field

from sqlalchemy import select

from app.cases import catalog, import_rows, places
from app.cases.import_columns import TARGETS
from app.cases.models import Case
from app.cases.service import open_with_reserved_ref
from app.core.csv_cells import header_not_utf8
from app.core.errors import ValidationError
from app.extensions import db
from app.security.access import Actor

MAX_ROWS = 50_000
MAX_ERRORS = 200


@dataclass
class ImportReport:
    rows: int = 0
    cases: int = 0
    items: int = 0
    errors: dict = field(default_factory=dict)
    #: (row number, reference, why)
    duplicates: list = field(default_factory=list)
    created: list = field(default_factory=list)
    dry_run: bool = True

    @property
    def ok(self) -> bool:
        return not self.errors


def decode(data: bytes) -> str:
    """The file as text; bytes that are not UTF-8 become lone surrogates (surrogateescape)
    so the cell holding them can be named (``_cell_problem``)."""
    return data.decode("utf-8-sig", errors="surrogateescape")


def _reader(text: str):
    first = text.split("\n", 1)[0]
    delimiter = max(",;\t", key=first.count)
    # strict: a stray quote ("a"b) is an error rather than silently merged text.
    return csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)


def read_header(data: bytes) -> list[str]:
    """The column names of the file; errors for an empty file or repeated names."""
    text = decode(data)
    try:
        header = next(_reader(text), None)
    except csv.Error as exc:
        raise ValidationError({"file": f"row 1: {exc}"}) from None
    for n, name in enumerate(header or [], start=1):
        if header_not_utf8(name):
            raise ValidationError(
                {"file": f"is not UTF-8 text (row 1, column {n}); save it as CSV UTF-8"}
            )
    header = [h.strip() for h in header or []]
    if not any(header):
        raise ValidationError({"file": "has no header row"})
    seen = set()
    for n, name in enumerate(header, start=1):
        if not name:
            raise ValidationError({"file": f"row 1: column {n} has no name"})
        if name.lower() in seen:
            raise ValidationError({"file": f"row 1: column name {name!r} appears twice"})
        seen.add(name.lower())
    return header


def suggest_mapping(header: list[str]) -> dict:
    """target field -> column, guessed from the column names."""
    by_name = {h.strip().lower(): h for h in header}
    mapping, used = {}, set()
    for target, (_label, names) in TARGETS.items():
        for name in names:
            column = by_name.get(name)
            if column and column not in used:
                mapping[target] = column
                used.add(column)
                break
    return mapping


def _check_mapping(mapping: dict, header: list[str]) -> dict:
    errors = {}
    clean = {}
    for target, column in (mapping or {}).items():
        if not column:
            continue
        if target not in TARGETS:
            errors[f"mapping.{target}"] = "is not an import field"
        elif column not in header:
            errors[f"mapping.{target}"] = f"column {column!r} is not in the file"
        else:
            clean[target] = column
    if "event_date" not in clean:
        errors["mapping.event_date"] = "map the column holding the seizure date"
    if "place" not in clean and "crossing_point" not in clean:
        errors["mapping.place"] = "map the place or the border crossing point column"
    if "commodity_area" not in clean and "commodity_type" not in clean:
        errors["mapping.commodity_area"] = "map the commodity category or commodity type column"
    if "quantity" not in clean:
        errors["mapping.quantity"] = "map the quantity column (how much was seized)"
    if "description" not in clean and "commodity_type" not in clean:
        errors["mapping.description"] = "map the description or commodity type column"
    if errors:
        raise ValidationError(errors)
    return clean


def _fingerprint(case: dict, item: dict) -> str:
    parts = [
        case["event_dt"].isoformat() if case["event_dt"] else "",
        case["place"] or "",
        item["commodity_area"],
        item["description"].lower(),
        str(item["quantity"] or ""),
        item["quantity_unit"] or "",
        str(item["value"] or ""),
    ]
    return "csv:" + hashlib.sha256("|".join(parts).encode()).hexdigest()[:32]


def _group_rows(data: bytes, header: list, mapping: dict, report: ImportReport, place_type):
    """Every row read and parsed; rows that share a seizure reference grouped as one case
    (their case fields must agree). Returns the groups by duplicate key, in file order."""
    groups: dict[str, dict] = {}
    known_places = places.by_name()
    reader = _reader(decode(data))
    n = 1
    try:
        next(reader)
        for row in reader:
            n += 1
            if not any(cell.strip() for cell in row):
                continue
            report.rows += 1
            if report.rows > MAX_ROWS:
                raise ValidationError({"file": f"more than {MAX_ROWS} rows; split the file"})
            if len(row) != len(header):
                report.errors[f"row {n}"] = f"has {len(row)} columns, the header has {len(header)}"
                continue
            try:
                ref, case, item = import_rows.parse_row(
                    dict(zip(header, row, strict=True)), mapping, n, place_type, known_places
                )
            except ValidationError as exc:
                report.errors.update(exc.fields)
                if len(report.errors) >= MAX_ERRORS:
                    break
                continue
            _add_to_group(groups, report, mapping, n, ref, case, item)
    except csv.Error as exc:
        # n is the last row read whole: the error is in the next record
        report.errors[f"row {n + 1}"] = f"is not valid CSV: {exc}"
    return groups


def _add_to_group(groups, report, mapping, n, ref, case, item) -> None:
    key = f"import:{ref}" if ref else _fingerprint(case, item)
    group = groups.get(key)
    if group is None:
        groups[key] = {"row": n, "ref": ref, "case": case, "items": [item]}
        return
    if not ref:
        report.duplicates.append((n, "", f"same as row {group['row']}"))
        return
    for name, value in case.items():
        if value is not None and group["case"].get(name) not in (None, value):
            report.errors[f"row {n}, column {mapping.get(name, name)!r}"] = (
                f"differs from row {group['row']} of seizure {ref}"
            )
    group["items"].append(item)


def _already_imported(keys: list, unit_id) -> set:
    """The keys of seizures imported before into the unit. Duplicates are looked for in the
    unit the seizures go to only: "already imported" about another unit's case would tell
    which seizures that unit holds."""
    existing = set()
    for start in range(0, len(keys), 500):
        chunk = keys[start : start + 500]
        existing |= set(
            db.session.scalars(
                select(Case.external_ref).where(
                    Case.external_ref.in_(chunk), Case.unit_id == unit_id
                )
            )
        )
    return existing


def _open_cases(groups: dict, todo: list, report: ImportReport, *, actor, unit_id, handling_code):
    # A savepoint: a database error at the n-th case leaves none of the others behind.
    with db.session.begin_nested():
        for key in todo:
            group = groups[key]
            case_values = {k: v for k, v in group["case"].items() if v is not None}
            first = group["items"][0]
            title = case_values.pop("title", None) or (
                f"Seizure of {catalog.COMMODITY_AREAS[first['commodity_area']].lower()} at "
                f"{case_values.get('place', 'unknown place')}"
            )
            case = open_with_reserved_ref(
                key,
                "seizure",
                actor=actor,
                title=title,
                unit_id=unit_id,
                handling_code=handling_code,
                items=group["items"],
                with_tasks=False,
                status="closed",
                resolution="confiscated",
                journal_text=f"Historical seizure imported from CSV (row {group['row']}).",
                **case_values,
            )
            report.created.append(case.reference)


def run_import(
    data: bytes,
    mapping: dict,
    *,
    actor: Actor,
    dry_run=True,
    skip_duplicates=False,
    handling_code="P",
    default_place_type=None,
    unit_id=None,
) -> ImportReport:
    """Validate every row, then (unless ``dry_run`` or any error) open one closed seizure case
    per seizure. Either every seizure is imported or none."""
    actor.require("case.create")
    header = read_header(data)
    mapping = _check_mapping(mapping, header)
    report = ImportReport(dry_run=bool(dry_run))
    groups = _group_rows(data, header, mapping, report, default_place_type)
    existing = _already_imported(list(groups), unit_id if unit_id is not None else actor.unit_id)
    for key, group in groups.items():
        if key in existing:
            report.duplicates.append((group["row"], group["ref"] or "", "already imported"))
    if report.duplicates and not skip_duplicates:
        for row, ref, why in report.duplicates:
            report.errors[f"row {row}"] = f"duplicate seizure{' ' + ref if ref else ''}: {why}"
    todo = [k for k in groups if k not in existing]
    report.cases = len(todo)
    report.items = sum(len(groups[k]["items"]) for k in todo)
    if report.errors or dry_run:
        return report
    _open_cases(groups, todo, report, actor=actor, unit_id=unit_id, handling_code=handling_code)
    return report
