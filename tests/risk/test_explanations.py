"""The per-item ML explanation is shown (issue 17, item 5).

Seen: the explanation was computed and stored with the assessment but shown nowhere, neither
on the declaration page nor in the API. Now each scored item's reasons are on the page, beside
the profile hits, in words, and in the API output."""

from datetime import date

import pytest

from app.audit import lifecycle
from app.risk import engine as engine_mod
from app.risk import explanations, providers
from app.risk.assessment import submit_declaration
from app.security.access import Actor
from tests.audit.factories import FAST_PARAMS, import_rows, synthetic_history
from tests.risk.factories import body, item, no_random

SYSTEM = Actor.system("test")


@pytest.fixture(autouse=True)
def _fresh():
    engine_mod.reset_cache()
    lifecycle._cache.forget()
    yield
    lifecycle._cache.forget()


def _h(token):
    return {"Authorization": f"Bearer {token}"}


def test_the_live_models_reasons_are_on_the_page_and_in_the_api(client, login_as, make, db):
    """With the audit domain's real model trained and active, a declaration's items carry
    their score and reasons, and both the page and the API show them."""
    import_rows(synthetic_history(700, seed=5))
    db.session.flush()
    model = lifecycle.train_from_history(actor=SYSTEM, params=FAST_PARAMS)
    lifecycle.activate_model(model.version, actor=SYSTEM)
    no_random()
    unit = make.unit()
    _, token = make.api_client(["declarations:write", "declarations:read"], unit=unit)
    data = body(
        "ML-1",
        date=date.today().isoformat(),
        importer="IMP-000",
        items=[item(hs_code="6109100000", origin="VN", departure="VN", value=2e6, mass=300.0)],
    )
    resp = client.post("/api/v1/declarations", json=data, headers=_h(token))
    assert resp.status_code == 201, resp.get_json()
    out = resp.get_json()["ml_explanations"]
    assert [e["line"] for e in out] == [1]
    assert out[0]["score"] == pytest.approx(resp.get_json()["ml_score"])
    reasons = out[0]["reasons"]
    assert reasons and all(isinstance(r, str) and r for r in reasons)
    read = client.get("/api/v1/declarations/ML-1", headers=_h(token)).get_json()
    assert read["ml_explanations"] == out

    decl_id = resp.get_json()["id"]
    db.session.commit()
    login_as("risk_analyst", unit=unit)
    page = client.get(f"/risk/declarations/{decl_id}").get_data(as_text=True)
    assert 'id="ml-item-1"' in page
    for reason in reasons:
        assert reason.replace("'", "&#39;") in page


def test_weighted_reasons_read_as_words_with_their_contribution(client, login_as, db):
    """A scorer that gives (reason, contribution) pairs: each reason is shown as written with
    its signed contribution, per item, and an item without reasons says so."""
    saved = providers._ml_scorer

    def scorer(declaration, items):
        return [
            {
                "score": 0.83,
                "explanation": [
                    ("value per kg far below the norm for HS 8517", 0.21),
                    {"feature": "the importer's record", "contribution": 0.05},
                ],
            },
            {"score": 0.1, "explanation": []},
        ]

    providers.register_ml_scorer(scorer)
    try:
        no_random()
        decl = submit_declaration(
            body("ML-2", items=[item(), item(hs_code="8471300000")]),
            actor=SYSTEM,
            link_entities=False,
        )
    finally:
        providers._ml_scorer = saved
    db.session.commit()
    assert explanations.ml_explanations(decl) == [
        {
            "line": 1,
            "score": 0.83,
            "reasons": [
                "value per kg far below the norm for HS 8517 (+0.21)",
                "the importer's record (+0.05)",
            ],
        },
        {"line": 2, "score": 0.1, "reasons": []},
    ]
    login_as("enforcement_officer")
    page = client.get(f"/risk/declarations/{decl.id}").get_data(as_text=True)
    assert "Item 1 · ML score 0.83" in page
    assert "value per kg far below the norm for HS 8517 (+0.21)" in page
    assert "The model gave no reason for this item." in page


@pytest.mark.parametrize(
    ("explanation", "expected"),
    [
        (None, []),
        ("one sentence", ["one sentence"]),
        (["a", " ", "b"], ["a", "b"]),
        ([["x", -0.5]], ["x (-0.50)"]),
        ([{"text": "y", "weight": float("nan")}], ["y"]),
        ([{"text": "", "weight": 1}, 42], []),
        (7, []),
    ],
)
def test_reasons_accept_every_shape_a_scorer_may_give(explanation, expected):
    assert explanations.reasons(explanation) == expected
