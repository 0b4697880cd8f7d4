"""Raising an alert: fold repeats, resolve recipients under need-to-know, queue notifications.

Everything here runs inside the sender's transaction (a declaration assessment, a case
being opened ...) and only inserts rows: nothing is sent from here. The delivery job in
``app.alerts.tasks`` sends what was queued.
"""

import json
import logging
import re
from datetime import timedelta

from flask import current_app
from sqlalchemy import event, select
from sqlalchemy.orm import Session

from app.alerts import text as alert_text
from app.alerts.models import (
    OPEN_STATUSES,
    SEVERITIES,
    SEVERITY_RANK,
    Alert,
    AlertRecipient,
    Delivery,
    Preference,
    Webhook,
)
from app.alerts.subjects import can_open, subject_handling
from app.core.errors import ValidationError
from app.core.time import as_utc, now_utc
from app.extensions import db
from app.security import seams
from app.security.access import Actor
from app.security.models import Unit, User, UserRole

log = logging.getLogger("tollgate.alerts")

#: minutes to acknowledge before escalation, per severity
DEADLINE_MINUTES = {"critical": 15, "high": 60, "medium": 240, "low": 1440}
DEFAULT_FOLD_MINUTES = 60


# --- a per-transaction cache -----------------------------------------------------------------
# One declaration can fire dozens of sensitive profiles naming the same recipients: who they
# are, whether they may open the declaration, their preferences and their units' webhooks
# are looked up once per transaction, not once per alert.


def _cache() -> dict:
    return db.session.info.setdefault("tollgate_alerts_cache", {})


@event.listens_for(Session, "after_flush")
def _access_changed(session, flush_context):
    # A share, a user or a role written in this transaction changes who may receive what.
    cache = session.info.get("tollgate_alerts_cache")
    if not cache:
        return
    from app.security.models import RecordShare

    changed = (*session.new, *session.dirty, *session.deleted)
    if any(isinstance(o, RecordShare | User | UserRole) for o in changed):
        for key in [k for k in cache if k[0] in ("may", "recipients")]:
            del cache[key]


@event.listens_for(Session, "after_transaction_end")
def _forget(session, transaction):
    if transaction.parent is None:  # the outermost transaction ended: the data may change
        session.info.pop("tollgate_alerts_cache", None)


def fold_key(source_kind, source_id, subject_type, subject_id) -> str:
    return f"{source_kind}:{source_id}:{subject_type}:{subject_id}"


def deadline_minutes(severity: str) -> int:
    table = {**DEADLINE_MINUTES, **current_app.config["TOLLGATE_ALERT_DEADLINE_MINUTES"]}
    return int(table[severity])


def _as_ints(values, path):
    out = []
    for i, value in enumerate(values or []):
        if isinstance(value, bool) or not isinstance(value, int | str):
            raise ValidationError({f"{path}[{i}]": "must be an id"})
        out.append(value)
    return out


def check_recipients(spec) -> dict:
    """Validate a recipients document ``{"users": [...], "units": [...], "roles": [...]}``."""
    from app.security.roles import ROLES

    if spec is None:
        return {}
    if isinstance(spec, str):
        try:
            spec = json.loads(spec)
        except ValueError as exc:
            raise ValidationError({"recipients": "is not valid JSON"}) from exc
    if not isinstance(spec, dict):
        raise ValidationError({"recipients": "must be an object with users, units and roles"})
    unknown = set(spec) - {"users", "units", "roles"}
    if unknown:
        raise ValidationError({"recipients": f"unknown key(s): {', '.join(sorted(unknown))}"})
    roles = spec.get("roles") or []
    if not isinstance(roles, list):
        raise ValidationError({"recipients.roles": "must be a list of role names"})
    for i, role in enumerate(roles):
        if role not in ROLES:
            raise ValidationError({f"recipients.roles[{i}]": f"unknown role {role!r}"})
    for key in ("users", "units"):
        if not isinstance(spec.get(key) or [], list):
            raise ValidationError({f"recipients.{key}": "must be a list of ids"})
    return {
        "users": _as_ints(spec.get("users"), "recipients.users"),
        "units": _as_ints(spec.get("units"), "recipients.units"),
        "roles": list(roles),
    }


def resolve_recipients(spec: dict) -> list[tuple[User, str]]:
    """Active users named by ``spec``, each with how they were named (first reason wins)."""
    key = ("recipients", json.dumps(spec or {}, sort_keys=True, default=str))
    cache = _cache()
    if key not in cache:
        with db.session.no_autoflush:
            cache[key] = [(u.id, via) for u, via in _resolve(spec or {})]
    return [(db.session.get(User, uid), via) for uid, via in cache[key]]


