"""End to end on a real running server: a sensitive profile fires on a declaration posted to
the API; the supervisor's inbox shows it live in Chromium (server-sent events); an e-mail
reaches a local SMTP server and a signed webhook a local receiver; the alert escalates when
not acknowledged in time, and acknowledging it in the browser stops further escalation."""

import json
import urllib.request
from datetime import timedelta

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from app.alerts import delivery, tasks
from app.alerts.models import Alert, Webhook
from app.core.time import now_utc
from tests.alerts.conftest import WEBHOOK_SECRET, SmtpSink, WebhookReceiver

pytestmark = pytest.mark.browser


@pytest.fixture
def channels(app, monkeypatch):
    smtp, hook = SmtpSink(), WebhookReceiver()
    smtp.start()
    hook.start()
    monkeypatch.setitem(app.config, "TOLLGATE_SMTP_HOST", "127.0.0.1")
    monkeypatch.setitem(app.config, "TOLLGATE_SMTP_PORT", smtp.port)
    # The receiver is on 127.0.0.1: internal, so it must be on the outbound allow-list.
    monkeypatch.setitem(app.config, "TOLLGATE_OUTBOUND_ALLOW", ["127.0.0.1"])
    yield smtp, hook
    smtp.stop()
    hook.stop()


def _post_declaration(base_url, token, body):
    request = urllib.request.Request(  # noqa: S310 - the local live server
        f"{base_url}/api/v1/declarations",
        data=json.dumps(body).encode(),
        method="POST",
        headers={"Content-Type": "application/json", "Authorization": f"Bearer {token}"},
    )
    with urllib.request.urlopen(request, timeout=10) as resp:  # noqa: S310
        return resp.status, json.loads(resp.read())


def test_sensitive_profile_to_live_inbox_mail_webhook_and_escalation(
    page, sign_in, make, db, live_server, live_app, channels
):
    # The declaration API is part of every deployment: its absence fails this test.
    assert "risk_api.submit" in live_app.view_functions
    from tests.risk import factories as rf

    smtp, receiver = channels
    unit = make.unit(code="BCP-N")
    director = make.user(roles=["supervisor"], unit=unit)
    chief = make.user(roles=["supervisor"], unit=unit, supervisor_id=director.id)
    sup = make.user(roles=["supervisor"], unit=unit, supervisor_id=chief.id)
    db.session.add(
        Webhook(
            name="ops room",
            url=receiver.url,
            secret=WEBHOOK_SECRET,
            unit_id=unit.id,
            min_severity="low",
        )
    )
    rf.no_random()
    rf.profile(
        name="Handsets under-valued",
        is_sensitive=True,
        instructions="Hold the lorry; count the handsets.",
        recipients={"users": [sup.id]},
    )
    _, token = make.api_client(["declarations:write"], unit=unit)
    db.session.commit()

    sign_in(sup)
    page.goto("/alerts/")
    assert page.locator("#alert-list .empty").is_visible()
    page.wait_for_selector("#alerts-badge[data-live=open]", state="attached")

    status, answer = _post_declaration(live_server, token, rf.body("E2E0000001"))
    assert status == 201 and answer["channel"] == "red"

    # Live: the row appears and the badge counts it, without reloading the page.
    row = page.locator("#alert-list .alert-row")
    row.first.wait_for(timeout=15_000)
    assert "Handsets under-valued" in row.first.inner_text()
    expect(page.locator("#alerts-count")).to_have_text("1")

    # Asynchronous notification: the worker's job sends what the assessment queued.
    db.session.rollback()
    alert = db.session.scalar(select(Alert))
    assert alert.subject_label == "E2E0000001"
    delivery.deliver_due()
    [mail] = smtp.to(sup.email)
    assert "Hold the lorry; count the handsets." in mail.get_content()
    [posted] = receiver.received
    assert posted["json"]["alert_id"] == alert.id and receiver.rejected == 0

    # Nobody acknowledges in time: the supervisor's own supervisor is alerted and e-mailed.
    assert tasks.escalate_overdue(now=now_utc() + timedelta(minutes=61)) == 1
    delivery.deliver_due()
    [escalation] = smtp.to(chief.email)
    assert "ESCALATED" in escalation["Subject"]

    # The supervisor acknowledges in the browser; escalation goes no further.
    page.click(f"a[href='/alerts/{alert.id}']")
    page.click("#ack-button")
    page.wait_for_selector("text=escalation stopped")
    db.session.rollback()
    assert db.session.get(Alert, alert.id).status == "acknowledged"
    assert tasks.escalate_overdue(now=now_utc() + timedelta(hours=6)) == 0
    db.session.rollback()
    recipients = {r.user_id for r in db.session.get(Alert, alert.id).recipients}
    assert recipients == {sup.id, chief.id} and director.id not in recipients
    delivery.deliver_due()
    assert smtp.to(director.email) == []


def test_badge_updates_live_on_any_alerts_page(page, sign_in, make, db, app):
    from app.alerts import routing
    from app.alerts.subjects import register_subject, unregister_subject

    unit = make.unit()
    sup = make.user(roles=["supervisor"], unit=unit)
    db.session.commit()
    sign_in(sup)
    page.goto("/alerts/watches")
    page.wait_for_selector("#alerts-badge[data-live=open]", state="attached")
    assert page.locator("#alerts-count").inner_text() == "0"
    register_subject(app, "e2e_thing", "alert.view", can_open=lambda actor, rid: True)
    db.session.rollback()  # a fresh snapshot: the browser's sign-in wrote since
    try:
        routing.raise_alert(
            source_kind="watch",
            source_id=1,
            source_label="w",
            subject_type="e2e_thing",
            subject_id=1,
            subject_label="thing",
            title="Thing moved",
            recipients={"users": [sup.id]},
        )
        db.session.commit()
    finally:
        unregister_subject(app, "e2e_thing")
    expect(page.locator("#alerts-count")).to_have_text("1")
    assert "has-unread" in page.locator("#alerts-badge").get_attribute("class")
