"""Property tests of the entity CSV import with a mapping (issue #9, hostile input).

Valid random files (mapped columns in any order, blank lines, a BOM, formula-like and
non-Latin names, aliases, identifiers, attributes) import completely: one entity per row.
The same files with one corrupted cell or row (unknown types, empty or overlong names, bad
identifiers and handling codes, NUL and control characters, bytes that are not UTF-8,
huge cells, cells too many or too few, a stray quote) raise one ValidationError naming that
row and column, and leave every table of the database as it was (entities, identifiers,
resolution candidates, the search queue and the access trail included).
"""

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st
from sqlalchemy import select

from app.core.errors import ValidationError
from app.intel import importer
from app.intel.models import Entity
from tests.hostile_csv import (
    FORMULAS,
    NOT_UTF8,
    NUL,
    STRAY_QUOTE,
    db_settings,
    render,
    savepoint,
    table_counts,
)
from tests.intel.factories import officer

#: field -> the file's column name (renamed, so the mapping is what finds them)
COLUMNS = {
    "type": "Kind",
    "name": "Company / person name",
    "aliases": "Also known as",
    "handling_code": "Handling",
    "identifiers.eori": "EORI",
    "attributes.city": "City",
}
TYPES = ["organisation", "Organisation", "person", "PERSON", "identity document", "address"]
#: control characters the import refuses (tab and line breaks are whitespace in a name)
CONTROL = st.sampled_from(["a\x07b", "\x1b[31m", "x\x08", "\x7f"])


def _name():
    plain = st.text(
        st.characters(blacklist_categories=("Cs", "Cc")), min_size=1, max_size=80
    ).filter(lambda t: t.split())
    return plain | st.sampled_from(
        [*FORMULAS, "Дрина Трејд", "شركة التجارة", "  spaced   out  ", "O'Brien & Sons"]
    )


@st.composite
def valid_files(draw):
    fields = [
        "name",
        *draw(st.lists(st.sampled_from(sorted(set(COLUMNS) - {"name"})), unique=True)),
    ]
    fields = draw(st.permutations(fields))
    size = draw(st.integers(1, 5))
    eoris = draw(st.lists(st.integers(10**8, 10**9 - 1), min_size=size, max_size=size, unique=True))
    rows = []
    for n in range(size):
        etype = draw(st.sampled_from(TYPES))
        values = {
            "type": etype,
            "name": draw(_name()),
            "aliases": draw(st.sampled_from(["", "Alias One", "A;B; C ", "=1+2;@x"])),
            "handling_code": draw(st.sampled_from(["", "P", "p"])),
            # EORI applies to organisations and persons only
            "identifiers.eori": (
                f"XK{eoris[n]}"
                if etype.lower() in ("organisation", "person") and draw(st.booleans())
                else ""
            ),
            "attributes.city": draw(st.sampled_from(["", "Pristina", "=cmd|' /C calc'!A0", "Peć"])),
        }
        if "type" not in fields:
            values["type"] = "organisation"  # the import's default type
            if not draw(st.booleans()):
                values["identifiers.eori"] = ""
        rows.append(values)
    records = [[r[f] for f in fields] for r in rows]
    for _ in range(draw(st.integers(0, 2))):
        records.insert(draw(st.integers(0, len(records))), [])
    return fields, rows, records


def _mapping(fields):
    return {f: COLUMNS[f] for f in fields}


def _data(fields, records, **kw):
    return render([[COLUMNS[f] for f in fields], *records], **kw)


@pytest.fixture
def actor(make):
    return officer(make)[1]


@db_settings(25)
@given(case=valid_files(), bom=st.booleans())
def test_a_valid_file_imports_one_entity_per_row(db, actor, case, bom):
    fields, rows, records = case
    before = table_counts(db)
    with savepoint(db):
        summary = importer.import_csv(
            _data(fields, records, bom=bom), "entities", actor=actor, mapping=_mapping(fields)
        )
        assert summary.rows == len(rows) and len(summary.created) == len(rows)
        assert summary.reused == []
        stored = db.session.scalars(select(Entity).where(Entity.id.in_(summary.created))).all()
        assert sorted(e.name for e in stored) == sorted(" ".join(r["name"].split()) for r in rows)
        for entity in stored:  # formula-like text is kept as text
            assert entity.provenance_type == "import"
        if "attributes.city" in fields:
            cities = sorted(e.attributes.get("city", "") for e in stored)
            assert cities == sorted(r["attributes.city"] for r in rows)
        after = table_counts(db)
        assert after["entity"] - before["entity"] == len(rows)
        assert after["access_event"] - before["access_event"] >= len(rows)
    assert table_counts(db) == before


