"""Supervision by hand (issue 19 item 9): assign an alert to an officer, escalate it with a
reason to the next level, and beyond the top of a unit to the configured role."""

import pytest
from sqlalchemy import select

from app.alerts import supervision
from app.alerts.models import Delivery
from app.core.errors import ValidationError
from app.security.access import AccessDenied
from app.security.trail import AccessEvent
from tests.alerts.factories import raise_specimen_alert


@pytest.fixture
def unit_alert(make, db, specimens):
    """A unit with a supervisor (top), an officer under her, a second officer, and an alert
    raised to the supervisor only about a code-C record of the unit."""
    unit = make.unit()
    chief = make.user(roles=["supervisor"], unit=unit)
    officer = make.user(roles=["enforcement_officer"], unit=unit, supervisor_id=chief.id)
    other = make.user(roles=["enforcement_officer"], unit=unit, supervisor_id=chief.id)
    alert = raise_specimen_alert(specimens.add(unit), {"users": [chief.id]})
    db.session.commit()
    return unit, chief, officer, other, alert


def _inbox_ids(client, make, user):
    make.sign_in(client, user)
    return client.get("/alerts/").get_data(as_text=True)


def test_supervisor_assigns_an_alert_from_its_page_and_the_officer_has_it(
    make, db, client, unit_alert
):
    unit, chief, officer, _, alert = unit_alert
    make.sign_in(client, chief)
    page = client.get(f"/alerts/{alert.id}").get_data(as_text=True)
    assert 'id="assign-form"' in page and officer.full_name in page
    resp = client.post(
        f"/alerts/{alert.id}/assign",
        data={"user_id": str(officer.id), "note": "yours"},
        follow_redirects=True,
    )
    html = resp.get_data(as_text=True)
    assert "Alert assigned" in html and f'id="alert-holder">{officer.full_name}<' in html
    db.session.rollback()
    row = next(r for r in alert.recipients if r.user_id == officer.id)
    assert (row.via, row.is_read) == ("assigned", False)
    assert any(
        e.action == "assigned" and e.note == f"to {officer.full_name}: yours" for e in alert.events
    )
    mail = db.session.scalar(
        select(Delivery).where(Delivery.alert_id == alert.id, Delivery.user_id == officer.id)
    )
    assert mail is not None and mail.target == officer.email
    trail = db.session.scalars(
        select(AccessEvent).where(
            AccessEvent.record_type == "alert", AccessEvent.record_id == str(alert.id)
        )
    ).all()
    assert any("assigned_to" in str(t.details) for t in trail)
    html = _inbox_ids(client, make, officer)
    assert f"/alerts/{alert.id}" in html and 'id="alerts-count">1<' in html


def test_assignment_is_refused_outside_the_unit_or_need_to_know(make, db, specimens, unit_alert):
    unit, chief, officer, _, alert = unit_alert
    stranger = make.user(roles=["enforcement_officer"], unit=make.unit())
    auditor = make.user(roles=["administrator"], unit=unit)  # no alert on specimens
    for who in (stranger, auditor):
        with pytest.raises(ValidationError) as exc:
            supervision.assign(make.actor(chief), alert.id, who.id)
        assert "user_id" in exc.value.fields
        db.session.rollback()
    # An officer may not assign (the supervisor's work), and the page offers no form.
    with pytest.raises(AccessDenied):
        supervision.assign(make.actor(officer), alert.id, officer.id)


def test_assign_over_the_api(make, db, client, unit_alert):
    unit, chief, officer, _, alert = unit_alert
    # The client sees alerts received in its unit (the chief's).
    _, token = make.api_client(["alerts:read", "alerts:write"], unit=unit)
    headers = {"Authorization": f"Bearer {token}"}
    url = f"/api/v1/alerts/{alert.id}/assign"
    bad = client.post(url, json={"user_id": str(officer.id)}, headers=headers)
    assert bad.status_code == 422 and "user_id" in bad.get_json()["error"]["fields"]
    resp = client.post(url, json={"user_id": officer.id, "note": "api"}, headers=headers)
    assert resp.status_code == 200, resp.get_json()
    db.session.rollback()
    assert any(r.user_id == officer.id and r.via == "assigned" for r in alert.recipients)


def test_officer_escalates_by_hand_to_the_supervisor_with_a_reason(make, db, client, specimens):
    unit = make.unit()
    chief = make.user(roles=["supervisor"], unit=unit)
    officer = make.user(roles=["enforcement_officer"], unit=unit, supervisor_id=chief.id)
    alert = raise_specimen_alert(specimens.add(unit), {"users": [officer.id]})
    db.session.commit()
    make.sign_in(client, officer)
    resp = client.post(f"/alerts/{alert.id}/escalate", data={"reason": ""}, follow_redirects=True)
    assert "reason" in resp.get_data(as_text=True)
    resp = client.post(
        f"/alerts/{alert.id}/escalate",
        data={"reason": "needs a decision above me"},
        follow_redirects=True,
    )
    assert "Alert escalated" in resp.get_data(as_text=True)
    db.session.rollback()
    row = next(r for r in alert.recipients if r.user_id == chief.id)
    assert (row.via, row.is_read) == ("escalated by hand", False)
    assert alert.escalation_level == 1
    assert any(
        e.action == "escalated" and "needs a decision above me" in e.note for e in alert.events
    )
    assert f"/alerts/{alert.id}" in _inbox_ids(client, make, chief)


