"""CSV import of declaration history (KCS files as they are, or any CSV with a column mapping).

Every row is one declaration item; rows sharing a declaration number become the items of one
declaration. A label column (KCS ``Fraud``) becomes the declaration's control result. The whole
file is validated first; any error raises ``ValidationError`` naming the row (the header
being row 1) and the column, and nothing is written.

Cells are checked against what the database can hold: codes no longer than their column,
ASCII digits for HS codes and numbers (``1,234.5`` is a thousands separator; ``1,5`` is an
error, never fifteen), ISO dates, no NUL or control characters, and bytes that are not
UTF-8 are reported at their row and column.

The declaration intake's rules apply (``app.risk.intake``): coded cells must be in the
reference lists (offices, procedures, transport modes, countries, tax types), numbers within
their caps (a tax rate 0-100 % unless its tax type allows more), dates ISO ``YYYY-MM-DD``
and not after today's window (history may be old). A file with the KCS header (``Declaration
ID``, ``Office ID``, ``HS6 Code``, ``Item Price``) brings the shipped ``kcs`` and
``standard`` reference sets in first (``app.reference``: only entries not listed yet are
added), so the KCS files import as they are; any other file is checked against the lists as
the administrator keeps them.
"""

import csv
import io
import re
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from sqlalchemy import insert, select

from app.core.csv_cells import cell_problem
from app.core.errors import ValidationError
from app.core.time import now_utc
from app.extensions import db
from app.risk.fields import DECLARATION_FIELDS, ITEM_FIELDS
from app.risk.intake import Codes, date_problem, number_problem
from app.risk.models import ControlResult, Declaration, DeclarationItem
from app.security import trail

#: field -> (default column as in the KCS files, kind, required)
FIELDS = {
    "number": ("Declaration ID", "code", True),
    "declaration_date": ("Date", "date", True),
    "office": ("Office ID", "code", True),
    "procedure": ("Process Type", "code", False),
    "import_type": ("Import Type", "code", False),
    "import_use": ("Import Use", "code", False),
    "payment_type": ("Payment Type", "code", False),
    "transport_mode": ("Mode of Transport", "code", False),
    "declarant_code": ("Declarant ID", "code", False),
    "importer_code": ("Importer ID", "code", False),
    "seller_code": ("Seller ID", "code", False),
    "courier_code": ("Courier ID", "code", False),
    "hs_code": ("HS6 Code", "hs", True),
    "departure_country": ("Country of Departure", "country", False),
    "origin_country": ("Country of Origin", "country", False),
    "tax_rate": ("Tax Rate", "number", False),
    "tax_type": ("Tax Type", "code", False),
    "origin_indicator": ("Country of Origin Indicator", "code", False),
    "mass_kg": ("Net Mass", "number", False),
    "value": ("Item Price", "number", True),
    "description": ("Description", "text", False),
    "quantity": ("Quantity", "number", False),
    "quantity_unit": ("Quantity Unit", "code", False),
    "fraud": ("Fraud", "flag", False),
    "critical": ("Critical Fraud", "critical", False),
    "fraud_type": ("Fraud Type", "fraud_type", False),
    "revenue_recovered": ("Revenue Recovered", "number", False),
}
MAX_ERRORS = 50
INDEX_PER_RECORD_LIMIT = 5000
#: numbers (values, masses, rates) beyond this are typing errors, not customs data
MAX_NUMBER = 1e15
#: the API takes descriptions up to 500 characters; history may carry longer ones
MAX_TEXT = 2000
_BATCH = 2000
_HS = re.compile(r"[0-9]{4,10}")
_COUNTRY = re.compile(r"[A-Z]{2}")
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
# ASCII digits, an optional fraction and exponent; commas only as thousands separators.
_NUMBER = re.compile(
    r"[+]?(?:(?:[0-9]{1,3}(?:,[0-9]{3})+|[0-9]+)(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]{1,3})?"
)
#: the columns that mark a file as a KCS file (its codes are the shipped ``kcs`` set)
KCS_MARK = ("Declaration ID", "Office ID", "HS6 Code", "Item Price")


def _column_length(name: str) -> int:
    """The length of the String column a code is stored in (the database refuses more)."""
    table = Declaration.__table__ if name in DECLARATION_FIELDS else DeclarationItem.__table__
    return getattr(table.c[name].type, "length", None) or 40


