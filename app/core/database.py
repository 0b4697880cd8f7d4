"""Engine discipline per backend.

SQLite: WAL (readers never block the writer), a busy timeout, foreign keys on, and every
transaction started with BEGIN IMMEDIATE so two writers queue on the busy timeout instead
of failing with "database is locked" when a read lock is upgraded.
"""

from sqlalchemy import event
from sqlalchemy.engine import Engine


def _is_sqlite(engine: Engine) -> bool:
    return engine.dialect.name == "sqlite"


def configure_engine(engine: Engine, immediate: bool = True) -> None:
    if not _is_sqlite(engine):
        return

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn, _record):
        # Take transaction control away from pysqlite so BEGIN IMMEDIATE is ours to emit.
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA busy_timeout = 30000")
        cur.execute("PRAGMA foreign_keys = ON")
        if ":memory:" not in str(engine.url):
            cur.execute("PRAGMA journal_mode = WAL")
            cur.execute("PRAGMA synchronous = NORMAL")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn):
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


def init_app(app) -> None:
    from app.extensions import db

    with app.app_context():
        # Tests that drive a live server turn this off for the *test thread's* app only,
        # so an assertion that reads the database never holds the write lock.
        configure_engine(db.engine, immediate=app.config.get("TOLLGATE_SQLITE_IMMEDIATE", True))
