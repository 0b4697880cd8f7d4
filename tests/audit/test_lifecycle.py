"""Model life cycle: training from the database, activation, rollback, live scoring."""

from datetime import date, timedelta

import pytest

from app.audit import lifecycle, service
from app.audit.models import RiskModel
from app.core.errors import ValidationError
from app.risk.assessment import submit_declaration
from app.security.access import AccessDenied, Actor
from tests.audit.factories import FAST_PARAMS, import_rows, kcs_row, synthetic_history

SYSTEM = Actor.system("test")


def _body(number, importer="IMP-000", hs="610910", origin="VN"):
    return {
        "number": number,
        "date": "2025-11-01",
        "office": "30",
        "procedure": "B",
        "declarant": "DCL-1",
        "importer": importer,
        "seller": "SEL-1",
        "items": [
            {
                "hs_code": hs,
                "origin": origin,
                "departure": origin,
                "value": 2e6,
                "mass": 300.0,
                "tax_rate": 8.0,
            },
            {
                "hs_code": "851762",
                "origin": "DE",
                "departure": "DE",
                "value": 1e6,
                "mass": 50.0,
                "tax_rate": 0.0,
            },
        ],
    }


@pytest.fixture
def history(db):
    import_rows(synthetic_history(700, seed=5))
    db.session.flush()


def test_training_stores_time_split_metrics(db, history, make):
    analyst = make.actor(make.user(roles=["risk_analyst"]))
    model = lifecycle.train_from_history(actor=analyst, params=FAST_PARAMS)
    assert model.version == 1 and model.status == "trained"
    assert model.train_end < model.test_start  # later period held out
    assert model.n_train + model.n_test == 700
    for key in (
        "precision_at_1",
        "precision_at_2",
        "precision_at_5",
        "precision_at_10",
        "recall_at_5",
        "recall_at_10",
        "auc",
    ):
        assert key in model.metrics
    assert model.metrics["auc"] > 0.6
    assert model.metrics["precision_at_10"] > model.metrics["base_rate"]
    assert len(model.score_deciles) == 9
    auditor = make.actor(make.user(roles=["pca_auditor"]))
    with pytest.raises(AccessDenied):
        lifecycle.train_from_history(actor=auditor)


def test_training_needs_labelled_history(db):
    import_rows([kcs_row(day=date(2025, 1, 1) + timedelta(days=i)) for i in range(30)])
    with pytest.raises(ValidationError) as err:
        lifecycle.train_from_history(actor=SYSTEM)
    assert "history" in err.value.fields


def test_rollback_restores_the_previous_scores(db, history):
    v1 = lifecycle.train_from_history(actor=SYSTEM, params=FAST_PARAMS)
    lifecycle.activate_model(v1.version, actor=SYSTEM)
    first = submit_declaration(_body("LIVE-1"), actor=SYSTEM)
    v1_scores = [i.ml_score for i in first.items]
    assert all(s is not None for s in v1_scores)
    assert first.assessment["ml"]["items"][0]["explanation"]

    v2 = lifecycle.train_from_history(
        actor=SYSTEM, params={**FAST_PARAMS, "n_estimators": 60, "num_leaves": 15, "seed": 99}
    )
    lifecycle.activate_model(v2.version, actor=SYSTEM)
    assert db.session.get(RiskModel, v1.id).status == "retired"
    second = submit_declaration(_body("LIVE-2"), actor=SYSTEM)
    v2_scores = [i.ml_score for i in second.items]
    assert v2_scores != pytest.approx(v1_scores)

    restored = lifecycle.rollback_model(actor=SYSTEM)
    assert restored.version == v1.version and restored.status == "active"
    assert db.session.get(RiskModel, v2.id).status == "retired"
    third = submit_declaration(_body("LIVE-3"), actor=SYSTEM)
    assert [i.ml_score for i in third.items] == pytest.approx(v1_scores)
    with pytest.raises(ValidationError):
        lifecycle.rollback_model(actor=SYSTEM)  # nothing before v1


def test_scores_follow_the_planted_risk(db, history):
    model = lifecycle.train_from_history(actor=SYSTEM, params=FAST_PARAMS)
    lifecycle.activate_model(model.version, actor=SYSTEM)
    risky = submit_declaration(_body("R-1", importer="IMP-000"), actor=SYSTEM)
    plain = submit_declaration(
        _body("R-2", importer="IMP-030", hs="851762", origin="DE"), actor=SYSTEM
    )
    assert risky.ml_score > plain.ml_score


def test_drift_report_compares_live_scores_with_the_holdout(db, history):
    model = lifecycle.train_from_history(actor=SYSTEM, params=FAST_PARAMS)
    lifecycle.activate_model(model.version, actor=SYSTEM)
    for n in range(25):
        submit_declaration(_body(f"DR-{n}", importer="IMP-000"), actor=SYSTEM)
    report = lifecycle.drift_report(model)
    assert report["n_scored"] == 25
    # Every live declaration is the same risky one: the distribution has moved.
    assert report["psi"] is not None and report["psi"] > 0.25
    assert report["status"] == "drift"
    # Issue 17 item 2: a declaration dated in the future is left out of the drift and counted.
    submit_declaration(_body("DR-FUTURE", importer="IMP-000"), actor=SYSTEM)
    from sqlalchemy import update

    from app.risk.models import Declaration

    db.session.execute(
        update(Declaration)
        .where(Declaration.number == "DR-FUTURE")
        .values(declaration_date=date(2031, 12, 1))
    )
    report = lifecycle.drift_report(model)
    assert report["n_scored"] == 25 and report["ignored_after"] == 1


def test_profile_on_trader_rating_fires_through_the_api(db, client, make):
    from app.risk.models import Declaration
    from tests.risk.factories import cond, no_random, profile, tree

    # The channel must come from the profile alone: the random draw (seeded per declaration,
    # minimum random rates on by default) sent the clean trader's declaration red now and then.
    no_random()
    import_rows(
        [
            kcs_row(
                day=date(2025, 6, 1) + timedelta(days=i), importer="IMP-RISKY", fraud=i % 5 != 0
            )
            for i in range(10)
        ]
        + [kcs_row(day=date(2025, 6, 1), importer="IMP-CLEAN")]
    )
    service.compute_ratings(actor=SYSTEM, as_of=date(2025, 6, 30))
    assert service.current_ratings_for(["IMP-RISKY"])["IMP-RISKY"] >= 70
    rule = profile(
        conditions=tree(cond("trader_rating", "gte", 70)), channel="red", name="High-rated traders"
    )
    db.session.commit()
    _, token = make.api_client(["declarations:write"])
    headers = {"Authorization": f"Bearer {token}"}
    body = _body("API-1", importer="IMP-RISKY")
    resp = client.post("/api/v1/declarations", json=body, headers=headers)
    assert resp.status_code in (200, 201), resp.get_data(as_text=True)
    data = resp.get_json()
    assert data["channel"] == "red"
    clean = client.post(
        "/api/v1/declarations", json=_body("API-2", importer="IMP-CLEAN"), headers=headers
    ).get_json()
    assert clean["channel"] != "red" and not clean["random_selected"]
    db.session.rollback()
    stored = db.session.scalars(
        __import__("sqlalchemy").select(Declaration).filter_by(number="API-1")
    ).one()
    assert stored.trader_rating >= 70
    assert [p["code"] for p in stored.assessment["profiles"]] == [rule.code]