def test_top_of_the_unit_escalates_to_the_configured_role(make, db, app, monkeypatch, specimens):
    unit, hq, far = make.unit(), make.unit(), make.unit()
    chief = make.user(roles=["supervisor"], unit=unit)  # the top of the unit: none above
    make.user(roles=["intelligence_officer"], unit=unit)  # a colleague: not beyond the unit
    hq_officer = make.user(roles=["intelligence_officer"], unit=hq)
    alert = raise_specimen_alert(specimens.add(unit, handling_code="P"), {"users": [chief.id]})
    secret = raise_specimen_alert(specimens.add(unit), {"users": [chief.id]}, source_id=2)
    db.session.commit()
    monkeypatch.setitem(app.config, "TOLLGATE_ALERT_ESCALATION_ROLE", "intelligence_officer")
    monkeypatch.setitem(app.config, "TOLLGATE_ALERT_ESCALATION_UNITS", [hq.code, far.code])
    far_officer = make.user(roles=["intelligence_officer"], unit=far)
    make.user(roles=["supervisor"], unit=far)  # not the configured role
    supervision.escalate(make.actor(chief), alert.id, "beyond me")
    db.session.commit()
    added = {r.user_id for r in alert.recipients if r.via == "escalated by hand"}
    assert added == {hq_officer.id, far_officer.id}
    # Nobody left above, or nobody above who may open a code-C record of the unit: refused.
    for which in (alert, secret):
        with pytest.raises(ValidationError) as exc:
            supervision.escalate(make.actor(chief), which.id, "again")
        assert "nobody above you" in exc.value.fields["reason"]
        db.session.rollback()


def test_inbox_groups_by_source_and_subject_with_counts_of_the_readers_own_alerts(
    make, db, client, specimens
):
    unit = make.unit()
    officer = make.user(roles=["enforcement_officer"], unit=unit)
    colleague = make.user(roles=["enforcement_officer"], unit=unit)
    lorry, van = specimens.add(unit), specimens.add(unit)
    for rec in (lorry, van):
        raise_specimen_alert(rec, {"users": [officer.id]}, source_id=1)
    raise_specimen_alert(lorry, {"users": [officer.id]}, source_id=2)
    # The colleague's alerts on the same profile are not the officer's: not counted.
    for _ in range(3):
        raise_specimen_alert(specimens.add(unit), {"users": [colleague.id]}, source_id=1)
    db.session.commit()
    make.sign_in(client, officer)
    html = client.get("/alerts/?group=source").get_data(as_text=True)
    assert 'id="alert-groups"' in html and html.count('class="alert-group"') == 2
    assert ">RP-1 test profile</a>" in html and '<td class="num">2</td>' in html
    assert ">RP-2 test profile</a>" in html
    html = client.get("/alerts/?group=subject").get_data(as_text=True)
    assert html.count('class="alert-group"') == 2
    assert f">SPEC-{lorry.id}</a>" in html and f">SPEC-{van.id}</a>" in html
    # Drill down: the group's own alerts.
    one = client.get(f"/alerts/?subject=specimen:{lorry.id}").get_data(as_text=True)
    assert one.count('class="alert-row') == 2 and 'id="group-filter"' in one
    one = client.get("/alerts/?source=profile&source_id=2").get_data(as_text=True)
    assert one.count('class="alert-row') == 1
    bad = client.get("/alerts/?group=bogus", follow_redirects=True).get_data(as_text=True)
    assert "group: must be one of" in bad


def test_a_group_of_a_subject_the_reader_may_no_longer_open_is_left_out(make, db, specimens):
    from app.alerts import grouping

    unit = make.unit()
    officer = make.user(roles=["enforcement_officer"], unit=unit)
    rec = specimens.add(unit)
    raise_specimen_alert(rec, {"users": [officer.id]}, source_id=5)
    db.session.commit()
    [grp] = grouping.groups(make.actor(officer), "subject", status="open")
    assert (grp["label"], grp["alerts"], grp["new"]) == (f"SPEC-{rec.id}", 1, 1)
    del specimens[rec.id]  # the record is gone from the reader's reach
    assert grouping.groups(make.actor(officer), "subject", status="open") == []


