"""Engine discipline per backend.

SQLite (WAL: readers and the one writer do not block each other) allows one writer at a
time. Every SQLAlchemy transaction begins lazily, by what its first statement does:

- a read opens a deferred transaction (``BEGIN``): a snapshot, and no lock that stops another
  connection from writing, however long the request takes;
- a write (INSERT, UPDATE, DELETE, REPLACE, SAVEPOINT, DDL) opens ``BEGIN IMMEDIATE``: the
  write lock, taken up front so a second writer queues on the busy timeout;
- the first write of a transaction that has only read ends the read transaction (COMMIT: it
  changed nothing) and begins IMMEDIATE. SQLite cannot upgrade a read transaction in place
  without risking a stale snapshot, so it refuses at once with "database is locked" instead of
  waiting; re-beginning means the write sees the latest committed data, which is PostgreSQL's
  READ COMMITTED, what the code already gets there;
- a flush takes the write lock before the ORM's own before-flush reads (the trail's chain
  head) so what those read cannot change before the flush writes;
- a check-then-change locks its rows (``lock_rows``, or a select ``with_for_update()``): on
  SQLite that takes the write lock before the rows are read (PostgreSQL: ``FOR UPDATE``).

pysqlite is kept out of the way (``isolation_level = None``: it emits no BEGIN of its own);
its ``commit()`` and ``rollback()``, which SQLAlchemy calls, end whatever transaction SQLite
reports open. So a slow read (a graph analysis, a big listing) never freezes other users'
writes; a write transaction lasts only from its first write to the commit.

Do not write while still iterating a partly fetched result of the same transaction
(``yield_per``, a Core result) before anything was written: the read statement keeps the old
snapshot and the upgrade fails; call ``begin_write()`` before the loop.
"""

import functools
import re
import sqlite3

from sqlalchemy import event, exc
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

#: key in the pooled connection's ``info``: where the SQLAlchemy transaction stands
_STATE = "tollgate_sqlite_tx"
#: begun in SQLAlchemy, nothing sent to SQLite yet
_PENDING = "pending"
#: the same, on an engine whose transactions all begin deferred (immediate=False)
_PENDING_DEFERRED = "pending-deferred"
#: SQLite holds a read transaction (a snapshot, no lock)
_READ = "read"
#: SQLite holds the write lock, or the transaction is not ours to manage
_OPEN = "open"

_LEADING_WORD = re.compile(r"(?:\s+|--[^\n]*(?:\n|$)|/\*.*?\*/|\()*([A-Za-z]*)", re.S)
_DML = re.compile(r"\b(?:INSERT|UPDATE|DELETE|REPLACE)\b", re.I)
_READS = frozenset({"SELECT", "VALUES", "EXPLAIN"})
#: transaction control is passed through untouched (SQLAlchemy's savepoint release and
#: rollback run inside a transaction that is already writing)
_CONTROL = frozenset({"BEGIN", "COMMIT", "END", "ROLLBACK", "RELEASE"})


def _is_sqlite(engine: Engine) -> bool:
    return engine.dialect.name == "sqlite"


@functools.lru_cache(maxsize=2048)
def statement_kind(statement: str) -> str:
    """The kind of a SQL statement ("read", "write" or "control"), from its leading keyword.
    Anything unknown counts as a write: the cost of a wrong guess is a lock taken early,
    never a write without the lock."""
    word = _LEADING_WORD.match(statement).group(1).upper()
    if word in _CONTROL:
        return "control"
    if word in _READS:
        return "read"
    if word == "WITH":  # a CTE ahead of an INSERT/UPDATE/DELETE writes
        return "write" if _DML.search(statement) else "read"
    if word == "PRAGMA":  # PRAGMA x = y sets; PRAGMA table_info(t) reads
        return "write" if "=" in statement else "read"
    return "write"


def _begin_as_needed(dbapi_conn, info, kind: str) -> None:
    """Send SQLite the BEGIN that the transaction's state and the next statement call for."""
    state = info.get(_STATE)
    if state is None or state == _OPEN:
        return
    if not dbapi_conn.in_transaction:
        # Nothing open at the SQLite level (nothing sent yet, or the read transaction was
        # ended by a COMMIT sent as SQL): begin as if fresh.
        state = _PENDING_DEFERRED if state == _PENDING_DEFERRED else _PENDING
    elif state != _READ:
        info[_STATE] = _OPEN  # someone sent their own BEGIN: theirs to manage
        return
    if state == _PENDING_DEFERRED:
        _run(dbapi_conn, "BEGIN")
        info[_STATE] = _OPEN
    elif state == _PENDING:
        _run(dbapi_conn, "BEGIN IMMEDIATE" if kind == "write" else "BEGIN")
        info[_STATE] = _OPEN if kind == "write" else _READ
    elif kind == "write":  # _READ: it has only read, so ending it loses nothing
        _run(dbapi_conn, "COMMIT")
        info[_STATE] = _PENDING
        _run(dbapi_conn, "BEGIN IMMEDIATE")
        info[_STATE] = _OPEN


