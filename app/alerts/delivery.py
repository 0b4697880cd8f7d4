"""Sending the queued notifications: e-mail over SMTP and signed webhook POSTs.

Runs in the scheduler process only. A delivery is claimed and committed before anything
is sent, so no database lock is held during network I/O (an SMTP server that hangs cannot
stall declaration assessment), and the result is recorded in a second short transaction.
A failure is retried with exponential back-off; every attempt is kept.

Anything retried ends. After ``TOLLGATE_DELIVERY_MAX_ATTEMPTS`` failures (or at once, for a
failure no retry can mend: a webhook address the outbound guard refuses, an SMTP 5xx
refusal) the delivery is "failed" with its reason, shown to its recipient (inbox, alert
page) and to the unit's supervisor (``app.alerts.undelivered``). The log says it once per
change of state - failing, failed, recovered - never once per attempt: a relay that is down
for an hour under a thousand queued e-mails writes a few lines, not thousands.

Within one run, an endpoint that gave no answer (the SMTP relay, a webhook host) is not
tried again: the other deliveries to it record the same failure without connecting, so a
black-holed receiver costs one timeout per run instead of one per queued message.

Webhook URLs are user input: the outbound guard (``app.core.outbound``) checks the
addresses their host resolves to at every send, and the POST goes to a checked address. A
refused address is recorded as "address not allowed" with no connection made, so the result
cannot tell a supervisor whether something listens on an internal port.

Crashes: delivery is at-least-once, never lost. A worker killed between the send and the
recorded result leaves its one delivery in flight "sending"; the worker that finishes the
interrupted job run sends it again (``release_interrupted_claims``), so that one message may
arrive twice - with the same ``Message-ID`` (e-mail) or ``X-Tollgate-Delivery`` (webhook),
which receivers de-duplicate on. Exactly-once is not possible across an SMTP send and a
database commit; but a crash duplicates no other delivery, because each result is
committed on its own right after its send, and a claim is only ever taken by one sender.
"""

import contextlib
import hashlib
import hmac
import http.client
import logging
import smtplib
import socket
import ssl
import threading
import time
from collections import defaultdict
from datetime import timedelta
from email.message import EmailMessage
from email.utils import formatdate
from urllib.parse import urlsplit

from flask import current_app
from sqlalchemy import and_, or_, select

from app.alerts import routing
from app.alerts.models import Delivery, DeliveryAttempt, Webhook
from app.core import outbound
from app.core.time import as_utc, now_utc
from app.extensions import db
from app.jobs.testing import crash_point

log = logging.getLogger("tollgate.alerts.delivery")

SIGNATURE_HEADER = "X-Tollgate-Signature"
TIMESTAMP_HEADER = "X-Tollgate-Timestamp"
DELIVERY_HEADER = "X-Tollgate-Delivery"
#: a claim older than this is assumed to belong to a crashed worker and is taken again
STALE_CLAIM = timedelta(minutes=5)
DEFAULT_MAX_ATTEMPTS = 8
ADDRESS_NOT_ALLOWED = "address not allowed"


class DeliveryFailed(Exception):
    """The channel refused or could not be reached.

    ``permanent``: no retry can succeed (given up at once). ``unreachable``: the endpoint
    gave no answer, so the other deliveries to it in this run are not tried."""

    def __init__(self, reason: str, *, permanent: bool = False, unreachable: bool = False):
        super().__init__(reason)
        self.permanent = permanent
        self.unreachable = unreachable


def max_attempts(config) -> int:
    return max(1, int(config.get("TOLLGATE_DELIVERY_MAX_ATTEMPTS") or DEFAULT_MAX_ATTEMPTS))


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
    timeout = config["TOLLGATE_SMTP_TIMEOUT"]
    try:
        smtp = smtplib.SMTP(
            config["TOLLGATE_SMTP_HOST"], config["TOLLGATE_SMTP_PORT"], timeout=timeout
        )
    except (OSError, smtplib.SMTPException) as exc:
        raise DeliveryFailed(f"SMTP: {type(exc).__name__}: {exc}", unreachable=True) from exc
    try:
        refused = smtp.send_message(msg)
    except smtplib.SMTPRecipientsRefused as exc:
        codes = [code for code, _ in exc.recipients.values()]
        # 5xx is the server's final word (RFC 5321): retrying the same message cannot help.
        permanent = bool(codes) and all(code >= 500 for code in codes)
        raise DeliveryFailed(f"SMTP refused {exc.recipients}", permanent=permanent) from exc
    except smtplib.SMTPResponseException as exc:
        raise DeliveryFailed(
            f"SMTP: {type(exc).__name__}: {exc.smtp_code} {exc.smtp_error!r}",
            permanent=exc.smtp_code >= 500,
        ) from exc
    except (OSError, smtplib.SMTPException) as exc:
        raise DeliveryFailed(f"SMTP: {type(exc).__name__}: {exc}", unreachable=True) from exc
    finally:
        # The message is accepted (or not) by now: a failed QUIT must not make it a retry.
        with contextlib.suppress(OSError, smtplib.SMTPException):
            smtp.quit()
        smtp.close()
    if refused:
        raise DeliveryFailed(f"SMTP refused {refused}")
    return "250 accepted"