def test_what_the_top_of_a_unit_leaves_unhandled_escalates_to_the_configured_role(
    make, db, app, monkeypatch, specimens
):
    from datetime import timedelta

    from app.alerts import tasks

    unit, hq, elsewhere = make.unit(), make.unit(), make.unit()
    chief = make.user(roles=["supervisor"], unit=unit)  # the top of the unit
    officer = make.user(roles=["enforcement_officer"], unit=unit, supervisor_id=chief.id)
    lone = make.user(roles=["enforcement_officer"], unit=unit)  # no supervisor, supervises none
    hq_boss = make.user(roles=["supervisor"], unit=hq)
    make.user(roles=["supervisor"], unit=elsewhere)  # not in the configured units
    monkeypatch.setitem(app.config, "TOLLGATE_ALERT_ESCALATION_UNITS", [hq.code])
    alert = raise_specimen_alert(specimens.add(unit, handling_code="P"), {"users": [officer.id]})
    other = raise_specimen_alert(
        specimens.add(unit, handling_code="P"), {"users": [lone.id]}, source_id=2
    )
    t0 = alert.created_dt
    assert tasks.escalate_overdue(now=t0 + timedelta(minutes=61)) == 1  # to the chief
    assert tasks.escalate_overdue(now=t0 + timedelta(minutes=125)) == 1  # beyond the unit
    db.session.refresh(alert)
    assert {r.user_id: r.via for r in alert.recipients} == {
        officer.id: "user",
        chief.id: "escalation",
        hq_boss.id: "escalation",
    }
    assert alert.escalation_level == 2
    assert tasks.escalate_overdue(now=t0 + timedelta(minutes=300)) == 0  # nobody further
    db.session.refresh(other)
    assert [r.user_id for r in other.recipients] == [lone.id]  # an officer with none above


def test_supervisor_exports_the_figures_as_csv_with_a_justification_trailed(
    make, db, client, unit_alert
):
    unit, chief, officer, _, alert = unit_alert
    make.sign_in(client, chief)
    assert 'id="export-figures"' in client.get("/alerts/supervise").get_data(as_text=True)
    refused = client.post("/alerts/supervise/export?days=7", data={}, follow_redirects=True)
    assert "A justification is required" in refused.get_data(as_text=True)
    resp = client.post("/alerts/supervise/export?days=7", data={"justification": "monthly KPI"})
    assert resp.status_code == 200 and resp.mimetype == "text/csv"
    body = resp.get_data(as_text=True)
    assert body.startswith("figure,severity,age,source,value")
    assert "open alerts,,,,1" in body and "open by severity and age,high,< 1 h,,1" in body
    assert "alerts per source,,,profile: RP-1 test profile,1" in body
    db.session.rollback()
    row = db.session.scalar(
        select(AccessEvent).where(
            AccessEvent.action == "export", AccessEvent.record_type == "alert"
        )
    )
    assert row.justification == "monthly KPI" and row.username == chief.username
    assert "last 7 days" in row.query


def test_each_figure_of_the_supervision_page_opens_its_alerts(make, db, client, specimens):
    unit, elsewhere = make.unit(), make.unit()
    chief = make.user(roles=["supervisor"], unit=unit)
    officer = make.user(roles=["enforcement_officer"], unit=unit, supervisor_id=chief.id)
    mine = raise_specimen_alert(specimens.add(unit), {"users": [officer.id]}, title="Lorry A")
    raise_specimen_alert(
        specimens.add(unit), {"users": [officer.id]}, source_id=2, severity="low", title="Van B"
    )
    # Received in the unit about another unit's record, since restricted (code C): counted,
    # never shown.
    other = specimens.add(elsewhere, handling_code="P")
    hidden = raise_specimen_alert(other, {"users": [officer.id]}, source_id=3, title="Secret C")
    other.handling_code = "C"
    db.session.commit()
    make.sign_in(client, chief)
    page = client.get("/alerts/supervise").get_data(as_text=True)
    cell = "/alerts/supervise/alerts?open=1&amp;severity=high&amp;age=%3C+1+h&amp;days=30"
    assert cell in page and "/alerts/supervise/alerts?source=profile&amp;source_id=2" in page
    html = client.get(cell.replace("&amp;", "&")).get_data(as_text=True)
    assert html.count('class="figure-alert"') == 1 and "Lorry A" in html
    assert 'id="figure-hidden">1 about records' in html and "Secret C" not in html
    html = client.get("/alerts/supervise/alerts?source=profile&source_id=2").get_data(as_text=True)
    assert html.count('class="figure-alert"') == 1 and "Van B" in html
    html = client.get("/alerts/supervise/alerts?open=1").get_data(as_text=True)
    assert html.count('class="figure-alert"') == 2
    assert f'href="/alerts/{mine.id}"' not in html  # not hers: listed, not a link to open
    bad = client.get("/alerts/supervise/alerts?open=1&age=ages", follow_redirects=True)
    assert "age: must be one of" in bad.get_data(as_text=True)
    make.sign_in(client, officer)
    assert client.get("/alerts/supervise/alerts?open=1").status_code == 403
    assert hidden is not None
