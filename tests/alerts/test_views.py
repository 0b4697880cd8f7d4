"""Inbox, alert page, lifecycle forms, live stream, supervision, watches and settings."""

import json

import pytest
from sqlalchemy import select

from app.alerts.models import Alert, Preference, Watch, Webhook
from app.security.trail import AccessEvent
from tests.alerts.factories import raise_specimen_alert


@pytest.fixture
def inbox(make, db, specimens, client):
    unit = make.unit()
    officer = make.user(roles=["enforcement_officer"], unit=unit)
    alerts = [
        raise_specimen_alert(
            specimens.add(unit), {"users": [officer.id]}, source_id=i, title=f"Alert number {i}"
        )
        for i in (1, 2, 3)
    ]
    db.session.commit()
    make.sign_in(client, officer)
    return officer, alerts


def test_inbox_lists_alerts_with_filters(client, inbox):
    _, alerts = inbox
    html = client.get("/alerts/").get_data(as_text=True)
    assert all(a.title in html for a in alerts)
    assert 'id="alerts-count">3<' in html  # unread badge
    assert 'name="csrf_token"' in html or "csrf_token" in html
    assert "Alert number" not in client.get("/alerts/?severity=low").get_data(as_text=True)
    resp = client.get("/alerts/?status=bogus", follow_redirects=True)
    assert "status: must be open, all or one of" in resp.get_data(as_text=True)
    partial = client.get("/alerts/?partial=1").get_data(as_text=True)
    assert "<html" not in partial and alerts[0].title in partial


def test_alert_page_marks_read_and_is_trailed(client, db, inbox):
    officer, alerts = inbox
    html = client.get(f"/alerts/{alerts[0].id}").get_data(as_text=True)
    assert "Hold the consignment" in html and "importer is on the watch list" in html
    assert "to 1 recipient(s)" in html  # the history's first line
    assert 'id="deliveries"' in html and officer.full_name in html and "pending" in html
    db.session.rollback()
    assert client.get("/alerts/").get_data(as_text=True).count('class="alert-row unread"') == 2
    row = db.session.scalar(select(AccessEvent).where(AccessEvent.record_type == "alert"))
    assert (row.username, row.action, row.record_id) == (
        officer.username,
        "view",
        str(alerts[0].id),
    )


def test_lifecycle_through_the_forms(client, db, inbox):
    _, alerts = inbox
    a = alerts[0]
    resp = client.post(f"/alerts/{a.id}/acknowledge", data={"note": "mine"}, follow_redirects=True)
    assert "escalation stopped" in resp.get_data(as_text=True)
    resp = client.post(f"/alerts/{a.id}/acknowledge", data={}, follow_redirects=True)
    assert "is already acknowledged" in resp.get_data(as_text=True)
    resp = client.post(f"/alerts/{a.id}/action", data={"note": ""}, follow_redirects=True)
    assert "note: This field is required." in resp.get_data(as_text=True)
    client.post(f"/alerts/{a.id}/action", data={"note": "scanned, clean"})
    client.post(f"/alerts/{a.id}/feedback", data={"useful": "no", "note": "noisy"})
    client.post(f"/alerts/{a.id}/close", data={"note": "done"})
    db.session.rollback()
    alert = db.session.get(Alert, a.id)
    assert alert.status == "closed" and alert.is_useful is False
    assert [e.action for e in alert.events] == [
        "acknowledged",
        "actioned",
        "feedback",
        "closed",
    ]


def test_bulk_acknowledge(client, db, inbox):
    _, alerts = inbox
    resp = client.post(
        "/alerts/acknowledge",
        data={"alert_ids": [str(alerts[0].id), str(alerts[2].id)]},
        follow_redirects=True,
    )
    assert "2 alert(s) acknowledged." in resp.get_data(as_text=True)
    db.session.rollback()
    assert [db.session.get(Alert, a.id).status for a in alerts] == [
        "acknowledged",
        "new",
        "acknowledged",
    ]
    resp = client.post("/alerts/acknowledge", data={}, follow_redirects=True)
    assert "select at least one alert" in resp.get_data(as_text=True)


def test_stream_sends_the_inbox_state_and_ends(client, inbox):
    _, alerts = inbox
    resp = client.get("/alerts/stream?max_seconds=0")
    assert resp.mimetype == "text/event-stream"
    text = resp.get_data(as_text=True)
    assert text.startswith("retry: 2000")
    data = json.loads(text.split("event: inbox\ndata: ")[1].split("\n")[0])
    assert data["unread"] == 3 and data["latest"]["id"] == alerts[-1].id


