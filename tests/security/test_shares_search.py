"""Search honours shares exactly as the record pages do: a shared report is found by the
recipient unit's users and API clients while the share holds, not after it is revoked or
has ended (issue 15 item 3)."""

from datetime import date, timedelta

import pytest

from app.core.time import now_utc
from app.intel import reports
from app.search import service as search
from app.security import shares
from app.security.access import Actor


@pytest.fixture(params=["whoosh", "postgres"])
def backend(request, db):
    if request.param == "postgres" and db.engine.dialect.name != "postgresql":
        pytest.skip("the PostgreSQL search backend needs TOLLGATE_TEST_DB=postgres")
    engine = search.get_backend(request.param)
    engine.clear()
    db.session.commit()
    yield request.param
    db.session.rollback()
    engine.clear()
    db.session.commit()


def _client(unit):
    return Actor(
        user_id=None,
        username="api:partner",
        unit_id=unit.id,
        roles=("api_client",),
        permissions=frozenset({"search.use", "intel.view", "entity.view"}),
        api_client_id=1,
    )


def test_search_finds_a_shared_report_only_while_the_share_holds(make, db, backend):
    unit_a, unit_b = make.unit(code="SR-A"), make.unit(code="SR-B")
    owner = make.actor(make.user(roles=["intelligence_officer"], unit=unit_a))
    reader = make.actor(make.user(roles=["intelligence_officer"], unit=unit_b))
    client_b = _client(unit_b)
    report = reports.create_report(
        "Quayside courier", "quayside smuggling", "2", "B", actor=owner, handling_code="C"
    )
    db.session.commit()
    search.apply_index_queue(backend)

    def found(actor):
        return search.search(actor, "quayside", backend=backend).counts.get("report", 0)

    assert found(reader) == 0 and found(client_b) == 0
    until = (date.today() + timedelta(days=5)).isoformat()
    share = shares.create_share(
        "report", report.id, actor=owner, reason="Ops", expires=until, unit_id=unit_b.id
    )
    db.session.commit()
    assert found(reader) == 1 and found(client_b) == 1

    shares.revoke_share(share.id, actor=owner)
    db.session.commit()
    assert found(reader) == 0 and found(client_b) == 0

    again = shares.create_share(
        "report", report.id, actor=owner, reason="Ops 2", expires=until, unit_id=unit_b.id
    )
    db.session.commit()
    assert found(reader) == 1
    again.expires_dt = now_utc() - timedelta(seconds=1)  # its end has passed
    db.session.commit()
    assert found(reader) == 0 and found(client_b) == 0
