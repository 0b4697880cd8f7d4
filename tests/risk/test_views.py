"""HTML pages: lists, explained assessment, control form, raise with approval, import, KPIs."""

import io

import pytest
from sqlalchemy import select

from app.risk import engine as engine_mod
from app.risk.models import ChannelRaise, Declaration, RiskProfile
from app.security.access import Actor
from app.security.trail import AccessEvent
from tests.risk.factories import body, cond, no_random, profile, submit, tree


@pytest.fixture(autouse=True)
def _fresh_engine():
    engine_mod.reset_cache()


def test_declaration_pages_explain_and_are_in_the_trail(client, login_as, db):
    no_random()
    p = profile(conditions=tree(cond("origin", "eq", "CN")), name="Chinese phones")
    decl = submit(body("V-1"))
    db.session.commit()
    user = login_as("enforcement_officer")
    page = client.get("/risk/declarations?channel=red").get_data(as_text=True)
    assert "V-1" in page
    page = client.get(f"/risk/declarations/{decl.id}").get_data(as_text=True)
    assert f"Profile {p.code} (Chinese phones) → red: country of origin is CN (CN)" in page
    views = db.session.scalars(
        select(AccessEvent).where(
            AccessEvent.user_id == user.id, AccessEvent.record_type == "declaration"
        )
    ).all()
    assert {(e.action, e.record_id) for e in views} >= {("search", None), ("view", str(decl.id))}


def test_raise_needs_a_supervisor_and_never_lowers(client, login_as, make, db):
    no_random()
    decl = submit(body("R-1"))
    db.session.commit()
    unit = make.unit()
    officer = make.user(roles=["enforcement_officer"], unit=unit)
    login_as(officer)
    resp = client.post(
        f"/risk/declarations/{decl.id}/raise", data={"to_channel": "green", "reason": "lower"}
    )
    assert resp.status_code == 302
    assert db.session.scalar(select(ChannelRaise.id)) is None  # lowering is refused
    client.post(
        f"/risk/declarations/{decl.id}/raise",
        data={"to_channel": "red", "reason": "Driver nervous, seals broken"},
    )
    row = db.session.scalar(select(ChannelRaise))
    assert row.status == "pending"
    db.session.refresh(decl)
    assert decl.channel == "green"
    # The requester cannot approve their own raise (even holding the permission).
    from app.core.errors import ValidationError
    from app.risk.assessment import decide_raise

    both = Actor.for_user(officer)
    both.permissions = both.permissions | {"risk.channel.approve"}
    with pytest.raises(ValidationError):
        decide_raise(row.id, True, actor=both)
    supervisor = make.user(roles=["supervisor"], unit=unit)
    login_as(supervisor)
    assert "Driver nervous" in client.get("/risk/raises").get_data(as_text=True)
    client.post(f"/risk/raises/{row.id}/decide", data={"decision": "approve"})
    db.session.expire_all()
    decl = db.session.get(Declaration, decl.id)
    assert decl.channel == "red" and decl.engine_channel == "green"
    assert decl.assessment["raised"]["approved_by"] == supervisor.username


def test_control_result_form(client, login_as, db):
    no_random()
    p = profile(conditions=tree(cond("origin", "eq", "CN")))
    decl = submit(body("F-1"))
    db.session.commit()
    login_as("enforcement_officer")
    resp = client.post(
        f"/risk/declarations/{decl.id}/control",
        data={"inspected": "y", "compliant": "false", "fraud_type": ""},
    )
    assert resp.status_code == 200
    assert "say which fraud was found" in resp.get_data(as_text=True)
    resp = client.post(
        f"/risk/declarations/{decl.id}/control",
        data={
            "inspected": "y",
            "compliant": "false",
            "fraud_type": "ipr",
            "revenue_recovered": "120",
            "findings": "Fake brand",
        },
    )
    assert resp.status_code == 302
    from app.risk.profiles import profile_stats

    assert profile_stats([p.id])[p.id]["hit_rate"] == 1.0


