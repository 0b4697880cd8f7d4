"""Bulk import of historical seizures: mapping, row/column errors, duplicates, dry run."""

import io

import pytest
from sqlalchemy import func, select

from app.cases import importer
from app.cases.models import Case, SeizureItem
from app.core.errors import ValidationError
from tests.cases.factories import officer

REGISTER = (
    "Date;Direction;Place;Crossing point;Commodity category;Commodity type;Quantity;Unit;"
    "Value (EUR);Description\n"
    "03.01.2025;Entry;;BCP Merdare;Cigarettes;Cigarettes;12 000;pieces;2.640,00;In a truck cabin\n"
    "17.02.2025;Exit;Customs office Prizren;;Narcotics;Cannabis;3,5;kg;8750;Hidden in tyres\n"
    "2025-03-09;import;;BCP Vërmica;Counterfeit;Sports shoes;240;pcs;10800;Fake brands\n"
)

CEN = (
    "SeizureID,SeizureDate,SeizureTime,SeizurePlace,CommodityArea,HSCode,GoodsDescription,"
    "Quantity,QuantityUnit,EstimatedValue,TransportMode,DetectionMethod,ConcealmentMethod,"
    "CountryOfDeparture,CountryOfDestination\n"
    "CEN-1,2024-11-02,14:30,BCP Jarinje,tobacco,240220,Cigarettes,40000,sticks,8800,truck,"
    "x-ray,false_compartment,TR,DE\n"
    "CEN-1,2024-11-02,14:30,BCP Jarinje,alcohol,220860,Vodka,120,l,1080,truck,x-ray,"
    "false_compartment,TR,DE\n"
    "CEN-2,2024-12-24,08:05,Prishtina Airport,currency,,Cash in luggage,25000,eur,25000,air,"
    "dog,luggage,AE,XK\n"
)


def _run(data, actor, **kw):
    mapping = kw.pop("mapping", None) or importer.suggest_mapping(importer.read_header(data))
    return importer.run_import(data, mapping, actor=actor, **kw)


def _count(db, model=Case):
    return db.session.scalar(select(func.count()).select_from(model))


def test_national_register_columns_are_recognised_and_imported(make, db):
    _, actor = officer(make)
    data = REGISTER.encode()
    mapping = importer.suggest_mapping(importer.read_header(data))
    assert mapping["event_date"] == "Date" and mapping["crossing_point"] == "Crossing point"
    assert mapping["commodity_area"] == "Commodity category"
    assert mapping["value"] == "Value (EUR)"
    dry = _run(data, actor, dry_run=True)
    assert dry.ok and (dry.rows, dry.cases, dry.items) == (3, 3, 3)
    assert _count(db) == 0  # a dry run writes nothing
    report = _run(data, actor, dry_run=False)
    assert report.ok and len(report.created) == 3
    cases = db.session.scalars(select(Case).order_by(Case.event_dt)).all()
    first = cases[0]
    assert (first.place, first.place_type, first.direction) == ("BCP Merdare", "bcp", "import")
    assert first.items[0].commodity_area == "tobacco"
    assert first.items[0].quantity_unit == "pcs" and str(first.items[0].value) == "2640.00"
    assert first.items[0].quantity == 12000
    assert first.status == "closed" and first.resolution == "confiscated"
    assert first.tasks == []
    assert cases[1].place == "Customs office Prizren" and cases[1].direction == "export"
    assert cases[1].commodity_area == "drugs"
    assert cases[2].commodity_area == "ipr"
    assert "Cannabis" in cases[1].items[0].description


def test_cen_fields_group_items_of_one_seizure(make, db):
    _, actor = officer(make)
    report = _run(CEN.encode(), actor, dry_run=False)
    assert report.ok, report.errors
    assert (report.cases, report.items) == (2, 3)
    case = db.session.scalar(select(Case).where(Case.external_ref == "import:CEN-1"))
    assert [i.commodity_area for i in case.items] == ["tobacco", "alcohol"]
    assert case.transport_mode == "road" and case.detection_method == "scanner"
    assert case.route_origin == "TR" and case.event_dt.hour == 14
    assert case.total_value == 9880