def _abort(conn) -> None:
    sock = conn.sock
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)


def webhook_addresses(url: str, allow=None) -> tuple:
    """(parts, checked addresses) of a webhook URL; DeliveryFailed when it may not be used.

    Checked at every send, not only when the webhook was saved: the name may resolve
    elsewhere now (DNS rebinding), and webhooks saved before the guard existed are covered.
    """
    try:
        parts = urlsplit(url)
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError as exc:
        raise DeliveryFailed(f"{ADDRESS_NOT_ALLOWED}: {exc}", permanent=True) from exc
    if parts.scheme not in outbound.SCHEMES or not parts.hostname:
        raise DeliveryFailed(f"{ADDRESS_NOT_ALLOWED}: not an http(s) URL", permanent=True)
    try:
        return parts, outbound.resolve(parts.hostname, port, allow)
    except outbound.AddressNotAllowed as exc:
        raise DeliveryFailed(
            f"{ADDRESS_NOT_ALLOWED}: {exc.reason}; nothing was sent (an administrator can "
            "allow an internal receiver with TOLLGATE_OUTBOUND_ALLOW)",
            permanent=True,
        ) from exc
    except outbound.ResolveFailed as exc:
        raise DeliveryFailed(f"HTTP: {exc.reason}", unreachable=True) from exc


def send_webhook(config, *, url: str, secret: str, body: str, delivery_id: int, allow=None) -> str:
    """POST the signed ``body`` to ``url``, connecting only to addresses the guard checked."""
    parts, addresses = webhook_addresses(url, allow)
    data = body.encode()
    timestamp = str(int(time.time()))
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "Tollgate-Alerts/1",
        TIMESTAMP_HEADER: timestamp,
        SIGNATURE_HEADER: sign(secret, timestamp, data),
        DELIVERY_HEADER: str(delivery_id),
    }
    timeout = float(config["TOLLGATE_WEBHOOK_TIMEOUT"])
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    conn = outbound.open_connection(parts, addresses, timeout)
    # The socket timeout bounds each read; the watchdog bounds the whole exchange (a
    # receiver answering one byte at a time would otherwise hold the delivery job).
    watchdog = threading.Timer(timeout, _abort, args=(conn,))
    watchdog.daemon = True
    watchdog.start()
    try:
        conn.request("POST", path, body=data, headers=headers)
        resp = conn.getresponse()
        status, reason = resp.status, resp.reason
    except ssl.SSLError as exc:
        raise DeliveryFailed(f"HTTP: TLS error: {exc.reason or exc}", unreachable=True) from exc
    except (OSError, http.client.HTTPException) as exc:
        raise DeliveryFailed(f"HTTP: {type(exc).__name__}: {exc}", unreachable=True) from exc
    finally:
        watchdog.cancel()
        conn.close()
    if not 200 <= status < 300:
        # A redirect is a failure too: following it would re-send the signed body elsewhere.
        raise DeliveryFailed(f"HTTP {status} {reason}".strip())
    return f"HTTP {status}"


def backoff(attempts: int, config) -> timedelta:
    """Delay before the next try after ``attempts`` failures: base * 2^(n-1), capped."""
    base = config["TOLLGATE_ALERT_RETRY_SECONDS"]
    cap = config["TOLLGATE_ALERT_RETRY_MAX_SECONDS"]
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
    # The text is decided now, for its recipient, as the records stand at this send (the
    # seam: app.security.seams); the row keeps exactly what is sent.
    fresh = routing.fresh_text(row)
    if fresh is not None:
        row.subject, row.body = fresh
        job["subject"], job["body"] = fresh
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
    raise DeliveryFailed(f"unknown channel {job['channel']}", permanent=True)


