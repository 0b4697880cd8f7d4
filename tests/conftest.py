"""Fixtures shared by the whole suite: app, db, client, runner, login_as, factories.

The suite runs on SQLite by default and on PostgreSQL when TOLLGATE_TEST_DB=postgres and
TOLLGATE_TEST_POSTGRES_URL names a server: the tests then create a database of their own on
that server and drop it afterwards.
"""

import functools
import os
import secrets
import uuid
from pathlib import Path

import pytest
from sqlalchemy import create_engine, select, text
from sqlalchemy.engine import make_url

from app import create_app
from app.extensions import db as _db
from tests import factories

SHARED_DATA = Path(__file__).resolve().parent.parent.parent / "shared" / "data"


def _backend() -> str:
    return os.environ.get("TOLLGATE_TEST_DB", "sqlite")


@pytest.fixture(scope="session")
def database_url(tmp_path_factory):
    if _backend() != "postgres":
        path = tmp_path_factory.mktemp("db") / "tollgate-test.db"
        yield f"sqlite:///{path}"
        return
    server = os.environ.get("TOLLGATE_TEST_POSTGRES_URL")
    if not server:
        pytest.exit("TOLLGATE_TEST_DB=postgres needs TOLLGATE_TEST_POSTGRES_URL", returncode=2)
    server_url = make_url(server.replace("postgresql://", "postgresql+psycopg://", 1))
    name = f"tollgate_test_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    admin = create_engine(server_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield server_url.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(
                text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :n"),
                {"n": name},
            )
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        admin.dispose()


@pytest.fixture(scope="session")
def app(database_url, tmp_path_factory):
    instance = tmp_path_factory.mktemp("instance")
    application = create_app(
        {
            "TESTING": True,
            "INSTANCE_PATH": str(instance),
            "SECRET_KEY": secrets.token_hex(16),
            "SQLALCHEMY_DATABASE_URI": database_url,
            "WTF_CSRF_ENABLED": False,  # tests/test_csrf.py checks CSRF with it enabled
            "TOLLGATE_FAST_HASH": True,
            # The test thread reads without taking SQLite's write lock; the live server used by
            # browser tests keeps the production discipline (BEGIN IMMEDIATE).
            "TOLLGATE_SQLITE_IMMEDIATE": False,
            "TOLLGATE_EVIDENCE_DIR": str(instance / "evidence"),
            "TOLLGATE_SEARCH_DIR": str(instance / "search"),
            "TOLLGATE_WORKER_LOCK": str(instance / "worker.lock"),
            "SERVER_NAME": None,
        }
    )
    with application.app_context():
        _db.create_all()
        _seed_reference_lists()
        _take_baseline(_db.engine)
    yield application
    with application.app_context():
        _db.engine.dispose()


# What every test starts with: the rows the app fixture seeds (the reference lists), by table,
# and on PostgreSQL the position of each table's id sequence. Teardown puts back only the tables
# a test changed: emptying all 78 tables and seeding again cost ~25 ms a test on SQLite and, with
# TRUNCATE's new files per table, 1-2 s on PostgreSQL under load (issue 21, the fast lane and CI).
_BASELINE: dict[str, list] = {}
_SEQUENCES: dict[str, tuple[str, int | None]] = {}


@functools.cache
def _rows_statement(table):
    return select(table).order_by(*table.primary_key.columns)


def _rows(conn, table) -> list:
    return conn.execute(_rows_statement(table)).all()


@functools.cache
def _non_empty_statement():
    """One query naming every non-empty table, built once (building and compiling a union of
    78 selects for each test cost more than running it)."""
    return text(
        " UNION ALL ".join(
            f"SELECT '{t.name}' WHERE EXISTS (SELECT 1 FROM \"{t.name}\")"
            for t in _db.metadata.sorted_tables
        )
    )


def _sequence_positions(conn) -> dict[str, tuple[str, int | None]]:
    """Each table's owned sequence and where it stands (None: not used since its restart)."""
    return {
        table: (sequence, at)
        for table, sequence, at in conn.execute(
            text(
                "SELECT t.relname, q.sequencename, q.last_value FROM pg_sequences q"
                " JOIN pg_class s ON s.relname = q.sequencename AND s.relkind = 'S'"
                " JOIN pg_depend d ON d.objid = s.oid AND d.deptype IN ('a', 'i')"
                " JOIN pg_class t ON t.oid = d.refobjid"
                " WHERE q.schemaname = current_schema()"
            )
        )
    }


def _take_baseline(engine) -> None:
    with engine.connect() as conn:
        _BASELINE.clear()
        for table in _db.metadata.sorted_tables:
            if rows := _rows(conn, table):
                _BASELINE[table.name] = rows
        if engine.dialect.name == "postgresql":
            _SEQUENCES.clear()
            _SEQUENCES.update(_sequence_positions(conn))


