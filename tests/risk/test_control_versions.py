"""Control results are append-only (issue 17, item 3).

Seen: a second control result silently replaced the first (seized, non-compliant, 4,200.50
recovered became compliant, 0), with no history, while the seizure case link stayed. Now a
correction is a new version with a required reason, the first stays, statistics follow the
latest version, the history is on the page and in the API, and each version is trailed."""

import json
from datetime import date

import pytest
from sqlalchemy import select

from app.risk import engine as engine_mod
from app.risk.control import record_control_result
from app.risk.kpis import targeting_kpis
from app.risk.models import ControlResult, ControlResultVersion, Declaration
from app.risk.profiles import profile_stats
from app.security.access import Actor
from app.security.trail import AccessEvent
from tests.risk.factories import body, cond, no_random, profile, submit, tree

SEIZED = {
    "inspected": True,
    "compliant": False,
    "fraud_type": "undervaluation",
    "revenue_recovered": 4200.50,
    "goods_seized": True,
    "findings": "Invoice shows a third of the price paid.",
}
CLEAN = {"inspected": True, "compliant": True, "revenue_recovered": 0}


@pytest.fixture(autouse=True)
def _fresh_engine():
    engine_mod.reset_cache()


def _post(client, url, token, json):
    return client.post(url, json=json, headers={"Authorization": f"Bearer {token}"})


def _setup(client, make, number):
    no_random()
    p = profile(conditions=tree(cond("origin", "eq", "CN")))
    unit = make.unit()
    _, write = make.api_client(["declarations:write", "declarations:read"], unit=unit)
    _, results = make.api_client(["control-results:write"], unit=unit)
    assert _post(client, "/api/v1/declarations", write, body(number)).status_code == 201
    return p, write, results


def test_a_correction_is_a_new_version_and_the_first_stays(client, make, db):
    p, write, results = _setup(client, make, "CV-1")
    url = "/api/v1/declarations/CV-1/control-result"
    first = _post(client, url, results, SEIZED)
    assert first.status_code == 201, first.json
    case_id = first.json["control_result"]["seizure_case_id"]
    assert case_id
    assert profile_stats([p.id])[p.id]["revenue"] == 4200.50

    # The seen case: the second result replaced the first without a word.
    silent = _post(client, url, results, CLEAN)
    assert silent.status_code == 422, silent.json
    assert "reason" in silent.json["error"]["fields"]
    assert "version 1" in silent.json["error"]["fields"]["reason"]

    fixed = _post(client, url, results, {**CLEAN, "reason": "Second invoice was the real one."})
    assert fixed.status_code == 201, fixed.json
    out = fixed.json["control_result"]
    assert out["version"] == 2 and out["compliant"] is True and out["revenue_recovered"] == 0
    assert [v["version"] for v in out["history"]] == [2, 1]
    v2, v1 = out["history"]
    assert v2["reason"] == "Second invoice was the real one."
    assert (v1["compliant"], v1["revenue_recovered"], v1["goods_seized"]) == (False, 4200.5, True)
    assert v1["seizure_case_id"] == case_id and v1["reason"] is None

    # The read API shows the same history.
    read = client.get("/api/v1/declarations/CV-1", headers={"Authorization": f"Bearer {write}"})
    assert [v["version"] for v in read.json["control_result"]["history"]] == [2, 1]

    # Statistics, hit rates and KPIs follow the latest version only.
    assert profile_stats([p.id])[p.id] == {
        "hits": 1,
        "inspected": 1,
        "found": 0,
        "hit_rate": 0.0,
        "revenue": 0.0,
    }
    kpis = targeting_kpis(Actor.system("t"), since=date(2026, 1, 1), until=date(2026, 12, 31))
    red = next(c for c in kpis["channels"] if c["channel"] == "red")
    assert (red["inspected"], red["found"], red["revenue"]) == (1, 0, 0.0)

    db.session.rollback()
    decl = db.session.scalar(select(Declaration).where(Declaration.number == "CV-1"))
    rows = db.session.scalars(
        select(ControlResultVersion)
        .where(ControlResultVersion.declaration_id == decl.id)
        .order_by(ControlResultVersion.version)
    ).all()
    assert [(r.version, r.revenue_recovered, r.is_goods_seized) for r in rows] == [
        (1, 4200.5, True),
        (2, 0.0, False),
    ]
    # The seizure case stays; the correction is written on its journal.
    from app.cases.models import Case

    case = db.session.get(Case, case_id)
    assert case is not None
    assert any("Second invoice was the real one." in j.text for j in case.journal)
    # One trail row per version, naming the version and the reason.
    details = [
        json.loads(e.details) if isinstance(e.details, str) else e.details
        for e in db.session.scalars(
            select(AccessEvent)
            .where(
                AccessEvent.record_type == "declaration",
                AccessEvent.record_id == str(decl.id),
                AccessEvent.action == "update",
                AccessEvent.outcome != "denied",
            )
            .order_by(AccessEvent.seq)
        )
    ]
    versions = [(d or {}).get("control_result_version") for d in details]
    assert versions == [1, 2], details
    assert details[1]["reason"] == "Second invoice was the real one."


