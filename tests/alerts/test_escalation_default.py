"""Issue 19 item 6: with no headquarters unit designated (TOLLGATE_ALERT_ESCALATION_UNITS
unset), what the top of a unit leaves unhandled went to the supervisors of EVERY other unit who
could open the subject. Now nothing goes beyond the unit: escalation by hand is refused saying
why, the overdue job passes nothing on, and the administrator's home page says why."""

from datetime import timedelta

import pytest

from app.alerts import supervision, tasks
from app.core.errors import ValidationError
from tests.alerts.factories import raise_specimen_alert


@pytest.fixture
def top_of_unit(make, db, specimens, app, monkeypatch):
    monkeypatch.setitem(app.config, "TOLLGATE_ALERT_ESCALATION_UNITS", [])
    unit, other_unit = make.unit(), make.unit()
    chief = make.user(roles=["supervisor"], unit=unit)  # the top of her unit
    stranger = make.user(roles=["supervisor"], unit=other_unit)  # no chain of command to her
    alert = raise_specimen_alert(specimens.add(unit, handling_code="P"), {"users": [chief.id]})
    db.session.commit()
    return chief, stranger, alert


def test_escalation_by_hand_beyond_the_unit_is_refused_with_a_message(make, db, top_of_unit):
    chief, stranger, alert = top_of_unit
    with pytest.raises(ValidationError) as exc:
        supervision.escalate(make.actor(chief), alert.id, "beyond me")
    assert "no headquarters unit is designated" in exc.value.fields["reason"]
    db.session.rollback()
    assert stranger.id not in {r.user_id for r in alert.recipients}


def test_the_overdue_job_passes_nothing_beyond_the_unit(db, top_of_unit):
    chief, stranger, alert = top_of_unit
    assert tasks.escalate_overdue(now=alert.created_dt + timedelta(minutes=125)) == 0
    db.session.refresh(alert)
    assert [r.user_id for r in alert.recipients] == [chief.id]


def test_a_designated_headquarters_unit_receives_it(make, db, app, monkeypatch, top_of_unit):
    chief, stranger, alert = top_of_unit
    hq = make.unit()
    director = make.user(roles=["supervisor"], unit=hq)
    monkeypatch.setitem(app.config, "TOLLGATE_ALERT_ESCALATION_UNITS", [hq.code])
    supervision.escalate(make.actor(chief), alert.id, "beyond me")
    db.session.commit()
    added = {r.user_id for r in alert.recipients if r.via == "escalated by hand"}
    assert added == {director.id}


def test_the_administrator_sees_why_on_the_home_page(client, login_as, app, monkeypatch):
    monkeypatch.setitem(app.config, "TOLLGATE_ALERT_ESCALATION_UNITS", [])
    login_as("administrator")
    page = client.get("/").get_data(as_text=True)
    assert "no headquarters unit is designated" in page
    assert "TOLLGATE_ALERT_ESCALATION_UNITS" in page
    monkeypatch.setitem(app.config, "TOLLGATE_ALERT_ESCALATION_UNITS", ["NO-SUCH"])
    assert "NO-SUCH is not an active unit" in client.get("/").get_data(as_text=True)
    login_as("supervisor")  # not for everyone: only the administrator manages it
    assert "TOLLGATE_ALERT_ESCALATION_UNITS" not in client.get("/").get_data(as_text=True)