@dataclass
class ImportReport:
    rows: int = 0
    declarations: int = 0
    items: int = 0
    control_results: int = 0
    skipped_existing: int = 0
    dry_run: bool = False
    #: "queued" (search index requested per declaration), "deferred" or "" (dry run)
    indexing: str = ""
    #: ids of the declarations created (empty on a dry run)
    declaration_ids: list[int] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {k: v for k, v in self.__dict__.items() if k != "declaration_ids"}


class _Errors:
    def __init__(self):
        self.fields: dict[str, str] = {}

    def add(self, where: str, message: str) -> None:
        if len(self.fields) < MAX_ERRORS:
            self.fields[where] = message
        elif "more" not in self.fields:
            self.fields["more"] = "further errors were not listed"

    def __bool__(self):
        return bool(self.fields)


def _read_text(path_or_file) -> str:
    """The whole file as text. Bytes that are not UTF-8 are kept as lone surrogates
    (``surrogateescape``) so the cell holding them can be named, not just the file."""
    if isinstance(path_or_file, str | Path):
        with open(path_or_file, "rb") as stream:
            data = stream.read()
    else:
        data = path_or_file.read()
    if isinstance(data, str):
        return data.removeprefix("\ufeff")
    return bytes(data).decode("utf-8-sig", errors="surrogateescape")


def _resolve_columns(header: list[str], mapping: dict | None, errors: _Errors) -> dict:
    """field -> column index; a mapping names the CSV column for a field."""
    mapping = dict(mapping or {})
    unknown = sorted(str(name) for name in set(mapping) - set(FIELDS))
    for name in unknown:
        errors.add(f"mapping.{name}", f"unknown field (known: {', '.join(FIELDS)})")
    positions: dict[str, int] = {}
    for i, raw in enumerate(header):
        name = raw.strip()
        problem = _cell_problem(raw)
        if problem:
            errors.add(f"row 1, column {i + 1}", problem)
        elif name and name in positions:
            errors.add(f"row 1, column {i + 1}", f"the column name {name!r} appears twice")
        positions.setdefault(name, i)
    columns = {}
    for name, (default_column, _kind, required) in FIELDS.items():
        wanted = mapping.get(name)
        if wanted is not None and not isinstance(wanted, str):
            errors.add(f"mapping.{name}", "must name a column")
            continue
        if wanted:
            if wanted not in positions:
                errors.add(f"column {wanted}", f"not in the file's header (mapped to {name})")
                continue
            columns[name] = positions[wanted]
        elif default_column in positions:
            columns[name] = positions[default_column]
        elif name in positions:
            columns[name] = positions[name]
        elif required:
            errors.add(
                f"column {default_column}",
                f"missing: the file needs a column for {name} (or a mapping for it)",
            )
    return columns


def _shown(text: str) -> str:
    return repr(text if len(text) <= 40 else text[:40] + "…")


def _cell_problem(raw: str) -> str | None:
    """Why a cell cannot be stored whatever its column, or None (control characters are
    judged per column, by ``_parse``)."""
    return cell_problem(raw, controls=False)


def _parse_date(text: str) -> date:
    """``YYYY-MM-DD`` exactly: a time or any trailing text is refused, never cut off."""
    if _DATE.fullmatch(text):
        return date.fromisoformat(text)
    raise ValueError