def test_invalid_rows_name_row_and_column_and_import_nothing(make, db):
    _, actor = officer(make)
    bad = REGISTER + (
        "31.02.2025;Entry;;BCP Merdare;Cigarettes;Cigarettes;ten;pieces;100;bad date, qty\n"
        "01.04.2025;sideways;;BCP Merdare;Bananas;;5;kg;-4;\n"
        "02.04.2025;Entry;;BCP Merdare;Alcohol\n"
    )
    report = _run(bad.encode(), actor, dry_run=False)
    assert not report.ok
    errors = report.errors
    assert "is not a date" in errors["row 5, column 'Date'"]
    assert "is not a number" in errors["row 5, column 'Quantity'"]
    assert "is not one of" in errors["row 6, column 'Direction'"]
    assert "is not one of" in errors["row 6, column 'Commodity category'"]
    assert errors["row 7"] == "has 5 columns, the header has 10"
    assert "row 2, column 'Date'" not in errors
    assert _count(db) == 0 and _count(db, SeizureItem) == 0


def test_duplicates_are_errors_unless_skipped(make, db):
    _, actor = officer(make)
    assert _run(CEN.encode(), actor, dry_run=False).ok
    again = _run(CEN.encode(), actor, dry_run=False)
    assert not again.ok
    assert "duplicate seizure CEN-1" in again.errors["row 2"]
    assert _count(db) == 2
    more = CEN + (
        "CEN-3,2025-01-05,10:00,BCP Jarinje,drugs,121190,Cannabis,2,kg,5000,"
        "truck,dog,vehicle_structure,AL,XK\n"
    )
    skipped = _run(more.encode(), actor, dry_run=False, skip_duplicates=True)
    assert skipped.ok and skipped.cases == 1 and len(skipped.duplicates) == 2
    assert _count(db) == 3


def test_identical_rows_without_reference_are_duplicates(make, db):
    _, actor = officer(make)
    lines = REGISTER.splitlines()
    data = "\n".join([*lines, lines[1]]).encode()
    report = _run(data, actor, dry_run=True)
    assert report.errors == {"row 5": "duplicate seizure: same as row 2"}
    assert _run(REGISTER.encode(), actor, dry_run=False).ok
    assert "already imported" in _run(REGISTER.encode(), actor).errors["row 2"]


def test_mapping_and_file_errors(make, db):
    _, actor = officer(make)
    with pytest.raises(ValidationError) as err:
        importer.run_import(
            REGISTER.encode(), {"event_date": "Datum", "quantity": "Quantity"}, actor=actor
        )
    assert "mapping.event_date" in err.value.fields
    assert "mapping.place" in err.value.fields
    with pytest.raises(ValidationError, match="UTF-8"):
        importer.read_header("Datë;Place\n".encode("cp1250"))
    with pytest.raises(ValidationError, match="appears twice"):
        importer.read_header(b"Date,date,Place\n")


def test_import_pages_upload_map_dry_run_then_import(client, login_as, db):
    login_as("enforcement_officer")
    resp = client.post(
        "/cases/import",
        data={"file": (io.BytesIO(REGISTER.encode()), "register.csv")},
        content_type="multipart/form-data",
    )
    assert resp.status_code == 200
    page = resp.get_data(as_text=True)
    assert 'name="map-crossing_point"' in page
    with client.session_transaction() as sess:
        token = sess["case_import"]
    form = {
        "token": token,
        "dry_run": "y",
        "handling_code": "P",
        "place_type": "",
        **{
            f"map-{k}": v
            for k, v in importer.suggest_mapping(importer.read_header(REGISTER.encode())).items()
        },
    }
    resp = client.post("/cases/import/run", data=form)
    assert "Dry run passed" in resp.get_data(as_text=True)
    assert _count(db) == 0
    form.pop("dry_run")
    resp = client.post("/cases/import/run", data=form)
    assert resp.status_code == 302
    assert _count(db) == 3
    # The stored upload is gone: replaying the form cannot import twice.
    resp = client.post("/cases/import/run", data=form)
    assert resp.status_code == 302 and _count(db) == 3
