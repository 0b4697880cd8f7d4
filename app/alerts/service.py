"""Handling alerts: who sees which, the lifecycle (acknowledge, action, close), feedback,
bulk acknowledgement, the supervisor's figures, and the user's notification settings."""

import secrets
from datetime import timedelta

from sqlalchemy import Select, and_, exists, func, select

from app.alerts.models import (
    EMAIL_MODES,
    OPEN_STATUSES,
    SEVERITIES,
    STATUSES,
    Alert,
    AlertEvent,
    AlertRecipient,
    Delivery,
    Preference,
    Webhook,
)
from app.alerts.subjects import can_open
from app.core import outbound
from app.core.errors import ValidationError
from app.core.time import as_utc, now_utc
from app.extensions import db
from app.security import trail
from app.security.access import Actor, NotFound
from app.security.models import User

# --- who sees which alert -------------------------------------------------------------------


def visible_clause(actor: Actor):
    """Alerts the actor received; an API client sees those received in its unit."""
    if actor.is_system:
        return True
    if actor.user_id is not None:
        return exists().where(
            AlertRecipient.alert_id == Alert.id, AlertRecipient.user_id == actor.user_id
        )
    return exists().where(
        AlertRecipient.alert_id == Alert.id,
        AlertRecipient.user_id == User.id,
        User.unit_id == actor.unit_id,
    )


def _unit_clause(unit_id):
    """Alerts with a recipient in ``unit_id`` (the supervisor's figures)."""
    return exists().where(
        AlertRecipient.alert_id == Alert.id,
        AlertRecipient.user_id == User.id,
        User.unit_id == unit_id,
    )


def inbox_query(
    actor: Actor,
    *,
    status: str = "open",
    severity: str | None = None,
    source_kind: str | None = None,
    source_id: int | None = None,
    subject: tuple[str, int] | None = None,
) -> Select:
    """The actor's alerts, most severe and newest first. ``status``: open, all or a status;
    ``source_id`` with ``source_kind`` and ``subject`` (type, id): one group's alerts."""
    actor.require("alert.view")
    stmt = select(Alert).where(visible_clause(actor))
    if status == "open":
        stmt = stmt.where(Alert.status.in_(OPEN_STATUSES))
    elif status in STATUSES:
        stmt = stmt.where(Alert.status == status)
    elif status != "all":
        raise ValidationError({"status": f"must be open, all or one of {', '.join(STATUSES)}"})
    if severity:
        if severity not in SEVERITIES:
            raise ValidationError({"severity": f"must be one of {', '.join(SEVERITIES)}"})
        stmt = stmt.where(Alert.severity == severity)
    if source_kind:
        stmt = stmt.where(Alert.source_kind == source_kind)
    if source_id is not None:
        stmt = stmt.where(Alert.source_id == source_id)
    if subject is not None:
        stmt = stmt.where(Alert.subject_type == subject[0], Alert.subject_id == subject[1])
    return stmt.order_by(Alert.status == "closed", Alert.created_dt.desc(), Alert.id.desc())


def unread_count(actor: Actor) -> int:
    if actor.user_id is None:
        return 0
    return (
        db.session.scalar(
            select(func.count(AlertRecipient.id))
            .join(Alert)
            .where(
                AlertRecipient.user_id == actor.user_id,
                AlertRecipient.is_read.is_(False),
                Alert.status.in_(OPEN_STATUSES),
            )
        )
        or 0
    )


def inbox_state(actor: Actor) -> dict:
    """What the live inbox needs to notice a change: unread count and newest alert.

    Ids and counts only: a title is text that names a record, and leaves the alert's own
    pages only through the page that renders it for its reader."""
    latest = db.session.execute(
        select(Alert.id, Alert.severity)
        .where(visible_clause(actor))
        .order_by(Alert.id.desc())
        .limit(1)
    ).first()
    return {
        "unread": unread_count(actor),
        "latest": {"id": latest.id, "severity": latest.severity} if latest else None,
    }