def test_the_same_result_again_records_nothing(client, make, db):
    _p, _write, results = _setup(client, make, "CV-2")
    url = "/api/v1/declarations/CV-2/control-result"
    assert _post(client, url, results, CLEAN).status_code == 201
    again = _post(client, url, results, CLEAN)
    assert again.status_code == 201 and again.json["control_result"]["version"] == 1
    db.session.rollback()
    assert (
        db.session.scalar(
            select(ControlResultVersion.version).order_by(ControlResultVersion.id.desc())
        )
        == 1
    )
    assert len(db.session.scalars(select(ControlResultVersion)).all()) == 1


def test_a_result_recorded_before_versions_is_kept_as_version_1(make, db):
    """A result without versions (bulk import, demo, before the migration) is kept as
    version 1 when it is corrected."""
    no_random()
    decl = submit(body("CV-3"))
    db.session.add(
        ControlResult(
            declaration=decl,
            is_inspected=True,
            is_compliant=False,
            fraud_type="origin",
            revenue_recovered=99.0,
            source="csv",
        )
    )
    db.session.flush()
    actor = Actor.system("t")
    result = record_control_result(
        decl.id, {**CLEAN, "reason": "Origin certificate verified."}, actor=actor
    )
    assert result.version == 2
    history = [
        (v.version, v.fraud_type, v.revenue_recovered, v.source) for v in decl.control_versions
    ]
    assert history == [(1, "origin", 99.0, "csv"), (2, None, 0.0, "form")]
    decl.control_versions[0].revenue_recovered = 1.0
    with pytest.raises(RuntimeError):
        db.session.flush()
    db.session.rollback()


def test_the_form_asks_for_a_reason_and_the_page_shows_the_history(client, login_as, make, db):
    no_random()
    office = make.unit(code="BCP-N")  # the office of the declaration (factories.body)
    decl = submit(body("CV-4"))
    record_control_result(decl.id, SEIZED, actor=Actor.system("t"), source="api")
    db.session.commit()
    login_as("enforcement_officer", unit=office)
    form = client.get(f"/risk/declarations/{decl.id}/control").get_data(as_text=True)
    assert "Reason for the correction" in form
    data = {"inspected": "y", "compliant": "true", "fraud_type": "", "revenue_recovered": "0"}
    resp = client.post(f"/risk/declarations/{decl.id}/control", data=data)
    assert resp.status_code == 200
    assert "say why it was wrong" in resp.get_data(as_text=True)
    resp = client.post(
        f"/risk/declarations/{decl.id}/control",
        data={**data, "reason": "Scanner image misread."},
    )
    assert resp.status_code == 302
    page = client.get(f"/risk/declarations/{decl.id}").get_data(as_text=True)
    assert 'id="control-history"' in page
    assert "Scanner image misread." in page and "4,200.50" in page