def _parse(kind: str, name: str, raw: str):
    """Parse one cell; returns the value or raises ValueError with a readable reason."""
    if problem := _cell_problem(raw):
        raise ValueError(problem)
    text = raw.strip()
    if text == "":
        return None
    if kind == "text":
        if len(text) > MAX_TEXT:
            raise ValueError(f"longer than {MAX_TEXT} characters")
        return text
    if not text.isprintable():
        raise ValueError("must not contain control characters or line breaks")
    if kind == "code":
        limit = _column_length(name)
        if len(text) > limit:
            raise ValueError(f"longer than {limit} characters")
        return text
    if kind == "date":
        try:
            return _parse_date(text)
        except ValueError:
            raise ValueError(f"{_shown(text)} is not a date (YYYY-MM-DD)") from None
    if kind == "hs":
        digits = text.replace(".", "").replace(" ", "")
        if not _HS.fullmatch(digits):
            raise ValueError(f"{_shown(text)} is not an HS code (4 to 10 digits)")
        return digits
    if kind == "country":
        code = text.upper()
        if not _COUNTRY.fullmatch(code):
            raise ValueError(f"{_shown(text)} is not an ISO 3166 alpha-2 country code")
        return code
    if kind == "number":
        if text.startswith("-") and _NUMBER.fullmatch(text[1:]):
            raise ValueError(f"{_shown(text)} is negative")
        if not _NUMBER.fullmatch(text):
            raise ValueError(f"{_shown(text)} is not a number (digits, . for decimals)")
        number = float(text.replace(",", ""))
        if number > MAX_NUMBER:
            raise ValueError(f"{_shown(text)} is too large (at most {MAX_NUMBER:.0e})")
        return number
    if kind == "flag":
        if text not in ("0", "1"):
            raise ValueError(f"{_shown(text)} must be 0 or 1")
        return text == "1"
    if kind == "critical":
        if text not in ("0", "1", "2"):
            raise ValueError(f"{_shown(text)} must be 0, 1 or 2")
        return int(text)
    if kind == "fraud_type":
        from app.risk.models import FRAUD_TYPES

        if text not in FRAUD_TYPES:
            raise ValueError(f"{_shown(text)} is not one of {', '.join(FRAUD_TYPES)}")
        return text
    raise AssertionError(kind)


def _check_row(values: dict, columns: dict, header, line: int, codes: Codes, errors) -> None:
    """The intake's rules on one parsed row: listed codes, numbers within caps, the date."""

    def where(name):
        return f"row {line}, column {header[columns[name]]}"

    for name in ("office", "procedure", "transport_mode", "origin_country", "departure_country"):
        if values.get(name) is not None and (problem := codes.problem(name, values[name])):
            errors.add(where(name), problem)
    tax_type = values.get("tax_type")
    if tax_type is not None and (problem := codes.problem("tax_type", tax_type)):
        errors.add(where("tax_type"), problem)
    max_rate = codes.max_rate(tax_type)
    for name in ("value", "mass_kg", "quantity", "tax_rate"):
        value = values.get(name)
        if value is not None and (problem := number_problem(name, value, max_rate=max_rate)):
            errors.add(where(name), problem)
    day = values.get("declaration_date")
    if day is not None and (problem := date_problem(day, history=True)):
        errors.add(where("declaration_date"), problem)


def _bring_kcs_codes(header: list[str], mapping) -> None:
    """A KCS file (its header, no mapping) is checked against the shipped KCS codes."""
    if not mapping and set(KCS_MARK) <= {h.strip() for h in header}:
        from app.reference.service import ensure

        ensure("standard", "kcs")


def _header(reader, errors: _Errors) -> list[str] | None:
    try:
        return next(reader)
    except StopIteration:
        errors.add("file", "is empty (no header row)")
    except csv.Error as exc:
        errors.add("row 1", f"is not valid CSV: {exc}")
    return None


def _rows(reader, errors: _Errors):
    """(line number, cells) of each row that is not blank; a CSV error ends the file."""
    line = 1
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            errors.add(f"row {line + 1}", f"is not valid CSV: {exc}")
            return
        line += 1
        if cells and not all(not c.strip() for c in cells):
            yield line, cells


def _row_values(cells, header, columns: dict, line: int, errors: _Errors) -> dict | None:
    """The row's parsed values by field (None when its cells do not match the header)."""
    if len(cells) < len(header):
        errors.add(
            f"row {line}, column {header[len(cells)].strip() or len(cells) + 1}",
            f"missing: the row has {len(cells)} cells, the header has {len(header)}",
        )
        return None
    if len(cells) > len(header):
        errors.add(
            f"row {line}, column {len(header) + 1}",
            f"has no header: the row has {len(cells)} cells, the header {len(header)}",
        )
        return None
    values = {}
    for name, index in columns.items():
        kind = FIELDS[name][1]
        try:
            values[name] = _parse(kind, name, cells[index])
        except ValueError as exc:
            errors.add(f"row {line}, column {header[index]}", str(exc))
            continue
        if values[name] is None and FIELDS[name][2]:
            errors.add(f"row {line}, column {header[index]}", "is empty")
    return values


