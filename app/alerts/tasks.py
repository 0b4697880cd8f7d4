"""Scheduled work of the alerts domain (run by the one worker process):
delivery of queued notifications, escalation, digests and saved searches."""

import logging
from datetime import timedelta

from sqlalchemy import delete, select

from app.alerts import delivery, routing, supervision, watches
from app.alerts.models import (
    SEVERITY_RANK,
    Alert,
    AlertEvent,
    AlertRecipient,
    ChangedRecord,
    Delivery,
    Preference,
    SavedSearch,
)
from app.alerts.text import alert_text
from app.core.time import as_utc, now_utc
from app.extensions import db
from app.jobs.registry import JobSpec, add_job
from app.security.access import Actor
from app.security.models import User
from app.security.seams import name_of, phrase

log = logging.getLogger("tollgate.alerts")

DIGEST_PERIODS = {"daily": timedelta(days=1), "weekly": timedelta(days=7)}
#: saved searches also look at changes this long before their last run (index lag)
INDEX_LAG = timedelta(minutes=5)
CHANGE_RETENTION = timedelta(days=2)
MAX_PAGES = 20
MAX_SEEN = 5000
MAX_NEW_PER_RUN = 25


def _above(user: User, alert: Alert) -> list[User]:
    """The user's supervisor; for the top of a unit (a supervisor with none above), the
    holders of the configured escalation role (``supervision.beyond_unit``)."""
    if user.supervisor_id:
        boss = db.session.get(User, user.supervisor_id)
        return [boss] if boss is not None else []
    if Actor.for_user(user).can("alert.supervise"):
        return supervision.beyond_unit(user, alert)
    return []


def escalate_overdue(now=None) -> int:
    """Alerts still new past their deadline go to each recipient's supervisor (once per
    recipient). Returns how many alerts escalated."""
    now = now or now_utc()
    escalated = 0
    alerts = db.session.scalars(
        select(Alert)
        .where(Alert.status == "new", Alert.deadline_dt <= now)
        .order_by(Alert.id)
        # An alert being acknowledged right now is left alone: the next run sees its status.
        .with_for_update(of=Alert, skip_locked=True)
    ).all()
    for alert in alerts:
        present = {r.user_id for r in alert.recipients}
        added = []
        for row in list(alert.recipients):
            if row.escalated_dt is not None:
                continue
            row.escalated_dt = now
            for boss in _above(row.user, alert):
                if not boss.is_active or boss.id in present:
                    continue
                if not routing.may_receive(boss, alert.subject_type, alert.subject_id):
                    continue  # the supervisor may not open the subject: need-to-know wins
                alert.recipients.append(
                    AlertRecipient(user_id=boss.id, via="escalation", created_dt=now)
                )
                present.add(boss.id)
                added.append((boss, row.user))
        # Escalated supervisors get their own deadline before going one level further up.
        alert.deadline_dt = now + timedelta(minutes=routing.deadline_minutes(alert.severity))
        if not added:
            continue
        db.session.flush()
        alert.escalation_level += 1
        db.session.add(
            AlertEvent(
                alert_id=alert.id,
                action="escalated",
                username="system",
                created_dt=now,
                note="not acknowledged in time; escalated to "
                + ", ".join(f"{b.full_name} (for {u.full_name})" for b, u in added),
            )
        )
        for boss, user in added:
            if routing.preference_for(boss.id)[0] != "off":
                routing.queue_email(
                    alert, boss, kind="escalation", now=now, escalated_for=user.full_name
                )
        escalated += 1
    db.session.commit()
    return escalated


def queue_digests(now=None) -> int:
    """One e-mail per user whose daily/weekly digest is due, listing the alerts since."""
    now = now or now_utc()
    queued = 0
    prefs = db.session.scalars(
        select(Preference).where(Preference.email_mode.in_(tuple(DIGEST_PERIODS)))
    ).all()
    for pref in prefs:
        period = DIGEST_PERIODS[pref.email_mode]
        since = as_utc(pref.last_digest_dt) or now - period
        if now - since < period:
            continue
        user = db.session.get(User, pref.user_id)
        pref.last_digest_dt = now
        if user is None or not user.is_active or not user.email:
            continue
        alerts = db.session.scalars(
            select(Alert)
            .join(AlertRecipient)
            .where(
                AlertRecipient.user_id == user.id, Alert.created_dt > since, Alert.created_dt <= now
            )
            .order_by(Alert.created_dt)
        ).all()
        alerts = [
            a for a in alerts if SEVERITY_RANK[a.severity] >= SEVERITY_RANK[pref.min_severity]
        ]
        if not alerts:
            continue
        reader = Actor.for_user(user)
        lines = [
            f"Tollgate {pref.email_mode} digest for {user.full_name}: {len(alerts)} alert(s) "
            f"since {since:%Y-%m-%d %H:%M} UTC.",
            "",
        ]
        for a in alerts:
            lines.append(
                f"- [{a.severity}] {alert_text(reader, a).title} ({a.status}"
                + (f", fired {a.count} times" if a.count > 1 else "")
                + ")"
            )
            lines.append(f"  {routing.alert_url(a.id)}")
        db.session.add(
            Delivery(
                channel="email",
                kind="digest",
                user_id=user.id,
                target=user.email,
                next_attempt_dt=now,
                subject=f"[Tollgate] {pref.email_mode.capitalize()} digest: {len(alerts)} alert(s)",
                body="\n".join(lines),
            )
        )
        queued += 1
    db.session.commit()
    return queued


