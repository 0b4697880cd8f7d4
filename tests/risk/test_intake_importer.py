"""The KCS importer applies the intake's rules and names the row and column (issue 17 item 1)."""

import io
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from app.core.errors import ValidationError
from app.reference.models import ReferenceEntry
from app.risk.importer import import_declarations
from app.risk.models import Declaration
from app.security.access import Actor
from tests.audit.factories import KCS_HEADER, kcs_row

ACTOR = Actor.system("intake-import")
DAY = date.today() - timedelta(days=400)


def _csv(rows, header=KCS_HEADER) -> io.BytesIO:
    lines = [",".join(header)] + [",".join(str(r.get(h, "")) for h in header) for r in rows]
    return io.BytesIO(("\n".join(lines) + "\n").encode())


def _errors(rows, header=KCS_HEADER, mapping=None):
    with pytest.raises(ValidationError) as exc:
        import_declarations(_csv(rows, header), actor=ACTOR, mapping=mapping)
    return exc.value.fields


@pytest.mark.parametrize(
    ("change", "column", "message"),
    [
        ({"Office ID": "999"}, "Office ID", "'999' is not in the list of customs offices"),
        ({"Mode of Transport": "77"}, "Mode of Transport", "'77' is not in the list of transport"),
        ({"Country of Origin": "XX"}, "Country of Origin", "'XX' is not in the list of countries"),
        ({"Process Type": "Q"}, "Process Type", "'Q' is not in the list of procedure codes"),
        ({"Tax Type": "NOPE"}, "Tax Type", "'NOPE' is not in the list of tax types"),
        ({"Tax Rate": "5000"}, "Tax Rate", "5000 % is above 100 %"),
        ({"Item Price": "1e13"}, "Item Price", "is above the highest accepted"),
        ({"Net Mass": "2e9"}, "Net Mass", "is above the highest accepted"),
        ({"Date": "2020-01-01 10:00"}, "Date", "is not a date (YYYY-MM-DD)"),
        ({"Date": (date.today() + timedelta(days=400)).isoformat()}, "Date", "days after today"),
    ],
)
def test_a_bad_cell_is_named_by_row_and_column(db, change, column, message):
    rows = [kcs_row(day=DAY), {**kcs_row(day=DAY), **change}]
    errors = _errors(rows)
    assert message in errors[f"row 3, column {column}"], errors
    assert db.session.scalar(select(func.count(Declaration.id))) == 0


def test_history_may_be_old_and_kcs_rates_above_100_import(db):
    old = kcs_row(day=date(2001, 1, 1), tax=754.3)
    old["Tax Type"] = "W2"
    report = import_declarations(_csv([old, kcs_row(day=DAY)]), actor=ACTOR)
    assert report.declarations == 2


def test_a_kcs_file_brings_its_codes_another_file_does_not(db):
    """The KCS header adds the shipped KCS codes (when missing); a file with a mapping is
    checked against the lists as the administrator keeps them."""
    db.session.execute(ReferenceEntry.__table__.delete().where(ReferenceEntry.code == "30"))
    renamed = {h: f"c{i}" for i, h in enumerate(KCS_HEADER)}
    mapping = {
        "number": renamed["Declaration ID"],
        "declaration_date": renamed["Date"],
        "office": renamed["Office ID"],
        "hs_code": renamed["HS6 Code"],
        "value": renamed["Item Price"],
    }
    rows = [{renamed[k]: v for k, v in kcs_row(day=DAY).items()}]
    errors = _errors(rows, header=list(renamed.values()), mapping=mapping)
    assert errors == {"row 2, column c2": "'30' is not in the list of customs offices"}
    report = import_declarations(_csv([kcs_row(day=DAY)]), actor=ACTOR)
    assert report.declarations == 1


def test_the_real_kcs_files_import(db, shared_data):
    # Start from the standard lists only: the importer brings the KCS codes itself.
    db.session.execute(ReferenceEntry.__table__.delete())
    from app.reference.service import ensure

    ensure("standard")
    total = 0
    for name in ("train.csv", "valid.csv"):
        report = import_declarations(
            shared_data / "kcs" / name, actor=ACTOR, request_indexing=False
        )
        total += report.rows
    assert total == 37_385 + 8_134
