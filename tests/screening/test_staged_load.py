"""A list version is written beside the current one and switched to at once (issue 20): a
load never holds the database's write lock for longer than a batch, screening reads the
current version only until the switch, and a load that stops leaves the previous version in
place with nothing of its own left behind."""

from datetime import date

import pytest
from sqlalchemy import create_engine, func, select, text

from app.core.errors import ValidationError
from app.extensions import db as _db
from app.screening import loader, service
from app.screening.models import ScreeningEntry, ScreeningList, ScreeningListVersion
from app.screening.service import PartyQuery, screen
from app.security.access import Actor
from tests.screening.factories import company, load_ftm, person, write_ftm

SYSTEM = Actor.system("tests")
OLD = [
    company("os-romashka", "OOO Romashka", country="ru"),
    person("os-putin", "Vladimir Vladimirovich Putin", birth="1952-10-07"),
]
NEW = [
    company("os-romashka", "OOO Romashka", country="ru"),
    company("os-zarya", "Zarya Shipping LLC", country="ru"),
    company("os-volna", "Volna Trading JSC", country="ru"),
]


def _load(path, **kw):
    return loader.load_list(path, name="Test sanctions", source="t", sensitivity="P",
                            version_date=date(2026, 12, 2), actor=SYSTEM, **kw)  # fmt: skip


def _rows_by_version(db):
    return dict(
        db.session.execute(
            select(ScreeningEntry.version_id, func.count()).group_by(ScreeningEntry.version_id)
        ).all()
    )


def test_the_list_switches_to_a_version_once_all_of_it_is_written(db, tmp_path, monkeypatch):
    first = load_ftm(OLD)
    db.session.commit()
    monkeypatch.setattr(loader, "BATCH", 1)  # a commit after every entry
    seen = []
    real_commit = loader._commit_batch

    def commit_and_look():
        real_commit()
        # between two batches: the list is still the previous version, to the screener too
        lst = db.session.scalar(select(ScreeningList))
        service.invalidate()
        seen.append(
            (
                lst.current_version_id,
                [m.entry_id for m in screen(PartyQuery("Zarya Shipping", "Company"))],
                [m.entry_id for m in screen(PartyQuery("Vladimir Putin", "Person"))],
            )
        )

    monkeypatch.setattr(loader, "_commit_batch", commit_and_look)
    version = _load(write_ftm(NEW, tmp_path / "v2.json"))
    db.session.commit()
    staging = [s for s in seen if s[0] == first.id]  # then the previous rows are deleted
    assert len(staging) >= 2 and all(s == (first.id, [], ["os-putin"]) for s in staging), seen
    assert version.status == "loaded" and (version.added, version.removed) == (2, 1)
    service.invalidate()
    assert [m.entry_id for m in screen(PartyQuery("Zarya Shipping", "Company"))] == ["os-zarya"]
    assert screen(PartyQuery("Vladimir Putin", "Person")) == []
    # the previous version's rows are gone; the entry kept from it keeps its first version
    assert _rows_by_version(db) == {version.id: 3}
    romashka = db.session.scalar(select(ScreeningEntry).filter_by(entry_id="os-romashka"))
    assert (romashka.first_version_id, romashka.changed_version_id) == (first.id, first.id)


def test_another_writer_takes_the_lock_between_two_batches(db, app, tmp_path, monkeypatch):
    """A declaration arriving during a load of a big list is stored within its busy timeout
    (one transaction for the whole load held SQLite's write lock for minutes)."""
    load_ftm(OLD)
    db.session.commit()
    monkeypatch.setattr(loader, "BATCH", 1)
    other = create_engine(app.config["SQLALCHEMY_DATABASE_URI"],
                          connect_args={"timeout": 0.5} if _db.engine.dialect.name == "sqlite"
                          else {})  # fmt: skip
    written = []
    real_commit = loader._commit_batch

    def commit_then_other_writer():
        real_commit()
        with other.begin() as conn:
            conn.execute(text("CREATE TABLE IF NOT EXISTS probe_write (n INTEGER)"))
            conn.execute(text("INSERT INTO probe_write (n) VALUES (1)"))
        written.append(True)

    monkeypatch.setattr(loader, "_commit_batch", commit_then_other_writer)
    try:
        _load(write_ftm(NEW, tmp_path / "v2.json"))
        db.session.commit()
    finally:
        with other.begin() as conn:
            conn.execute(text("DROP TABLE IF EXISTS probe_write"))
        other.dispose()
    assert len(written) >= 2


def test_a_load_that_stops_leaves_the_previous_version(db, tmp_path, monkeypatch):
    first = load_ftm(OLD)
    db.session.commit()
    path = write_ftm(NEW, tmp_path / "v2.json")
    real_check = loader.check_file

    def check_then_file_replaced(*args, **kwargs):
        checked = real_check(*args, **kwargs)
        # another process replaces the file between the two passes
        write_ftm([*NEW, company("os-new", "Novaya Company", country="ru")], path)
        return checked

    monkeypatch.setattr(loader, "check_file", check_then_file_replaced)
    monkeypatch.setattr(loader, "BATCH", 1)  # some of it committed before the failure
    with pytest.raises(ValidationError) as err:
        _load(path)
    db.session.rollback()
    assert err.value.fields == {"line 4": "the file changed while it was loaded"}
    failed = db.session.scalars(
        select(ScreeningListVersion).order_by(ScreeningListVersion.id.desc())
    ).first()
    assert failed.status == "failed" and failed.id != first.id
    assert db.session.scalar(select(ScreeningList.current_version_id)) == first.id
    assert _rows_by_version(db) == {first.id: 2}
    service.invalidate()
    assert [m.entry_id for m in screen(PartyQuery("Vladimir Putin", "Person"))] == ["os-putin"]


def test_the_rows_of_a_load_whose_process_died_go_with_the_next_load(db, tmp_path):
    first = load_ftm(OLD)
    db.session.commit()
    # what a killed process leaves: a version "loading" and some of its rows
    dead = ScreeningListVersion(
        list_id=first.list_id,
        version_date=date(2026, 12, 2),
        file_format="ftm",
        file_sha256="0" * 64,
        status="loading",
    )
    db.session.add(dead)
    db.session.flush()
    db.session.execute(
        ScreeningEntry.__table__.insert(),
        [loader._row(rec, first.list_id, dead.id, 1) | {"version_id": dead.id,
         "first_version_id": dead.id} for _line, rec in loader._records(
            write_ftm(NEW, tmp_path / "half.json"), "ftm", None)],
    )  # fmt: skip
    db.session.commit()
    service.invalidate()
    assert screen(PartyQuery("Zarya Shipping", "Company")) == []  # never the list's
    version = _load(write_ftm(OLD, tmp_path / "v3.json"))
    db.session.commit()
    assert db.session.get(ScreeningListVersion, dead.id).status == "failed"
    assert _rows_by_version(db) == {version.id: 2}
