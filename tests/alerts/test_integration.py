"""With the real domains: a sensitive risk profile firing on a submitted declaration, and a
watched company appearing in a new seizure case (cases → intel → entity_mentioned)."""

import pytest
from sqlalchemy import select

from app.alerts import delivery, service, tasks, watches
from app.alerts.models import Alert, Delivery
from app.alerts.text import alert_text

risk_assessment = pytest.importorskip(
    "app.risk.assessment", reason="needs the risk domain (issue: risk targeting)"
)
cases_service = pytest.importorskip("app.cases.service", reason="needs the cases domain")
cases_parties = pytest.importorskip("app.cases.parties", reason="needs the cases domain")
intel_service = pytest.importorskip("app.intel.service", reason="needs the intel domain")


def _alerts(db):
    return db.session.scalars(select(Alert).order_by(Alert.id)).all()


def test_sensitive_profile_on_a_submitted_declaration(make, db, smtp):
    from app.security.access import Actor
    from tests.risk import factories as rf

    unit = make.unit(code="BCP-N")
    sup = make.user(roles=["supervisor"], unit=unit)
    officer = make.user(roles=["enforcement_officer"], unit=unit, supervisor_id=sup.id)
    admin = make.user(roles=["administrator"], unit=unit)  # no declaration access
    rf.no_random()
    profile = rf.profile(
        name="Phones from CN",
        is_sensitive=True,
        instructions="Open and count the handsets.",
        recipients={"users": [officer.id, admin.id], "roles": ["supervisor"]},
    )
    client, _ = make.api_client(["declarations:write"], unit=unit)
    actor = Actor.for_client(client, {"risk.declaration.view"})
    decl = risk_assessment.submit_declaration(rf.body(), actor=actor)
    [alert] = _alerts(db)
    assert (alert.source_kind, alert.source_id) == ("profile", profile.id)
    assert (alert.subject_type, alert.subject_id) == ("declaration", decl.id)
    assert alert.subject_label == decl.number
    assert alert.instructions == "Open and count the handsets."
    assert alert.reasons and all(isinstance(r, str) for r in alert.reasons)
    assert {r.user_id for r in alert.recipients} == {officer.id, sup.id}
    db.session.commit()
    # Notifications were only queued by the assessment; the job sends them.
    assert db.session.scalar(select(Delivery).where(Delivery.status == "sent")) is None
    delivery.deliver_due()
    assert {m["To"] for m in smtp.messages} == {officer.email, sup.email}
    assert service.get_alert(make.actor(officer), alert.id).id == alert.id


def test_watched_company_in_a_new_seizure_case(make, db):
    unit_a, unit_b = make.unit(code="BCP-A"), make.unit(code="BCP-B")
    watcher = make.user(roles=["intelligence_officer"], unit=unit_a)
    outsider = make.user(roles=["intelligence_officer"], unit=unit_b)
    officer = make.user(roles=["enforcement_officer"], unit=unit_a)
    system = make.actor(make.user(roles=["intelligence_officer"], unit=unit_a))
    company = intel_service.create_entity("organisation", "ACME Trading LLC", actor=system)
    db.session.flush()
    watches.watch_entity(make.actor(watcher), company.id, severity="high")
    watches.watch_entity(make.actor(outsider), company.id, severity="high")
    me = make.actor(officer)
    case = cases_service.open_case(
        "seizure",
        actor=me,
        title="Cigarettes in a lorry",
        handling_code="C",
        handling_conditions="Unit A only",
    )
    cases_parties.add_party(case.id, actor=me, role="consignee", entity_id=company.id)
    [alert] = [a for a in _alerts(db) if a.source_kind == "watch"]
    assert (alert.subject_type, alert.subject_id) == ("case", case.id)
    # Stored: the code-C case described, never named; the watcher reads its reference.
    assert alert.subject_label == "a restricted record of BCP-A"
    seen = alert_text(make.actor(watcher), alert)
    assert seen.subject == case.reference and case.reference in seen.title
    assert "ACME Trading LLC" in alert.title
    assert [r.user_id for r in alert.recipients] == [watcher.id]
    assert service.unread_count(make.actor(outsider)) == 0
    db.session.commit()
    # Open a case from... no: attach the alert to the very case, through the cases service.
    from app.alerts import cases as alert_cases

    attached = alert_cases.attach_to_case(make.actor(watcher), alert.id, case.reference)
    assert attached.id == case.id and alert.case_id == case.id


def test_case_from_a_declaration_alert(make, db):
    from app.security.access import Actor
    from tests.risk import factories as rf

    unit = make.unit(code="BCP-C")
    sup = make.user(roles=["supervisor"], unit=unit)
    rf.no_random()
    rf.profile(name="Sensitive", is_sensitive=True, recipients={"users": [sup.id]})
    client, _ = make.api_client(["declarations:write"], unit=unit)
    decl = risk_assessment.submit_declaration(
        rf.body(), actor=Actor.for_client(client, {"risk.declaration.view"})
    )
    [alert] = _alerts(db)
    from app.alerts import cases as alert_cases

    case = alert_cases.create_case_from_alert(
        make.actor(sup), alert.id, kind="seizure", title="From the alert"
    )
    assert alert.case_id == case.id and alert.status == "acknowledged"
    assert f"Opened from alert {alert.id}" in case.summary
    links = [(link.target_type, link.target_id) for link in case.links]
    assert ("declaration", str(decl.id)) in links
    tasks.escalate_overdue()  # acknowledged through the case: no escalation
    assert alert.escalation_level == 0