def _bad(draw, field):
    common = [NUL, NOT_UTF8, CONTROL, st.just("x" * (importer.MAX_CELL + 1))]
    specific = {
        "type": [st.sampled_from(["spaceship", "=1+2", "organisation!", "org", "0"])],
        "name": [st.sampled_from(["", "   ", "x" * 301])],
        "identifiers.eori": [st.sampled_from(["12345", "X", "=1+2", "XK-12-!!", "XK" + "9" * 16])],
        "handling_code": [st.sampled_from(["X", "PP", "=1", "0"])],
        "aliases": [],
        "attributes.city": [],
    }[field]
    return draw(st.one_of(*common, *specific))


@st.composite
def corrupted_files(draw):
    fields, rows, records = draw(valid_files())
    rows_at = [(i, i + 2) for i, r in enumerate(records) if r]
    index, row = draw(st.sampled_from(rows_at))
    records = [list(r) for r in records]
    how = draw(st.sampled_from(["cell", "cell", "cell", "few", "many", "quote"]))
    header = [COLUMNS[f] for f in fields]
    if how == "cell":
        column = draw(st.integers(0, len(fields) - 1))
        field = fields[column]
        if field == "identifiers.eori" and "type" in fields:
            records[index][fields.index("type")] = "organisation"  # so an EORI applies
        records[index][column] = _bad(draw, field)
        # A row whose cells are all blank is skipped, not an error.
        assume(any(isinstance(c, bytes) or c.strip() for c in records[index]))
        return fields, records, f"row {row}: {header[column]}"
    if how == "few":
        assume(len(fields) > 1)
        keep = draw(st.integers(1, len(fields) - 1))
        records[index] = records[index][:keep]
        assume(any(c.strip() for c in records[index]))  # an all-blank row is skipped
        return fields, records, f"row {row}: {header[keep]}"
    if how == "many":
        records[index] = records[index] + draw(st.lists(st.just("x"), min_size=1, max_size=3))
        return fields, records, f"row {row}: column {len(fields) + 1}"
    column = draw(st.integers(0, len(fields) - 1))
    records[index][column] = draw(STRAY_QUOTE)
    return fields, records, f"row {row}"


@db_settings(60)
@given(case=corrupted_files())
def test_a_corrupted_file_names_row_and_column_and_imports_nothing(db, actor, case):
    fields, records, key = case
    before = table_counts(db)
    with savepoint(db):
        with pytest.raises(ValidationError) as exc:
            importer.import_csv(
                _data(fields, records), "entities", actor=actor, mapping=_mapping(fields)
            )
        assert set(exc.value.fields) == {key}, (exc.value.fields, key)
        # All or nothing by itself: the rows before the bad one were rolled back too.
        assert table_counts(db) == before
    assert table_counts(db) == before


def test_a_file_not_in_utf8_is_refused_as_a_whole(db, actor):
    data = "Name,City\nDrina Tradë,Pejë\n".encode("utf-16")
    with pytest.raises(ValidationError) as exc:
        importer.import_csv(data, "entities", actor=actor, mapping={"name": "Name"})
    assert list(exc.value.fields) == ["file"] and "UTF-8" in exc.value.fields["file"]


def test_a_repeated_column_name_is_refused(db, actor):
    data = b"Name,City,Name\nA,B,C\n"
    with pytest.raises(ValidationError) as exc:
        importer.import_csv(data, "entities", actor=actor, mapping={"name": "Name"})
    assert exc.value.fields == {"file": "row 1: column name 'Name' appears twice"}


def test_rows_before_a_bad_row_are_not_left_behind(db, actor):
    """The import undoes its own work: a caller that forgets to roll back keeps nothing."""
    before = table_counts(db)
    data = b"type,name\norganisation,Good Co\nperson,Good Person\nspaceship,Bad\n"
    with pytest.raises(ValidationError) as exc:
        importer.import_csv(data, "entities", actor=actor)
    assert exc.value.fields == {"row 4: type": "unknown entity type 'spaceship'"}
    assert table_counts(db) == before
