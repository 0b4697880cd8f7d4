"""Lifecycle new → acknowledged → actioned → closed, bulk acknowledgement, feedback,
who sees which alert, the access trail, and the supervisor's figures."""

from datetime import timedelta

import pytest
from sqlalchemy import select

from app.alerts import service, tasks
from app.core.errors import ValidationError
from app.core.time import now_utc
from app.security.access import NotFound
from app.security.trail import AccessEvent
from tests.alerts.factories import raise_specimen_alert
from tests.fake_dns import fake_dns


@pytest.fixture
def setup(make, db, specimens):
    unit = make.unit()
    officer = make.user(roles=["enforcement_officer"], unit=unit)
    colleague = make.user(roles=["enforcement_officer"], unit=unit)
    alert = raise_specimen_alert(specimens.add(unit), {"users": [officer.id, colleague.id]})
    return unit, officer, colleague, alert


def test_full_lifecycle_with_who_when_and_notes(make, setup):
    _, officer, colleague, alert = setup
    me = make.actor(officer)
    service.acknowledge(me, alert.id, "looking")
    assert alert.status == "acknowledged" and alert.acknowledged_by == officer.username
    with pytest.raises(ValidationError) as err:
        service.acknowledge(make.actor(colleague), alert.id)
    assert "already acknowledged" in err.value.fields["status"]
    with pytest.raises(ValidationError) as err:
        service.mark_actioned(me, alert.id, "  ")
    assert "note" in err.value.fields
    service.mark_actioned(me, alert.id, "container scanned")
    service.close(make.actor(colleague), alert.id, "nothing found")
    assert alert.status == "closed" and alert.closed_by == colleague.username
    assert [(e.action, e.note) for e in alert.events] == [
        ("acknowledged", "looking"),
        ("actioned", "container scanned"),
        ("closed", "nothing found"),
    ]
    with pytest.raises(ValidationError):
        service.close(me, alert.id)


def test_only_recipients_see_an_alert_and_refusals_are_trailed(make, db, setup):
    unit, officer, _, alert = setup
    stranger = make.user(roles=["supervisor"], unit=unit)  # same unit, not a recipient
    with pytest.raises(NotFound):
        service.get_alert(make.actor(stranger), alert.id)
    assert service.unread_count(make.actor(stranger)) == 0
    assert db.session.scalars(service.inbox_query(make.actor(stranger))).all() == []
    seen = service.get_alert(make.actor(officer), alert.id)
    assert seen.id == alert.id
    rows = db.session.scalars(select(AccessEvent).where(AccessEvent.record_type == "alert")).all()
    assert [(r.username, r.outcome) for r in rows] == [
        (stranger.username, "denied"),
        (officer.username, "allowed"),
    ]


def test_a_recipient_who_lost_need_to_know_cannot_open_it(make, db, setup, specimens):
    _, officer, _, alert = setup
    officer.unit = make.unit()  # moved to another unit: the code C subject is out of reach
    db.session.flush()
    with pytest.raises(NotFound):
        service.get_alert(make.actor(officer), alert.id)


def test_unread_count_and_bulk_acknowledge(make, db, specimens, setup):
    unit, officer, _, first = setup
    second = raise_specimen_alert(specimens.add(unit), {"users": [officer.id]}, source_id=2)
    other = make.user(roles=["enforcement_officer"], unit=unit)
    foreign = raise_specimen_alert(specimens.add(unit), {"users": [other.id]}, source_id=3)
    db.session.commit()
    me = make.actor(officer)
    assert service.unread_count(me) == 2
    with pytest.raises(ValidationError):
        service.bulk_acknowledge(me, [])
    with pytest.raises(NotFound):  # someone else's alert in the batch: nothing is revealed
        service.bulk_acknowledge(me, [first.id, foreign.id])
    db.session.rollback()
    assert service.bulk_acknowledge(me, [first.id, second.id, "junk"]) == 2
    assert service.unread_count(me) == 0
    assert first.status == second.status == "acknowledged"


def test_feedback_feeds_source_statistics(make, db, setup, specimens):
    unit, officer, _, alert = setup
    service.give_feedback(make.actor(officer), alert.id, False, "false positive")
    again = raise_specimen_alert(specimens.add(unit), {"users": [officer.id]})
    service.give_feedback(make.actor(officer), again.id, True)
    stats = service.source_statistics("profile", 1)
    assert stats == {"alerts": 2, "fired": 2, "useful": 1, "not_useful": 1}


def test_supervisor_figures(make, db, specimens):
    unit = make.unit()
    sup = make.user(roles=["supervisor"], unit=unit)
    officer = make.user(roles=["enforcement_officer"], unit=unit, supervisor_id=sup.id)
    t0 = now_utc() - timedelta(hours=3)
    old = raise_specimen_alert(specimens.add(unit), {"users": [officer.id]}, now=t0)
    raise_specimen_alert(specimens.add(unit), {"users": [officer.id]}, severity="low", source_id=2)
    acked = raise_specimen_alert(specimens.add(unit), {"users": [officer.id]}, source_id=3, now=t0)
    acked.status, acked.acknowledged_dt = "acknowledged", t0 + timedelta(minutes=12)
    tasks.escalate_overdue()  # the 3-hour-old high alert is past its 60-minute deadline
    other_unit = make.unit()
    elsewhere = make.user(roles=["enforcement_officer"], unit=other_unit)
    raise_specimen_alert(specimens.add(other_unit), {"users": [elsewhere.id]}, source_id=4)
    f = service.supervisor_figures(make.actor(sup))
    assert f["open_total"] == 3
    assert f["open_by_severity"]["high"]["1–4 h"] == 2
    assert f["open_by_severity"]["low"]["< 1 h"] == 1
    assert f["ack_median_minutes"] == 12.0 and f["acknowledged"] == 1
    assert f["escalated"] == 1 and old.escalation_level == 1
    assert {v["id"] for v in f["volume"]} == {1, 2, 3}  # unit 4's profile is not ours
    with pytest.raises(Exception, match="alert.supervise"):
        service.supervisor_figures(make.actor(officer))


def test_preferences_validate(make, db):
    me = make.actor(make.user(roles=["supervisor"]))
    with pytest.raises(ValidationError) as err:
        service.set_preference(me, email_mode="hourly", min_severity="low")
    assert "email_mode" in err.value.fields
    pref = service.set_preference(me, email_mode="weekly", min_severity="high")
    assert pref.last_digest_dt is not None


def test_webhook_validation(make, db, monkeypatch):
    fake_dns(monkeypatch, {"sms.example": "93.184.215.14"})  # a public address
    sup = make.actor(make.user(roles=["supervisor"]))
    with pytest.raises(ValidationError) as err:
        service.add_webhook(sup, name="", url="ftp://x", min_severity="loud", secret="short")
    assert set(err.value.fields) == {"name", "url", "min_severity", "secret"}
    hook = service.add_webhook(sup, name="SMS gateway", url="https://sms.example/in")
    assert len(hook.secret) == 48
