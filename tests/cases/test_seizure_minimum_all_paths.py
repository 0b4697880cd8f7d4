"""Issue 19 item 2 / issue 21: the minimum seizure record (a place of the reference list, a
date not in the future, an item with its commodity and quantity) was enforced on the web form
only. The API now refuses a seizure without it (422 naming each missing field, as the form
does, one check: app.cases.seizures), and a seizure opened from a control result whose
declaration lacks part of it opens (the control result is a fact) with a journal entry, a task
and a warning on the case page naming what is missing."""

from datetime import timedelta

import pytest
from sqlalchemy import select

from app.cases import from_control, seizures
from app.cases.forms import CASE_FIELDS_BY_KIND
from app.core.errors import ValidationError
from app.core.time import now_utc
from tests.cases.factories import officer

ITEM = {"commodity_area": "tobacco", "description": "Cigarettes", "quantity": "200"}


def _token(make, user):
    return make.api_client(["cases:write", "cases:read"], unit=user.unit)[1]


def test_the_api_refuses_a_seizure_without_the_minimum_naming_the_fields(client, make, db):
    user, _ = officer(make, roles=("supervisor",))
    token = _token(make, user)
    headers = {"Authorization": f"Bearer {token}"}
    resp = client.post("/api/v1/cases", json={"kind": "seizure", "title": "Empty"}, headers=headers)
    assert resp.status_code == 422, resp.json
    fields = resp.json["error"]["fields"]
    assert {"place_ref", "event_dt", "items[0].commodity_area", "items[0].quantity"} <= set(fields)
    future = (now_utc() + timedelta(days=30)).isoformat()
    resp = client.post(
        "/api/v1/cases",
        json={
            "kind": "seizure",
            "title": "In 30 days",
            "place_ref": "crossing:BCP-MER",
            "event_dt": future,
            "items": [{**ITEM, "quantity_unit": "sticks"}],
        },
        headers=headers,
    )
    assert resp.status_code == 422 and "event_dt" in resp.json["error"]["fields"]
    resp = client.post(
        "/api/v1/cases",
        json={
            "kind": "seizure",
            "title": "Complete",
            "place_ref": "crossing:BCP-MER",
            "event_dt": "2026-01-05T10:00:00Z",
            "items": [{**ITEM, "quantity_unit": "sticks"}],
        },
        headers=headers,
    )
    assert resp.status_code == 201, resp.json
    assert resp.json["place"] == "BCP Merdare"


def test_a_control_result_without_the_minimum_opens_a_case_that_asks_for_it(
    client, make, db, login_as
):
    user, actor = officer(make, roles=("supervisor",))
    ref = {
        "declaration_id": 991,
        "number": "DEC-991",
        "office": "NOT-LISTED",
        "items": [{"hs_code": "240220", "description": "Cigarettes", "unit": "zzz"}],
    }
    case = from_control.open_seizure_from_control(ref, actor=actor)
    db.session.commit()
    missing = set(seizures.case_missing(case))
    assert missing == {"place_ref", "items[0].quantity", "items[0].quantity_unit"}
    assert any(t.title.startswith("Complete the seizure record: the place") for t in case.tasks)
    assert any("minimum seizure record is incomplete" in j.text for j in case.journal)
    login_as(user)
    page = client.get(f"/cases/{case.id}").get_data(as_text=True)
    assert 'id="seizure-incomplete"' in page


def test_a_listed_office_is_the_place_of_a_seizure_from_control(make, db):
    _user, actor = officer(make, roles=("supervisor",))
    ref = {
        "declaration_id": 992,
        "number": "DEC-992",
        "office": "BCP-N",
        "items": [
            {"hs_code": "240220", "description": "Cigarettes", "quantity": 10, "unit": "kgm"}
        ],
    }
    case = from_control.open_seizure_from_control(ref, actor=actor)
    assert case.place_ref == "office:BCP-N" and seizures.case_missing(case) == {}
    assert not any(t.title.startswith("Complete the seizure record") for t in case.tasks)


def test_one_field_list_for_the_seizure_record():
    assert CASE_FIELDS_BY_KIND["seizure"] is seizures.RECORD_FIELDS
    assert seizures.FORM_FIELDS[-len(seizures.RECORD_FIELDS) :] == seizures.RECORD_FIELDS


def test_the_csv_import_checks_the_minimum_row_by_row(make, db):
    from app.cases import importer

    _user, actor = officer(make)
    future = (now_utc() + timedelta(days=40)).date().isoformat()
    data = (
        "Date;Place;Category;Description;Quantity;Unit\n"
        "2025-01-03;bcp  merdare;tobacco;Cigarettes;12000;sticks\n"
        "2025-01-04;Merdare village;tobacco;Cigarettes;10;pcs\n"
        f"{future};BCP Merdare;tobacco;Cigarettes;10;pcs\n"
        "2025-01-05;BCP Merdare;drugs;Cannabis;;\n"
    ).encode()
    mapping = importer.suggest_mapping(importer.read_header(data))
    report = importer.run_import(data, mapping, actor=actor)
    assert set(report.errors) == {
        "row 3, column 'Place'",
        "row 4, column 'Date'",
        "row 5, column 'Quantity'",
    }, report.errors
    assert (
        "not an office or crossing point of the reference list"
        in report.errors["row 3, column 'Place'"]
    )
    assert "in the future" in report.errors["row 4, column 'Date'"]
    assert "how much was seized" in report.errors["row 5, column 'Quantity'"]
    good = data.split(b"\n")[:2]
    report = importer.run_import(b"\n".join(good) + b"\n", mapping, actor=actor, dry_run=False)
    assert report.ok, report.errors
    from app.cases.models import Case

    case = db.session.scalars(select(Case)).one()
    assert (case.place_ref, case.place) == ("crossing:BCP-MER", "BCP Merdare")
    no_quantity = {k: v for k, v in mapping.items() if k not in ("quantity", "quantity_unit")}
    with pytest.raises(ValidationError) as err:
        importer.run_import(data, no_quantity, actor=actor)
    assert "mapping.quantity" in err.value.fields
