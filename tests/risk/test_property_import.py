"""Property tests of the declaration history import (issue #9, hostile input).

Valid random files (KCS columns in any order, or renamed columns with a mapping; several items
per declaration, blank lines, a BOM) import completely. The same files with one corrupted
cell or row (bad numbers, dates, HS and country codes, cells too many or too few, empty
required cells, NUL and control characters, bytes that are not UTF-8, huge values,
formula-like text, a stray quote) raise one ValidationError naming that row and column, and
leave the database exactly as it was: no declaration, item, control result or trail row.
"""

import io
from dataclasses import dataclass
from datetime import date

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st
from sqlalchemy import select

from app.core.errors import ValidationError
from app.risk.importer import FIELDS, MAX_NUMBER, MAX_TEXT, _column_length, import_declarations
from app.risk.models import Declaration, DeclarationItem
from app.security.access import Actor
from tests.hostile_csv import (
    BAD_DATES,
    BAD_NUMBERS,
    CONTROL,
    FORMULAS,
    NOT_UTF8,
    NUL,
    STRAY_QUOTE,
    Raw,
    db_settings,
    render,
    savepoint,
    table_counts,
)

ACTOR = Actor.system("property-import")
CODE_ALPHABET = "ABCXYZ0123456789-/_. "
#: codes of the reference lists the tests start with (app.reference: standard, demo, kcs)
LISTED = {
    "office": ["BCP-N", "PORT-S", "30", "154"],
    "procedure": ["4000", "B"],
    "transport_mode": ["3", "10", "40"],
    "tax_type": ["A", "W2", "FCN1"],
}
COUNTRIES = ["US", "CN", "DE", "KR", "BV", "XK", "ZZ"]
#: the intake's caps (app.risk.intake): a valid file stays below them
CAPS = {"value": 1e12, "mass_kg": 1e9, "quantity": 1e12, "tax_rate": 100.0}
FRAUD_TYPES = ["undervaluation", "misclassification"]


def _limit(name):
    """The length of the column a code is stored in (String(20) for procedure ...)."""
    return _column_length(name)


def code(name, required=False):
    if name in LISTED:
        listed = st.sampled_from(LISTED[name])
        return listed if required else st.just("") | listed
    text = st.text(CODE_ALPHABET, min_size=1, max_size=_limit(name)).filter(str.strip)
    formula = st.sampled_from([f for f in FORMULAS if len(f) <= _limit(name)])
    value = text | formula
    return value if required else st.just("") | value


def number_text(cap=MAX_NUMBER):
    return st.one_of(
        st.integers(0, min(10**9, int(cap))).map(str),
        st.floats(0, cap, allow_nan=False, allow_infinity=False).map(repr),
        st.integers(min(1000, int(cap)), min(10**9, int(cap))).map("{:,}".format),  # 1,000
        st.decimals(0, min(10**6, int(cap)), places=2).map(lambda d: f"{d:,.2f}"),
        st.sampled_from(["0", "0.0", ".5", "2.5E-2", "+7", *(["1e3"] if cap >= 1e3 else [])]),
    )


NUMBER_TEXT = number_text()


def _cell(name, kind, required):
    if kind == "code":
        return code(name, required)
    if kind == "text":
        return (
            st.just("")
            # (csv.writer quotes a cell holding \r only when \r is in its line terminator)
            | st.text(st.characters(blacklist_characters="\x00\r"), max_size=60)
            | st.sampled_from(FORMULAS)
        )
    if kind == "date":  # history: any past date (none after today)
        return st.dates(date(1900, 1, 1), date.today()).map(lambda d: d.isoformat())
    if kind == "hs":
        return st.text("0123456789", min_size=4, max_size=10) | st.sampled_from(
            ["0808.10", "8517 62"]
        )
    if kind == "country":
        value = st.sampled_from(COUNTRIES) | st.sampled_from(COUNTRIES).map(str.lower)
        return value if required else st.just("") | value
    if kind == "number":
        value = number_text(CAPS.get(name, MAX_NUMBER))
        return value if required else st.just("") | value
    if kind == "flag":
        return st.sampled_from(["", "0", "1"])
    if kind == "critical":
        return st.sampled_from(["", "0", "1", "2"])
    if kind == "fraud_type":
        return st.sampled_from(["", *FRAUD_TYPES])
    raise AssertionError(kind)


DECLARATION_LEVEL = [
    n
    for n in FIELDS
    if n
    in (
        "number",
        "declaration_date",
        "office",
        "procedure",
        "import_type",
        "import_use",
        "payment_type",
        "transport_mode",
        "declarant_code",
        "importer_code",
        "seller_code",
        "courier_code",
    )
]


