"""Two officers changing one alert at the same moment (the PostgreSQL soak acknowledged some
alerts twice): the second waits for the first and is then refused."""

from sqlalchemy import func, select

from app.alerts import service
from app.alerts.models import AlertEvent
from app.extensions import db as _db
from app.security.access import Actor
from tests.alerts.conftest import register_specimens
from tests.alerts.factories import raise_specimen_alert
from tests.concurrency import race


def test_a_second_acknowledgement_waits_for_the_first_and_is_refused(
    worker_app, make, db, specimens
):
    register_specimens(worker_app, specimens)
    unit = make.unit()
    officer = make.user(roles=["enforcement_officer"], unit=unit)
    colleague = make.user(roles=["enforcement_officer"], unit=unit)
    alert = raise_specimen_alert(specimens.add(unit), {"users": [officer.id, colleague.id]})
    db.session.commit()
    alert_id, user_class = alert.id, type(officer)

    def acknowledge_as(user_id):
        def work():
            actor = Actor.for_user(_db.session.get(user_class, user_id))
            service.acknowledge(actor, alert_id, f"by {user_id}")

        return work

    outcome = race(worker_app, acknowledge_as(officer.id), acknowledge_as(colleague.id))
    assert outcome["first"] == "done"
    assert "already acknowledged" in outcome["second"], outcome
    db.session.rollback()
    events = db.session.scalar(
        select(func.count(AlertEvent.id)).where(
            AlertEvent.alert_id == alert_id, AlertEvent.action == "acknowledged"
        )
    )
    assert events == 1
