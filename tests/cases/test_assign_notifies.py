"""Issue 19 item 3: assigning a case notifies the assignee (signal case_assigned, received by
the alerts domain)."""

from sqlalchemy import select

from app.alerts.models import Alert, AlertRecipient
from app.cases import service
from tests.cases.factories import officer, seizure


def test_assigning_a_case_notifies_the_assignee(make, db):
    """Seen: assigning a case to someone did not tell them."""
    unit = make.unit()
    _, actor = officer(make, unit)
    colleague, _ = officer(make, unit)
    case = seizure(actor)
    service.assign_case(case.id, colleague.id, actor=actor)
    db.session.flush()
    alerts = db.session.scalars(
        select(Alert)
        .join(AlertRecipient, AlertRecipient.alert_id == Alert.id)
        .where(AlertRecipient.user_id == colleague.id, Alert.subject_id == case.id)
    ).all()
    assert len(alerts) == 1 and alerts[0].subject_type == "case"
    assert "assigned" in str(alerts[0].title)


def test_assigning_oneself_raises_no_alert(make, db):
    user, actor = officer(make)
    case = seizure(actor)
    service.assign_case(case.id, user.id, actor=actor)
    db.session.flush()
    assert not db.session.scalars(
        select(AlertRecipient).where(AlertRecipient.user_id == user.id)
    ).all()
