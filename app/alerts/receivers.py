"""Signal receivers: other domains' events become alerts.

Each receiver runs inside the sender's transaction and only inserts rows. It works in a
SAVEPOINT and logs instead of raising: a fault in alerting must never refuse a declaration
or a case (the declaration system needs its channel), and what it wrote is undone cleanly.
"""

import functools
import logging
import re

from flask import current_app

from app.alerts import routing, watches
from app.alerts.subjects import model_for
from app.core import signals
from app.extensions import db

log = logging.getLogger("tollgate.alerts")


def _guarded(receiver):
    @functools.wraps(receiver)
    def wrapped(sender, **kwargs):
        if db.session().in_nested_transaction():
            # The sender isolates its receivers in a savepoint already (the risk engine
            # does): let it roll back and log, no second savepoint per alert.
            receiver(**kwargs)
            return
        try:
            with db.session.begin_nested():
                receiver(**kwargs)
        except Exception:
            log.exception(
                "alert receiver %s failed; the sender's change goes on", receiver.__name__
            )
            if current_app.config.get("TOLLGATE_ALERTS_RAISE"):
                raise

    return wrapped


def record_label(record_type: str, record_id: int) -> str:
    """A human reference for a record (case reference, declaration number, name ...)."""
    model = model_for(record_type)
    record = db.session.get(model, record_id) if model is not None else None
    if record is not None:
        for attr in ("reference", "number", "code", "title", "name"):
            value = getattr(record, attr, None)
            if value:
                return str(value)
    return f"{record_type} #{record_id}"


@_guarded
def on_sensitive_profile_hit(declaration, profile, matched=(), actor=None, **_):
    routing.raise_alert(
        source_kind="profile",
        source_id=profile.id,
        source_label=f"{getattr(profile, 'code', '') or ''} {profile.name}".strip(),
        subject_type="declaration",
        subject_id=declaration.id,
        subject_label=declaration.number,
        title=f"Sensitive profile {profile.name} fired on declaration {declaration.number}",
        reasons=[str(m) for m in matched or ()],
        instructions=getattr(profile, "instructions", None) or None,
        severity=getattr(profile, "alert_severity", None) or "high",
        deadline=getattr(profile, "alert_deadline_minutes", None),
        recipients=getattr(profile, "recipients", None) or {},
        actor=actor,
    )


@_guarded
def on_entity_mentioned(entity_id, record_type, record_id, role=None, actor=None, **_):
    label = None
    for watch in watches.active_watches_for_entities([entity_id]):
        label = label or record_label(record_type, record_id)
        role_text = f" as {role}" if role else ""
        routing.raise_alert(
            source_kind="watch",
            source_id=watch.id,
            source_label=watch.label,
            subject_type=record_type,
            subject_id=record_id,
            subject_label=label,
            title=f"{watch.label} appears in {record_type} {label}",
            reasons=[f"watched entity {watch.label} named{role_text} in {record_type} {label}"],
            severity=watch.severity,
            recipients=watches.watch_recipients(watch),
            actor=actor,
        )


@_guarded
def on_link_created(link, actor=None, **_):
    ends = (link.source_id, link.target_id)
    for watch in watches.active_watches_for_entities(ends):
        other_id = ends[1] if watch.entity_id == ends[0] else ends[0]
        other = watches.entity_label(other_id) or f"entity #{other_id}"
        link_type = getattr(link, "link_type", "link")
        routing.raise_alert(
            source_kind="watch",
            source_id=watch.id,
            source_label=watch.label,
            subject_type="link",
            subject_id=link.id,
            subject_label=f"{watch.label} – {other}",
            title=f"New link: {watch.label} {link_type.replace('_', ' ')} {other}",
            reasons=[f"watched entity {watch.label} gained a {link_type} link with {other}"],
            severity=watch.severity,
            recipients=watches.watch_recipients(watch),
            actor=actor,
        )


@_guarded
def on_article_stored(article, actor=None, **_):
    text = " ".join(
        str(getattr(article, attr, "") or "")
        for attr in ("title", "summary", "text", "body", "content")
    ).lower()
    text = " ".join(text.split())
    if not text:
        return
    title = getattr(article, "title", None) or f"article #{article.id}"
    for watch in watches.active_term_watches():
        if watch.term in text:
            routing.raise_alert(
                source_kind="term",
                source_id=watch.id,
                source_label=watch.term,
                subject_type="article",
                subject_id=article.id,
                subject_label=title,
                title=f"Watched term “{watch.term}” in news: {title}",
                reasons=[f"the article mentions “{watch.term}”"],
                severity=watch.severity,
                recipients=watches.watch_recipients(watch),
                actor=actor,
            )
    # A watched entity named in the news (its registry name, as a whole phrase).
    for watch in watches.active_entity_watches():
        name = " ".join(watch.label.lower().split())
        if len(name) >= 4 and re.search(rf"(?<!\w){re.escape(name)}(?!\w)", text):
            routing.raise_alert(
                source_kind="watch",
                source_id=watch.id,
                source_label=watch.label,
                subject_type="article",
                subject_id=article.id,
                subject_label=title,
                title=f"{watch.label} in the news: {title}",
                reasons=[f"the article names the watched entity {watch.label}"],
                severity=watch.severity,
                recipients=watches.watch_recipients(watch),
                actor=actor,
            )


@_guarded
def on_task_assigned(task, assignee, actor=None, **_):
    assignee_id = getattr(assignee, "id", assignee)
    if assignee_id is None or (actor is not None and actor.user_id == assignee_id):
        return  # nobody to tell, or people assigning themselves need no alert
    case_id = getattr(task, "case_id", None)
    if case_id is None:
        return
    label = record_label("case", case_id)
    by = actor.username if actor else "the system"
    # One alert per assignee and case: a case template assigning six tasks folds into one.
    routing.raise_alert(
        source_kind="task",
        source_id=assignee_id,
        source_label="tasks assigned",
        subject_type="case",
        subject_id=case_id,
        subject_label=label,
        title=f"Tasks assigned to you in case {label}",
        reasons=[f"{task.title} (assigned by {by})"],
        severity="low",
        recipients={"users": [assignee_id]},
        actor=actor,
    )


def on_search_index_requested(sender, record_type=None, record_id=None, **_):
    """Note what changed, for saved searches; cheap, and only while any saved search exists."""
    from app.alerts.models import ChangedRecord, SavedSearch

    if not record_type or record_id is None:
        return
    if (
        db.session.scalar(db.select(SavedSearch.id).where(SavedSearch.is_active.is_(True)).limit(1))
        is None
    ):
        return
    db.session.add(ChangedRecord(record_type=record_type, record_id=int(record_id)))


def connect() -> None:
    """Subscribe to the domain signals (idempotent: blinker keeps one connection each)."""
    signals.sensitive_profile_hit.connect(on_sensitive_profile_hit)
    signals.entity_mentioned.connect(on_entity_mentioned)
    signals.link_created.connect(on_link_created)
    signals.article_stored.connect(on_article_stored)
    signals.task_assigned.connect(on_task_assigned)
    signals.search_index_requested.connect(on_search_index_requested)
