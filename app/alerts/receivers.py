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
from app.core import signals
from app.extensions import db
from app.security.seams import name_of, phrase, ref

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


def _watched(watch):
    """How a watch is named in an alert: its entity by reference (each recipient reads the
    name only if they may open the entity), or its term."""
    if watch.kind == "entity" and watch.entity_id is not None:
        return name_of("entity", watch.entity_id, watch.label)
    return watch.label


@_guarded
def on_sensitive_profile_hit(declaration, profile, matched=(), actor=None, **_):
    number = name_of("declaration", declaration.id, declaration.number)
    routing.raise_alert(
        source_kind="profile",
        source_id=profile.id,
        source_label=f"{getattr(profile, 'code', '') or ''} {profile.name}".strip(),
        subject_type="declaration",
        subject_id=declaration.id,
        subject_label=phrase(number),
        title=phrase(f"Sensitive profile {profile.name} fired on declaration ", number),
        reasons=[str(m) for m in matched or ()],
        instructions=getattr(profile, "instructions", None) or None,
        severity=getattr(profile, "alert_severity", None) or "high",
        deadline=getattr(profile, "alert_deadline_minutes", None),
        recipients=getattr(profile, "recipients", None) or {},
        actor=actor,
    )


@_guarded
def on_entity_mentioned(entity_id, record_type, record_id, role=None, actor=None, **_):
    record = name_of(record_type, record_id)
    for watch, owner in watches.runnable(watches.active_watches_for_entities([entity_id])):
        watched = _watched(watch)
        role_text = f" as {role}" if role else ""
        routing.raise_alert(
            source_kind="watch",
            source_id=watch.id,
            source_label=phrase(watched),
            subject_type=record_type,
            subject_id=record_id,
            subject_label=phrase(record),
            title=phrase(watched, f" appears in {record_type} ", record),
            reasons=[
                phrase("watched entity ", watched, f" named{role_text} in {record_type} ", record)
            ],
            severity=watch.severity,
            recipients=watches.watch_recipients(watch, owner),
            actor=actor,
        )