def _changed_tables(conn) -> set[str]:
    """Tables that differ from the baseline: rows where it has none, rows other than its own,
    or (PostgreSQL) an id sequence that moved; and the baseline's tables referencing those."""
    tables = _db.metadata.sorted_tables
    probe = _non_empty_statement()
    changed = {name for name in conn.execute(probe).scalars() if name not in _BASELINE}
    changed |= {
        t.name for t in tables if t.name in _BASELINE and _rows(conn, t) != _BASELINE[t.name]
    }
    if conn.dialect.name == "postgresql":
        changed |= {
            name for name, at in _sequence_positions(conn).items() if at != _SEQUENCES.get(name)
        }
    grew = True
    while grew:  # a baseline row referencing a row to delete is deleted and put back too
        referencing = {
            t.name
            for t in tables
            if t.name in _BASELINE and any(fk.column.table.name in changed for fk in t.foreign_keys)
        }
        grew = not referencing <= changed
        changed |= referencing
    return changed


def _wipe(engine) -> None:
    """Put the database back as the app fixture left it, touching only the tables that changed.

    DELETE, child tables first, rather than TRUNCATE: on PostgreSQL a TRUNCATE writes new files
    for the table and every table referencing it (nearly all reference the user table), 0.4 s a
    test. The trail's append-only triggers are bypassed only here."""
    from app.security.trail import _SQLITE_TRIGGERS

    postgres = engine.dialect.name == "postgresql"
    with engine.begin() as conn:
        changed = _changed_tables(conn)
        ordered = [t for t in reversed(_db.metadata.sorted_tables) if t.name in changed]
        if "access_event" in changed:
            if postgres:  # its row trigger refuses DELETE; TRUNCATE fires no row trigger
                conn.execute(text('TRUNCATE "access_event" CASCADE'))
            else:
                conn.exec_driver_sql("DROP TRIGGER IF EXISTS access_event_no_delete")
        for table in ordered:
            if not (postgres and table.name == "access_event"):
                conn.execute(table.delete())
        if "access_event" in changed and not postgres:
            conn.exec_driver_sql(_SQLITE_TRIGGERS[1])
        for table in reversed(ordered):
            if rows := _BASELINE.get(table.name):
                conn.execute(table.insert(), [row._asdict() for row in rows])
        for name in changed & _SEQUENCES.keys():
            sequence, at = _SEQUENCES[name]
            if at is None:
                conn.execute(text(f'ALTER SEQUENCE "{sequence}" RESTART'))
            else:
                conn.execute(text("SELECT setval(:s, :at)"), {"s": f'"{sequence}"', "at": at})


def _seed_reference_lists() -> None:
    """The shipped reference lists (standard, demo and KCS sets) every test starts with:
    declarations are checked against them (app.reference)."""
    from app.reference.service import ensure

    ensure("standard", "demo", "kcs")
    _db.session.commit()
    _db.session.remove()


@pytest.fixture
def db(app):
    """An app context with an empty database; emptied again after the test."""
    with app.app_context():
        yield _db
        _db.session.rollback()
        _db.session.remove()
        _wipe(_db.engine)


@pytest.fixture
def worker_app(app, db):
    """A second app on the same database, configured as a web worker runs it (BEGIN
    IMMEDIATE on SQLite, unlike the test app): for tests of requests racing each other.
    Each thread works in its own ``worker_app.app_context()``."""
    from app import create_app
    from app.extensions import db as _db

    keys = (
        "SQLALCHEMY_DATABASE_URI",
        "SECRET_KEY",
        "TOLLGATE_EVIDENCE_DIR",
        "TOLLGATE_SEARCH_DIR",
        "TOLLGATE_WORKER_LOCK",
    )
    worker = create_app(
        {k: app.config[k] for k in keys} | {"INSTANCE_PATH": app.instance_path, "TESTING": True}
    )
    yield worker
    with worker.app_context():
        _db.engine.dispose()


@pytest.fixture
def client(app, db):
    return app.test_client()


@pytest.fixture
def runner(app, db):
    return app.test_cli_runner()


@pytest.fixture
def make(db):
    """Factories bound to the test database: ``make.user(role=...)``, ``make.unit()`` ..."""
    return factories.Factories(db)


@pytest.fixture
def login_as(client, make):
    """``login_as(role_or_user, unit=None)`` signs the test client in and returns the user."""

    def _login(who, unit=None):
        user = who if not isinstance(who, str) else make.user(roles=[who], unit=unit)
        make.sign_in(client, user)
        return user

    return _login


def _require(env_var: str) -> bool:
    return os.environ.get(env_var, "") not in ("", "0", "false")