def _resolve(spec: dict) -> list[tuple[User, str]]:
    """``spec["within_unit"]`` (set by watches and saved searches: their owner's unit) keeps
    only the people of that unit, whatever the rest of the spec names."""
    found: dict[int, tuple[User, str]] = {}
    scoped = "within_unit" in spec
    within = spec.get("within_unit")

    def add(users, via):
        for user in users:
            if scoped and (within is None or user.unit_id != within):
                continue
            if user.is_active and user.id not in found:
                found[user.id] = (user, via)

    user_ids = [int(u) for u in spec.get("users") or [] if str(u).isdigit()]
    if user_ids:
        add(db.session.scalars(select(User).where(User.id.in_(user_ids))), "user")
    unit_refs = spec.get("units") or []
    unit_ids = [int(u) for u in unit_refs if str(u).isdigit()]
    unit_codes = [str(u).upper() for u in unit_refs if not str(u).isdigit()]
    if unit_codes:
        unit_ids += db.session.scalars(select(Unit.id).where(Unit.code.in_(unit_codes))).all()
    if unit_ids:
        add(
            db.session.scalars(select(User).where(User.unit_id.in_(unit_ids)).order_by(User.id)),
            "unit",
        )
    roles = spec.get("roles") or []
    if roles:
        add(
            db.session.scalars(
                select(User).join(UserRole).where(UserRole.role.in_(roles)).order_by(User.id)
            ),
            "role",
        )
    return list(found.values())


def may_receive(user: User, subject_type: str, subject_id: int) -> bool:
    """Need-to-know: the user handles alerts and may open the subject."""
    key = ("may", user.id, subject_type, subject_id)
    cache = _cache()
    if key not in cache:
        actor = Actor.for_user(user)
        with db.session.no_autoflush:
            cache[key] = actor.can("alert.view") and can_open(actor, subject_type, subject_id)
    return cache[key]


def _fold(existing: Alert, doc: dict, safe, now) -> Alert:
    """The same source fired on the same subject within the fold window: count it on the open
    alert and add the reasons it did not have yet."""
    existing.count += 1
    existing.last_fired_dt = now
    existing.reasons = list(dict.fromkeys([*existing.reasons, *safe.reasons]))
    if existing.text:
        known = existing.text.get("reasons") or []
        new = [r for r in doc["reasons"] if r not in known]
        existing.text = {**existing.text, "reasons": [*known, *new]}
    return existing


def _stored_text(doc: dict, safe) -> dict:
    """An alert's text columns: for nobody in particular (cut to the columns' sizes), and the
    phrases each recipient's text is rendered from."""
    return {
        "source_label": safe.source[:200],
        "subject_label": safe.subject[:200],
        "title": safe.title[:300],
        "reasons": safe.reasons,
        "text": doc,
    }


def raise_alert(
    *,
    source_kind: str,
    source_id,
    source_label,
    subject_type: str,
    subject_id: int,
    subject_label,
    title,
    recipients: dict,
    reasons=(),
    instructions: str | None = None,
    severity: str = "medium",
    deadline: int | None = None,
    actor: Actor | None = None,
    now=None,
) -> Alert | None:
    """Record an alert for everyone in ``recipients`` who may open the subject.

    ``title``, ``source_label``, ``subject_label`` and each reason are strings or phrases
    (``app.security.seams``) naming records by reference: the alert stores the phrases and,
    in its columns, their text for nobody in particular (code-C records described, never
    named); each recipient's text is rendered at delivery (``app.alerts.text``).

    Returns the alert (a folded one when the same source fired on the same subject within
    the fold window), or None when nobody may receive it.
    """
    if severity not in SEVERITIES:
        raise ValidationError({"severity": f"must be one of {', '.join(SEVERITIES)}"})
    doc = alert_text.phrases(
        title=title, source_label=source_label, subject_label=subject_label, reasons=reasons
    )
    safe = alert_text.stored(doc)
    live = now is None  # simulated times (tests, replays) bypass the per-transaction cache
    now = now or now_utc()
    actor = actor or Actor.system("alerts")
    key = fold_key(source_kind, source_id, subject_type, subject_id)
    window = timedelta(minutes=current_app.config["TOLLGATE_ALERT_FOLD_MINUTES"])
    existing = _open_alert(key, subject_type, subject_id, now - window, cached=live)
    if existing is not None:
        return _fold(existing, doc, safe, now)

    allowed = [
        (u, via)
        for u, via in resolve_recipients(recipients)
        if may_receive(u, subject_type, subject_id)
    ]
    if not allowed:
        log.info("alert %s has no recipient allowed to open %s:%s", key, subject_type, subject_id)
        return None
    minutes = deadline if deadline else deadline_minutes(severity)
    alert = Alert(
        fold_key=key,
        source_kind=source_kind,
        source_id=source_id,
        subject_type=subject_type,
        subject_id=subject_id,
        **_stored_text(doc, safe),
        instructions=instructions,
        severity=severity,
        created_dt=now,
        last_fired_dt=now,
        deadline_dt=now + timedelta(minutes=minutes),
    )
    alert.recipients = [AlertRecipient(user_id=u.id, via=via, created_dt=now) for u, via in allowed]
    db.session.add(alert)
    db.session.flush()
    _remember_open(alert)
    # No "raised" history row: created_dt and the recipients say it (one insert less per
    # alert on the assessment's hot path); the alert page shows it as the first line.
    queue_notifications(alert, [u for u, _ in allowed], now=now)
    return alert


