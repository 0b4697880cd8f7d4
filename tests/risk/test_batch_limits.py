"""A declaration batch is bounded by its items (issue 16: 60 declarations x 500 items held
SQLite's write lock for 38 s and another user's page failed with "database is locked")."""

import pytest
from sqlalchemy import func, select

from app.risk import engine as engine_mod
from app.risk.models import Declaration
from tests.risk.factories import body, item


@pytest.fixture(autouse=True)
def _fresh_engine():
    engine_mod.reset_cache()


def _post(client, token, json):
    return client.post(
        "/api/v1/declarations", json=json, headers={"Authorization": f"Bearer {token}"}
    )


@pytest.mark.parametrize("wrapped", [False, True])
def test_a_batch_over_the_item_limit_is_refused_naming_limit_and_size(
    app, client, make, db, monkeypatch, wrapped
):
    monkeypatch.setitem(app.config, "TOLLGATE_API_BATCH_MAX_ITEMS", 5)
    _, token = make.api_client(["declarations:write"])
    batch = [body(f"BIG-{n}", items=[item(), item()]) for n in range(3)]  # 6 items
    resp = _post(client, token, {"declarations": batch} if wrapped else batch)
    assert resp.status_code == 413
    error = resp.json["error"]
    assert error["status"] == 413
    assert "6 items in 3 declarations" in error["message"] and "at most 5" in error["message"]
    assert error["fields"]["declarations"] == error["message"]
    assert db.session.scalar(select(func.count(Declaration.id))) == 0


def test_a_batch_at_the_item_limit_is_accepted(app, client, make, db, monkeypatch):
    monkeypatch.setitem(app.config, "TOLLGATE_API_BATCH_MAX_ITEMS", 5)
    _, token = make.api_client(["declarations:write"])
    batch = [body(f"FITS-{n}", items=[item()]) for n in range(5)]
    assert _post(client, token, batch).status_code == 201
    # one declaration is not a batch: its own limit (MAX_ITEMS) applies
    assert _post(client, token, body("ONE", items=[item()] * 6)).status_code == 201


def test_the_default_takes_issue_22s_batches_of_500_one_item_declarations(app):
    from app.risk.api import BATCH_MAX_ITEMS
    from app.risk.assessment import MAX_BATCH

    assert app.config["TOLLGATE_API_BATCH_MAX_ITEMS"] == BATCH_MAX_ITEMS >= MAX_BATCH == 500


def test_the_limit_is_documented(client):
    spec = client.get("/api/v1/openapi.json").json
    assert "413" in spec["paths"]["/api/v1/declarations"]["post"]["responses"]
