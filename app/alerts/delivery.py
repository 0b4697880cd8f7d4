"""Sending the queued notifications: e-mail over SMTP and signed webhook POSTs.

Runs in the scheduler process only. A delivery is claimed and committed before anything
is sent, so no database lock is held during network I/O (an SMTP server that hangs cannot
stall declaration assessment), and the result is recorded in a second short transaction.
A failure is retried with exponential back-off; every attempt is kept.

Crashes: delivery is at-least-once, never lost. A worker killed between the send and the
recorded result leaves its one delivery in flight "sending"; the worker that finishes the
interrupted job run sends it again (``release_interrupted_claims``), so that one message may
arrive twice - with the same ``Message-ID`` (e-mail) or ``X-Tollgate-Delivery`` (webhook),
which receivers de-duplicate on. Exactly-once is not possible across an SMTP send and a
database commit; but a crash duplicates no other delivery, because each result is
committed on its own right after its send, and a claim is only ever taken by one sender.
"""

import hashlib
import hmac
import logging
import smtplib
import time
import urllib.error
import urllib.request
from datetime import timedelta
from email.message import EmailMessage
from email.utils import formatdate

from flask import current_app
from sqlalchemy import and_, or_, select

from app.alerts.models import Delivery, DeliveryAttempt, Webhook
from app.core.time import as_utc, now_utc
from app.extensions import db
from app.jobs.testing import crash_point

log = logging.getLogger("tollgate.alerts.delivery")

SIGNATURE_HEADER = "X-Tollgate-Signature"
TIMESTAMP_HEADER = "X-Tollgate-Timestamp"
DELIVERY_HEADER = "X-Tollgate-Delivery"
#: a claim older than this is assumed to belong to a crashed worker and is taken again
STALE_CLAIM = timedelta(minutes=5)


class DeliveryFailed(Exception):
    """The channel refused or could not be reached; the delivery will be retried."""


def sign(secret: str, timestamp: str, body: bytes) -> str:
    """HMAC-SHA256 over ``timestamp.body``; receivers recompute it and compare."""
    mac = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def verify_signature(secret: str, timestamp: str, body: bytes, signature: str) -> bool:
    return hmac.compare_digest(sign(secret, timestamp, body), signature or "")


def send_email(config, *, to: str, subject: str, body: str, message_id: str) -> str:
    msg = EmailMessage()
    msg["From"] = config["TOLLGATE_MAIL_FROM"]
    msg["To"] = to
    msg["Subject"] = subject
    msg["Date"] = formatdate(usegmt=True)
    msg["Message-ID"] = message_id
    msg.set_content(body)
    timeout = config.get("TOLLGATE_SMTP_TIMEOUT", 10)
    try:
        with smtplib.SMTP(
            config["TOLLGATE_SMTP_HOST"], config["TOLLGATE_SMTP_PORT"], timeout=timeout
        ) as smtp:
            refused = smtp.send_message(msg)
    except (OSError, smtplib.SMTPException) as exc:
        raise DeliveryFailed(f"SMTP: {type(exc).__name__}: {exc}") from exc
    if refused:
        raise DeliveryFailed(f"SMTP refused {refused}")
    return "250 accepted"


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    # A redirect would re-send (or drop) a signed body somewhere else: treat it as a failure.
    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None


_opener = urllib.request.build_opener(_NoRedirect)


def send_webhook(config, *, url: str, secret: str, body: str, delivery_id: int) -> str:
    data = body.encode()
    timestamp = str(int(time.time()))
    # The URL was checked to be http(s) when the webhook was added.
    request = urllib.request.Request(  # noqa: S310
        url,
        data=data,
        method="POST",
        headers={
            "Content-Type": "application/json",
            "User-Agent": "Tollgate-Alerts/1",
            TIMESTAMP_HEADER: timestamp,
            SIGNATURE_HEADER: sign(secret, timestamp, data),
            DELIVERY_HEADER: str(delivery_id),
        },
    )
    timeout = config.get("TOLLGATE_WEBHOOK_TIMEOUT", 10)
    try:
        with _opener.open(request, timeout=timeout) as resp:
            status = resp.status
    except urllib.error.HTTPError as exc:
        raise DeliveryFailed(f"HTTP {exc.code} {exc.reason}") from exc
    except (OSError, ValueError) as exc:
        raise DeliveryFailed(f"HTTP: {type(exc).__name__}: {exc}") from exc
    if not 200 <= status < 300:
        raise DeliveryFailed(f"HTTP {status}")
    return f"HTTP {status}"


def backoff(attempts: int, config) -> timedelta:
    """Delay before the next try after ``attempts`` failures: base * 2^(n-1), capped."""
    base = config.get("TOLLGATE_ALERT_RETRY_SECONDS", 30)
    cap = config.get("TOLLGATE_ALERT_RETRY_MAX_SECONDS", 3600)
    return timedelta(seconds=min(base * 2 ** max(attempts - 1, 0), cap))


