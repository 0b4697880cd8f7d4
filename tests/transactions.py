"""Helpers for tests of transaction discipline: an app configured as production runs it, and
"another user" writing through a connection of its own with a short lock timeout."""

import contextlib

from sqlalchemy import create_engine, exc, text

from app import create_app
from app.extensions import db as _db

#: seconds "another user" waits for a lock before giving up (short: the tests assert that
#: nobody holds it, and a test on old code should fail in seconds, not at 30 s)
OTHER_WAITS = 1.5


@contextlib.contextmanager
def production_app(app, **config):
    """A second app on the test database with the production discipline (lazy BEGIN on
    SQLite; the test app keeps plain deferred transactions) and a short busy timeout."""
    keys = (
        "SQLALCHEMY_DATABASE_URI",
        "SECRET_KEY",
        "TOLLGATE_EVIDENCE_DIR",
        "TOLLGATE_SEARCH_DIR",
        "TOLLGATE_WORKER_LOCK",
        "TOLLGATE_FAST_HASH",
    )
    prod = create_app(
        {k: app.config[k] for k in keys}
        | {
            "INSTANCE_PATH": app.instance_path,
            "TESTING": True,
            "WTF_CSRF_ENABLED": False,
            "TOLLGATE_SQLITE_BUSY_TIMEOUT": 5,
        }
        | config
    )
    try:
        yield prod
    finally:
        with prod.app_context():
            _db.session.remove()
            _db.engine.dispose()


def other_write(url: str, sql: str, **params) -> str:
    """Run one write as another user would, on a connection of its own that waits at most
    OTHER_WAITS seconds for a lock: "written", or "locked" when someone held the lock."""
    sqlite = url.startswith("sqlite")
    engine = create_engine(url, connect_args={"timeout": OTHER_WAITS} if sqlite else {})
    try:
        with engine.connect() as conn:
            if not sqlite:
                conn.exec_driver_sql(f"SET lock_timeout = '{int(OTHER_WAITS * 1000)}ms'")
            conn.execute(text(sql), params)
            conn.commit()
        return "written"
    except exc.OperationalError as err:
        reason = str(err.orig).lower()
        if "locked" in reason or "lock timeout" in reason:
            return "locked"
        raise
    finally:
        engine.dispose()