@_guarded
def on_link_created(link, actor=None, **_):
    # Both ends are named by reference: a recipient who may open the link but not one of
    # its ends reads "a restricted record of <unit>" for that end.
    ends = (link.source_id, link.target_id)
    for watch, owner in watches.runnable(watches.active_watches_for_entities(ends)):
        other_id = ends[1] if watch.entity_id == ends[0] else ends[0]
        watched, other = _watched(watch), ref("entity", other_id)
        link_type = getattr(link, "link_type", "link")
        routing.raise_alert(
            source_kind="watch",
            source_id=watch.id,
            source_label=phrase(watched),
            subject_type="link",
            subject_id=link.id,
            subject_label=phrase(watched, " – ", other),
            title=phrase("New link: ", watched, f" {link_type.replace('_', ' ')} ", other),
            reasons=[
                phrase("watched entity ", watched, f" gained a {link_type} link with ", other)
            ],
            severity=watch.severity,
            recipients=watches.watch_recipients(watch, owner),
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
    for watch, owner in watches.runnable(watches.active_term_watches()):
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
                recipients=watches.watch_recipients(watch, owner),
                actor=actor,
            )
    # A watched entity named in the news (its registry name, as a whole phrase).
    for watch, owner in watches.runnable(watches.active_entity_watches()):
        name = " ".join(watch.label.lower().split())
        if len(name) >= 4 and re.search(rf"(?<!\w){re.escape(name)}(?!\w)", text):
            watched = _watched(watch)
            routing.raise_alert(
                source_kind="watch",
                source_id=watch.id,
                source_label=phrase(watched),
                subject_type="article",
                subject_id=article.id,
                subject_label=title,
                title=phrase(watched, f" in the news: {title}"),
                reasons=[phrase("the article names the watched entity ", watched)],
                severity=watch.severity,
                recipients=watches.watch_recipients(watch, owner),
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
    case = name_of("case", case_id)
    by = actor.username if actor else "the system"
    # One alert per assignee and case: a case template assigning six tasks folds into one.
    routing.raise_alert(
        source_kind="task",
        source_id=assignee_id,
        source_label="tasks assigned",
        subject_type="case",
        subject_id=case_id,
        subject_label=phrase(case),
        title=phrase("Tasks assigned to you in case ", case),
        reasons=[f"{task.title} (assigned by {by})"],
        severity="low",
        recipients={"users": [assignee_id]},
        actor=actor,
    )


@_guarded
def on_case_assigned(case, assignee, actor=None, **_):
    """The assignee of a case hears of it (not when assigning oneself)."""
    assignee_id = getattr(assignee, "id", assignee)
    if assignee_id is None or (actor is not None and actor.user_id == assignee_id):
        return
    named = name_of("case", case.id)
    by = actor.username if actor else "the system"
    routing.raise_alert(
        source_kind="task",
        source_id=assignee_id,
        source_label="cases assigned",
        subject_type="case",
        subject_id=case.id,
        subject_label=phrase(named),
        title=phrase("Case ", named, " assigned to you"),
        reasons=[f"assigned by {by}"],
        severity="low",
        recipients={"users": [assignee_id]},
        actor=actor,
    )


@_guarded
def on_network_edge_grew(source, target, before, after, article_id=None, actor=None, **_):
    """An edge of the news network appeared or grew: the owners of term watches naming either
    end (its canonical term, as a whole phrase) hear of it, pointed at the newest article."""
    if article_id is None:
        return
    ends = {node: node.partition(":")[2].replace("_", " ").lower() for node in (source, target)}
    pair = f"{ends[source]} – {ends[target]}"
    for watch, owner in watches.runnable(watches.active_term_watches()):
        term = " ".join((watch.term or "").lower().split())
        if not term or not any(
            re.search(rf"(?<!\w){re.escape(term)}(?!\w)", end) for end in ends.values()
        ):
            continue
        grew = "appeared" if not before else f"grew from {before} to {after} articles"
        routing.raise_alert(
            source_kind="term",
            source_id=watch.id,
            source_label=watch.term,
            subject_type="article",
            subject_id=article_id,
            subject_label=f"article #{article_id}",
            title=f"Watched term “{watch.term}”: news tie {pair} {grew}",
            reasons=[f"the news network's tie {pair} {grew} ({after} articles this period)"],
            severity=watch.severity,
            recipients=watches.watch_recipients(watch, owner),
            actor=actor,
        )


@_guarded
def on_screening_entity_hit(hit, entity, name=None, actor=None, **_):
    """A new registry entity matched a screening list entry: the sanctions desk (whoever
    judges screening hits) is told, each recipient only if they may open the hit. The alert
    names the entity by reference and neither the list nor its entry: a confidential list's
    entries are read on the hit's page, under its own check."""
    from app.security.roles import ROLE_PERMISSIONS

    entity_ref = name_of("entity", entity.id, name)
    routing.raise_alert(
        source_kind="screening",
        source_id=hit.list_id,
        source_label="Screening of new registry entities",
        subject_type="screening_hit",
        subject_id=hit.id,
        subject_label=phrase("screening hit on ", entity_ref),
        title=phrase("New registry entity ", entity_ref, " matches a screening list entry"),
        reasons=[f"match score {hit.score:.2f} at the list's threshold {hit.threshold:.2f}"],
        severity="high",
        recipients={
            "roles": sorted(r for r, p in ROLE_PERMISSIONS.items() if "screening.judge" in p)
        },
        actor=actor,
    )


_SAVED_SEARCHES = "tollgate_saved_searches"


def _forget_saved_searches(*_args, **_kwargs) -> None:
    db.session.info.pop(_SAVED_SEARCHES, None)


def on_search_index_requested(sender, record_type=None, record_id=None, **_):
    """Note what changed, for saved searches; cheap, and only while any saved search exists."""
    from app.alerts.models import ChangedRecord, SavedSearch

    if not record_type or record_id is None:
        return
    # Asked once per transaction (a batch of 500 declarations requests 500 index updates);
    # forgotten when a saved search is made or switched on or off (_forget_saved_searches).
    tx = db.session().get_transaction()
    memo = db.session.info.get(_SAVED_SEARCHES)
    if memo is None or memo[0] is not tx:
        with db.session.no_autoflush:  # the sender's rows flush once, at its commit
            active = db.session.scalar(
                db.select(SavedSearch.id).where(SavedSearch.is_active.is_(True)).limit(1)
            )
        memo = db.session.info[_SAVED_SEARCHES] = (tx, active is not None)
    if not memo[1]:
        return
    db.session.add(ChangedRecord(record_type=record_type, record_id=int(record_id)))


def connect() -> None:
    """Subscribe to the domain signals (idempotent: blinker keeps one connection each)."""
    signals.sensitive_profile_hit.connect(on_sensitive_profile_hit)
    signals.entity_mentioned.connect(on_entity_mentioned)
    signals.link_created.connect(on_link_created)
    signals.article_stored.connect(on_article_stored)
    signals.task_assigned.connect(on_task_assigned)
    signals.case_assigned.connect(on_case_assigned)
    signals.search_index_requested.connect(on_search_index_requested)
    signals.network_edge_grew.connect(on_network_edge_grew)
    signals.screening_entity_hit.connect(on_screening_entity_hit)
    from sqlalchemy import event

    from app.alerts.models import SavedSearch

    if not event.contains(SavedSearch, "init", _forget_saved_searches):
        event.listen(SavedSearch, "init", _forget_saved_searches)
        event.listen(SavedSearch.is_active, "set", _forget_saved_searches)
