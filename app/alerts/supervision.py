"""Supervision by hand (issue 19 item 9): a supervisor assigns an alert to an officer of the
unit, anyone holding it escalates it to the next level with a reason; both are in the alert's
history and the trail, and both put the alert, unread, in the new holder's inbox (and queue
their e-mail as their preference says).

The next level of a person is their supervisor; of an API client (no supervisor), the
supervisors of its unit; of someone with no supervisor (the top of a unit), the holders of
``TOLLGATE_ALERT_ESCALATION_ROLE`` in the headquarters units the site designates in
``TOLLGATE_ALERT_ESCALATION_UNITS``. With none designated, nothing goes beyond a unit: a unit's
records are its own business, and "every other unit's supervisors" is nobody's chain of
command (escalation by hand is refused saying so; the administrator's units page says why).
Need-to-know wins at every step: nobody receives an alert about a record they may not open.
"""

from datetime import timedelta

from flask import current_app
from sqlalchemy import select

from app.alerts import routing, service
from app.alerts.models import OPEN_STATUSES, Alert, AlertEvent, AlertRecipient
from app.alerts.service import get_alert
from app.core.errors import ValidationError
from app.core.time import now_utc
from app.extensions import db
from app.security import roles, trail
from app.security.access import Actor
from app.security.models import Unit, User, UserRole

#: who receives what the top of a unit leaves unhandled, unless configured otherwise
DEFAULT_ESCALATION_ROLE = roles.SUPERVISOR


def escalation_role() -> str:
    return current_app.config.get("TOLLGATE_ALERT_ESCALATION_ROLE") or DEFAULT_ESCALATION_ROLE


def escalation_units() -> list[str]:
    """The codes of the headquarters units designated to receive escalations beyond a unit."""
    return [u.upper() for u in current_app.config.get("TOLLGATE_ALERT_ESCALATION_UNITS") or []]


#: why nothing goes beyond a unit when no headquarters unit is designated (shown to the user
#: who escalates by hand and, with the setting's name, to the administrator)
NO_HQ_MESSAGE = (
    "you are the top of your unit and no headquarters unit is designated to receive "
    "escalations beyond a unit; ask the administrator"
)


def escalation_setup() -> dict:
    """For the administrator: where escalations beyond a unit go, or why they go nowhere."""
    codes = escalation_units()
    known = set(
        db.session.scalars(select(Unit.code).where(Unit.code.in_(codes), Unit.is_active.is_(True)))
    )
    return {
        "role": escalation_role(),
        "units": codes,
        "missing": [c for c in codes if c not in known],
    }


def beyond_unit(user: User, alert: Alert) -> list[User]:
    """Who receives what the top of a unit leaves unhandled: the active holders of the
    escalation role in the designated headquarters units (``TOLLGATE_ALERT_ESCALATION_UNITS``)
    other than ``user``'s own, who may open the alert's subject. None designated: nobody."""
    units = escalation_units()
    if not units:
        return []
    stmt = (
        select(User)
        .join(UserRole)
        .join(Unit, Unit.id == User.unit_id)
        .where(
            UserRole.role == escalation_role(),
            User.unit_id != user.unit_id,
            Unit.code.in_(units),
        )
    )
    return [
        u
        for u in db.session.scalars(stmt.order_by(User.id)).unique()
        if u.is_active
        and u.id != user.id
        and routing.may_receive(u, alert.subject_type, alert.subject_id)
    ]


def holder(alert: Alert) -> User | None:
    """Who the alert was last assigned or escalated to by hand (None: nobody yet)."""
    for row in sorted(alert.recipients, key=lambda r: (r.created_dt, r.id), reverse=True):
        if row.via in ("assigned", "escalated by hand"):
            return row.user
    return None


def assignees(actor: Actor, alert: Alert) -> list[User]:
    """Active people of the actor's unit who handle alerts and may open the alert's subject."""
    if actor.user_id is not None and not actor.can("alert.supervise"):
        return []
    users = db.session.scalars(
        select(User).where(User.unit_id == actor.unit_id).order_by(User.full_name, User.id)
    ).all()
    return [
        u
        for u in users
        if u.is_active and routing.may_receive(u, alert.subject_type, alert.subject_id)
    ]


