"""The db fixture's reset (tests/conftest.py::_wipe) puts back exactly what every test starts
with, while touching only the tables a test changed (issue 21: the fast lane and CI's time)."""

from sqlalchemy import select

from app.reference.models import ReferenceEntry
from app.security.access import Actor
from app.security.trail import record, trigger_problems
from tests.conftest import _BASELINE, _changed_tables, _rows, _wipe


def _as_left(db):
    with db.engine.connect() as conn:
        return {t.name: _rows(conn, t) for t in db.metadata.sorted_tables}


def test_the_reset_restores_edited_reference_rows_new_rows_and_the_trail(db, make, client):
    first = make.user(roles=["risk_analyst"])
    make.sign_in(client, first)
    entry = db.session.scalars(select(ReferenceEntry).order_by(ReferenceEntry.id)).first()
    entry.label = "CHANGED-BY-A-TEST"
    record(Actor.for_user(first), "view", "case", 1)
    db.session.commit()
    first_id = first.id
    db.session.remove()
    with db.engine.connect() as conn:
        changed = _changed_tables(conn)
    assert {"reference_entry", "user_account", "access_event"} <= changed

    _wipe(db.engine)

    left = _as_left(db)
    assert {name: rows for name, rows in left.items() if rows} == _BASELINE
    with db.engine.connect() as conn:
        assert _changed_tables(conn) == set()
        assert trigger_problems(conn) == []  # the trail stays append-only after a reset
    # Ids start again where the baseline left them, as the first test of a run sees them.
    assert make.user(roles=["risk_analyst"]).id == first_id
