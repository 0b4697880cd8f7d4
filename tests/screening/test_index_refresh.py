"""The screening index is rebuilt off the request path (issue 20 / issue 22: no declaration
waits for a million-entry list to be re-read): a web worker builds it before its first request,
and a new list version is built in the background while screening goes on with the index it
has, then swapped in."""

import time
from datetime import date

from app.screening import service
from app.screening.service import PartyQuery, active_index, screen
from tests.screening.factories import company, load_ftm

ROMASHKA = company("os-romashka", "OOO Romashka", country="ru")
VEKTOR = company("os-vektor", "Vektor Trading LLC")


def _served_as_in_production(app, monkeypatch):
    # a test app checks and builds in place; a web worker (testing off) must not wait
    monkeypatch.setattr(app, "testing", False)
    monkeypatch.setattr(service, "CHECK_SECONDS", 0.0)


def test_a_new_version_is_built_in_the_background_and_swapped_in(app, db, monkeypatch):
    load_ftm([ROMASHKA])
    db.session.commit()
    first = active_index()
    assert screen(PartyQuery("Vektor Trading", "Company")) == []

    _served_as_in_production(app, monkeypatch)
    load_ftm([ROMASHKA, VEKTOR], version_date=date(2026, 12, 2))
    db.session.commit()
    # the caller is answered at once from the index it had: no re-read on its path
    assert active_index() is first

    deadline = time.monotonic() + 30
    while active_index() is first and time.monotonic() < deadline:
        time.sleep(0.05)
    index = active_index()
    assert index is not first, "the background rebuild never swapped the new index in"
    [hit] = index.screen(PartyQuery("Vektor Trading", "Company"))
    assert hit.entry_id == "os-vektor" and hit.list_version == "2026-12-02"


def test_a_worker_warms_the_index_before_its_first_request(app, db, monkeypatch):
    load_ftm([ROMASHKA])
    db.session.commit()
    monkeypatch.setitem(service._state, "index", None)
    service.warm_up(app)
    assert service._state["index"] is not None
    assert len(service._state["index"]) == 1
    assert service.warm_up in app.extensions["tollgate_warm_up"]


def test_a_load_in_this_process_is_screened_at_once(app, db, monkeypatch):
    # the administrator's upload waits for the re-read; the next declaration sees the list
    load_ftm([ROMASHKA])
    db.session.commit()
    active_index()
    _served_as_in_production(app, monkeypatch)
    load_ftm([ROMASHKA, VEKTOR], version_date=date(2026, 12, 2))
    db.session.commit()
    service.invalidate()
    [hit] = screen(PartyQuery("Vektor Trading", "Company"))
    assert hit.entry_id == "os-vektor"


def test_the_periodic_check_starts_no_thread_when_nothing_changed(app, db, monkeypatch):
    """Every CHECK_SECONDS a declaration's screening checks the lists' versions: with none
    changed that is one small query in the caller, not a background thread (whose start
    and query competed with the declaration for the GIL)."""
    import threading

    load_ftm([ROMASHKA])
    db.session.commit()
    first = active_index()
    _served_as_in_production(app, monkeypatch)
    started = []
    monkeypatch.setattr(threading.Thread, "start", lambda self: started.append(self))
    for _ in range(3):
        assert active_index() is first
    assert started == []