def _declaration_of(values: dict, found: dict, where, errors: _Errors) -> dict:
    """The declaration the row is an item of (``found``: number -> (declaration, its first
    row)); its header fields must repeat those of the declaration's first row."""
    number = values["number"]
    if number not in found:
        decl = {k: values.get(k) for k in DECLARATION_FIELDS}
        decl["items"] = []
        found[number] = (decl, where.line)
        return decl
    decl, first = found[number]
    for key in DECLARATION_FIELDS:
        if values.get(key) != decl[key]:
            errors.add(where(key), f"differs from row {first} of the same declaration {number}")
            break
    return decl


def _item_of(values: dict, position: int) -> dict:
    item = {k: values.get(k) for k in ITEM_FIELDS}
    item["value"] = item["value"] or 0.0
    item["line_no"] = position
    item["label_fraud"] = values.get("fraud")
    item["label_critical"] = values.get("critical")
    item["_fraud_type"] = values.get("fraud_type")
    item["_revenue"] = values.get("revenue_recovered")
    return item


class _Where:
    """Names a cell in an error: "row 7, column Office ID" (the field's name when the file
    has no column for it)."""

    def __init__(self, header, columns: dict, line: int):
        self.header, self.columns, self.line = header, columns, line

    def __call__(self, key: str) -> str:
        column = self.header[self.columns[key]] if key in self.columns else key
        return f"row {self.line}, column {column}"


def _read(path_or_file, mapping, errors: _Errors):
    """Validate the whole file; returns (ordered declarations dict, row count)."""
    # strict: a stray quote ("a"b) is an error rather than silently merged text.
    reader = csv.reader(io.StringIO(_read_text(path_or_file), newline=""), strict=True)
    header = _header(reader, errors)
    if header is None:
        return {}, 0
    columns = _resolve_columns(header, mapping, errors)
    if errors:
        return {}, 0
    _bring_kcs_codes(header, mapping)
    codes = Codes()
    found: dict[str, tuple[dict, int]] = {}
    rows = 0
    for line, cells in _rows(reader, errors):
        rows += 1
        values = _row_values(cells, header, columns, line, errors)
        if values is None:
            continue
        _check_row(values, columns, header, line, codes, errors)
        if errors:
            continue
        decl = _declaration_of(values, found, _Where(header, columns, line), errors)
        decl["items"].append(_item_of(values, len(decl["items"]) + 1))
    return {number: decl for number, (decl, _first) in found.items()}, rows


def _control_result(items: list[dict]) -> dict | None:
    """The declaration's control result from its rows' labels (None without labels)."""
    labels = [i["label_fraud"] for i in items if i["label_fraud"] is not None]
    if not labels:
        return None
    fraud = any(labels)
    critical = max((i["label_critical"] or 0) for i in items)
    fraud_type = next((i["_fraud_type"] for i in items if i["_fraud_type"]), None)
    revenue = sum(i["_revenue"] or 0 for i in items)
    lines = [str(i["line_no"]) for i in items if i["label_fraud"]]
    findings = (
        f"Imported label: fraud on item(s) {', '.join(lines)}"
        f"{' (threatens public safety)' if critical == 2 else ''}."
        if fraud
        else "Imported label: no fraud found."
    )
    return {
        "is_inspected": True,
        "is_compliant": not fraud,
        "fraud_type": (fraud_type or "other") if fraud else None,
        "is_critical": critical == 2,
        "revenue_recovered": revenue,
        "findings": findings,
        "is_goods_seized": False,
        "source": "csv",
    }


def _existing_numbers(numbers: list[str]) -> set[str]:
    found: set[str] = set()
    for start in range(0, len(numbers), 500):
        chunk = numbers[start : start + 500]
        found.update(
            db.session.scalars(select(Declaration.number).where(Declaration.number.in_(chunk)))
        )
    return found


def _plan(declarations: dict, rows: int, on_duplicate: str, dry_run: bool, errors) -> tuple:
    """The declarations to write (a number already stored is an error, or skipped) and the
    report that counts them."""
    report = ImportReport(rows=rows, dry_run=dry_run)
    existing = _existing_numbers(list(declarations))
    if existing and on_duplicate == "error":
        for number in sorted(existing)[:MAX_ERRORS]:
            errors.add(f"declaration {number}", "already exists (import it once)")
        raise ValidationError(errors.fields)
    report.skipped_existing = len(existing)
    todo = [d for n, d in declarations.items() if n not in existing]
    report.declarations = len(todo)
    report.items = sum(len(d["items"]) for d in todo)
    report.control_results = sum(1 for d in todo if _control_result(d["items"]) is not None)
    return todo, report


