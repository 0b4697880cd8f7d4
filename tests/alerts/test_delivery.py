"""Delivery over real channels: a local SMTP server and a local HTTP receiver that checks
the HMAC signature; outages are retried with back-off and nothing is lost."""

import time
from datetime import timedelta

import pytest
from sqlalchemy import select

from app.alerts import delivery, service
from app.alerts.models import Delivery, DeliveryAttempt
from app.core.time import now_utc
from tests.alerts.conftest import WEBHOOK_SECRET
from tests.alerts.factories import raise_specimen_alert, webhook


def _setup(make, db, specimens, *, hook_url=None, secret=WEBHOOK_SECRET):
    unit = make.unit()
    user = make.user(roles=["supervisor"], unit=unit)
    if hook_url:
        webhook(unit, hook_url, secret)
    alert = raise_specimen_alert(specimens.add(unit, "P"), {"users": [user.id]})
    db.session.commit()
    return user, alert


def _deliveries(db):
    db.session.rollback()
    return db.session.scalars(select(Delivery).order_by(Delivery.id)).all()


def test_email_is_sent_over_smtp(make, db, specimens, smtp):
    user, alert = _setup(make, db, specimens)
    counts = delivery.deliver_due()
    assert counts == {"sent": 1, "retry": 0, "failed": 0}
    [msg] = smtp.to(user.email)
    assert msg["Subject"].startswith("[Tollgate HIGH] Profile 1 fired")
    body = msg.get_content()
    assert "Hold the consignment" in body and "importer is on the watch list" in body
    assert f"/alerts/{alert.id}" in body
    [row] = _deliveries(db)
    assert row.status == "sent" and row.attempts == 1 and row.attempt_rows[0].is_ok
    # Nothing left to send: a second run sends nothing twice.
    assert delivery.deliver_due() == {"sent": 0, "retry": 0, "failed": 0}
    assert len(smtp.messages) == 1


def test_restricted_subjects_keep_details_out_of_mail_and_webhooks(
    make, db, specimens, smtp, webhook_receiver
):
    unit = make.unit()
    user = make.user(roles=["supervisor"], unit=unit)
    webhook(unit, webhook_receiver.url, WEBHOOK_SECRET)
    raise_specimen_alert(specimens.add(unit, "C"), {"users": [user.id]})
    db.session.commit()
    delivery.deliver_due()
    body = smtp.to(user.email)[0].get_content()
    assert "Hold the consignment" not in body and "watch list" not in body
    assert "Handling code C" in body and "/alerts/" in body
    posted = webhook_receiver.received[0]["json"]
    assert posted["handling_code"] == "C"
    assert posted["reasons"] is None and posted["instructions"] is None


def test_webhook_is_signed_and_verified(make, db, specimens, webhook_receiver, smtp):
    _, alert = _setup(make, db, specimens, hook_url=webhook_receiver.url)
    delivery.deliver_due()
    [got] = webhook_receiver.received
    assert got["json"]["alert_id"] == alert.id
    assert got["json"]["severity"] == "high"
    assert got["json"]["reasons"] == ["importer is on the watch list", "origin = XX"]
    assert got["headers"]["X-Tollgate-Signature"].startswith("sha256=")
    assert webhook_receiver.rejected == 0


def test_a_wrong_secret_is_rejected_and_retried(make, db, specimens, webhook_receiver, smtp):
    _setup(make, db, specimens, hook_url=webhook_receiver.url, secret="not-the-receivers-key")
    delivery.deliver_due()
    assert webhook_receiver.received == [] and webhook_receiver.rejected == 1
    hook_row = next(r for r in _deliveries(db) if r.channel == "webhook")
    assert hook_row.status == "pending" and hook_row.attempts == 1
    assert "HTTP 401" in hook_row.last_error


def test_signature_covers_timestamp_and_body():
    sig = delivery.sign("k" * 20, "1700000000", b'{"a":1}')
    assert delivery.verify_signature("k" * 20, "1700000000", b'{"a":1}', sig)
    assert not delivery.verify_signature("k" * 20, "1700000001", b'{"a":1}', sig)
    assert not delivery.verify_signature("k" * 20, "1700000000", b'{"a":2}', sig)