# --- the delivery queue ---------------------------------------------------------------------


def _open_alert(key, subject_type, subject_id, since, *, cached: bool) -> Alert | None:
    """The open alert with ``key`` last fired after ``since`` (the one to fold into)."""
    if not cached:
        return db.session.scalar(
            select(Alert)
            .where(
                Alert.fold_key == key, Alert.status.in_(OPEN_STATUSES), Alert.last_fired_dt >= since
            )
            .order_by(Alert.id.desc())
            .limit(1)
        )
    # One query per subject and transaction: a declaration hitting 50 profiles asks once.
    cache_key = ("open", subject_type, subject_id)
    cache = _cache()
    if cache_key not in cache:
        with db.session.no_autoflush:
            rows = db.session.execute(
                select(Alert.fold_key, Alert.id)
                .where(
                    Alert.subject_type == subject_type,
                    Alert.subject_id == subject_id,
                    Alert.status.in_(OPEN_STATUSES),
                    Alert.last_fired_dt >= since,
                )
                .order_by(Alert.id)
            ).all()
        cache[cache_key] = {k: i for k, i in rows}
    alert_id = cache[cache_key].get(key)
    alert = db.session.get(Alert, alert_id) if alert_id else None
    if alert is not None and (
        alert.status not in OPEN_STATUSES or as_utc(alert.last_fired_dt) < since
    ):
        cache[cache_key].pop(key, None)  # closed or aged out since it was cached
        return None
    return alert


def _remember_open(alert: Alert) -> None:
    opened = _cache().get(("open", alert.subject_type, alert.subject_id))
    if opened is not None:
        opened[alert.fold_key] = alert.id


def preference_for(user_id: int) -> tuple[str, str]:
    """(email_mode, min_severity) of a user, defaults when they never chose."""
    key = ("pref", user_id)
    cache = _cache()
    if key not in cache:
        with db.session.no_autoflush:
            pref = db.session.scalar(select(Preference).where(Preference.user_id == user_id))
        cache[key] = (pref.email_mode, pref.min_severity) if pref else ("immediate", "low")
    return cache[key]


def forget_preference(user_id: int) -> None:
    _cache().pop(("pref", user_id), None)


def alert_url(alert_id: int) -> str:
    return f"{current_app.config['TOLLGATE_BASE_URL'].rstrip('/')}/alerts/{alert_id}"


RESTRICTED_NOTE = (
    "Handling code C: the reasons and instructions are shown only in Tollgate, "
    "to recipients with need-to-know."
)


def is_restricted(alert: Alert) -> bool:
    """Is the alert's subject handling code C? (cached per transaction)"""
    key = ("handling", alert.subject_type, alert.subject_id)
    cache = _cache()
    if key not in cache:
        with db.session.no_autoflush:
            cache[key] = subject_handling(alert.subject_type, alert.subject_id) == "C"
    return cache[key]


ESCALATION_LINE = "Not acknowledged in time by {}; you are their supervisor."


def email_text(
    alert: Alert, recipient: Actor, *, escalated_for: str | None = None
) -> tuple[str, str]:
    """Subject and plain-text body of the e-mail about ``alert`` to ``recipient``: records
    named only as they may read them, without the reasons and instructions when the subject
    is handling code C (e-mail leaves the system)."""
    text = alert_text.alert_text(recipient, alert)
    prefix = "ESCALATED " if escalated_for else ""
    subject = f"[Tollgate {alert.severity.upper()}] {prefix}{text.title}"
    lines = [text.title, ""]
    if escalated_for:
        lines += [ESCALATION_LINE.format(escalated_for), ""]
    lines += [
        f"Severity: {alert.severity}",
        f"Source: {text.source}",
        f"About: {alert.subject_type} {text.subject}",
    ]
    if is_restricted(alert):
        lines += ["", RESTRICTED_NOTE]
    else:
        if text.reasons:
            lines += ["", "Why:"] + [f"  - {r}" for r in text.reasons]
        if alert.instructions:
            lines += ["", "Instructions:", alert.instructions]
    lines += [
        "",
        f"Acknowledge before {as_utc(alert.deadline_dt):%Y-%m-%d %H:%M} UTC:",
        alert_url(alert.id),
    ]
    return subject, "\n".join(lines)