@pytest.fixture(scope="session")
def shared_data():
    """Path of ../shared/data; skips (or fails under TOLLGATE_REQUIRE_DATA=1) when absent."""
    if not SHARED_DATA.is_dir():
        if _require("TOLLGATE_REQUIRE_DATA"):
            pytest.fail(f"TOLLGATE_REQUIRE_DATA=1 but {SHARED_DATA} is missing")
        pytest.skip(f"needs the shared data folder at {SHARED_DATA} (not part of a clone)")
    return SHARED_DATA


# --- the fast lane: what is slow is marked here, by what it does, not by hand per test ---------
# `make test-fast` runs `-m "not slow and not browser"` in parallel (pytest-xdist). A test is
# slow when it starts processes (subprocess, gunicorn, the worker: tests/ops/workers.py),
# drives the CLI (the `runner` fixture: whole commands, often over generated files), needs a
# live server (browser tests), waits out an outage, reads the shared data set, loads the demo,
# runs many generated examples (test_property_*.py, Hypothesis), trains models, or is one of
# the long runs named below (measured: bench/README.md "Test lanes" has the figures).
SLOW_FIXTURES = frozenset({"runner", "live_server", "page", "worker_app", "shared_data"})
SLOW_MARKS = ("data",)
SLOW_NAME_WORDS = ("outage", "demo")
SLOW_DIRS = ("tests/ops/",)
SLOW_FILES = frozenset(
    {
        "tests/test_cli.py",
        "tests/test_demo_load.py",
        "tests/test_migrations.py",
        "tests/test_api_fuzz.py",
        "tests/access/test_sentinel_sweep.py",
        "tests/audit/test_ml.py",
    }
)
_ROOT = Path(__file__).resolve().parent.parent


def _starts_processes(module) -> bool:
    import subprocess

    return any(
        value is subprocess or getattr(value, "__module__", "") == "tests.ops.workers"
        for value in vars(module).values()
    )


def _is_slow(item) -> bool:
    full = Path(str(item.path)).resolve()
    path = full.relative_to(_ROOT).as_posix() if full.is_relative_to(_ROOT) else str(full)
    module = getattr(item, "module", None)
    return (
        path in SLOW_FILES
        or path.startswith(SLOW_DIRS)
        or path.rsplit("/", 1)[-1].startswith("test_property_")
        or any(item.get_closest_marker(mark) for mark in SLOW_MARKS)
        or bool(SLOW_FIXTURES.intersection(getattr(item, "fixturenames", ())))
        or any(word in item.name for word in SLOW_NAME_WORDS)
        or (module is not None and _starts_processes(module))
    )


def pytest_collection_modifyitems(config, items):
    for item in items:
        if _is_slow(item) and not item.get_closest_marker("slow"):
            item.add_marker(pytest.mark.slow)


# --- one seed per run: pytest-randomly orders the tests and re-seeds `random` before each with
# it; the seed is printed first (also under -q) and again below any failure, so the run can be
# replayed in the same order with the same draws.
def _seed(config):
    if not config.pluginmanager.hasplugin("randomly"):
        return None
    return config.getoption("randomly_seed", None)


def pytest_sessionstart(session):
    config = session.config
    reporter = config.pluginmanager.get_plugin("terminalreporter")
    seed = _seed(config)
    # xdist workers report through the controller; without -q pytest-randomly prints it itself.
    if seed is None or reporter is None or hasattr(config, "workerinput"):
        return
    if config.get_verbosity() < 0:
        reporter.write_line(f"random seed {seed} (replay: -p randomly --randomly-seed={seed})")


# A retried test (make test's --reruns) that passes on a later attempt leaves only a "RERUN"
# line in the quiet output: keep the tail of each failed attempt's report and print it at the
# end, so a flaky test can be diagnosed from the CI log it flaked in.
_RERUN_TAILS: list[tuple[str, str]] = []


def pytest_runtest_logreport(report):
    if report.outcome == "rerun" and report.longrepr is not None:
        tail = "\n".join(report.longreprtext.splitlines()[-25:])
        _RERUN_TAILS.append((report.nodeid, tail))


def pytest_terminal_summary(terminalreporter, config):
    seed = _seed(config)
    failed = terminalreporter.stats.get("failed") or terminalreporter.stats.get("error")
    if seed is not None and failed:
        terminalreporter.section("replay")
        terminalreporter.write_line(
            f"random seed {seed}: run again with --randomly-seed={seed} (same order, same draws)"
        )
    if _RERUN_TAILS:
        terminalreporter.section("failed attempts of retried tests (tail of each report)")
        for nodeid, tail in _RERUN_TAILS:
            terminalreporter.write_line(f"--- {nodeid}")
            terminalreporter.write_line(tail)