def get_alert(actor: Actor, alert_id: int, *, action: str = "view", log: bool = True) -> Alert:
    """Load an alert the actor received and may still open the subject of; trail row.

    For a change (``action="update"``) the row is locked until the request commits, so two
    officers acknowledging at the same moment cannot both succeed: the second waits, then
    reads the new status (on SQLite the FOR UPDATE select takes the write lock first)."""
    actor.require("alert.view")
    stmt = select(Alert).where(Alert.id == alert_id, visible_clause(actor))
    if action == "update":
        stmt = stmt.with_for_update(of=Alert).execution_options(populate_existing=True)
    alert = db.session.scalar(stmt)
    allowed = alert is not None and can_open(
        actor, alert.subject_type, alert.subject_id, check_permission=actor.user_id is not None
    )
    if not allowed:
        event = trail.record(actor, action, "alert", alert_id, outcome="denied")
        raise NotFound(trail_event=event)
    if log:
        trail.record(
            actor,
            action,
            "alert",
            alert.id,
            details={"subject": f"{alert.subject_type}:{alert.subject_id}"},
        )
    return alert


def mark_read(actor: Actor, alert: Alert) -> None:
    for row in alert.recipients:
        if row.user_id == actor.user_id and not row.is_read:
            row.is_read, row.read_dt = True, now_utc()


def _event(alert, actor, action, note=None):
    db.session.add(
        AlertEvent(
            alert_id=alert.id,
            action=action,
            user_id=actor.user_id,
            username=actor.username,
            note=(note or "").strip() or None,
        )
    )


# --- lifecycle ------------------------------------------------------------------------------


def acknowledge(actor: Actor, alert_id: int, note: str | None = None) -> Alert:
    """new → acknowledged: someone has it in hand; escalation stops."""
    alert = get_alert(actor, alert_id, action="update")
    if alert.status != "new":
        raise ValidationError({"status": f"alert {alert.id} is already {alert.status}"})
    alert.status = "acknowledged"
    alert.acknowledged_dt, alert.acknowledged_by = now_utc(), actor.username
    mark_read(actor, alert)
    _event(alert, actor, "acknowledged", note)
    return alert


def bulk_acknowledge(actor: Actor, alert_ids) -> int:
    """Acknowledge every new alert among ``alert_ids``; returns how many changed."""
    ids = sorted({int(i) for i in alert_ids or [] if str(i).isdigit()})
    if not ids:
        raise ValidationError({"alert_ids": "select at least one alert"})
    done = 0
    for alert_id in ids:
        alert = get_alert(actor, alert_id, action="update")
        if alert.status == "new":
            alert.status = "acknowledged"
            alert.acknowledged_dt, alert.acknowledged_by = now_utc(), actor.username
            mark_read(actor, alert)
            _event(alert, actor, "acknowledged", "bulk acknowledgement")
            done += 1
    return done


def mark_actioned(actor: Actor, alert_id: int, note: str) -> Alert:
    """→ actioned, saying what was done (a new alert is acknowledged on the way)."""
    if not (note or "").strip():
        raise ValidationError({"note": "say what was done"})
    alert = get_alert(actor, alert_id, action="update")
    if alert.status not in ("new", "acknowledged"):
        raise ValidationError({"status": f"alert {alert.id} is already {alert.status}"})
    now = now_utc()
    if alert.status == "new":
        alert.acknowledged_dt, alert.acknowledged_by = now, actor.username
    alert.status = "actioned"
    alert.actioned_dt, alert.actioned_by = now, actor.username
    mark_read(actor, alert)
    _event(alert, actor, "actioned", note)
    return alert


def close(actor: Actor, alert_id: int, note: str | None = None) -> Alert:
    """→ closed, from any open state."""
    alert = get_alert(actor, alert_id, action="update")
    if alert.status == "closed":
        raise ValidationError({"status": f"alert {alert.id} is already closed"})
    now = now_utc()
    if alert.acknowledged_dt is None:
        alert.acknowledged_dt, alert.acknowledged_by = now, actor.username
    alert.status = "closed"
    alert.closed_dt, alert.closed_by = now, actor.username
    mark_read(actor, alert)
    _event(alert, actor, "closed", note)
    return alert


def give_feedback(actor: Actor, alert_id: int, useful: bool, note: str | None = None) -> Alert:
    """Was the alert useful? Feeds the per-source statistics (noisy profiles show up)."""
    alert = get_alert(actor, alert_id, action="update")
    alert.is_useful = bool(useful)
    _event(
        alert,
        actor,
        "feedback",
        ("useful" if useful else "not useful")
        + (f": {note.strip()}" if note and note.strip() else ""),
    )
    return alert


