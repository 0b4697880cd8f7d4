"""A declaration's screening hits are written by the worker moments after its assessment
(issue 20): the request stores the matches in the assessment and a flag, the worker's
``risk-screening-hits`` job writes the hits. What happens in between is kept faithfully,
each declaration's hits are written once whoever runs the job, and a declaration whose
hits cannot be written is said once and holds up no other."""

import logging
import threading

import pytest
from sqlalchemy import func, select

from app.extensions import db as _db
from app.jobs.registry import registered_jobs
from app.jobs.scheduler import run_job
from app.risk import engine as engine_mod
from app.risk.assessment import record_pending_screening
from app.risk.models import Declaration
from app.screening import judgements
from app.screening.hits import ScreeningHit
from tests.risk.factories import body, cond, no_random, profile, submit, tree
from tests.screening.factories import company, load_ftm

LIST = "Test sanctions"
STROY = {"role": "importer", "name": "Stroytekhimport LLC", "kind": "company"}


@pytest.fixture
def listed(db):
    engine_mod.reset_cache()
    load_ftm([company("NK-stroy", "ООО Стройтехимпорт", country="ru")], name=LIST)
    no_random()
    profile(
        name="Party on sanctions list",
        conditions=tree(cond("party_on_list", "on_any", [LIST])),
        channel="red",
    )
    db.session.commit()


def hits(db):
    return db.session.scalars(select(ScreeningHit).order_by(ScreeningHit.id)).all()


def pending(db):
    where = Declaration.screening_pending
    return db.session.scalar(select(func.count()).select_from(Declaration).where(where))


def test_the_scheduled_job_writes_the_hits_and_a_quiet_declaration_is_never_flagged(
    app, db, listed
):
    quiet = submit(body("Q-1", parties=[{**STROY, "name": "Northwind Traders Ltd"}]))
    listed_one = submit(body("L-1", parties=[STROY]))
    db.session.commit()
    assert (quiet.screening_pending, listed_one.screening_pending) == (False, True)
    assert hits(db) == []
    [spec] = [s for s in registered_jobs(app) if s.id == "risk-screening-hits"]
    assert run_job(app, spec)  # as the worker's scheduler runs it
    db.session.rollback()  # end the test session's read snapshot to see the job's writes
    [hit] = hits(db)
    assert (hit.subject_id, hit.entry_id, hit.judgement_id) == (listed_one.id, "NK-stroy", None)
    assert pending(db) == 0


def test_a_judgement_made_before_the_hits_were_written_judges_them(db, listed, make):
    """An analyst judged the party and entry (on the same versions) between this
    declaration's assessment and the worker's run: its hit is written judged, as
    ``judge`` marks the hits it finds, and is not in the open queue."""
    from tests.screening.factories import record_hits

    analyst = make.actor(make.user(roles=["risk_analyst"]))
    submit(body("J-1", parties=[STROY]))
    record_hits()
    [first] = hits(db)
    second = submit(body("J-2", parties=[STROY]))
    db.session.commit()
    assert second.channel == "red" and second.screening_pending
    judgement = judgements.judge(first.id, "true_match", "the listed company", actor=analyst)
    db.session.commit()
    record_hits()
    [_, hit] = hits(db)
    assert (hit.subject_id, hit.judgement_id) == (second.id, judgement.id)
    system = make.actor(make.user(roles=["risk_analyst"]))
    open_ids = [h.id for h in db.session.scalars(judgements.hits_query(system, status="open"))]
    assert hit.id not in open_ids


def test_concurrent_runs_write_each_declarations_hits_once(worker_app, db, listed):
    """Two workers (or a worker and an operator's command) running at once, each as a web
    worker runs (BEGIN IMMEDIATE on SQLite): each pending declaration is claimed by one."""
    for n in range(12):
        submit(body(f"C-{n}", parties=[STROY]))
    db.session.commit()
    done, errors = [], []
    barrier = threading.Barrier(2)

    def run():
        try:
            with worker_app.app_context():
                barrier.wait(timeout=10)
                total = 0
                while count := record_pending_screening(limit=3):
                    total += count
                done.append(total)
                _db.session.remove()
        except Exception as exc:  # reported below, not lost in the thread
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert errors == []
    assert sum(done) == 12
    db.session.rollback()  # end the test session's read snapshot to see the job's writes
    assert len(hits(db)) == 12
    assert len({h.subject_id for h in hits(db)}) == 12
    assert pending(db) == 0


def test_a_declaration_whose_hits_cannot_be_written_is_said_once_and_holds_up_none(
    db, listed, caplog
):
    good = submit(body("G-1", parties=[STROY]))
    bad = submit(body("B-1", parties=[STROY]))
    later = submit(body("G-2", parties=[STROY]))
    # a stored assessment the recorder cannot read (an older release's, say)
    broken = dict(bad.assessment)
    broken["screening"] = {**broken["screening"], "matches": [{"role": "importer"}]}
    bad.assessment = broken
    db.session.commit()
    with caplog.at_level(logging.ERROR, logger="app.risk.assessment"):
        assert record_pending_screening() == 3
        assert record_pending_screening() == 0
    said = [r for r in caplog.records if "could not be written" in r.getMessage()]
    assert len(said) == 1 and "B-1" in said[0].getMessage()
    db.session.rollback()  # end the test session's read snapshot to see the job's writes
    assert sorted(h.subject_id for h in hits(db)) == [good.id, later.id]
    assert pending(db) == 0


def test_the_hits_list_says_hits_are_being_written_to_who_may_see_them_and_when_late(
    client, login_as, db, listed, make
):
    from datetime import timedelta

    from app.core.time import now_utc
    from tests.screening.factories import record_hits

    own, other = make.unit(code="SANC"), make.unit(code="OTHER")
    decl = submit(body("P-1", parties=[STROY]))
    decl.unit_id, decl.handling_code = own.id, "C"  # confidential to its unit
    db.session.commit()

    login_as("risk_analyst", unit=other)
    page = client.get("/screening/hits").get_data(as_text=True)
    assert "hits-pending" not in page  # not even a count of what it may not see

    login_as("risk_analyst", unit=own)
    page = client.get("/screening/hits").get_data(as_text=True)
    assert "The hits of 1 declaration assessed moments ago are being written" in page

    decl.assessed_dt = now_utc() - timedelta(minutes=10)
    db.session.commit()
    page = client.get("/screening/hits").get_data(as_text=True)
    assert "has stopped or fallen behind" in page and "Tell an administrator" in page

    record_hits()
    page = client.get("/screening/hits").get_data(as_text=True)
    assert "hits-pending" not in page and "Stroytekhimport LLC" in page


def test_the_api_listing_says_so_too(client, db, listed, make):
    from tests.screening.factories import record_hits

    decl = submit(body("P-2", parties=[STROY]))
    db.session.commit()
    _, token = make.api_client(["screening:read"])
    headers = {"Authorization": f"Bearer {token}"}
    got = client.get("/api/v1/screening/hits", headers=headers).get_json()
    assert got["items"] == [] and got["pending"]["count"] == 1
    assert got["pending"]["late"] is False
    assert got["pending"]["oldest"].startswith(decl.assessed_dt.isoformat()[:19])
    record_hits()
    got = client.get("/api/v1/screening/hits", headers=headers).get_json()
    assert len(got["items"]) == 1 and got["pending"] is None