def _changed_since(since) -> set[tuple[str, int]]:
    rows = db.session.execute(
        select(ChangedRecord.record_type, ChangedRecord.record_id).where(
            ChangedRecord.changed_dt > since
        )
    ).all()
    return {(t, i) for t, i in rows}


def run_saved_searches(now=None) -> int:
    """Re-run each saved search over the records changed since its last run (Aleph style):
    a search with nothing changed is not run at all; new results raise one alert each."""
    from app.search import service as search_service

    now = now or now_utc()
    raised = 0
    saved_searches = db.session.scalars(
        select(SavedSearch).where(SavedSearch.is_active.is_(True))
    ).all()
    for saved in saved_searches:
        # The index is written asynchronously: look back a little to catch what it lagged on.
        since = as_utc(saved.last_run_dt or saved.created_dt) - INDEX_LAG
        changed = _changed_since(since)
        if saved.record_types:
            changed = {k for k in changed if k[0] in saved.record_types}
        seen = set(saved.seen or [])
        changed = {k for k in changed if f"{k[0]}:{k[1]}" not in seen}
        saved.last_run_dt = now
        if not changed:
            continue
        # Run as the owner, with today's roles, unit and need-to-know (a client: its scopes).
        actor = watches.owner_actor(saved)
        if actor is None:
            saved.is_active = False  # owner gone: stop rather than run with other rights
            continue
        if not actor.can("search.use"):
            continue  # the owner may no longer search (a client lost search:read): no match
        hits = _matching(search_service, actor, saved, changed)
        for hit in hits[:MAX_NEW_PER_RUN]:
            found = name_of(hit.record_type, hit.record_id, hit.title or hit.label)
            alert = routing.raise_alert(
                source_kind="saved_search",
                source_id=saved.id,
                source_label=saved.name,
                subject_type=hit.record_type,
                subject_id=hit.record_id,
                subject_label=phrase(found),
                title=phrase(f"New result for “{saved.name}”: ", found),
                reasons=[f"matches the saved search “{saved.query}”"],
                severity=saved.severity,
                recipients=watches.watch_recipients(saved, actor),
                now=now,
            )
            raised += alert is not None
        if hits:
            seen.update(f"{h.record_type}:{h.record_id}" for h in hits)
            saved.seen = sorted(seen)[-MAX_SEEN:]
            saved.last_notified_dt = now
    oldest = now - CHANGE_RETENTION
    db.session.execute(delete(ChangedRecord).where(ChangedRecord.changed_dt < oldest))
    db.session.commit()
    return raised


def _matching(search_service, actor, saved, changed) -> list:
    """Hits of the saved query that are among the changed records."""
    found = []
    page = 1
    while page <= MAX_PAGES:
        try:
            result = search_service.search(
                actor,
                saved.query,
                types=saved.record_types or None,
                page=page,
                per_page=100,
                log=page == 1,
            )
        except Exception as exc:  # a broken query must not stop the other searches
            log.warning("saved search %s failed: %s", saved.id, exc)
            return []
        found += [h for h in result.hits if (h.record_type, h.record_id) in changed]
        if page >= result.pages or len(found) >= len(changed):
            break
        page += 1
    return found


def deliver_and_escalate() -> None:
    """The 15-second job: escalate what is overdue, then send what is queued."""
    from app.jobs.scheduler import current_run

    run = current_run()
    if run is not None and run.attempts > 1:
        # This run was interrupted (the worker died): what it claimed and never recorded is
        # sent again now rather than after STALE_CLAIM. Only the one scheduler runs this
        # job, so every claim made since the trigger fired, before this attempt, was its.
        delivery.release_interrupted_claims(since=run.scheduled_dt, before=run.started_dt)
    escalate_overdue()
    counts = delivery.deliver_due()
    # Retries alone are not news (each delivery's failing state was logged once already):
    # a run every 15 s re-trying a dead relay must not write a line each time.
    if counts["sent"] or counts["failed"]:
        log.info("alert deliveries: %s", counts)


def register_jobs(app) -> None:
    seconds = app.config["TOLLGATE_ALERT_DELIVERY_SECONDS"]
    add_job(
        app,
        JobSpec(
            "alerts.deliver",
            deliver_and_escalate,
            "interval",
            {"seconds": seconds},
            "Escalate overdue alerts; send queued alert e-mails and webhooks",
        ),
    )
    add_job(
        app,
        JobSpec(
            "alerts.digests",
            queue_digests,
            "interval",
            {"minutes": 30},
            "Queue daily and weekly alert digests",
        ),
    )
    add_job(
        app,
        JobSpec(
            "alerts.saved_searches",
            run_saved_searches,
            "interval",
            {"minutes": 15},
            "Re-run saved searches over what changed",
        ),
    )