def test_backoff_doubles_up_to_the_cap(app):
    config = {"TOLLGATE_ALERT_RETRY_SECONDS": 30, "TOLLGATE_ALERT_RETRY_MAX_SECONDS": 600}
    assert [delivery.backoff(n, config).total_seconds() for n in (1, 2, 3, 4, 5, 6)] == [
        30,
        60,
        120,
        240,
        480,
        600,
    ]


def test_gives_up_after_max_attempts(make, db, specimens, app, monkeypatch):
    monkeypatch.setitem(app.config, "TOLLGATE_SMTP_HOST", "127.0.0.1")
    monkeypatch.setitem(app.config, "TOLLGATE_SMTP_PORT", 9)  # nothing listens
    monkeypatch.setitem(app.config, "TOLLGATE_DELIVERY_MAX_ATTEMPTS", 3)
    user, _ = _setup(make, db, specimens)
    for _ in range(3):
        delivery.deliver_due(now=now_utc() + timedelta(hours=1))
    [row] = _deliveries(db)
    assert row.status == "failed" and row.attempts == 3
    assert all(not a.is_ok for a in row.attempt_rows)
    assert "SMTP" in row.last_error
    # The supervisor sees it among the unit's delivery problems.
    figures = service.supervisor_figures(make.actor(user))
    assert figures["delivery_problems"] == {"retrying": 0, "failed": 1}


def test_a_stale_claim_is_taken_again(make, db, specimens, smtp):
    _setup(make, db, specimens)
    [row] = _deliveries(db)
    row.status, row.claimed_dt = "sending", now_utc() - timedelta(minutes=10)
    db.session.commit()
    assert delivery.deliver_due()["sent"] == 1


def _run_through_outage(db, stop, start, outage_seconds=10.0):
    """Send during an outage of ``outage_seconds``, keep the job running, restore, finish."""
    stop()
    began = time.monotonic()
    while time.monotonic() - began < outage_seconds:
        delivery.deliver_due()
        time.sleep(0.5)
    start()
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        delivery.deliver_due()
        if all(r.status == "sent" for r in _deliveries(db)):
            break
        time.sleep(0.5)


@pytest.mark.slow
def test_smtp_outage_of_ten_seconds_loses_nothing(make, db, specimens, smtp):
    unit = make.unit()
    users = [make.user(roles=["supervisor"], unit=unit) for _ in range(3)]
    record = specimens.add(unit)
    raise_specimen_alert(record, {"users": [u.id for u in users]})
    db.session.commit()
    _run_through_outage(db, smtp.stop, smtp.start)
    rows = _deliveries(db)
    assert [r.status for r in rows] == ["sent"] * 3
    assert all(r.attempts > 1 for r in rows)  # failed during the outage, then went through
    assert sorted(m["To"] for m in smtp.messages) == sorted(u.email for u in users)
    failed = db.session.scalar(select(DeliveryAttempt).where(DeliveryAttempt.is_ok.is_(False)))
    assert "SMTP" in failed.detail


@pytest.mark.slow
def test_webhook_outage_of_ten_seconds_loses_nothing(make, db, specimens, webhook_receiver, smtp):
    unit = make.unit()
    user = make.user(roles=["supervisor"], unit=unit)
    webhook(unit, webhook_receiver.url, WEBHOOK_SECRET)
    alerts = [raise_specimen_alert(specimens.add(unit), {"users": [user.id]}) for _ in range(2)]
    db.session.commit()
    _run_through_outage(db, webhook_receiver.stop, webhook_receiver.start)
    hooks = [r for r in _deliveries(db) if r.channel == "webhook"]
    assert [r.status for r in hooks] == ["sent", "sent"]
    assert all(r.attempts > 1 for r in hooks)
    assert sorted(g["json"]["alert_id"] for g in webhook_receiver.received) == sorted(
        a.id for a in alerts
    )
