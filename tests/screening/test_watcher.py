"""A web worker's screening state is kept fresh by its watcher thread, off the declarations'
path (issue 20: the check that every CHECK_SECONDS landed on one declaration was the p99 of
what screening adds): a declaration reads no list version and no judgement mark while the
watcher covers it; a list version loaded or a judgement recorded in another process is
picked up by the watcher alone; a watcher that keeps failing says so once, and the
declarations check for themselves again."""

import logging
import os
import threading
import time
from datetime import date

import pytest
from sqlalchemy import event, insert, select

from app.risk import engine as engine_mod
from app.screening import judgements, service, watcher
from app.screening.hits import ScreeningHit
from app.screening.judgements import ScreeningJudgement
from app.screening.service import PartyQuery, active_index
from tests.risk.factories import body, cond, no_random, profile, submit, tree
from tests.screening.factories import company, load_ftm, record_hits

LIST = "Test sanctions"
STROY = company("NK-stroy", "ООО Стройтехимпорт", country="ru")
VEKTOR = company("os-vektor", "Vektor Trading LLC")
PERIOD = 0.05


@pytest.fixture
def worker(app, db, monkeypatch):
    """The test app served as a web worker is: not testing, its checks every PERIOD s."""
    engine_mod.reset_cache()
    load_ftm([STROY], name=LIST)
    no_random()
    profile(
        name="Party on sanctions list",
        conditions=tree(cond("party_on_list", "on_any", [LIST])),
        channel="red",
    )
    db.session.commit()
    active_index()
    judgements.forget_cached()
    monkeypatch.setattr(app, "testing", False)
    monkeypatch.setattr(service, "CHECK_SECONDS", PERIOD)
    yield app
    watcher.stop()


def _until(condition, what, seconds=20.0):
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, what
        time.sleep(0.02)


def _checks_in_this_thread(db, fn):
    """The list-version and judgement-mark queries ``fn`` runs in the calling thread."""
    me, seen = threading.get_ident(), []

    def listen(conn, cursor, statement, *args):
        if threading.get_ident() == me:
            seen.append(statement)

    event.listen(db.engine, "before_cursor_execute", listen)
    try:
        result = fn()
    finally:
        event.remove(db.engine, "before_cursor_execute", listen)
    checks = [s for s in seen if "screening_list_version" in s or "screening_judgement" in s]
    return result, checks


def _importer(name="Stroytekhimport LLC"):
    return body(parties=[{"role": "importer", "name": name, "kind": "company"}])


def test_a_declaration_in_a_covered_worker_runs_no_freshness_check(db, worker):
    # without a watcher, the declaration that comes a period after the last check pays for it
    time.sleep(2 * PERIOD)
    decl, checks = _checks_in_this_thread(db, lambda: submit(_importer()))
    assert decl.channel == "red"
    assert checks, "the declarations' own check did not run: this test would prove nothing"

    watcher.start(worker)
    _until(watcher.covers, "the watcher never checked")
    for _ in range(3):
        time.sleep(2 * PERIOD)
        decl, checks = _checks_in_this_thread(db, lambda: submit(_importer()))
        assert decl.channel == "red"
        assert checks == []


def test_a_version_loaded_elsewhere_is_swapped_in_by_the_watcher_alone(db, worker):
    first = active_index()
    watcher.start(worker)
    _until(watcher.covers, "the watcher never checked")
    # another process's load: nothing in this process is told (no invalidate)
    load_ftm([STROY, VEKTOR], name=LIST, version_date=date(2026, 12, 2))
    db.session.commit()
    _until(lambda: service._state["index"] is not first, "the watcher never swapped it in")
    [hit] = service._state["index"].screen(PartyQuery("Vektor Trading", "Company"))
    assert hit.list_version == "2026-12-02"


def test_a_judgement_recorded_elsewhere_is_read_by_the_watcher(db, worker):
    first = submit(_importer())
    assert first.channel == "red"
    record_hits()
    [hit] = db.session.scalars(select(ScreeningHit)).all()
    watcher.start(worker)
    _until(watcher.covers, "the watcher never checked")
    # another process's judgement: a row, and no forget_cached() in this process
    db.session.execute(
        insert(ScreeningJudgement).values(
            party_key=hit.party_key, party_version=hit.party_version, list_id=hit.list_id,
            entry_id=hit.entry_id, entry_version_key=hit.entry_version_key,
            verdict="false_positive", note="another company", hit_id=hit.id, judged_by="x",
        )
    )  # fmt: skip
    db.session.commit()
    pair = (hit.party_key, hit.list_id, hit.entry_id)
    _until(lambda: pair in judgements._cache["latest"], "the watcher never read the judgement")
    again, checks = _checks_in_this_thread(db, lambda: submit(_importer()))
    assert again.channel != "red" and checks == []


class _Unreachable:
    """An app whose database cannot be reached: every context it opens fails."""

    def app_context(self):
        raise ConnectionError("database unreachable")


def test_a_failing_watcher_says_so_once_and_the_declarations_check_again(db, worker, caplog):
    watcher.start(worker)
    _until(watcher.covers, "the watcher never checked")
    watcher.stop()  # its checks are run by hand below, one round at a time
    # a live thread of this process stands for the watcher
    watcher._state.update(thread=threading.current_thread(), pid=os.getpid())
    try:
        _fails_once_and_recovers(db, worker, caplog)
    finally:
        watcher._state.update(thread=None)


def _fails_once_and_recovers(db, worker, caplog):
    assert watcher.check_once(worker) and watcher.covers()

    caplog.set_level(logging.INFO, logger="tollgate.screening")
    assert [watcher.check_once(_Unreachable()) for _ in range(5)] == [False] * 5
    failed = [r for r in caplog.records if "watcher's check failed" in r.getMessage()]
    assert len(failed) == 1 and failed[0].levelno == logging.ERROR
    time.sleep(watcher.STALE_CHECKS * PERIOD + 0.05)
    assert not watcher.covers()  # the declarations check for themselves again
    _decl, checks = _checks_in_this_thread(db, lambda: submit(_importer()))
    assert checks

    assert watcher.check_once(worker) and watcher.covers()
    assert [r.getMessage() for r in caplog.records].count(
        "the screening watcher's check succeeds again"
    ) == 1