def _check_open(alert: Alert) -> None:
    if alert.status not in OPEN_STATUSES:
        raise ValidationError({"status": f"alert {alert.id} is already {alert.status}"})


def _hand_to(alert: Alert, users: list[User], via: str, now) -> list[User]:
    """Put the alert, unread, in each user's inbox (a recipient again if already one)."""
    rows = {r.user_id: r for r in alert.recipients}
    for user in users:
        row = rows.get(user.id)
        if row is None:
            alert.recipients.append(AlertRecipient(user_id=user.id, via=via, created_dt=now))
        else:
            row.via, row.is_read, row.read_dt, row.created_dt = via, False, None, now
    db.session.flush()
    for user in users:
        if routing.preference_for(user.id)[0] != "off":
            routing.queue_email(alert, user, now=now)
    return users


def _event(alert: Alert, actor: Actor, action: str, note: str, now) -> None:
    db.session.add(
        AlertEvent(
            alert_id=alert.id,
            action=action,
            user_id=actor.user_id,
            username=actor.username,
            note=note,
            created_dt=now,
        )
    )


def assign(actor: Actor, alert_id: int, user_id, note: str | None = None) -> Alert:
    """Give the alert to an officer of the actor's unit who may open its subject.

    People need ``alert.supervise``; an API client (``alerts:write``) assigns in its unit."""
    actor.require("alert.view")
    if actor.user_id is not None:
        actor.require("alert.supervise")
    alert = get_alert(actor, alert_id, action="update")
    _check_open(alert)
    if isinstance(user_id, bool) or not str(user_id or "").isdigit():
        raise ValidationError({"user_id": "choose the officer to assign the alert to"})
    user = db.session.get(User, int(user_id))
    if user is None or user not in assignees(actor, alert):
        raise ValidationError(
            {"user_id": "must be an active officer of your unit who may open the alert's subject"}
        )
    now = now_utc()
    _hand_to(alert, [user], "assigned", now)
    note = (note or "").strip()
    _event(alert, actor, "assigned", f"to {user.full_name}" + (f": {note}" if note else ""), now)
    trail.record(
        actor,
        "update",
        "alert",
        alert.id,
        details={"assigned_to": user.username, "note": note or None},
    )
    return alert


def next_level(actor: Actor, alert: Alert) -> list[User]:
    """The people one level above ``actor`` who may open the alert's subject."""
    present = {r.user_id for r in alert.recipients if r.user_id != actor.user_id}
    me = db.session.get(User, actor.user_id) if actor.user_id is not None else None
    if me is not None and me.supervisor_id:
        candidates = [db.session.get(User, me.supervisor_id)]
    elif me is None:  # an API client: the supervisors of its unit
        candidates = _role_holders(roles.SUPERVISOR, unit_id=actor.unit_id)
    else:  # the top of the unit: the configured escalation role
        candidates = beyond_unit(me, alert)
    return [
        u
        for u in candidates
        if u is not None
        and u.is_active
        and u.id != actor.user_id
        and u.id not in present
        and routing.may_receive(u, alert.subject_type, alert.subject_id)
    ]


def _role_holders(role: str, unit_id: int | None = None) -> list[User]:
    stmt = select(User).join(UserRole).where(UserRole.role == role).order_by(User.id)
    if unit_id is not None:
        stmt = stmt.where(User.unit_id == unit_id)
    return list(db.session.scalars(stmt).unique())


def escalate(actor: Actor, alert_id: int, reason: str) -> Alert:
    """Escalate by hand to the next level, saying why (refused, naming why, when there is
    nobody above who may open the subject)."""
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": "say why the alert is escalated"})
    alert = get_alert(actor, alert_id, action="update")
    _check_open(alert)
    above = next_level(actor, alert)
    me = db.session.get(User, actor.user_id) if actor.user_id is not None else None
    if not above and me is not None and not me.supervisor_id and not escalation_units():
        raise ValidationError({"reason": NO_HQ_MESSAGE})
    if not above:
        raise ValidationError(
            {
                "reason": "nobody above you may receive this alert (no supervisor, or none "
                "who may open its subject, or they already have it)"
            }
        )
    now = now_utc()
    _hand_to(alert, above, "escalated by hand", now)
    alert.escalation_level += 1
    alert.deadline_dt = now + timedelta(minutes=routing.deadline_minutes(alert.severity))
    names = ", ".join(u.full_name for u in above)
    _event(alert, actor, "escalated", f"by hand to {names}: {reason}", now)
    trail.record(
        actor,
        "update",
        "alert",
        alert.id,
        details={"escalated_to": [u.username for u in above], "reason": reason},
    )
    return alert


