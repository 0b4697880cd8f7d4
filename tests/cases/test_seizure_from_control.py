"""The seizure case opened from a control result (issue 17, item 7).

Seen: it belonged to the API client's unit, not the office's; its route showed "? → ?" although
the origin was known; it named no profile and carried no fraud type. Now it opens in the unit
of the declaration's office, names the profile(s) that hit with their version, carries the
fraud type, the route from the declaration and the parties as registry entities."""

import pytest
from sqlalchemy import select

from app.cases.models import Case
from app.risk import engine as engine_mod
from app.risk.assessment import link_pending_parties
from app.risk.models import Declaration
from tests.risk.factories import body, cond, item, no_random, profile, tree

SEIZED = {
    "inspected": True,
    "compliant": False,
    "fraud_type": "undervaluation",
    "revenue_recovered": 1200.0,
    "goods_seized": True,
    "findings": "Second invoice in the cab.",
}


@pytest.fixture(autouse=True)
def _fresh_engine():
    engine_mod.reset_cache()


def _h(token):
    return {"Authorization": f"Bearer {token}"}


def _declare(client, make, number, *, office="BCP-N"):
    no_random()
    p = profile(conditions=tree(cond("origin", "eq", "CN")), name="Phones from China")
    system_unit = make.unit(code=f"SYS-{number}")
    _, token = make.api_client(["declarations:write", "control-results:write"], unit=system_unit)
    data = body(
        number,
        office=office,
        dispatch_country="HK",
        items=[
            item(hs_code="8517620000", origin="CN", departure="HK", value=9000.0),
            item(hs_code="8471300000", origin="VN", departure="HK", value=100.0),
        ],
    )
    resp = client.post("/api/v1/declarations", json=data, headers=_h(token))
    assert resp.status_code == 201, resp.get_json()
    link_pending_parties()  # the worker registers the traders (commits)
    return p, system_unit, token


def test_the_case_opens_in_the_offices_unit_with_profile_fraud_route_and_parties(
    client, login_as, make, db
):
    office_unit = make.unit(code="BCP-N")
    p, system_unit, token = _declare(client, make, "SZC-1")
    resp = client.post("/api/v1/declarations/SZC-1/control-result", json=SEIZED, headers=_h(token))
    assert resp.status_code == 201, resp.get_json()
    case_id = resp.get_json()["control_result"]["seizure_case_id"]
    db.session.rollback()
    case = db.session.get(Case, case_id)
    decl = db.session.scalar(select(Declaration).where(Declaration.number == "SZC-1"))

    assert case.unit_id == office_unit.id != system_unit.id
    assert (case.route_origin, case.route_transit, case.route_destination) == ("CN", "HK", "XK")
    assert f"{p.code} v{p.version} (Phones from China)" in case.summary
    assert "Fraud type: Undervaluation" in case.summary
    assert case.risk_areas == ["valuation"]
    parties = {(cp.role, cp.entity_id) for cp in case.parties}
    assert decl.importer_entity_id and decl.declarant_entity_id
    assert {
        ("consignee", decl.importer_entity_id),
        ("declarant", decl.declarant_entity_id),
    } <= parties

    # The office's officers see it, route and all; the declaration system's unit does not own it.
    login_as("enforcement_officer", unit=office_unit)
    page = client.get(f"/cases/{case_id}").get_data(as_text=True)
    assert "CN → HK → XK" in page and p.code in page


def test_an_office_without_a_unit_falls_back_to_the_recording_unit(client, make, db, app):
    """No unit for the office (none named BCP-N, no TOLLGATE_OFFICE_UNITS entry): the case
    opens in the recorder's unit, as before; a mapping in the configuration sends it there."""
    _p, system_unit, token = _declare(client, make, "SZC-2")
    resp = client.post("/api/v1/declarations/SZC-2/control-result", json=SEIZED, headers=_h(token))
    case = db.session.get(Case, resp.get_json()["control_result"]["seizure_case_id"])
    assert case.unit_id == system_unit.id

    port = make.unit(code="PORT-X")
    _p, _unit, token = _declare(client, make, "SZC-3", office="AIR-C")
    app.config["TOLLGATE_OFFICE_UNITS"] = {"AIR-C": "PORT-X"}
    try:
        resp = client.post(
            "/api/v1/declarations/SZC-3/control-result", json=SEIZED, headers=_h(token)
        )
    finally:
        app.config["TOLLGATE_OFFICE_UNITS"] = {}
    case = db.session.get(Case, resp.get_json()["control_result"]["seizure_case_id"])
    assert case.unit_id == port.id
