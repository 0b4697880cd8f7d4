"""Issue 19 item 2: the seizure form's minimum record (a place of the reference list, a date
not in the future, at least one item with commodity and quantity; an empty form refused
field by field; chosen files named when they are not kept) and the map of seizures."""

import io
import json
import re
from datetime import timedelta

from sqlalchemy import func, select

from app.cases import service
from app.cases.models import Case
from app.core.time import now_utc
from app.security.trail import AccessEvent
from tests.cases.factories import PNG, officer, seizure

BASE = {"priority": "2", "handling_code": "P", "template": "seizure"}


def _post(client, data):
    return client.post(
        "/cases/new/seizure", data={**BASE, **data}, content_type="multipart/form-data"
    )


def _field_errors(page: str) -> list[str]:
    return re.findall(r'<div class="field\s+has-error">\s*<label for="([^"]+)"', page)


def test_an_empty_seizure_form_is_refused_field_by_field(client, login_as, db):
    """Seen: an entirely empty form recorded a seizure (no place, no goods, no parties)."""
    login_as("enforcement_officer")
    resp = _post(client, {})
    page = resp.get_data(as_text=True)
    assert resp.status_code == 200 and "not recorded" in page
    assert set(_field_errors(page)) >= {
        "place_ref",
        "event_dt",
        "items-0-commodity_area",
        "items-0-quantity",
    }
    assert db.session.scalar(select(func.count()).select_from(Case)) == 0


def _minimum(**extra):
    return {
        "event_dt": now_utc().strftime("%Y-%m-%dT%H:%M"),
        "place_ref": "crossing:BCP-MER",
        "items-0-commodity_area": "tobacco",
        "items-0-description": "Cigarettes",
        "items-0-quantity": "10,000",
        "items-0-quantity_unit": "sticks",
        **extra,
    }


def test_the_place_comes_from_the_reference_list(client, login_as, db):
    """Seen: place was free text ("Merdare" and "BCP Merdare" split the statistics)."""
    login_as("enforcement_officer")
    resp = _post(client, _minimum(place_ref="Merdare"))
    assert "place_ref" in _field_errors(resp.get_data(as_text=True))
    assert _post(client, _minimum()).status_code == 302
    case = db.session.scalar(select(Case))
    assert (case.place_ref, case.place, case.place_type) == (
        "crossing:BCP-MER",
        "BCP Merdare",
        "bcp",
    )
    assert case.items[0].quantity == 10000  # typed in en: 10,000 is ten thousand


def test_a_seizure_in_the_future_is_refused(client, login_as, db):
    """Seen: a date in 2030 was accepted."""
    login_as("enforcement_officer")
    later = (now_utc() + timedelta(days=400)).strftime("%Y-%m-%dT%H:%M")
    page = _post(client, _minimum(event_dt=later)).get_data(as_text=True)
    assert "event_dt" in _field_errors(page) and "is in the future" in page
    assert db.session.scalar(select(func.count()).select_from(Case)) == 0


def test_chosen_files_are_named_when_the_form_fails(client, login_as, db):
    """Seen: after any form error the photo had to be chosen again, without notice."""
    login_as("enforcement_officer")
    page = _post(
        client, _minimum(place_ref="", evidence=(io.BytesIO(PNG), "concealment.png"))
    ).get_data(as_text=True)
    assert "Not kept: concealment.png" in page and "choose them again" in page


def _points(page: str) -> list[dict]:
    raw = re.search(r'data-points="([^"]*)"', page).group(1)
    return json.loads(raw.replace("&#34;", '"').replace("&amp;", "&"))


def test_the_map_counts_only_seizures_the_user_may_open(client, login_as, make, db):
    unit_a, unit_b = make.unit(), make.unit()
    user = login_as("enforcement_officer", unit=unit_a)
    actor = make.actor(user)
    _, other = officer(make, unit_b)
    seizure(actor, place_ref="crossing:BCP-MER")
    seizure(
        actor,
        place_ref="crossing:BCP-MER",
        handling_code="C",
        items=[{"commodity_area": "drugs", "description": "Heroin", "value": "50000"}],
    )
    seizure(other, place_ref="crossing:BCP-JAR", handling_code="C", title="Secret B seizure")
    seizure(actor, place="Somewhere unlisted")
    service.open_case("offence", actor=actor, title="Not a seizure", place_ref="crossing:BCP-JAR")
    db.session.commit()
    resp = client.get("/cases/seizures/map")
    page = resp.get_data(as_text=True)
    assert resp.status_code == 200
    points = _points(page)
    assert [(p["label"], p["count"]) for p in points] == [("BCP Merdare", 2)]
    assert points[0]["lat"] and points[0]["lon"]
    assert "Somewhere unlisted" in page and "BCP Jarinje" not in page.split("<table")[-1]
    assert "vendor/leaflet/leaflet.js" in page and "countries-110m.geojson" in page
    assert "http://" not in page.split('id="seizure-map"')[1].split(">")[0]
    points = _points(client.get("/cases/seizures/map?area=drugs").get_data(as_text=True))
    assert [(p["label"], p["count"]) for p in points] == [("BCP Merdare", 1)]
    rows = db.session.scalars(
        select(AccessEvent).where(AccessEvent.action == "search", AccessEvent.user_id == user.id)
    ).all()
    assert rows[-1].query.startswith("map kind=seizure area=drugs")
    listed = client.get("/cases/seizures?place_ref=crossing:BCP-MER").get_data(as_text=True)
    assert listed.count("Cigarettes in a truck") == 2


def test_a_configured_tile_server_is_allowed_by_the_map_page_only(client, login_as, app, db):
    login_as("enforcement_officer")
    app.config["TOLLGATE_MAP_TILE_URL"] = "https://tiles.customs.example/{z}/{x}/{y}.png"
    try:
        resp = client.get("/cases/seizures/map")
    finally:
        app.config["TOLLGATE_MAP_TILE_URL"] = ""
    assert "https://tiles.customs.example" in resp.headers["Content-Security-Policy"]
    assert "tiles.customs.example" not in client.get("/cases/").headers["Content-Security-Policy"]


def test_editing_a_seizure_chooses_its_place_from_the_list(client, login_as, make, db):
    user = login_as("enforcement_officer")
    case = seizure(make.actor(user), place="Merdare")  # recorded before the reference lists
    db.session.commit()
    page = client.get(f"/cases/{case.id}/edit").get_data(as_text=True)
    assert "Merdare (as written, not on the list)" in page and 'name="place"' not in page
    edit = {"title": case.title, "priority": "2", "handling_code": "P", "event_dt": ""}
    page = client.post(f"/cases/{case.id}/edit", data=edit).get_data(as_text=True)
    assert "is required (the date and time of the facts)" in page  # not a 500
    resp = client.post(
        f"/cases/{case.id}/edit",
        data={
            "event_dt": "2026-05-01T10:30",
            "title": case.title,
            "priority": "2",
            "handling_code": "P",
            "place_ref": "crossing:BCP-MER",
        },
    )
    assert resp.status_code == 302
    db.session.rollback()
    case = db.session.get(Case, case.id)
    assert (case.place_ref, case.place, case.place_type) == (
        "crossing:BCP-MER",
        "BCP Merdare",
        "bcp",
    )