def link_case(actor: Actor, alert_id: int, case_id: int, *, created: bool) -> Alert:
    alert = get_alert(actor, alert_id, action="update")
    alert.case_id = case_id
    _event(alert, actor, "case created" if created else "attached to case", f"case {case_id}")
    return alert


def source_statistics(source_kind: str, source_id: int) -> dict:
    """Alert volume and usefulness of one source (e.g. a profile), for its own page."""
    row = db.session.execute(
        select(
            func.count(Alert.id),
            func.coalesce(func.sum(Alert.count), 0),
            func.count(Alert.is_useful).filter(Alert.is_useful.is_(True)),
            func.count(Alert.is_useful).filter(Alert.is_useful.is_(False)),
        ).where(Alert.source_kind == source_kind, Alert.source_id == source_id)
    ).one()
    return {"alerts": row[0], "fired": int(row[1]), "useful": row[2], "not_useful": row[3]}


# --- supervisor view ------------------------------------------------------------------------

AGE_BUCKETS = (
    (timedelta(hours=1), "< 1 h"),
    (timedelta(hours=4), "1–4 h"),
    (timedelta(days=1), "4–24 h"),
    (None, "> 1 day"),
)


def supervisor_figures(actor: Actor, *, days: int = 30) -> dict:
    """Open alerts by severity and age, time to acknowledge, escalations, volume per source,
    over the alerts received in the actor's unit."""
    actor.require("alert.supervise")
    now = now_utc()
    since = now - timedelta(days=days)
    unit = _unit_clause(actor.unit_id)
    open_rows = db.session.execute(
        select(Alert.severity, Alert.created_dt).where(unit, Alert.status.in_(OPEN_STATUSES))
    ).all()
    by_severity = {s: {label: 0 for _, label in AGE_BUCKETS} for s in reversed(SEVERITIES)}
    for severity, created in open_rows:
        age = now - as_utc(created)
        label = next(lbl for limit, lbl in AGE_BUCKETS if limit is None or age < limit)
        by_severity[severity][label] += 1
    recent = db.session.execute(
        select(
            Alert.created_dt, Alert.acknowledged_dt, Alert.escalation_level, Alert.severity
        ).where(unit, Alert.created_dt >= since)
    ).all()
    waits = sorted((as_utc(a) - as_utc(c)).total_seconds() for c, a, _, _ in recent if a)
    volume = db.session.execute(
        select(
            Alert.source_kind,
            Alert.source_id,
            Alert.source_label,
            func.count(Alert.id),
            func.coalesce(func.sum(Alert.count), 0),
            func.count(Alert.is_useful).filter(Alert.is_useful.is_(True)),
            func.count(Alert.is_useful).filter(Alert.is_useful.is_(False)),
        )
        .where(unit, Alert.created_dt >= since)
        .group_by(Alert.source_kind, Alert.source_id, Alert.source_label)
        .order_by(func.sum(Alert.count).desc())
        .limit(50)
    ).all()
    return {
        "days": days,
        "open_by_severity": by_severity,
        "age_labels": [label for _, label in AGE_BUCKETS],
        "open_total": len(open_rows),
        "raised": len(recent),
        "acknowledged": len(waits),
        "ack_median_minutes": round(waits[len(waits) // 2] / 60, 1) if waits else None,
        "ack_p90_minutes": round(waits[int(len(waits) * 0.9)] / 60, 1) if waits else None,
        "escalated": sum(1 for r in recent if r[2] > 0),
        "delivery_problems": _delivery_problems(unit, since),
        "volume": [
            {
                "kind": k,
                "id": i,
                "label": lbl,
                "alerts": n,
                "fired": int(f),
                "useful": u,
                "not_useful": nu,
            }
            for k, i, lbl, n, f, u, nu in volume
        ],
    }


def _delivery_problems(unit, since) -> dict:
    """Notifications of the unit's alerts that failed for good or are still being retried."""
    rows = db.session.execute(
        select(Delivery.status, func.count(Delivery.id))
        .join(Alert, Alert.id == Delivery.alert_id)
        .where(
            unit,
            Alert.created_dt >= since,
            Delivery.attempts > 0,
            Delivery.status.in_(("pending", "failed")),
        )
        .group_by(Delivery.status)
    ).all()
    counts = dict(rows)
    return {"retrying": counts.get("pending", 0), "failed": counts.get("failed", 0)}


# --- notification settings ------------------------------------------------------------------


def get_preference(actor: Actor) -> Preference:
    actor.require("alert.view")
    pref = db.session.scalar(select(Preference).where(Preference.user_id == actor.user_id))
    if pref is None:
        pref = Preference(user_id=actor.user_id, email_mode="immediate", min_severity="low")
    return pref


def set_preference(actor: Actor, *, email_mode: str, min_severity: str) -> Preference:
    """Choose immediate e-mail, a daily or weekly digest, or none, and the lowest severity."""
    actor.require("alert.view")
    if actor.user_id is None:
        raise ValidationError({"user": "only people have notification preferences"})
    if email_mode not in EMAIL_MODES:
        raise ValidationError({"email_mode": f"must be one of {', '.join(EMAIL_MODES)}"})
    if min_severity not in SEVERITIES:
        raise ValidationError({"min_severity": f"must be one of {', '.join(SEVERITIES)}"})
    pref = get_preference(actor)
    if pref.id is None:
        db.session.add(pref)
    if pref.email_mode != email_mode and email_mode in ("daily", "weekly"):
        pref.last_digest_dt = now_utc()  # the first digest covers what comes from now on
    pref.email_mode, pref.min_severity = email_mode, min_severity
    db.session.flush()
    from app.alerts.routing import forget_preference

    forget_preference(actor.user_id)
    return pref


def list_webhooks(actor: Actor) -> list[Webhook]:
    actor.require("alert.supervise")
    return db.session.scalars(
        select(Webhook).where(Webhook.unit_id == actor.unit_id).order_by(Webhook.id)
    ).all()


def add_webhook(
    actor: Actor, *, name: str, url: str, min_severity: str = "high", secret: str | None = None
) -> Webhook:
    """Post the unit's alerts to ``url``, signed with a secret (generated unless given)."""
    actor.require("alert.supervise")
    errors = {}
    name = (name or "").strip()
    if not name:
        errors["name"] = "is required"
    try:
        # The outbound guard: an internal address is refused now, with the reason, rather
        # than posted to by the worker (and checked again there at every send).
        url = outbound.check_url(url, field="url", max_length=500)
    except ValidationError as exc:
        errors.update(exc.fields)
    if min_severity not in SEVERITIES:
        errors["min_severity"] = f"must be one of {', '.join(SEVERITIES)}"
    if secret is not None and len(secret) < 16:
        errors["secret"] = "must be at least 16 characters"  # noqa: S105 - a message
    if errors:
        raise ValidationError(errors)
    hook = Webhook(
        name=name[:120],
        url=url.strip(),
        secret=secret or secrets.token_hex(24),
        unit_id=actor.unit_id,
        min_severity=min_severity,
        created_by_id=actor.user_id,
    )
    db.session.add(hook)
    db.session.flush()
    trail.record(actor, "create", "alert_webhook", hook.id, details={"url": hook.url})
    return hook


def remove_webhook(actor: Actor, webhook_id: int) -> None:
    actor.require("alert.supervise")
    hook = db.session.scalar(
        select(Webhook).where(Webhook.id == webhook_id, Webhook.unit_id == actor.unit_id)
    )
    if hook is None:
        raise NotFound()
    hook.is_active = False
    trail.record(actor, "delete", "alert_webhook", hook.id)


def deliveries_of(alert: Alert) -> list[dict]:
    """The alert's notifications (e-mail, webhook) with their state, for its page."""
    rows = db.session.execute(
        select(Delivery, User.full_name, Webhook.name)
        .outerjoin(User, User.id == Delivery.user_id)
        .outerjoin(Webhook, Webhook.id == Delivery.webhook_id)
        .where(Delivery.alert_id == alert.id)
        .order_by(Delivery.id)
    ).all()
    return [
        {
            "channel": d.channel,
            "kind": d.kind,
            "to": user or hook or "",
            "status": d.status,
            "attempts": d.attempts,
            "last_error": d.last_error,
            "sent": d.sent_dt,
        }
        for d, user, hook in rows
    ]


def pending_escalations(now=None) -> Select:
    now = now or now_utc()
    return select(Alert).where(and_(Alert.status == "new", Alert.deadline_dt <= now))
