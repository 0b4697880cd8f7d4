"""Deliveries that cannot succeed end (issue 16, item 7): after
TOLLGATE_DELIVERY_MAX_ATTEMPTS failures an e-mail or webhook is "failed" with its reason,
shown to its recipient and to the unit's supervisor, and logged once per change of state
(failing, failed, recovered), never once per attempt."""

import logging
from datetime import timedelta

import pytest
from sqlalchemy import select

from app.alerts import delivery
from app.alerts.models import Delivery
from app.core.time import now_utc
from tests.alerts.conftest import WEBHOOK_SECRET, SmtpSink, free_port
from tests.alerts.factories import raise_specimen_alert, webhook
from tests.fake_dns import CountingListener

LOGGER = "tollgate.alerts.delivery"


@pytest.fixture
def dead_smtp(app, monkeypatch):
    """An SMTP port nothing listens on: every attempt is "connection refused"."""
    monkeypatch.setitem(app.config, "TOLLGATE_SMTP_HOST", "127.0.0.1")
    monkeypatch.setitem(app.config, "TOLLGATE_SMTP_PORT", free_port())


@pytest.fixture
def attempts(app, monkeypatch):
    def set_max(n):
        monkeypatch.setitem(app.config, "TOLLGATE_DELIVERY_MAX_ATTEMPTS", n)

    return set_max


def _run(times):
    """``times`` runs of the delivery job, each late enough that every back-off is over."""
    for n in range(times):
        delivery.deliver_due(now=now_utc() + timedelta(hours=n + 1))


def _rows(db):
    db.session.rollback()
    return db.session.scalars(select(Delivery).order_by(Delivery.id)).all()


def _records(caplog):
    return [r for r in caplog.records if r.name == LOGGER]


def test_a_dead_smtp_port_ends_failed_with_one_log_line_per_state_change(
    make, db, specimens, dead_smtp, attempts, caplog
):
    attempts(4)
    unit = make.unit()
    user = make.user(roles=["supervisor"], unit=unit)
    raise_specimen_alert(specimens.add(unit, "P"), {"users": [user.id]})
    db.session.commit()
    caplog.set_level(logging.DEBUG, logger=LOGGER)
    _run(10)
    [row] = _rows(db)
    assert row.status == "failed" and row.attempts == 4  # not retried after giving up
    assert len(row.attempt_rows) == 4 and not any(a.is_ok for a in row.attempt_rows)
    assert "SMTP" in row.last_error and "Connection refused" in row.last_error
    records = _records(caplog)
    assert [r.levelname for r in records] == ["WARNING", "ERROR"], [r.message for r in records]
    assert "failing" in records[0].message and f"ids {row.id}" in records[0].message
    assert "failed; given up" in records[1].message and "Connection refused" in records[1].message


def test_a_relay_down_under_a_full_queue_is_tried_once_per_run_and_logged_twice(
    make, db, specimens, app, monkeypatch, attempts, caplog
):
    """A relay that accepts and hangs up: the first e-mail of a run finds it dead, the rest
    of the run's e-mails record that without connecting; one line per change for all."""
    relay = CountingListener()
    monkeypatch.setitem(app.config, "TOLLGATE_SMTP_HOST", "127.0.0.1")
    monkeypatch.setitem(app.config, "TOLLGATE_SMTP_PORT", relay.port)
    attempts(3)
    unit = make.unit()
    users = [make.user(roles=["supervisor"], unit=unit) for _ in range(12)]
    raise_specimen_alert(specimens.add(unit, "P"), {"users": [u.id for u in users]})
    db.session.commit()
    caplog.set_level(logging.DEBUG, logger=LOGGER)
    try:
        delivery.deliver_due()
        assert relay.accepted == 1
        rows = _rows(db)
        assert [r.status for r in rows] == ["pending"] * 12 and {r.attempts for r in rows} == {1}
        assert sum(r.last_error.startswith("not tried: no answer") for r in rows) == 11
        _run(5)
    finally:
        relay.close()
    assert relay.accepted == 3  # one connection per run, not one per e-mail
    assert [r.status for r in _rows(db)] == ["failed"] * 12
    records = _records(caplog)
    assert [r.levelname for r in records] == ["WARNING", "ERROR"], [r.message for r in records]
    assert records[1].message.startswith("12 email deliveries failed; given up")


