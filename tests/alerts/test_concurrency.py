"""Two officers changing one alert at the same moment (the PostgreSQL soak acknowledged some
alerts twice): the second waits for the first and is then refused."""

import threading
import time

from sqlalchemy import func, select

from app import create_app
from app.alerts import service
from app.alerts.models import AlertEvent
from app.alerts.subjects import register_subject
from app.core.errors import ValidationError
from app.extensions import db as _db
from app.security.access import Actor, can_see
from tests.alerts.factories import raise_specimen_alert


def _worker_app(app, store):
    """A second app on the same database, as a web worker runs it (BEGIN IMMEDIATE on
    SQLite), with the test's specimen subject registered."""
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
    register_subject(
        worker,
        "specimen",
        "case.view",
        can_open=lambda actor, rid: rid in store and can_see(actor, store[rid]),
        handling=lambda rid: store[rid].handling_code,
    )
    return worker


def test_a_second_acknowledgement_waits_for_the_first_and_is_refused(app, make, db, specimens):
    unit = make.unit()
    officer = make.user(roles=["enforcement_officer"], unit=unit)
    colleague = make.user(roles=["enforcement_officer"], unit=unit)
    alert = raise_specimen_alert(specimens.add(unit), {"users": [officer.id, colleague.id]})
    db.session.commit()
    alert_id, user_class = alert.id, type(officer)
    worker = _worker_app(app, specimens)
    first_holds, outcome = threading.Event(), {}

    def acknowledge(user_id, name):
        actor = Actor.for_user(_db.session.get(user_class, user_id))
        try:
            service.acknowledge(actor, alert_id, name)
            _db.session.flush()
            return "acknowledged"
        except ValidationError as exc:
            _db.session.rollback()
            return str(exc)

    def first():
        with worker.app_context():
            outcome["first"] = acknowledge(officer_id, "first")
            first_holds.set()
            time.sleep(1.0)  # the second officer tries while this one is still open
            _db.session.commit()
            _db.session.remove()

    def second():
        first_holds.wait(30)
        with worker.app_context():
            outcome["second"] = acknowledge(colleague_id, "second")
            _db.session.commit()
            _db.session.remove()

    officer_id, colleague_id = officer.id, colleague.id
    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    with worker.app_context():
        _db.engine.dispose()
    assert outcome["first"] == "acknowledged"
    assert "already acknowledged" in outcome["second"], outcome
    db.session.rollback()
    events = db.session.scalar(
        select(func.count(AlertEvent.id)).where(
            AlertEvent.alert_id == alert_id, AlertEvent.action == "acknowledged"
        )
    )
    assert events == 1