def test_stream_ends_quietly_when_the_database_is_gone(client, inbox, monkeypatch, caplog):
    """A stream outliving its database (a restart, a test session's dropped database) ends
    with a warning; the browser's EventSource reconnects when the database is back."""
    from sqlalchemy.exc import OperationalError

    from app.alerts import service

    def gone(actor):
        raise OperationalError("SELECT", {}, Exception('database "tollgate" does not exist'))

    monkeypatch.setattr(service, "inbox_state", gone)
    resp = client.get("/alerts/stream?max_seconds=30")
    assert resp.get_data(as_text=True) == "retry: 2000\n\n"
    assert "alert stream ended: database unavailable" in caplog.text


def test_someone_elses_alert_is_not_found(client, make, db, specimens, inbox):
    _, alerts = inbox
    other = make.user(roles=["enforcement_officer"])
    make.sign_in(client, other)
    assert client.get(f"/alerts/{alerts[0].id}").status_code == 404
    assert client.post(f"/alerts/{alerts[0].id}/acknowledge").status_code == 404
    assert "Alert number" not in client.get("/alerts/").get_data(as_text=True)


def test_home_panel(client, make, db, inbox):
    html = client.get("/").get_data(as_text=True)
    assert "Open alerts" in html and "Alert number 3" in html
    make.sign_in(client, make.user(roles=["supervisor"]))
    html = client.get("/").get_data(as_text=True)
    assert "No open alerts" in html


def test_watches_page_and_forms(client, make, db):
    analyst = make.user(roles=["intelligence_officer"])
    make.sign_in(client, analyst)
    assert "You watch nothing yet" in client.get("/alerts/watches").get_data(as_text=True)
    resp = client.post(
        "/alerts/watches/term", data={"term": "Captagon", "severity": "high"}, follow_redirects=True
    )
    assert "Term watched." in resp.get_data(as_text=True)
    resp = client.post("/alerts/watches/term", data={"term": "ab"}, follow_redirects=True)
    assert "term: Field must be between 3 and 200 characters long." in resp.get_data(as_text=True)
    resp = client.post(
        "/alerts/searches", data={"name": "Guns", "query": "pistol"}, follow_redirects=True
    )
    assert "Search saved" in resp.get_data(as_text=True)
    watch = db.session.scalar(select(Watch))
    resp = client.post(f"/alerts/watches/{watch.id}/delete", follow_redirects=True)
    assert "Watch removed." in resp.get_data(as_text=True)


def test_settings_and_webhooks(client, make, db):
    sup = make.user(roles=["supervisor"])
    make.sign_in(client, sup)
    resp = client.post(
        "/alerts/settings",
        data={"email_mode": "weekly", "min_severity": "high"},
        follow_redirects=True,
    )
    assert "Notification settings saved." in resp.get_data(as_text=True)
    pref = db.session.scalar(select(Preference).where(Preference.user_id == sup.id))
    assert (pref.email_mode, pref.min_severity) == ("weekly", "high")
    resp = client.post(
        "/alerts/webhooks",
        data={"name": "SMS", "url": "gopher://x", "min_severity": "high"},
        follow_redirects=True,
    )
    assert "url: must be an http:// or https:// address" in resp.get_data(as_text=True)
    resp = client.post(
        "/alerts/webhooks",
        data={"name": "SMS", "url": "https://sms.example/in", "min_severity": "high"},
    )
    hook = db.session.scalar(select(Webhook))
    assert hook.secret in resp.get_data(as_text=True)  # shown once, in the page
    assert hook.secret not in client.get("/alerts/settings").get_data(as_text=True)


def test_supervision_page(client, make, db, specimens):
    unit = make.unit()
    sup = make.user(roles=["supervisor"], unit=unit)
    raise_specimen_alert(specimens.add(unit), {"users": [sup.id]})
    db.session.commit()
    make.sign_in(client, sup)
    html = client.get("/alerts/supervise").get_data(as_text=True)
    assert 'id="kpi-open">1<' in html and "RP-1 test profile" in html
    assert "Notifications being retried: 0" in html


def test_stream_announces_a_new_alert_while_open(client, make, db, specimens, app, monkeypatch):
    monkeypatch.setitem(app.config, "TOLLGATE_ALERT_STREAM_POLL_SECONDS", 0.1)
    unit = make.unit()
    officer = make.user(roles=["enforcement_officer"], unit=unit)
    db.session.commit()
    make.sign_in(client, officer)
    resp = client.get("/alerts/stream?max_seconds=5", buffered=False)
    chunks = iter(resp.response)
    assert next(chunks).startswith(b"retry:")
    first = json.loads(next(chunks).decode().split("data: ")[1])
    assert first == {"unread": 0, "latest": None}
    alert = raise_specimen_alert(specimens.add(unit), {"users": [officer.id]})
    db.session.commit()
    for chunk in chunks:
        if chunk.startswith(b"event: inbox"):
            second = json.loads(chunk.decode().split("data: ")[1])
            break
    assert second["unread"] == 1 and second["latest"]["id"] == alert.id
    resp.close()
