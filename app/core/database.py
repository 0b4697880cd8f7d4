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


def lock_rows(model, *ids) -> None:
    """Lock these rows to the end of the transaction (``SELECT ... FOR UPDATE``, in id order,
    so two requests locking the same rows cannot deadlock each other) and reload them.

    For a check-then-change (is the selection still proposed? is the alert still new? was the
    duplicate merged already?): a second request waits for the first to commit, then reads
    what it wrote, and its check refuses instead of doing the work twice. Call it before the
    records are loaded. On SQLite, BEGIN IMMEDIATE already serialises writers and SQLAlchemy
    renders no FOR UPDATE: the select only reloads.
    """
    from sqlalchemy import select

    from app.extensions import db

    wanted = sorted({n for n in map(_lockable, ids) if n is not None})
    if not wanted:
        return
    db.session.scalars(
        select(model)
        .where(model.id.in_(wanted))
        .order_by(model.id)
        .with_for_update(of=model)
        .execution_options(populate_existing=True)
    ).all()


#: primary keys are INTEGER columns (PostgreSQL: 32-bit signed)
MAX_ID = 2**31 - 1


def valid_id(value) -> int | None:
    """``value`` if it is an integer a primary key can hold, else None (a JSON ``true``, a
    float, a text, or a number no id column can hold: PostgreSQL would refuse to compare it,
    a 500 instead of "no such record")."""
    if isinstance(value, int) and not isinstance(value, bool) and 0 < value <= MAX_ID:
        return value
    return None


def _lockable(value) -> int | None:
    """An id from a path or a form (int or digits); anything else is left to the caller's
    own look-up, which reports it."""
    if isinstance(value, str) and value.isdigit():
        value = int(value)
    return valid_id(value)
