"""Reads never take SQLite's write lock (issue 16: one slow request froze everyone).

Each test runs the production discipline (``tests.transactions.production_app``) and checks
what another user can do meanwhile; on PostgreSQL the same outcomes hold."""

import threading

import pytest
from sqlalchemy import func, select

from app.core import database
from app.core.database import lock_rows
from app.extensions import db as _db
from app.security import trail
from app.security.access import Actor
from app.security.models import Unit
from app.security.trail import AccessEvent
from tests.risk.factories import body
from tests.transactions import other_write, production_app


@pytest.fixture
def prod(app, db):
    with production_app(app) as prod_app:
        yield prod_app


@pytest.fixture
def url(app):
    return app.config["SQLALCHEMY_DATABASE_URI"]


def _rename(url, unit_id, name):
    return other_write(url, "UPDATE unit SET name = :n WHERE id = :i", n=name, i=unit_id)


def test_an_open_read_transaction_does_not_stop_another_user_writing(prod, make, db, url):
    unit = make.unit(name="before")
    db.session.commit()
    with prod.app_context():
        # a request half-way through a slow read
        assert _db.session.scalar(select(func.count(Unit.id))) == 1
        assert _rename(url, unit.id, "renamed meanwhile") == "written"
        # and when it writes after all, its write sees the other user's commit instead of
        # failing on a stale snapshot ("database is locked" without waiting)
        _db.session.add(Unit(code="NEW", name="added after reading"))
        _db.session.flush()
        row = _db.session.get(Unit, unit.id, populate_existing=True)
        assert row.name == "renamed meanwhile"
        _db.session.commit()
    db.session.rollback()
    assert db.session.scalar(select(func.count(Unit.id))) == 2


def test_a_slow_reading_request_leaves_other_users_pages_and_writes_answering(prod, make, db, url):
    """The issue's case, through the app's own session and engine: one request holds a read
    transaction open (as a graph analysis over thousands of entities did for 18 s) while
    another officer lists cases (a trail row) and the declaration system submits."""
    from app.risk import engine

    engine.reset_cache()  # compiled for another test's database
    officer = make.user(roles=["intelligence_officer"])
    _, token = make.api_client(["declarations:write"], unit=officer.unit)
    client = prod.test_client()
    make.sign_in(client, officer)
    reading, finish, outcome = threading.Event(), threading.Event(), {}

    def slow_request():
        with prod.app_context():
            try:
                outcome["read"] = _db.session.scalar(select(func.count(Unit.id)))
                reading.set()
                finish.wait(60)  # the computation
                _db.session.commit()
            finally:
                reading.set()
                _db.session.remove()

    thread = threading.Thread(target=slow_request)
    thread.start()
    try:
        assert reading.wait(30) and outcome.get("read")
        page = client.get("/cases/")
        submitted = client.post(
            "/api/v1/declarations",
            json=body("SLOW-READ-1"),
            headers={"Authorization": f"Bearer {token}"},
        )
    finally:
        finish.set()
        thread.join(60)
    assert page.status_code == 200, page.get_data(as_text=True)[:300]
    assert submitted.status_code == 201, submitted.get_json()
    assert not thread.is_alive()


def test_lock_rows_takes_the_write_lock_then_reloads(prod, make, db, url):
    """A check-then-change stays serialised: after lock_rows the rows are the latest
    committed and nobody else can change them before this transaction ends."""
    unit = make.unit(name="proposed")
    db.session.commit()
    with prod.app_context():
        row = _db.session.get(Unit, unit.id)  # read first (the check's own look-up)
        assert row.name == "proposed"
        assert _rename(url, unit.id, "confirmed by a colleague") == "written"
        lock_rows(Unit, unit.id)
        assert row.name == "confirmed by a colleague"  # reloaded: the check sees it
        assert _rename(url, unit.id, "confirmed twice") == "locked"
        _db.session.rollback()
    assert _rename(url, unit.id, "free again") == "written"


def test_a_select_for_update_locks_on_sqlite_too(prod, make, db, url):
    unit = make.unit(name="new")
    db.session.commit()
    with prod.app_context():
        row = _db.session.scalar(select(Unit).where(Unit.id == unit.id).with_for_update())
        assert row.name == "new"
        assert _rename(url, unit.id, "changed under the lock") == "locked"
        _db.session.rollback()


def test_trail_rows_of_requests_that_read_first_chain_one_after_another(prod, make, db):
    """Both requests read the chain before either writes: the flush takes the write lock
    before the trail reads the chain's head, so the second links to the first's row."""
    actor = Actor.system("test")
    with prod.app_context():  # request B
        assert _db.session.scalar(select(func.count(AccessEvent.id))) == 0
        with prod.app_context():  # request A, in the middle of B
            assert _db.session.scalar(select(func.count(AccessEvent.id))) == 0
            trail.record(actor, "view", "unit", 1)
            _db.session.commit()
            _db.session.remove()
        trail.record(actor, "view", "unit", 2)
        _db.session.commit()
        _db.session.remove()
    db.session.rollback()
    rows = db.session.scalars(select(AccessEvent).order_by(AccessEvent.seq)).all()
    assert [(r.seq, r.record_id) for r in rows] == [(1, "1"), (2, "2")]
    assert rows[1].prev_hash == rows[0].hash
    assert trail.verify()[0]


def test_savepoints_commit_and_rollback_end_what_is_open(prod, make, db, url):
    with prod.app_context():
        _db.session.add(Unit(code="KEEP", name="kept"))
        _db.session.flush()
        savepoint = _db.session.begin_nested()
        _db.session.add(Unit(code="UNDO", name="rolled back to the savepoint"))
        _db.session.flush()
        savepoint.rollback()
        _db.session.commit()
        raw = _db.session.connection().connection.dbapi_connection
        if url.startswith("sqlite"):
            assert not raw.in_transaction  # the commit ended SQLite's transaction
        _db.session.scalar(select(func.count(Unit.id)))
        _db.session.rollback()
        if url.startswith("sqlite"):
            assert not raw.in_transaction
        # a savepoint is for a write: as the transaction's first statement it takes the lock
        with _db.session.begin_nested():
            _db.session.scalar(select(func.count(Unit.id)))  # SAVEPOINT, then the read
            assert _rename(url, 0, "nobody") == (
                "locked" if url.startswith("sqlite") else "written"
            )
        _db.session.rollback()
    db.session.rollback()
    assert db.session.scalars(select(Unit.code)).all() == ["KEEP"]


@pytest.mark.parametrize(
    ("sql", "kind"),
    [
        ("SELECT 1", "read"),
        ("  /* note */ (SELECT 1) UNION SELECT 2", "read"),
        ("WITH a AS (SELECT 1) SELECT * FROM a", "read"),
        ("WITH a AS (SELECT 1) DELETE FROM t WHERE id IN a", "write"),
        ('PRAGMA main.table_info("unit")', "read"),
        ("PRAGMA foreign_keys = ON", "write"),
        ("-- a comment\nINSERT INTO t VALUES (1)", "write"),
        ("SAVEPOINT sa_savepoint_1", "write"),
        ("RELEASE SAVEPOINT sa_savepoint_1", "control"),
        ("ROLLBACK TO SAVEPOINT sa_savepoint_1", "control"),
        ("CREATE TABLE t (id INTEGER)", "write"),
        ("select updated_dt from t", "read"),
        ("VACUUM", "write"),
    ],
)
def test_statement_kinds(sql, kind):
    assert database.statement_kind(sql) == kind
