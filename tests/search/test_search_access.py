"""Access-matrix walk through search: no role, unit or token sees a record it may not open."""

from app.intel import reports, service
from app.search import service as search
from app.security.roles import ROLES
from tests.access.test_access_matrix import SENTINEL


def test_search_never_returns_hidden_records(client, make, db, backend, app):
    unit_a, unit_b = make.unit(), make.unit()
    owner = make.user(roles=["intelligence_officer"], unit=unit_a)
    owner_actor = make.actor(owner)
    service.create_entity(
        "organisation", f"Hidden Co {SENTINEL}", actor=owner_actor, handling_code="C"
    )
    reports.create_report(
        f"Hidden report {SENTINEL}",
        f"{SENTINEL} text",
        "1",
        "A",
        actor=owner_actor,
        handling_code="C",
    )
    service.create_entity("organisation", f"Visible Co {SENTINEL}", actor=owner_actor)
    db.session.commit()
    search.apply_index_queue(backend)
    app.config["TOLLGATE_SEARCH_BACKEND"] = backend
    try:
        for role in ROLES:
            for unit in (unit_a, unit_b):
                user = make.user(roles=[role], unit=unit)
                c = app.test_client()
                make.sign_in(c, user)
                resp = c.get(f"/search?q={SENTINEL}")
                body = resp.get_data(as_text=True)
                if "search.use" not in make.actor(user).permissions:
                    assert resp.status_code == 403
                    continue
                assert resp.status_code == 200
                if unit is unit_b:
                    assert "Hidden" not in body, f"{role} of another unit saw a hidden record"
                    assert "1 result" in body
                else:
                    assert "Hidden Co" in body
        _, token = make.api_client(["search:read", "entities:read"], unit=unit_b)
        resp = client.get(
            f"/api/v1/search?q={SENTINEL}", headers={"Authorization": f"Bearer {token}"}
        )
        assert resp.json["total"] == 1 and "Hidden" not in resp.get_data(as_text=True)
        _, token = make.api_client(["search:read"], unit=unit_a)
        resp = client.get(
            f"/api/v1/search?q={SENTINEL}", headers={"Authorization": f"Bearer {token}"}
        )
        # the API client has search.use only: no entity.view, no intel.view
        assert resp.json["total"] == 0
    finally:
        app.config["TOLLGATE_SEARCH_BACKEND"] = "auto"
