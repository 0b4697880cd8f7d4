"""Inbox, alert page, lifecycle forms, live stream, supervision, watches and settings."""

import pytest
from sqlalchemy import select

from app.alerts.models import Alert, Preference, Watch, Webhook
from app.security.trail import AccessEvent
from tests.alerts.factories import raise_specimen_alert
from tests.fake_dns import fake_dns


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


def test_state_answers_the_inbox_state_with_an_etag(client, inbox, app):
    _, alerts = inbox
    resp = client.get("/alerts/state")
    assert resp.status_code == 200 and resp.mimetype == "application/json"
    assert resp.get_json() == {
        "unread": 3,
        "latest": {"id": alerts[-1].id, "severity": alerts[-1].severity},
    }
    assert resp.headers["Poll-Interval"] == str(app.config["TOLLGATE_ALERT_POLL_SECONDS"])
    assert resp.headers["Cache-Control"] == "no-store"
    etag = resp.headers["ETag"]
    again = client.get("/alerts/state", headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.get_data() == b""


def test_state_names_no_record(client, make, db, specimens):
    """Ids and counts only: an alert's title names its subject, and the badge is on every
    page (the seam rule)."""
    unit = make.unit()
    officer = make.user(roles=["enforcement_officer"], unit=unit)
    raise_specimen_alert(specimens.add(unit), {"users": [officer.id]}, title="SENTINEL-7Q")
    db.session.commit()
    make.sign_in(client, officer)
    assert b"SENTINEL-7Q" not in client.get("/alerts/state").get_data()


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


def test_settings_and_webhooks(client, make, db, monkeypatch):
    fake_dns(monkeypatch, {"sms.example": "93.184.215.14"})  # a public address
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


def test_state_changes_its_etag_when_a_new_alert_arrives(client, make, db, specimens):
    unit = make.unit()
    officer = make.user(roles=["enforcement_officer"], unit=unit)
    db.session.commit()
    make.sign_in(client, officer)
    first = client.get("/alerts/state")
    assert first.get_json() == {"unread": 0, "latest": None}
    alert = raise_specimen_alert(specimens.add(unit), {"users": [officer.id]})
    db.session.commit()
    second = client.get("/alerts/state", headers={"If-None-Match": first.headers["ETag"]})
    assert second.status_code == 200 and second.headers["ETag"] != first.headers["ETag"]
    assert second.get_json()["unread"] == 1 and second.get_json()["latest"]["id"] == alert.id


def test_polling_does_not_keep_an_unattended_session_alive(client, make, db):
    """The badge polls by itself: that is not the officer's activity, so a page left open
    overnight still idles out; opening a page is activity."""
    from datetime import timedelta

    from app.core.time import now_utc
    from app.security.models import UserSession

    officer = make.user(roles=["enforcement_officer"])
    db.session.commit()
    make.sign_in(client, officer)
    row = db.session.scalar(select(UserSession).where(UserSession.user_id == officer.id))
    before = now_utc() - timedelta(minutes=5)
    row.last_seen_dt = before
    db.session.commit()
    assert client.get("/alerts/state").status_code == 200
    db.session.refresh(row)
    assert abs(row.last_seen_dt - before) < timedelta(seconds=1)
    assert client.get("/alerts/").status_code == 200
    db.session.refresh(row)
    assert row.last_seen_dt > before + timedelta(minutes=4)
