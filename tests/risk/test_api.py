"""The declaration system's API: submission, malformed bodies, control results, the KCS loop."""

import pytest
from sqlalchemy import func, select

from app.risk import engine as engine_mod
from app.risk.models import Declaration, ProfileHit
from app.risk.profiles import profile_stats
from tests.risk.factories import body, cond, item, no_random, profile, tree


@pytest.fixture(autouse=True)
def _fresh_engine():
    engine_mod.reset_cache()


def _post(client, url, token, json):
    return client.post(url, json=json, headers={"Authorization": f"Bearer {token}"})


def test_submit_one_answers_with_channel_profiles_and_random(client, make, db):
    no_random()
    p = profile(
        conditions=tree(cond("hs_code", "prefix", ["0808"]), cond("origin", "eq", "US")),
        instructions="Open the container.",
    )
    _, token = make.api_client(["declarations:write"])
    resp = _post(
        client,
        "/api/v1/declarations",
        token,
        body("API-1", items=[item(), item(hs_code="0808100000", origin="US")]),
    )
    assert resp.status_code == 201, resp.json
    data = resp.json
    assert data["number"] == "API-1" and data["channel"] == "red"
    assert data["profiles"][0]["code"] == p.code
    assert data["profiles"][0]["instructions"] == "Open the container."
    assert data["profiles"][0]["items"] == [2]
    assert data["random_selected"] is False and 0 <= data["random"]["draw"] < 1
    assert data["ml_score"] is None and data["trader_rating"] is None
    decl = db.session.scalar(select(Declaration).where(Declaration.number == "API-1"))
    assert decl.api_client_id is not None and decl.channel == "red"
    assert db.session.scalar(select(ProfileHit.profile_id)) == p.id


def test_batch_is_all_or_nothing_with_json_paths(client, make, db):
    _, token = make.api_client(["declarations:write"])
    bad = body("B-2", items=[item(), item(hs_code="12AB", value=-3)])
    resp = _post(
        client,
        "/api/v1/declarations",
        token,
        {"declarations": [body("B-1"), bad, {"number": "B-3", "items": []}]},
    )
    assert resp.status_code == 422
    fields = resp.json["error"]["fields"]
    assert fields["declarations[1].items[1].hs_code"].startswith("'12AB' is not an HS code")
    assert fields["declarations[1].items[1].value"] == "must be a finite number, zero or more"
    assert fields["declarations[2].date"].startswith("is required")
    assert fields["declarations[2].office"] == "is required"
    assert fields["declarations[2].items"] == "must list at least one item"
    assert db.session.scalar(select(Declaration.id)) is None
    resp = _post(client, "/api/v1/declarations", token, [body("B-1"), body("B-2")])
    assert resp.status_code == 201 and len(resp.json["declarations"]) == 2


@pytest.mark.parametrize(
    ("payload", "field", "message"),
    [
        ({"date": "2026-13-01"}, "date", "'2026-13-01' is not a date (YYYY-MM-DD)"),
        ({"office": ""}, "office", "is required"),
        # Unknown keys are refused by the API's allow-list (the OpenAPI request body).
        ({"colour": "red"}, "colour", "is not a field of this request (accepted: courier, "),
        (
            {"dispatch_country": "Germany"},
            "dispatch_country",
            "'Germany' is not an ISO 3166 alpha-2 country code",
        ),
        ({"items": [{"hs_code": "8517620000"}]}, "items[0].value", "is required"),
        (
            {"items": [{"hs_code": "8517620000", "value": 1, "mass": "heavy"}]},
            "items[0].mass",
            "'heavy' is not a number",
        ),
        (
            {"items": [{"hs_code": "85176", "value": 1}]},
            "items[0].hs_code",
            "'85176' is not an HS code (6-10 digits)",
        ),
        ({"items": "none"}, "items", "must list at least one item"),
    ],
)
def test_malformed_declarations_name_the_field(client, make, payload, field, message):
    _, token = make.api_client(["declarations:write"])
    resp = _post(client, "/api/v1/declarations", token, body(**payload))
    assert resp.status_code == 422
    got = resp.json["error"]["fields"][field]
    assert got == message or (message.endswith(", ") and got.startswith(message))


def test_duplicate_and_not_json(client, make):
    _, token = make.api_client(["declarations:write"])
    assert _post(client, "/api/v1/declarations", token, body("DUP")).status_code == 201
    resp = _post(client, "/api/v1/declarations", token, body("DUP"))
    assert resp.json["error"]["fields"] == {"number": "declaration DUP was already submitted"}
    resp = client.post(
        "/api/v1/declarations", data="x", headers={"Authorization": f"Bearer {token}"}
    )
    assert resp.status_code == 422 and "body" in resp.json["error"]["fields"]