def _insert(batch: list[dict], owner, handling_code: str, now, actor) -> list[int]:
    """One batch of declarations, their items and labelled control results, in three
    multi-row statements; returns the declarations' ids in the batch's order."""
    decl_rows = [
        {
            **{k: d[k] for k in DECLARATION_FIELDS},
            "source": "csv",
            "unit_id": owner,
            "handling_code": handling_code,
            "created_dt": now,
            "created_by_id": actor.user_id,
            "is_random_selected": False,
        }
        for d in batch
    ]
    ids = (
        db.session.execute(
            insert(Declaration).returning(Declaration.id, sort_by_parameter_order=True),
            decl_rows,
        )
        .scalars()
        .all()
    )
    item_rows, result_rows = [], []
    for decl_id, d in zip(ids, batch, strict=True):
        for item in d["items"]:
            item_rows.append(
                {
                    **{k: v for k, v in item.items() if not k.startswith("_")},
                    "declaration_id": decl_id,
                }
            )
        result = _control_result(d["items"])
        if result is not None:
            result_rows.append(
                {
                    **result,
                    "declaration_id": decl_id,
                    "recorded_dt": now,
                    "recorded_by_id": actor.user_id,
                }
            )
    db.session.execute(insert(DeclarationItem), item_rows)
    if result_rows:
        db.session.execute(insert(ControlResult), result_rows)
    return ids


def _request_indexing(report: ImportReport, request_indexing: bool | None) -> None:
    """Per-declaration indexing up to ``INDEX_PER_RECORD_LIMIT`` (or when asked); a larger
    import is left to ``tollgate search reindex``."""
    from app.core.signals import search_index_requested

    if request_indexing is None:
        request_indexing = len(report.declaration_ids) <= INDEX_PER_RECORD_LIMIT
    report.indexing = "queued" if request_indexing else "deferred"
    if request_indexing:
        for decl_id in report.declaration_ids:
            search_index_requested.send(None, record_type="declaration", record_id=decl_id)


def import_declarations(
    path_or_file,
    *,
    mapping: dict | None = None,
    actor,
    dry_run: bool = False,
    unit_id: int | None = None,
    on_duplicate: str = "error",
    handling_code: str = "P",
    request_indexing: bool | None = None,
) -> ImportReport:
    """Import declaration history from CSV; all or nothing.

    ``mapping`` maps field names (see ``FIELDS``) to the file's column names; by default the
    KCS column names are used, or columns named after the fields. ``on_duplicate`` is
    ``"error"`` (a number already in the database is an error) or ``"skip"``. The owning unit
    is ``unit_id``, else the actor's unit, else the risk data unit.

    Search indexing is requested per declaration (``search_index_requested``) for imports up
    to ``INDEX_PER_RECORD_LIMIT`` declarations; larger history imports leave it to
    ``tollgate search reindex --type declaration`` (``report.indexing == "deferred"``) unless
    ``request_indexing=True``.
    """
    actor.require("risk.profile.edit")
    if on_duplicate not in ("error", "skip"):
        raise ValidationError({"on_duplicate": "must be 'error' or 'skip'"})
    errors = _Errors()
    declarations, rows = _read(path_or_file, mapping, errors)
    if errors:
        raise ValidationError(errors.fields)
    if not declarations:
        raise ValidationError({"file": "has no data rows"})
    todo, report = _plan(declarations, rows, on_duplicate, dry_run, errors)
    if dry_run:
        return report

    from app.risk.service import owning_unit_id

    owner = owning_unit_id(actor, unit_id)
    now = now_utc()
    # A savepoint: a database error half way (a concurrent import of the same numbers)
    # leaves nothing of this import behind, whatever the caller does next.
    with db.session.begin_nested():
        for start in range(0, len(todo), _BATCH):
            batch = todo[start : start + _BATCH]
            report.declaration_ids.extend(_insert(batch, owner, handling_code, now, actor))
        trail.record(actor, "create", "declaration", None, details={"import": report.as_dict()})
    from app.risk.derived import refresh_peer_medians

    refresh_peer_medians()
    _request_indexing(report, request_indexing)
    return report