def _endpoint(job, config) -> tuple:
    """Where a delivery goes, as far as "that endpoint is down" is concerned."""
    if job["channel"] == "email":
        return ("smtp", config.get("TOLLGATE_SMTP_HOST"), config.get("TOLLGATE_SMTP_PORT"))
    try:
        parts = urlsplit(job["target"])
        return ("http", (parts.hostname or "").lower(), parts.port)
    except ValueError:
        return ("http", job["target"], None)


def _record(job, ok: bool, detail: str, duration_ms: int, config, *, permanent=False):
    """Store one attempt's result; returns (status, change of state or None).

    The changes: "failing" (the first failure), "failed" (given up), "recovered" (sent after
    failures). Later failures of a delivery already failing change nothing."""
    row = db.session.get(Delivery, job["id"])
    now = now_utc()
    # A sent delivery is never tried again, so earlier attempts all failed.
    was_failing = row.attempts > 0
    row.attempts += 1
    row.attempt_rows.append(
        DeliveryAttempt(attempted_dt=now, is_ok=ok, detail=detail[:2000], duration_ms=duration_ms)
    )
    change = None
    if ok:
        row.status, row.sent_dt, row.last_error = "sent", now, None
        change = "recovered" if was_failing else None
    else:
        row.last_error = detail[:2000]
        if permanent or row.attempts >= max_attempts(config):
            row.status, change = "failed", "failed"
        else:
            row.status = "pending"
            row.next_attempt_dt = now + backoff(row.attempts, config)
            change = None if was_failing else "failing"
    row.claimed_dt = None
    db.session.commit()
    return row.status, change


_CHANGE_LEVELS = {"failing": logging.WARNING, "failed": logging.ERROR, "recovered": logging.INFO}
_CHANGE_WORDS = {
    "failing": "failing (retried up to {max} attempts)",
    "failed": "failed; given up",
    "recovered": "sent after failing",
}


def _log_changes(changes: dict, config) -> None:
    """One log line per kind of change and reason in this run, naming the deliveries.

    Each delivery's change of state is logged once; deliveries that fail for the same reason
    at the same moment (a relay down under a full queue) share one line."""
    for (change, channel, reason), ids in changes.items():
        what = _CHANGE_WORDS[change].format(max=max_attempts(config))
        shown = ", ".join(str(i) for i in ids[:10]) + (" ..." if len(ids) > 10 else "")
        log.log(
            _CHANGE_LEVELS[change],
            "%d %s deliver%s %s%s (ids %s)",
            len(ids),
            channel,
            "y" if len(ids) == 1 else "ies",
            what,
            f": {reason}" if reason else "",
            shown,
        )


def deliver_due(limit: int = 200, now=None) -> dict:
    """Send every delivery that is due; returns counts by outcome. Commits its own work."""
    config = current_app.config
    counts = {"sent": 0, "retry": 0, "failed": 0}
    ids = _due_ids(now or now_utc(), limit)
    db.session.commit()
    down: dict[tuple, str] = {}  # endpoint -> why it gave no answer, in this run
    changes: dict[tuple, list[int]] = defaultdict(list)
    for delivery_id in ids:
        job = _claim(delivery_id, now or now_utc())
        if job is None:
            continue
        crash_point("alerts.delivery.claimed", delivery=job["id"])
        endpoint = _endpoint(job, config)
        started = time.monotonic()
        permanent, reason = False, None
        if endpoint in down:
            reason = down[endpoint]
            detail, ok = (
                f"not tried: no answer from the same endpoint in this run ({reason})",
                False,
            )
        else:
            try:
                detail, ok = _send(job, config), True
            except DeliveryFailed as exc:
                detail, ok, permanent = str(exc), False, exc.permanent
                reason = detail
                if exc.unreachable:
                    down[endpoint] = detail
        duration = int((time.monotonic() - started) * 1000)
        crash_point("alerts.delivery.sent", delivery=job["id"])
        status, change = _record(job, ok, detail, duration, config, permanent=permanent)
        if change is not None:
            changes[(change, job["channel"], reason)].append(job["id"])
        counts["sent" if status == "sent" else "failed" if status == "failed" else "retry"] += 1
    _log_changes(changes, config)
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
