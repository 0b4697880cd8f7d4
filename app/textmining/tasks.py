"""Worker jobs: poll due feeds, watch the network for new or sharply grown edges."""

import logging
from datetime import timedelta

from app.core import signals
from app.core.time import now_utc
from app.extensions import db
from app.textmining import feeds as feed_service
from app.textmining import network as net
from app.textmining.models import Feed

log = logging.getLogger(__name__)


def poll_due_feeds(limit: int | None = None) -> dict:
    """Poll every due feed once; each feed's result is committed on its own."""
    from app.textmining.extraction import get_extractor

    summary = {"polled": 0, "new": 0, "errors": 0, "not_modified": 0, "rejected": 0}
    ids = feed_service.due_feed_ids()
    if limit:
        ids = ids[:limit]
    db.session.commit()
    extractor = None
    for feed_id in ids:
        feed = db.session.get(Feed, feed_id)
        if feed is None or not feed.is_active:
            continue
        url, etag, last_modified = feed.url, feed.etag, feed.last_modified
        hosts = feed_service.allowed_hosts()
        db.session.commit()  # no transaction (nor SQLite write lock) during network I/O
        attempt = feed_service.fetch_feed(url, etag, last_modified, hosts)
        try:
            feed = db.session.get(Feed, feed_id)
            if extractor is None and attempt.result is not None:
                extractor = get_extractor()
            entry = feed_service.apply_fetch(feed, attempt, extractor=extractor)
            db.session.commit()
        except Exception:
            db.session.rollback()
            log.exception("polling feed %s failed", feed_id)
            summary["errors"] += 1
            continue
        summary["polled"] += 1
        summary["new"] += entry.new_articles or 0
        if entry.outcome == "error":
            summary["errors"] += 1
        elif entry.outcome in ("not_modified", "rejected"):
            summary[entry.outcome] += 1
    return summary


def watch_network(days: int = 7, min_count: int = 3) -> int:
    """Compare the last ``days`` days with the ``days`` before and signal each edge that
    appeared or at least doubled; alerts (``app.alerts.receivers.on_network_edge_grew``) tell
    the owners of term watches naming either end."""
    today = now_utc().date()
    second = (today - timedelta(days=days - 1), today)
    first = (second[0] - timedelta(days=days), second[0] - timedelta(days=1))
    changes = net.compare_periods(
        net.NetworkFilter(min_count=min_count), first, second, min_growth=2.0
    )
    newer = net.NetworkFilter(since=second[0], until=second[1])
    for change in changes:
        # The newest article behind the edge is what an alert points the analyst to.
        articles = net.edge_article_ids(change.source, change.target, newer)
        signals.network_edge_grew.send(
            None,
            source=change.source,
            target=change.target,
            before=change.before,
            after=change.after,
            period=second,
            article_id=articles[0] if articles else None,
            actor=None,
        )
    db.session.commit()
    return len(changes)