def test_profile_editor_saves_and_reports_paths(client, login_as, db):
    login_as("risk_analyst")
    bad = {
        "name": "X",
        "risk_area": "Y",
        "channel": "red",
        "conditions_json": '{"join": "and", "conditions": [{"field": "origin", '
        '"op": "gt", "value": 3}, {"field": "mass", "op": "between", '
        '"value": [5, 1]}]}',
    }
    resp = client.post("/risk/profiles/new", data=bad)
    assert resp.status_code == 422
    text = resp.get_data(as_text=True)
    assert "conditions.conditions[0].op" in text and "conditions.conditions[1].value" in text
    good = dict(
        bad,
        conditions_json='{"join": "or", "conditions": [{"field": "origin", '
        '"op": "in", "value": ["cn", "vn"]}]}',
    )
    resp = client.post("/risk/profiles/new", data=good)
    assert resp.status_code == 302
    p = db.session.scalar(select(RiskProfile))
    assert p.conditions["conditions"][0]["value"] == ["CN", "VN"] and p.status == "draft"
    preview = client.post(
        "/risk/profiles/preview",
        json={
            "join": "and",
            "conditions": [
                {"field": "hs_code", "op": "prefix", "value": ["0808"]},
                {"field": "origin", "op": "eq", "value": "US"},
            ],
        },
    )
    assert preview.json == {
        "ok": True,
        "sentence": "HS code starts with 0808 and country of origin is US",
    }
    # Activation without simulation is refused.
    client.post(f"/risk/profiles/{p.id}/status", data={"status": "active"})
    db.session.refresh(p)
    assert p.status == "draft"


def test_profile_validation_errors(db):
    from app.core.errors import ValidationError
    from app.risk.profiles import create_profile

    with pytest.raises(ValidationError) as exc:
        create_profile(
            {
                "name": "",
                "channel": "green",
                "is_sensitive": True,
                "conditions": {
                    "join": "xor",
                    "conditions": [
                        {"field": "colour", "op": "eq", "value": "red"},
                        {"field": "importer", "op": "in_list", "value": "Nope"},
                        {"field": "hs_code", "op": "prefix", "value": ["08A"]},
                    ],
                },
                "valid_from": "2026-05-01",
                "valid_to": "2026-04-01",
            },
            actor=Actor.system(),
        )
    f = exc.value.fields
    assert f["name"] == "is required" and "channel" in f and "risk_area" in f
    assert f["conditions.join"] == "must be 'and' or 'or'"
    assert f["conditions.conditions[0].field"] == "unknown field 'colour'"
    assert f["conditions.conditions[1].value"] == "no named list 'Nope'"
    assert f["conditions.conditions[2].value[0]"].startswith("'08A' is not an HS code")
    assert f["recipients"] == "a sensitive profile names at least one recipient"
    assert f["valid_to"] == "must be after the start of validity"


def test_import_page_kpis_simulation_and_settings(client, login_as, db):
    login_as("risk_analyst")
    csv = (
        "number,declaration_date,office,hs_code,origin_country,value,mass_kg,fraud\n"
        "I-1,2026-01-05,BCP-N,0808100000,US,100,10,1\n"
        "I-2,2026-01-06,BCP-N,0808100000,CN,100,10,0\n"
    )
    resp = client.post(
        "/risk/import",
        data={"file": (io.BytesIO(csv.encode()), "h.csv"), "on_duplicate": "error"},
        content_type="multipart/form-data",
    )
    assert "Imported: 2 declarations" in resp.get_data(as_text=True)
    resp = client.post(
        "/risk/import",
        data={
            "file": (io.BytesIO(csv.replace("100,10,1", "lots,10,1").encode()), "h.csv"),
            "on_duplicate": "skip",
        },
        content_type="multipart/form-data",
    )
    assert "row 2, column value" in resp.get_data(as_text=True)
    p = profile(conditions=tree(cond("origin", "eq", "US")), status="draft")
    db.session.commit()
    page = client.get(f"/risk/simulation?profiles={p.id}&date_from=2026-01-01")
    assert page.status_code == 200 and 'data-key="hit_rate"' in page.get_data(as_text=True)
    kpi = client.get("/risk/kpis?since=2026-01-01&until=2026-01-31&by=day")
    assert kpi.status_code == 200 and "Per channel" in kpi.get_data(as_text=True)
    resp = client.post(
        "/risk/settings", data={"target_red": "10", "random_red": "70", "ml_channel": "yellow"}
    )
    assert "random rates of all lanes together" in resp.get_data(as_text=True)


def test_demo_loader_is_idempotent(app, db, make):
    from app.risk.demo import load_risk_demo
    from app.security.demo import load_security_demo

    load_security_demo({})
    load_risk_demo({"small": True})
    n_decl = db.session.query(Declaration).count()
    n_prof = db.session.query(RiskProfile).count()
    assert n_decl == 500 and 40 <= n_prof <= 60
    assert db.session.query(RiskProfile).filter(RiskProfile.is_sensitive.is_(True)).count() >= 4
    assert db.session.query(Declaration).filter(Declaration.channel != "green").count() > 20
    load_risk_demo({"small": True})
    assert db.session.query(Declaration).count() == n_decl
    assert db.session.query(RiskProfile).count() == n_prof