def _run(dbapi_conn, sql: str) -> None:
    """Run a transaction statement; a failure (busy timeout) is raised as SQLAlchemy's
    OperationalError naming the statement, as a failing query would be."""
    try:
        dbapi_conn.execute(sql)
    except sqlite3.Error as err:
        raise exc.DBAPIError.instance(sql, (), err, sqlite3.Error) from err


def configure_engine(engine: Engine, immediate: bool = True, busy_timeout: float = 30) -> None:
    """``immediate=False`` begins every transaction deferred (SQLite's own behaviour: a write
    after a read upgrades in place and fails at once if another connection wrote meanwhile);
    only for a process that must never queue on the write lock, e.g. a test thread."""
    if not _is_sqlite(engine):
        return

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn, _record):
        # Take transaction control away from pysqlite so the BEGINs are ours to emit.
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute(f"PRAGMA busy_timeout = {int(busy_timeout * 1000)}")
        cur.execute("PRAGMA foreign_keys = ON")
        if ":memory:" not in str(engine.url):
            cur.execute("PRAGMA journal_mode = WAL")
            cur.execute("PRAGMA synchronous = NORMAL")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn):
        # No SQL yet: the first statement decides between a snapshot and the write lock.
        autocommit = conn.get_execution_options().get("isolation_level") == "AUTOCOMMIT"
        conn.info[_STATE] = None if autocommit else (_PENDING if immediate else _PENDING_DEFERRED)

    @event.listens_for(engine, "before_cursor_execute")
    def _before_execute(conn, cursor, statement, parameters, context, executemany):
        if conn.info.get(_STATE) in (None, _OPEN):
            return  # the common case once a transaction writes: no parsing
        kind = statement_kind(statement)
        if kind == "read" and _locks_rows(context):
            kind = "write"
        if kind != "control":
            _begin_as_needed(cursor.connection, conn.info, kind)


def _locks_rows(context) -> bool:
    """A SELECT ... FOR UPDATE (``with_for_update()``): SQLite renders no FOR UPDATE, but the
    statement still says it reads in order to change; it takes the write lock, so the rows it
    reads cannot change before the commit, as on PostgreSQL."""
    statement = getattr(getattr(context, "compiled", None), "statement", None)
    return getattr(statement, "_for_update_arg", None) is not None


def begin_write(session: Session | None = None) -> None:
    """Take SQLite's write lock for the rest of the session's transaction now (ending a
    read-only snapshot first). Nothing on PostgreSQL, whose writers lock rows, not the
    database."""
    from app.extensions import db

    conn = (session or db.session).connection()
    if conn.dialect.name == "sqlite":
        _begin_as_needed(conn.connection.dbapi_connection, conn.info, "write")


@event.listens_for(Session, "before_flush", insert=True)
def _flush_takes_write_lock(session, _flush_context, _instances):
    # insert=True: before the other before_flush listeners, whose reads (the trail's chain
    # head) must come after the lock, or a concurrent writer could change them first.
    begin_write(session)


def init_app(app) -> None:
    from app.extensions import db

    with app.app_context():
        # The test suite's own app turns IMMEDIATE off (tests/conftest.py): its thread keeps
        # SQLite's plain deferred transactions and never queues on the write lock before
        # its first write. The live server of the browser tests, worker_app and everything
        # outside the tests run the discipline above.
        configure_engine(
            db.engine,
            immediate=app.config.get("TOLLGATE_SQLITE_IMMEDIATE", True),
            busy_timeout=app.config.get("TOLLGATE_SQLITE_BUSY_TIMEOUT", 30),
        )


def lock_rows(model, *ids) -> None:
    """Lock these rows to the end of the transaction (``SELECT ... FOR UPDATE``, in id order,
    so two requests locking the same rows cannot deadlock each other) and reload them.

    For a check-then-change (is the selection still proposed? is the alert still new? was the
    duplicate merged already?): a second request waits for the first to commit, then reads
    what it wrote, and its check refuses instead of doing the work twice. Call it before the
    records are loaded. On SQLite, where a read holds no lock and SQLAlchemy renders no FOR
    UPDATE, it takes the database's write lock (waiting for a writer that holds it) and then
    reloads: the check reads data no other writer can change before the commit.
    """
    from sqlalchemy import select

    from app.extensions import db

    wanted = sorted({n for n in map(_lockable, ids) if n is not None})
    if not wanted:
        return
    begin_write(db.session)
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