@dataclass
class File:
    header: list[str]
    #: field -> column name
    columns: dict
    #: data records (lists of cells, one per header column; [] is a blank line)
    records: list
    mapping: dict | None
    declarations: int
    items: int
    labelled: int

    def data(self, records=None, **kw) -> bytes:
        return render([self.header, *(self.records if records is None else records)], **kw)

    def row_numbers(self):
        """(index in records, row number as reported) of the non-blank records."""
        return [(i, i + 2) for i, r in enumerate(self.records) if r]


@st.composite
def valid_files(draw):
    optional = [n for n, (_c, _k, required) in FIELDS.items() if not required]
    chosen = [n for n, (_c, _k, required) in FIELDS.items() if required]
    chosen += draw(st.lists(st.sampled_from(optional), unique=True, max_size=len(optional)))
    chosen = draw(st.permutations(chosen))
    renamed = draw(st.booleans())
    if renamed:
        columns = {n: f"col {i} {n[:3]}" for i, n in enumerate(chosen)}
    else:
        columns = {n: FIELDS[n][0] for n in chosen}
    numbers = draw(
        st.lists(code("number", required=True).map(str.strip), min_size=1, max_size=4, unique=True)
    )
    rows, labelled = [], 0
    for number in numbers:
        shared = {
            n: draw(_cell(n, FIELDS[n][1], FIELDS[n][2]))
            for n in chosen
            if n in DECLARATION_LEVEL and n != "number"
        }
        shared["number"] = number
        size = draw(st.integers(1, 3))
        flags = []
        for _ in range(size):
            row = {n: draw(_cell(n, FIELDS[n][1], FIELDS[n][2])) for n in chosen}
            row.update(shared)
            rows.append(row)
            flags.append(row.get("fraud", ""))
        labelled += any(f in ("0", "1") for f in flags)
    rows = draw(st.permutations(rows))
    records = [[row[n] for n in chosen] for row in rows]
    for _ in range(draw(st.integers(0, 2))):  # blank lines are skipped but keep their number
        records.insert(draw(st.integers(0, len(records))), [])
    return File(
        header=[columns[n] for n in chosen],
        columns=columns,
        records=records,
        mapping=columns if renamed else None,
        declarations=len(numbers),
        items=len(rows),
        labelled=labelled,
    )


def _bad_cell(draw, name, kind):
    """A value the column must refuse."""
    common = [NUL, NOT_UTF8]
    if kind != "text":
        common.append(CONTROL)
    specific = {
        "number": [
            BAD_NUMBERS,
            st.just("-5"),
            st.just("9" * 30),
            st.just("1e999"),
            # over the column's cap: 5000 is over the tax rate's (100), not the price's
            *[st.just(v) for v in ("5000", "1e13") if name in CAPS and float(v) > CAPS[name]],
        ],
        "date": [BAD_DATES, st.just("2999-01-01")],
        "hs": [
            st.sampled_from(
                ["12", "abcd", "12345678901", "\u0663\u0663\u0663\u0663", "=SUM(A1)", "08-08"]
            )
        ],
        "country": [st.sampled_from(["USA", "U", "12", "ÄÖ", "=A", "U S", "XX", "QQ"])],
        "code": [
            st.integers(1, 200).map(lambda n: "X" * (_limit(name) + n)),
            *([st.just("NOT-LISTED")] if name in LISTED else []),
        ],
        "text": [st.just("x" * (MAX_TEXT + 1))],
        "flag": [st.sampled_from(["2", "yes", "true", "01"])],
        "critical": [st.sampled_from(["3", "-1", "high"])],
        "fraud_type": [st.sampled_from(["unknown", "Undervaluation", "=1"])],
    }[kind]
    return draw(st.one_of(*common, *specific))


@st.composite
def corrupted_files(draw):
    """(file, corrupted records, the key its one error must have)."""
    f = draw(valid_files())
    index, row = draw(st.sampled_from(f.row_numbers()))
    records = [list(r) for r in f.records]
    how = draw(st.sampled_from(["cell", "cell", "cell", "empty", "few", "many", "quote"]))
    names = list(f.columns)
    if how == "cell":
        column = draw(st.integers(0, len(names) - 1))
        name = names[column]
        records[index][column] = _bad_cell(draw, name, FIELDS[name][1])
        return f, records, f"row {row}, column {f.header[column]}"
    if how == "empty":
        required = [i for i, n in enumerate(names) if FIELDS[n][2]]
        column = draw(st.sampled_from(required))
        records[index][column] = draw(st.sampled_from(["", "  "]))
        assume(any(c.strip() for c in records[index] if isinstance(c, str)))
        return f, records, f"row {row}, column {f.header[column]}"
    if how == "few":
        keep = draw(st.integers(1, len(names) - 1))
        records[index] = records[index][:keep]
        assume(any(c.strip() for c in records[index]))  # an all-blank row is skipped
        return f, records, f"row {row}, column {f.header[keep]}"
    if how == "many":
        extra = draw(st.lists(st.sampled_from(["", "x", "1"]), min_size=1, max_size=3))
        records[index] = records[index] + extra
        return f, records, f"row {row}, column {len(names) + 1}"
    column = draw(st.integers(0, len(names) - 1))
    records[index][column] = draw(STRAY_QUOTE)
    return f, records, f"row {row}"