def test_a_recovered_delivery_is_logged_as_recovered(make, db, specimens, smtp, caplog):
    unit = make.unit()
    user = make.user(roles=["supervisor"], unit=unit)
    raise_specimen_alert(specimens.add(unit, "P"), {"users": [user.id]})
    db.session.commit()
    caplog.set_level(logging.DEBUG, logger=LOGGER)
    smtp.stop()
    _run(3)
    smtp.start()
    _run(1)
    [row] = _rows(db)
    assert row.status == "sent" and row.attempts == 4
    assert [r.levelname for r in _records(caplog)] == ["WARNING", "INFO"]
    assert "sent after failing" in _records(caplog)[1].message


class RefusingSmtp(SmtpSink):
    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # noqa: N802
        return "550 5.1.1 mailbox unavailable"


def test_a_permanent_smtp_refusal_is_not_retried(make, db, specimens, app, monkeypatch):
    sink = RefusingSmtp()
    sink.start()
    monkeypatch.setitem(app.config, "TOLLGATE_SMTP_HOST", "127.0.0.1")
    monkeypatch.setitem(app.config, "TOLLGATE_SMTP_PORT", sink.port)
    try:
        unit = make.unit()
        user = make.user(roles=["supervisor"], unit=unit)
        raise_specimen_alert(specimens.add(unit, "P"), {"users": [user.id]})
        db.session.commit()
        delivery.deliver_due()
    finally:
        sink.stop()
    [row] = _rows(db)
    assert row.status == "failed" and row.attempts == 1
    assert "550" in row.last_error


def test_the_recipient_and_the_supervisor_are_shown_what_gave_up(
    client, make, db, specimens, dead_smtp, attempts, monkeypatch, app
):
    attempts(2)
    monkeypatch.setitem(app.config, "TOLLGATE_OUTBOUND_ALLOW", ["127.0.0.1"])
    unit = make.unit()
    officer = make.user(roles=["enforcement_officer"], unit=unit)
    boss = make.user(roles=["supervisor"], unit=unit)
    hook = webhook(unit, f"http://127.0.0.1:{free_port()}/hook", WEBHOOK_SECRET)
    hook.name = "Ops room SMS"
    alert = raise_specimen_alert(specimens.add(unit, "P"), {"users": [officer.id]})
    other = make.unit()  # another unit's failures are not this supervisor's business
    stranger = make.user(roles=["enforcement_officer"], unit=other)
    raise_specimen_alert(specimens.add(other, "P"), {"users": [stranger.id]}, source_id=2)
    db.session.commit()
    _run(3)
    assert {r.status for r in _rows(db)} == {"failed"}

    make.sign_in(client, officer)
    inbox = client.get("/alerts/").get_data(as_text=True)
    assert 'id="undelivered"' in inbox and "1 alert e-mail to you could not be delivered" in inbox
    assert "Connection refused" in inbox
    page = client.get(f"/alerts/{alert.id}").get_data(as_text=True)
    assert "failed</span> given up" in page and "Connection refused" in page

    make.sign_in(client, boss)
    html = client.get("/alerts/supervise").get_data(as_text=True)
    assert 'id="undelivered"' in html
    assert officer.full_name in html and "Ops room SMS" in html
    assert f"{stranger.full_name}<" not in html
    assert alert.title not in html  # figures and addressees only, never what the alert says
    assert "failed for good: 2" in html


def test_nothing_is_shown_when_everything_went_out(client, make, db, specimens, smtp):
    unit = make.unit()
    officer = make.user(roles=["enforcement_officer"], unit=unit)
    raise_specimen_alert(specimens.add(unit, "P"), {"users": [officer.id]})
    db.session.commit()
    delivery.deliver_due()
    make.sign_in(client, officer)
    assert 'id="undelivered"' not in client.get("/alerts/").get_data(as_text=True)


def test_a_failing_delivery_shows_as_failing_on_the_alert_page(
    client, make, db, specimens, dead_smtp, attempts
):
    attempts(5)
    unit = make.unit()
    officer = make.user(roles=["enforcement_officer"], unit=unit)
    alert = raise_specimen_alert(specimens.add(unit, "P"), {"users": [officer.id]})
    db.session.commit()
    delivery.deliver_due()
    make.sign_in(client, officer)
    page = client.get(f"/alerts/{alert.id}").get_data(as_text=True)
    assert "failing</span> retried up to 5 attempts" in page and "Connection refused" in page
    assert 'id="undelivered"' not in client.get("/alerts/").get_data(as_text=True)  # not yet
