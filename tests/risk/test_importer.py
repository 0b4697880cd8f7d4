"""CSV import of declaration history: KCS files as they are, mappings, precise errors."""

import io

import pytest
from sqlalchemy import func, select

from app.core.errors import ValidationError
from app.risk.importer import import_declarations
from app.risk.models import ControlResult, Declaration, DeclarationItem
from app.security.access import Actor

HEADER = (
    "Declaration ID,Date,Office ID,Process Type,Import Type,Import Use,Payment Type,"
    "Mode of Transport,Declarant ID,Importer ID,Seller ID,Courier ID,HS6 Code,"
    "Country of Departure,Country of Origin,Tax Rate,Tax Type,"
    "Country of Origin Indicator,Net Mass,Item Price,Fraud,Critical Fraud"
)


def _csv(*rows):
    return io.StringIO("\n".join([HEADER, *rows]) + "\n")


ROW_A = (
    "97061800,2020-01-01,30,B,11,21,11,10,ZZR1LT6,QLRUBN9,0VKY2BR,,"
    "440890,BE,BE,0.0,FEU1,G,108.0,372254.4,0,0"
)
ROW_B = (
    "85945189,2020-01-02,40,B,11,21,11,40,SWF9S4X,7JD1S2X,8WDKMC6,,"
    "690722,CN,CN,8.0,A,Y,11352.0,375751.2,1,2"
)
ROW_B2 = (
    "85945189,2020-01-02,40,B,11,21,11,40,SWF9S4X,7JD1S2X,8WDKMC6,,"
    "620822,CN,VN,5.2,A,Y,20.7,5353.02,0,0"
)


def count(db, model):
    return db.session.scalar(select(func.count()).select_from(model))


def test_kcs_rows_become_declarations_items_and_results(db, make):
    report = import_declarations(_csv(ROW_A, ROW_B, ROW_B2), actor=Actor.system())
    assert (report.declarations, report.items, report.control_results) == (2, 3, 2)
    decl = db.session.scalar(select(Declaration).where(Declaration.number == "85945189"))
    assert decl.office == "40" and decl.transport_mode == "40"
    assert decl.importer_code == "7JD1S2X" and decl.courier_code is None
    assert [i.hs_code for i in decl.items] == ["690722", "620822"]
    assert decl.items[1].origin_country == "VN" and decl.items[1].tax_rate == 5.2
    result = decl.control_result
    assert result.is_inspected and result.is_compliant is False and result.is_critical
    assert result.fraud_type == "other"
    clean = db.session.scalar(select(Declaration).where(Declaration.number == "97061800"))
    assert clean.control_result.is_compliant is True
    assert clean.unit_id is not None


def test_errors_name_row_and_column_and_nothing_is_written(db):
    bad = ROW_B.replace("11352.0", "heavy").replace(",CN,CN,", ",CN,CHINA,")
    with pytest.raises(ValidationError) as exc:
        import_declarations(_csv(ROW_A, bad), actor=Actor.system())
    assert "row 3, column Net Mass" in exc.value.fields
    assert "not a number" in exc.value.fields["row 3, column Net Mass"]
    assert "row 3, column Country of Origin" in exc.value.fields
    assert count(db, Declaration) == 0 and count(db, DeclarationItem) == 0


def test_missing_column_and_inconsistent_duplicate_rows(db):
    text = io.StringIO("Declaration ID,Date,Office ID\n1,2020-01-01,30\n")
    with pytest.raises(ValidationError) as exc:
        import_declarations(text, actor=Actor.system())
    assert "column HS6 Code" in exc.value.fields
    other_office = ROW_B2.replace(",2020-01-02,40,", ",2020-01-02,41,")
    with pytest.raises(ValidationError) as exc:
        import_declarations(_csv(ROW_B, other_office), actor=Actor.system())
    assert exc.value.fields == {
        "row 3, column Office ID": "differs from row 2 of the same declaration 85945189"
    }


def test_mapping_dry_run_and_duplicates(db, make):
    text = "no,day,post,hs,value,origin\nX-1,2024-05-01,BCP-N,8517620000,1200.5,cn\n"
    mapping = {
        "number": "no",
        "declaration_date": "day",
        "office": "post",
        "hs_code": "hs",
        "value": "value",
        "origin_country": "origin",
    }
    report = import_declarations(
        io.StringIO(text), mapping=mapping, actor=Actor.system(), dry_run=True
    )
    assert report.declarations == 1 and count(db, Declaration) == 0
    import_declarations(io.StringIO(text), mapping=mapping, actor=Actor.system())
    assert count(db, ControlResult) == 0
    item = db.session.scalar(select(DeclarationItem))
    assert item.origin_country == "CN" and item.hs_code == "8517620000"
    with pytest.raises(ValidationError) as exc:
        import_declarations(io.StringIO(text), mapping=mapping, actor=Actor.system())
    assert exc.value.fields == {"declaration X-1": "already exists (import it once)"}
    report = import_declarations(
        io.StringIO(text), mapping=mapping, actor=Actor.system(), on_duplicate="skip"
    )
    assert report.skipped_existing == 1 and report.declarations == 0
    with pytest.raises(ValidationError) as exc:
        import_declarations(io.StringIO(text), mapping={"colour": "x"}, actor=Actor.system())
    assert "mapping.colour" in exc.value.fields


def test_permission_required(db, make):
    from app.security.access import AccessDenied

    officer = make.actor(make.user(roles=["enforcement_officer"]))
    with pytest.raises(AccessDenied):
        import_declarations(_csv(ROW_A), actor=officer)


@pytest.mark.data
def test_kcs_train_file_imports(db, shared_data):
    report = import_declarations(shared_data / "kcs" / "train.csv", actor=Actor.system())
    assert report.declarations == 37385 and report.items == 37385
    assert count(db, ControlResult) == 37385
    fraud = db.session.scalar(
        select(func.count()).select_from(ControlResult).where(ControlResult.is_compliant.is_(False))
    )
    assert fraud == 8114


def test_cli_import_reports_errors_and_imports(runner, db, tmp_path):
    good = tmp_path / "history.csv"
    good.write_text("\n".join([HEADER, ROW_A, ROW_B]) + "\n")
    result = runner.invoke(args=["risk", "import", str(good)])
    assert result.exit_code == 0, result.output
    assert '"declarations": 2' in result.output
    bad = tmp_path / "bad.csv"
    bad.write_text("\n".join([HEADER, ROW_A.replace("2020-01-01", "01/01/2020")]) + "\n")
    result = runner.invoke(args=["risk", "import", str(bad)])
    assert result.exit_code == 1
    assert "row 2, column Date: '01/01/2020' is not a date (YYYY-MM-DD)" in result.output