def _run(data, f, **kw):
    return import_declarations(
        io.BytesIO(data), mapping=f.mapping, actor=ACTOR, request_indexing=False, **kw
    )


@db_settings(25)
@given(f=valid_files(), bom=st.booleans(), newline=st.sampled_from(["\r\n", "\n"]))
def test_a_valid_file_imports_completely(db, f, bom, newline):
    before = table_counts(db)
    with savepoint(db):
        report = _run(f.data(bom=bom, newline=newline), f)
        assert (report.declarations, report.items) == (f.declarations, f.items)
        assert report.control_results == f.labelled
        after = table_counts(db)
        assert after["risk_declaration"] - before["risk_declaration"] == f.declarations
        assert after["risk_declaration_item"] - before["risk_declaration_item"] == f.items
        assert after["risk_control_result"] - before["risk_control_result"] == f.labelled
        assert after["access_event"] - before["access_event"] == 1  # one trail row per import
        # Every row's HS code arrived, under its declaration (formula-like codes as text).
        column = f.header.index(f.columns["hs_code"])
        number_col = f.header.index(f.columns["number"])
        wanted = sorted(
            (r[number_col].strip(), r[column].replace(".", "").replace(" ", ""))
            for r in f.records
            if r
        )
        stored = sorted(
            db.session.execute(
                select(Declaration.number, DeclarationItem.hs_code).join(DeclarationItem)
            ).all()
        )
        assert [tuple(s) for s in stored] == wanted
    assert table_counts(db) == before


@db_settings(60)
@given(case=corrupted_files(), dry_run=st.booleans())
def test_a_corrupted_file_names_row_and_column_and_imports_nothing(db, case, dry_run):
    f, records, key = case
    before = table_counts(db)
    with savepoint(db):
        with pytest.raises(ValidationError) as exc:
            _run(f.data(records), f, dry_run=dry_run)
        assert set(exc.value.fields) == {key}, (exc.value.fields, key)
        assert table_counts(db) == before
    assert table_counts(db) == before


def test_number_edge_cases_are_read_exactly(db):
    """The numbers the properties rely on, pinned: 1,234.5 is a thousands separator, 1,5 is
    an error (never fifteen), huge and non-ASCII numbers are refused."""
    header = ["Declaration ID", "Date", "Office ID", "HS6 Code", "Item Price"]

    def run(price):
        data = render([header, ["D1", "2024-01-01", "30", "0808", price]])
        return import_declarations(io.BytesIO(data), actor=ACTOR, request_indexing=False)

    run("1,234.5")
    assert db.session.scalar(select(DeclarationItem.value)) == 1234.5
    for bad, message in [
        ("1,5", "is not a number"),
        ("1e16", "is too large"),
        ("\u0661", "is not a number"),
        ("-0.5", "is negative"),
    ]:
        with pytest.raises(ValidationError) as exc:
            run(bad)
        assert message in exc.value.fields["row 2, column Item Price"]


def test_a_cell_beyond_the_csv_field_limit_is_a_row_error(db):
    before = table_counts(db)  # the reference lists the tests start with
    header = ["Declaration ID", "Date", "Office ID", "HS6 Code", "Item Price", "Description"]
    data = render([header, ["D1", "2024-01-01", "30", "0808", "1", "x" * 200_000]])
    with pytest.raises(ValidationError) as exc:
        import_declarations(io.BytesIO(data), actor=ACTOR)
    assert list(exc.value.fields) == ["row 2"]
    assert table_counts(db) == before


def test_header_problems_name_the_header_cell(db):
    header = ["Declaration ID", "Date", "Office ID", "HS6 Code", "Item Price", "Date"]
    data = render([header, ["D1", "2024-01-01", "30", "0808", "1", "2024-01-01"]])
    with pytest.raises(ValidationError) as exc:
        import_declarations(io.BytesIO(data), actor=ACTOR)
    assert exc.value.fields == {"row 1, column 6": "the column name 'Date' appears twice"}
    data = render([[*header[:5], Raw(b"Not\xffUTF8")], ["D1", "2024-01-01", "30", "0808", "1", ""]])
    with pytest.raises(ValidationError) as exc:
        import_declarations(io.BytesIO(data), actor=ACTOR)
    assert list(exc.value.fields) == ["row 1, column 6"]
