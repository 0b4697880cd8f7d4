"""The Alembic migrations build exactly the schema the models describe, on this backend."""

import os
import uuid

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from app import create_app
from app.extensions import db as _db


@pytest.fixture
def empty_database_url(tmp_path):
    if os.environ.get("TOLLGATE_TEST_DB", "sqlite") != "postgres":
        yield f"sqlite:///{tmp_path / 'migrations.db'}"
        return
    server = make_url(
        os.environ["TOLLGATE_TEST_POSTGRES_URL"].replace(
            "postgresql://", "postgresql+psycopg://", 1
        )
    )
    name = f"tollgate_mig_{uuid.uuid4().hex[:8]}"
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    yield server.set(database=name).render_as_string(hide_password=False)
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def test_migrations_match_models(empty_database_url, tmp_path):
    from app.cli import upgrade_database

    application = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": empty_database_url,
            "INSTANCE_PATH": str(tmp_path),
            "TESTING": True,
            "SECRET_KEY": "x",
        }
    )
    with application.app_context():
        upgrade_database()
        with _db.engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={"compare_type": False})
            diff = compare_metadata(context, _db.metadata)
        _db.engine.dispose()
    summary = sorted(
        {f"{d[0]} {getattr(d[1], 'name', d[1])}" for d in diff if isinstance(d, tuple)}
    )
    assert not diff, f"models and migrations differ; run `make migration MSG=...`: {summary}"


def test_trail_is_append_only_after_migration(empty_database_url, tmp_path):
    from app.cli import upgrade_database

    application = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": empty_database_url,
            "INSTANCE_PATH": str(tmp_path),
            "TESTING": True,
            "SECRET_KEY": "x",
        }
    )
    with application.app_context():
        upgrade_database()
        from app.security import trail
        from app.security.access import Actor

        trail.record(Actor.system(), "view", "case", 1)
        _db.session.commit()
        with pytest.raises(Exception, match="append-only"):
            _db.session.execute(text("DELETE FROM access_event"))
        _db.session.rollback()
        _db.session.remove()
        _db.engine.dispose()