def _due_ids(now, limit):
    stmt = (
        select(Delivery.id)
        .where(
            or_(
                and_(Delivery.status == "pending", Delivery.next_attempt_dt <= now),
                and_(Delivery.status == "sending", Delivery.claimed_dt <= now - STALE_CLAIM),
            )
        )
        .order_by(Delivery.next_attempt_dt, Delivery.id)
        .limit(limit)
    )
    return db.session.scalars(stmt).all()


def _claimable(row, now) -> bool:
    """Due now: pending, or claimed so long ago that its claimer must have died."""
    if row.status == "pending":
        return True
    claimed = as_utc(row.claimed_dt)
    return row.status == "sending" and claimed is not None and claimed <= now - STALE_CLAIM


def _claim(delivery_id, now):
    """Mark one delivery as being sent and return what sending needs (or None)."""
    row = db.session.get(Delivery, delivery_id, with_for_update=True)
    # Checked again under the row lock: another sender may have claimed it since it was
    # listed (accepting any "sending" row here would send a fresh claim twice).
    if row is None or not _claimable(row, now):
        db.session.rollback()
        return None
    job = {
        "id": row.id,
        "channel": row.channel,
        "target": row.target,
        "subject": row.subject,
        "body": row.body,
        "attempts": row.attempts,
        "secret": None,
    }
    if row.channel == "webhook":
        hook = db.session.get(Webhook, row.webhook_id) if row.webhook_id else None
        if hook is None or not hook.is_active:
            row.status, row.last_error = "failed", "webhook removed or disabled"
            db.session.commit()
            return None
        job["secret"] = hook.secret
    row.status = "sending"
    row.claimed_dt = now
    db.session.commit()
    return job


def _send(job, config) -> str:
    if job["channel"] == "email":
        return send_email(
            config,
            to=job["target"],
            subject=job["subject"],
            body=job["body"],
            message_id=f"<delivery-{job['id']}@tollgate>",
        )
    if job["channel"] == "webhook":
        return send_webhook(
            config, url=job["target"], secret=job["secret"], body=job["body"], delivery_id=job["id"]
        )
    raise DeliveryFailed(f"unknown channel {job['channel']}")


def _record(job, ok: bool, detail: str, duration_ms: int, config) -> str:
    row = db.session.get(Delivery, job["id"])
    now = now_utc()
    row.attempts += 1
    row.attempt_rows.append(
        DeliveryAttempt(attempted_dt=now, is_ok=ok, detail=detail[:2000], duration_ms=duration_ms)
    )
    if ok:
        row.status, row.sent_dt, row.last_error = "sent", now, None
    else:
        row.last_error = detail[:2000]
        if row.attempts >= config.get("TOLLGATE_ALERT_MAX_ATTEMPTS", 12):
            row.status = "failed"
        else:
            row.status = "pending"
            row.next_attempt_dt = now + backoff(row.attempts, config)
    row.claimed_dt = None
    db.session.commit()
    return row.status


def deliver_due(limit: int = 200, now=None) -> dict:
    """Send every delivery that is due; returns counts by outcome. Commits its own work."""
    config = current_app.config
    counts = {"sent": 0, "retry": 0, "failed": 0}
    ids = _due_ids(now or now_utc(), limit)
    db.session.commit()
    for delivery_id in ids:
        job = _claim(delivery_id, now or now_utc())
        if job is None:
            continue
        crash_point("alerts.delivery.claimed", delivery=job["id"])
        started = time.monotonic()
        try:
            detail, ok = _send(job, config), True
        except DeliveryFailed as exc:
            detail, ok = str(exc), False
            log.warning("delivery %s (%s) failed: %s", job["id"], job["channel"], exc)
        duration = int((time.monotonic() - started) * 1000)
        crash_point("alerts.delivery.sent", delivery=job["id"])
        status = _record(job, ok, detail, duration, config)
        counts["sent" if status == "sent" else "failed" if status == "failed" else "retry"] += 1
    return counts


def release_interrupted_claims(since, before) -> int:
    """Hand back the claims of an interrupted run of the delivery job; returns how many.

    Called by the worker that finishes a job run a killed worker left "running": the
    deliveries that run claimed (``since`` <= claimed_dt < ``before``) and never recorded are
    still "sending" and would otherwise wait ``STALE_CLAIM`` before anyone sent them. Each is
    due again at once, with an attempt recording the interruption: its message may have
    gone out before the crash, so the new send can duplicate it (same Message-ID and
    X-Tollgate-Delivery), never lose it.
    """
    now = now_utc()
    rows = db.session.scalars(
        select(Delivery)
        .where(
            Delivery.status == "sending",
            Delivery.claimed_dt >= since,
            Delivery.claimed_dt < before,
        )
        .order_by(Delivery.id)
        .with_for_update()
    ).all()
    for row in rows:
        row.attempts += 1
        row.attempt_rows.append(
            DeliveryAttempt(
                attempted_dt=now,
                is_ok=False,
                detail="interrupted: the worker stopped during this attempt; the message "
                "may have been delivered and is sent again with the same id",
            )
        )
        row.status, row.claimed_dt, row.next_attempt_dt = "pending", None, now
        row.last_error = "interrupted by a worker crash"
        log.warning("delivery %s was interrupted by a crash; sending it again", row.id)
    db.session.commit()
    return len(rows)