def webhook_document(alert: Alert, unit_id: int | None, event: str = "alert.raised") -> str:
    """The JSON a unit's webhook posts: records named only as the unit may read them."""
    restricted = is_restricted(alert)
    text = alert_text.alert_text(seams.unit_recipient(unit_id), alert)
    return json.dumps(
        {
            "event": event,
            "alert_id": alert.id,
            "title": text.title,
            "severity": alert.severity,
            "status": alert.status,
            "source": {
                "kind": alert.source_kind,
                "id": alert.source_id,
                "label": text.source,
            },
            "subject": {
                "type": alert.subject_type,
                "id": alert.subject_id,
                "label": text.subject,
            },
            "handling_code": "C" if restricted else "P",
            "reasons": None if restricted else text.reasons,
            "instructions": None if restricted else alert.instructions,
            "deadline": as_utc(alert.deadline_dt).isoformat(),
            "url": alert_url(alert.id),
        },
        sort_keys=True,
    )


def fresh_text(row: Delivery) -> tuple[str, str] | None:
    """Subject and body of a queued alert e-mail or webhook, rendered again for its
    recipient as the records stand now (one named when queued may have become restricted
    since); None when there is nothing to render again (a digest, a removed alert)."""
    alert = db.session.get(Alert, row.alert_id) if row.alert_id is not None else None
    if alert is None or row.kind not in ("alert", "escalation"):
        return None
    if row.channel == "webhook":
        hook = db.session.get(Webhook, row.webhook_id) if row.webhook_id else None
        if hook is None:
            return None
        title = alert_text.alert_text(seams.unit_recipient(hook.unit_id), alert).title
        return title[:300], webhook_document(alert, hook.unit_id)
    user = db.session.get(User, row.user_id) if row.user_id is not None else None
    if user is None:
        return None
    escalated_for = None
    if row.kind == "escalation":
        pattern = re.escape(ESCALATION_LINE).replace(re.escape("{}"), "(.*)")
        found = re.search(pattern, row.body or "")
        escalated_for = found.group(1) if found else "a colleague"
    subject, body = email_text(alert, Actor.for_user(user), escalated_for=escalated_for)
    return subject[:300], body


def queue_email(
    alert: Alert, user: User, *, kind: str = "alert", now=None, escalated_for: str | None = None
) -> Delivery | None:
    if not user.email:
        return None
    subject, body = email_text(alert, Actor.for_user(user), escalated_for=escalated_for)
    delivery = Delivery(
        channel="email",
        kind=kind,
        alert_id=alert.id,
        user_id=user.id,
        target=user.email,
        subject=subject[:300],
        body=body,
        next_attempt_dt=now_utc(),  # due at once, whatever "now" the caller simulates
    )
    db.session.add(delivery)
    return delivery


def queue_notifications(alert: Alert, users: list[User], *, now=None) -> None:
    """Queue immediate e-mails (per preference) and the units' webhooks for a new alert."""
    rank = SEVERITY_RANK[alert.severity]
    for user in users:
        email_mode, min_severity = preference_for(user.id)
        if email_mode == "immediate" and rank >= SEVERITY_RANK[min_severity]:
            queue_email(alert, user, now=now)
    unit_ids = tuple(sorted({u.unit_id for u in users}))
    key = ("hooks", unit_ids)
    cache = _cache()
    if key not in cache:
        with db.session.no_autoflush:
            cache[key] = [
                (h.id, h.url, h.min_severity, h.unit_id)
                for h in db.session.scalars(
                    select(Webhook).where(
                        Webhook.is_active.is_(True), Webhook.unit_id.in_(unit_ids)
                    )
                )
            ]
    for hook_id, hook_url, hook_min, hook_unit in cache[key]:
        if rank < SEVERITY_RANK[hook_min]:
            continue
        body = webhook_document(alert, hook_unit)
        db.session.add(
            Delivery(
                channel="webhook",
                kind="alert",
                alert_id=alert.id,
                webhook_id=hook_id,
                target=hook_url,
                subject=alert_text.alert_text(seams.unit_recipient(hook_unit), alert).title[:300],
                body=body,
                next_attempt_dt=now_utc(),  # due at once, whatever "now" the caller simulates
            )
        )