# --- export of the supervisor's figures -------------------------------------------------------

EXPORT_HEADER = ("figure", "severity", "age", "source", "value")


def export_rows(actor: Actor, figures: dict, justification: str) -> list[tuple]:
    """The supervisor's figures as CSV rows, the export trailed with its justification (a
    ValidationError naming it when none is given)."""
    if not (justification or "").strip():
        raise ValidationError({"justification": "say why the figures are exported"})
    rows = [
        ("open alerts", "", "", "", figures["open_total"]),
        ("raised", "", "", "", figures["raised"]),
        ("acknowledged", "", "", "", figures["acknowledged"]),
        ("minutes to acknowledge, median", "", "", "", figures["ack_median_minutes"]),
        ("minutes to acknowledge, 90th percentile", "", "", "", figures["ack_p90_minutes"]),
        ("escalated", "", "", "", figures["escalated"]),
    ]
    for severity, ages in figures["open_by_severity"].items():
        rows += [("open by severity and age", severity, age, "", n) for age, n in ages.items()]
    for v in figures["volume"]:
        source = f"{v['kind']}: {v['label']}"
        rows += [
            ("alerts per source", "", "", source, v["alerts"]),
            ("useful per source", "", "", source, v["useful"]),
            ("not useful per source", "", "", source, v["not_useful"]),
        ]
    trail.record(
        actor,
        "export",
        "alert",
        None,
        justification=justification.strip(),
        query=f"alert supervision figures, last {figures['days']} days",
        details={"rows": len(rows), "unit_id": actor.unit_id},
    )
    return rows


# --- drill-down from a figure to its alerts ---------------------------------------------------


def figure_alerts(actor: Actor, *, days: int, **figure) -> tuple[list[Alert], int]:
    """The unit's alerts behind one figure of the supervision page, newest first (at most
    500), and how many of them are left out because their subject is one the supervisor may
    not open. ``figure``: ``open`` with ``severity`` and ``age`` (a label of
    ``service.AGE_BUCKETS``), ``source_kind`` with ``source_id``, or ``escalated``."""
    from app.alerts.subjects import can_open

    actor.require("alert.supervise")
    now = now_utc()
    stmt = select(Alert).where(service._unit_clause(actor.unit_id))
    if figure.get("open"):
        stmt = stmt.where(Alert.status.in_(OPEN_STATUSES))
        if figure.get("severity"):
            stmt = stmt.where(Alert.severity == figure["severity"])
        stmt = _age_clause(stmt, figure.get("age"), now)
    else:
        stmt = stmt.where(Alert.created_dt >= now - timedelta(days=days))
    if figure.get("source_kind"):
        stmt = stmt.where(
            Alert.source_kind == figure["source_kind"], Alert.source_id == figure.get("source_id")
        )
    if figure.get("escalated"):
        stmt = stmt.where(Alert.escalation_level > 0)
    rows = db.session.scalars(stmt.order_by(Alert.created_dt.desc(), Alert.id.desc()).limit(500))
    shown, hidden = [], 0
    for alert in rows:
        if can_open(actor, alert.subject_type, alert.subject_id):
            shown.append(alert)
        else:
            hidden += 1
    return shown, hidden


def _age_clause(stmt, age, now):
    if not age:
        return stmt
    lower = None
    for limit, label in service.AGE_BUCKETS:
        if label == age:
            if limit is not None:
                stmt = stmt.where(Alert.created_dt > now - limit)
            if lower is not None:
                stmt = stmt.where(Alert.created_dt <= now - lower)
            return stmt
        lower = limit
    raise ValidationError({"age": f"must be one of {', '.join(b[1] for b in service.AGE_BUCKETS)}"})
