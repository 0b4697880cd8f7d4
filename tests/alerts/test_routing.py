"""Routing: recipients by user, unit and role, need-to-know, folding, queued notifications."""

from datetime import timedelta

import pytest
from sqlalchemy import select

from app.alerts import routing
from app.alerts.models import Alert, Delivery, Preference
from app.core.errors import ValidationError
from app.core.time import now_utc
from app.security.access import share_record
from tests.alerts.factories import raise_specimen_alert, webhook


def _recipient_ids(alert):
    return sorted(r.user_id for r in alert.recipients)


def test_routes_to_users_units_and_roles_within_need_to_know(make, db, specimens):
    unit_a, unit_b = make.unit(), make.unit()
    named = make.user(roles=["risk_analyst"], unit=unit_a)
    colleague = make.user(roles=["enforcement_officer"], unit=unit_a)
    supervisor_a = make.user(roles=["supervisor"], unit=unit_a)
    supervisor_b = make.user(roles=["supervisor"], unit=unit_b)  # other unit: code C hidden
    record = specimens.add(unit_a, "C")

    alert = raise_specimen_alert(
        record, {"users": [named.id], "units": [unit_a.id], "roles": ["supervisor"]}
    )

    assert _recipient_ids(alert) == sorted([named.id, colleague.id, supervisor_a.id])
    assert supervisor_b.id not in _recipient_ids(alert)
    via = {r.user_id: r.via for r in alert.recipients}
    assert via[named.id] == "user" and via[colleague.id] == "unit"
    assert alert.status == "new" and alert.count == 1
    assert alert.deadline_dt - alert.created_dt == timedelta(minutes=60)  # high severity


def test_a_share_lets_another_units_user_receive(make, db, specimens):
    unit_a, unit_b = make.unit(), make.unit()
    outsider = make.user(roles=["supervisor"], unit=unit_b)
    record = specimens.add(unit_a, "C")
    assert raise_specimen_alert(record, {"users": [outsider.id]}) is None
    share_record(record, user_ids=[outsider.id])
    db.session.flush()
    alert = raise_specimen_alert(record, {"users": [outsider.id]}, source_id=2)
    assert _recipient_ids(alert) == [outsider.id]


def test_users_without_the_permission_or_inactive_are_left_out(make, db, specimens):
    unit = make.unit()
    admin = make.user(roles=["administrator"], unit=unit)  # alert.view but not case.view
    gone = make.user(roles=["supervisor"], unit=unit, is_active=False)
    reader = make.user(roles=["supervisor"], unit=unit)
    record = specimens.add(unit, "P")
    alert = raise_specimen_alert(record, {"users": [admin.id, gone.id, reader.id]})
    assert _recipient_ids(alert) == [reader.id]


def test_nobody_allowed_means_no_alert(make, db, specimens):
    unit_a, unit_b = make.unit(), make.unit()
    other = make.user(roles=["supervisor"], unit=unit_b)
    assert raise_specimen_alert(specimens.add(unit_a, "C"), {"users": [other.id]}) is None
    assert db.session.scalar(select(Alert)) is None


def test_unknown_subject_type_fails_closed(make, db):
    user = make.user(roles=["supervisor"])
    alert = routing.raise_alert(
        source_kind="profile",
        source_id=1,
        source_label="x",
        subject_type="no-such-type",
        subject_id=1,
        subject_label="x",
        title="x",
        recipients={"users": [user.id]},
    )
    assert alert is None


def test_repeats_fold_within_the_window_with_a_count(make, db, specimens, app, monkeypatch):
    monkeypatch.setitem(app.config, "TOLLGATE_ALERT_FOLD_MINUTES", 30)
    unit = make.unit()
    user = make.user(roles=["supervisor"], unit=unit)
    record = specimens.add(unit)
    t0 = now_utc()
    first = raise_specimen_alert(record, {"users": [user.id]}, now=t0)
    again = raise_specimen_alert(record, {"users": [user.id]}, now=t0 + timedelta(minutes=20))
    assert again.id == first.id and first.count == 2
    # One e-mail only: a folded repeat does not notify again.
    assert db.session.scalar(select(Delivery).where(Delivery.alert_id == first.id)) is not None
    assert len(db.session.scalars(select(Delivery)).all()) == 1
    # Another source on the same subject is another alert.
    other = raise_specimen_alert(record, {"users": [user.id]}, source_id=9, now=t0)
    assert other.id != first.id
    # Past the window (measured from the last repeat) a new alert starts.
    later = raise_specimen_alert(record, {"users": [user.id]}, now=t0 + timedelta(minutes=51))
    assert later.id != first.id and later.count == 1


def test_a_closed_alert_does_not_absorb_repeats(make, db, specimens):
    unit = make.unit()
    user = make.user(roles=["supervisor"], unit=unit)
    record = specimens.add(unit)
    first = raise_specimen_alert(record, {"users": [user.id]})
    first.status = "closed"
    second = raise_specimen_alert(record, {"users": [user.id]})
    assert second.id != first.id


def test_notifications_follow_preferences_and_webhook_thresholds(make, db, specimens):
    unit = make.unit()
    immediate = make.user(roles=["supervisor"], unit=unit)
    digest = make.user(roles=["supervisor"], unit=unit)
    picky = make.user(roles=["supervisor"], unit=unit)
    no_address = make.user(roles=["supervisor"], unit=unit)
    no_address.email = None
    db.session.add_all(
        [
            Preference(user_id=digest.id, email_mode="daily"),
            Preference(user_id=picky.id, min_severity="critical"),
        ]
    )
    webhook(unit, "http://127.0.0.1:9/hook", "s" * 20, min_severity="high")
    webhook(unit, "http://127.0.0.1:9/other", "s" * 20, min_severity="critical")
    record = specimens.add(unit, "P")
    alert = raise_specimen_alert(record, {"units": [unit.id]}, severity="high")
    rows = db.session.scalars(select(Delivery).where(Delivery.alert_id == alert.id)).all()
    emails = sorted(r.target for r in rows if r.channel == "email")
    assert emails == [immediate.email]
    assert [r.target for r in rows if r.channel == "webhook"] == ["http://127.0.0.1:9/hook"]
    assert no_address.id in _recipient_ids(alert)  # still in the inbox
    assert "Hold the consignment" in rows[0].body or "Hold the consignment" in rows[1].body


@pytest.mark.parametrize(
    ("spec", "field"),
    [
        ("not json", "recipients"),
        ([1, 2], "recipients"),
        ({"people": [1]}, "recipients"),
        ({"roles": ["pope"]}, "recipients.roles[0]"),
        ({"users": [1, {"id": 2}]}, "recipients.users[1]"),
        ({"units": "HQ"}, "recipients.units"),
    ],
)
def test_bad_recipients_name_the_field(spec, field):
    with pytest.raises(ValidationError) as err:
        routing.check_recipients(spec)
    assert field in err.value.fields


def test_bad_severity_is_refused(make, db, specimens):
    record = specimens.add(make.unit())
    with pytest.raises(ValidationError) as err:
        raise_specimen_alert(record, {}, severity="apocalyptic")
    assert "severity" in err.value.fields