def test_control_result_updates_statistics_at_once(client, make, db):
    no_random()
    p = profile(conditions=tree(cond("origin", "eq", "CN")))
    unit = make.unit()
    _, write = make.api_client(["declarations:write"], unit=unit)
    _, results = make.api_client(["control-results:write"], unit=unit)
    for n in range(3):
        assert _post(client, "/api/v1/declarations", write, body(f"C-{n}")).status_code == 201
    assert profile_stats([p.id])[p.id] == {
        "hits": 3,
        "inspected": 0,
        "found": 0,
        "hit_rate": None,
        "revenue": 0.0,
    }
    resp = _post(
        client,
        "/api/v1/declarations/C-0/control-result",
        results,
        {
            "inspected": True,
            "compliant": False,
            "fraud_type": "undervaluation",
            "revenue_recovered": 250.5,
            "findings": "Invoice was false.",
        },
    )
    assert resp.status_code == 201, resp.json
    assert resp.json["control_result"]["fraud_type"] == "undervaluation"
    _post(
        client,
        "/api/v1/declarations/C-1/control-result",
        results,
        {"inspected": True, "compliant": True},
    )
    stats = profile_stats([p.id])[p.id]
    assert stats == {"hits": 3, "inspected": 2, "found": 1, "hit_rate": 0.5, "revenue": 250.5}
    bad = _post(
        client,
        "/api/v1/declarations/C-2/control-result",
        results,
        {"inspected": True, "compliant": False, "fraud_type": "smuggling", "goods_seized": "maybe"},
    )
    assert bad.status_code == 422
    assert set(bad.json["error"]["fields"]) == {"fraud_type", "goods_seized"}
    missing = _post(
        client, "/api/v1/declarations/NOPE/control-result", results, {"inspected": False}
    )
    assert missing.status_code == 404


def test_need_to_know_on_read(client, make, db):
    _, write = make.api_client(["declarations:write"])
    _post(client, "/api/v1/declarations", write, body("NTK-1"))
    decl = db.session.scalar(select(Declaration).where(Declaration.number == "NTK-1"))
    decl.handling_code = "C"
    db.session.commit()
    _, other = make.api_client(["declarations:read"])
    resp = client.get("/api/v1/declarations/NTK-1", headers={"Authorization": f"Bearer {other}"})
    assert resp.status_code == 404
    from app.security.models import Unit

    _, same = make.api_client(["declarations:read"], unit=db.session.get(Unit, decl.unit_id))
    resp = client.get("/api/v1/declarations/NTK-1", headers={"Authorization": f"Bearer {same}"})
    assert resp.status_code == 200 and resp.json["number"] == "NTK-1"


def test_sensitive_hit_signal_survives_a_broken_receiver(client, make, db):
    from app.core import signals

    no_random()
    sup = make.user(roles=["supervisor"])
    sensitive = profile(
        conditions=tree(cond("hs_code", "prefix", ["2402"])),
        channel="red",
        is_sensitive=True,
        recipients={"users": [sup.id], "roles": ["supervisor"]},
    )
    seen = []

    def broken(sender, **kw):
        raise RuntimeError("alert queue down")

    def on_hit(sender, declaration, profile, matched, actor):
        seen.append((declaration.number, profile.id, matched))

    # blinker calls receivers in the order they were connected: the broken one goes first
    signals.sensitive_profile_hit.connect(broken)
    signals.sensitive_profile_hit.connect(on_hit)
    try:
        _, token = make.api_client(["declarations:write"])
        resp = _post(
            client, "/api/v1/declarations", token, body("S-1", items=[item(hs_code="2402200000")])
        )
    finally:
        signals.sensitive_profile_hit.disconnect(broken)
        signals.sensitive_profile_hit.disconnect(on_hit)
    assert resp.status_code == 201 and resp.json["channel"] == "red"
    assert seen == [("S-1", sensitive.id, ["HS code starts with 2402 (2402200000)"])]
    assert sensitive.recipients == {"users": [sup.id], "units": [], "roles": ["supervisor"]}


def test_seizure_opens_a_case(client, make, db):
    cases = pytest.importorskip("app.cases.service")
    from app.core import signals

    _, write = make.api_client(["declarations:write"])
    _, results = make.api_client(["control-results:write"])
    _post(
        client,
        "/api/v1/declarations",
        write,
        body("SZ-1", items=[item(hs_code="2402200000", description="Cigarettes")]),
    )
    seized = []

    def on_seizure(sender, declaration, result, actor, **_):
        seized.append(declaration.number)

    signals.control_result_seizure.connect(on_seizure)
    try:
        resp = _post(
            client,
            "/api/v1/declarations/SZ-1/control-result",
            results,
            {
                "inspected": True,
                "compliant": False,
                "fraud_type": "prohibited",
                "goods_seized": True,
            },
        )
    finally:
        signals.control_result_seizure.disconnect(on_seizure)
    assert resp.status_code == 201, resp.json
    case_id = resp.json["control_result"]["seizure_case_id"]
    assert case_id and seized == ["SZ-1"]
    case = db.session.get(cases.Case, case_id)
    assert "SZ-1" in case.title


