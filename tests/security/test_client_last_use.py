"""An API client's last-used time (issue 22): written after the request's own commit, in a
transaction of its own, at most once a minute; the request's transaction never holds the
client's row (a request holding it while waiting for the trail's lock deadlocked with one
holding the trail's lock and waiting for it, on PostgreSQL)."""

from datetime import timedelta

from sqlalchemy import event

from app.core.time import as_utc, now_utc
from app.security.models import ApiClient
from tests.risk.factories import body


def _post(client, token, number):
    return client.post(
        "/api/v1/declarations", json=body(number), headers={"Authorization": f"Bearer {token}"}
    )


def test_the_last_use_is_written_after_the_request_at_most_once_a_minute(client, make, db):
    api, token = make.api_client(["declarations:write"])
    db.session.commit()
    assert api.last_used_dt is None
    statements = []

    def watch(conn, cursor, statement, params, context, executemany):
        statements.append(statement.lstrip().split(None, 3)[:3])

    event.listen(db.engine, "before_cursor_execute", watch)
    try:
        assert _post(client, token, "LU-1").status_code == 201
    finally:
        event.remove(db.engine, "before_cursor_execute", watch)
    first = as_utc(db.session.get(ApiClient, api.id).last_used_dt)
    assert abs((now_utc() - first).total_seconds()) < 30
    # the declaration's trail row is written before the client's row is touched
    kinds = [" ".join(s[:3]).upper() for s in statements]
    trail_at = next(i for i, k in enumerate(kinds) if k.startswith("INSERT INTO ACCESS_EVENT"))
    touch_at = next(i for i, k in enumerate(kinds) if k.startswith("UPDATE API_CLIENT"))
    assert trail_at < touch_at

    assert _post(client, token, "LU-2").status_code == 201
    db.session.expire_all()
    assert as_utc(db.session.get(ApiClient, api.id).last_used_dt) == first  # within the minute

    stale = first - timedelta(minutes=5)
    db.session.get(ApiClient, api.id).last_used_dt = stale
    db.session.commit()
    assert _post(client, token, "LU-3").status_code == 201
    db.session.expire_all()
    assert as_utc(db.session.get(ApiClient, api.id).last_used_dt) > first
