"""Escalation to the recipient's supervisor when nobody acknowledges in time."""

from datetime import timedelta

from sqlalchemy import select

from app.alerts import service, tasks
from app.alerts.models import Delivery
from app.core.time import now_utc
from tests.alerts.factories import raise_specimen_alert


def _chain(make, unit):
    chief = make.user(roles=["supervisor"], unit=unit)
    boss = make.user(roles=["supervisor"], unit=unit, supervisor_id=chief.id)
    officer = make.user(roles=["enforcement_officer"], unit=unit, supervisor_id=boss.id)
    return officer, boss, chief


def _escalation_mails(db, alert):
    return db.session.scalars(
        select(Delivery).where(Delivery.alert_id == alert.id, Delivery.kind == "escalation")
    ).all()


def test_unacknowledged_alert_escalates_to_the_supervisor(make, db, specimens):
    unit = make.unit()
    officer, boss, chief = _chain(make, unit)
    alert = raise_specimen_alert(specimens.add(unit), {"users": [officer.id]})
    t0 = alert.created_dt
    assert tasks.escalate_overdue(now=t0 + timedelta(minutes=59)) == 0  # deadline: 60 min
    assert tasks.escalate_overdue(now=t0 + timedelta(minutes=61)) == 1
    db.session.refresh(alert)
    via = {r.user_id: r.via for r in alert.recipients}
    assert via == {officer.id: "user", boss.id: "escalation"}
    assert alert.escalation_level == 1
    [mail] = _escalation_mails(db, alert)
    assert mail.target == boss.email and "ESCALATED" in mail.subject
    assert officer.full_name in mail.body
    assert any(e.action == "escalated" for e in alert.events)
    # Running again does not escalate the same recipient twice...
    assert tasks.escalate_overdue(now=t0 + timedelta(minutes=62)) == 0
    # ...but the supervisor who does not acknowledge either is escalated in turn.
    assert tasks.escalate_overdue(now=t0 + timedelta(minutes=125)) == 1
    db.session.refresh(alert)
    assert {r.user_id for r in alert.recipients} == {officer.id, boss.id, chief.id}
    assert alert.escalation_level == 2


def test_acknowledged_alert_does_not_escalate(make, db, specimens):
    unit = make.unit()
    officer, boss, _ = _chain(make, unit)
    alert = raise_specimen_alert(specimens.add(unit), {"users": [officer.id]})
    service.acknowledge(make.actor(officer), alert.id, "on my way")
    assert tasks.escalate_overdue(now=now_utc() + timedelta(days=2)) == 0
    db.session.refresh(alert)
    assert [r.user_id for r in alert.recipients] == [officer.id]
    assert _escalation_mails(db, alert) == []


def test_supervisor_outside_need_to_know_is_not_alerted(make, db, specimens):
    unit_a, unit_b = make.unit(), make.unit()
    boss_elsewhere = make.user(roles=["supervisor"], unit=unit_b)
    officer = make.user(roles=["enforcement_officer"], unit=unit_a, supervisor_id=boss_elsewhere.id)
    alert = raise_specimen_alert(specimens.add(unit_a, "C"), {"users": [officer.id]})
    assert tasks.escalate_overdue(now=now_utc() + timedelta(hours=2)) == 0
    db.session.refresh(alert)
    assert [r.user_id for r in alert.recipients] == [officer.id]


def test_deadline_follows_severity_and_source(make, db, specimens):
    unit = make.unit()
    user = make.user(roles=["supervisor"], unit=unit)
    critical = raise_specimen_alert(specimens.add(unit), {"users": [user.id]}, severity="critical")
    custom = raise_specimen_alert(specimens.add(unit), {"users": [user.id]}, deadline=5)
    assert critical.deadline_dt - critical.created_dt == timedelta(minutes=15)
    assert custom.deadline_dt - custom.created_dt == timedelta(minutes=5)