@pytest.mark.data
def test_kcs_profile_simulated_activated_fires_and_learns(client, make, db, shared_data):
    """Done-when loop: import KCS, simulate, activate, the API returns its channel, a control
    result moves its hit rate."""
    from app.risk import profiles, simulation
    from app.risk.importer import import_declarations
    from app.security.access import Actor

    system = Actor.system("test")
    import_declarations(shared_data / "kcs" / "train.csv", actor=system)
    no_random()
    p = profile(
        conditions=tree(cond("hs_code", "prefix", ["8471"]), cond("origin", "eq", "CN")),
        status="draft",
        channel="orange",
    )
    sim = simulation.run_simulation([p.id], actor=system)["profiles"][p.id]
    assert sim["selected"] > 0 and p.status == "simulated"
    _, write = make.api_client(["declarations:write", "control-results:write"])
    decl = body("KCS-NEW-1", items=[item(hs_code="847130", origin="CN")])
    assert _post(client, "/api/v1/declarations", write, decl).json["channel"] == "green"
    profiles.set_status(p.id, "active", actor=system)
    db.session.commit()
    resp = _post(client, "/api/v1/declarations", write, body("KCS-NEW-2", items=decl["items"]))
    assert resp.json["channel"] == "orange" and resp.json["profiles"][0]["code"] == p.code
    assert profile_stats([p.id])[p.id]["hit_rate"] is None
    _post(
        client,
        "/api/v1/declarations/KCS-NEW-2/control-result",
        write,
        {"inspected": True, "compliant": False, "fraud_type": "misclassification"},
    )
    assert profile_stats([p.id])[p.id]["hit_rate"] == 1.0


def test_api_declarations_link_traders_to_entities(client, make, db):
    intel = pytest.importorskip("app.intel.service")
    _, token = make.api_client(["declarations:write"])
    resp = _post(client, "/api/v1/declarations", token, body("ENT-1", importer="ACME01"))
    assert resp.status_code == 201
    decl = db.session.scalar(select(Declaration).where(Declaration.number == "ENT-1"))
    # The answer does not wait for the registry: the worker's job links the traders.
    assert decl.links_pending and decl.importer_entity_id is None
    assert intel.find_by_identifier("trader_code", "ACME01") is None
    from app.risk.tasks import link_parties_job

    link_parties_job()
    db.session.expire_all()
    assert not decl.links_pending
    assert decl.importer_entity_id is not None and decl.declarant_entity_id is not None
    entity = intel.find_by_identifier("trader_code", "ACME01")
    assert entity is not None and entity.id == decl.importer_entity_id


def test_concurrent_control_results_for_one_declaration_never_fail(app, client, make, db):
    """Two senders record a result for the same declaration at the same moment (a soak found
    a 500 on the one-result-per-declaration key): both answer 200/201, one result remains."""
    import threading

    from app.risk.models import ControlResult, ControlResultVersion

    if db.engine.dialect.name != "postgresql":
        pytest.skip("row locks are PostgreSQL's; SQLite's BEGIN IMMEDIATE serialises writers")
    unit = make.unit()
    _, write = make.api_client(["declarations:write"], unit=unit)
    _, results = make.api_client(["control-results:write"], unit=unit)
    numbers = [f"RACE-{n}" for n in range(6)]
    for number in numbers:
        assert _post(client, "/api/v1/declarations", write, body(number)).status_code == 201
    db.session.commit()
    statuses, barrier = [], threading.Barrier(2)

    def send(number, findings):
        local = app.test_client()
        barrier.wait()
        resp = _post(
            local,
            f"/api/v1/declarations/{number}/control-result",
            results,
            {"inspected": True, "compliant": True, "findings": findings, "reason": "re-checked"},
        )
        statuses.append(resp.status_code)

    for number in numbers:
        threads = [threading.Thread(target=send, args=(number, f)) for f in ("first", "second")]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        barrier.reset()
    assert all(s in (200, 201) for s in statuses), statuses
    db.session.rollback()
    assert db.session.scalar(select(func.count(ControlResult.id))) == len(numbers)
    # The second sender's different result is a correction (issue 17 item 3): both are kept.
    assert db.session.scalar(select(func.count(ControlResultVersion.id))) == 2 * len(numbers)
