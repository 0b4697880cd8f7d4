"""Feed sources: administration, polling discipline and document import.

Polling is network I/O: callers (the worker job, ``tollgate feeds poll``) end their
transaction before ``fetch_feed`` and apply the result in a fresh one, so a slow feed never
holds a database lock.
"""

import logging
import math
import time
from dataclasses import dataclass, field
from datetime import timedelta

from flask import current_app
from sqlalchemy import or_, select

from app.core import outbound
from app.core.errors import ValidationError
from app.core.time import now_utc
from app.extensions import db
from app.textmining import fetcher
from app.textmining.ingest import DocumentRejected, parse_document, store_entries
from app.textmining.models import (
    MAX_INTERVAL_MINUTES,
    MIN_INTERVAL_MINUTES,
    AllowedHost,
    Feed,
    FeedFetch,
)

logger = logging.getLogger("tollgate.textmining.feeds")

PARSE_FAILURE_LIMIT = 5
DEFAULT_NETWORK_FAILURE_LIMIT = 10
MAX_RETRY_AFTER = timedelta(days=7)
OFFLINE_PREFIX = "offline:"


@dataclass
class ImportOutcome:
    source: str
    status: str  # stored | rejected
    reason: str = ""
    new: int = 0
    duplicates: int = 0
    skipped: list = field(default_factory=list)
    warning: str | None = None
    ttl_minutes: int | None = None

    def line(self) -> str:
        if self.status == "rejected":
            return f"rejected  {self.source}: {self.reason}"
        extra = f" ({len(self.skipped)} entries skipped)" if self.skipped else ""
        return f"stored    {self.source}: {self.new} new, {self.duplicates} already known{extra}"


# -- administration ---------------------------------------------------------------------


def _keywords(value) -> list[str]:
    if isinstance(value, str):
        value = value.replace("\n", ",").split(",")
    return list(dict.fromkeys(k.strip() for k in value or [] if k and k.strip()))[:100]


def _check_url(url: str) -> str:
    """An http(s) address whose host resolves to addresses feeds may reach, checked on save
    so the administrator hears of a private or metadata address now, not from a failed poll."""
    return outbound.check_url(url, field="url", allow=outbound.policy(allowed_hosts()))


def create_feed(url: str, title: str, *, keywords=(), actor, interval_minutes: int = 60) -> Feed:
    """Add a feed to poll (news.manage)."""
    actor.require("news.manage")
    url = _check_url(url)
    if not (title or "").strip():
        raise ValidationError({"title": "is required"})
    if db.session.scalar(select(Feed.id).where(Feed.url == url)):
        raise ValidationError({"url": "this feed is already registered"})
    feed = Feed(
        url=url,
        title=title.strip()[:200],
        keywords=_keywords(keywords),
        interval_minutes=_interval(interval_minutes),
        next_poll_dt=now_utc(),
        created_by_id=actor.user_id,
    )
    db.session.add(feed)
    db.session.flush()
    return feed


def update_feed(feed: Feed, *, title: str, keywords, actor, url: str | None = None) -> Feed:
    actor.require("news.manage")
    if not (title or "").strip():
        raise ValidationError({"title": "is required"})
    if url is not None and not feed.is_offline and url.strip() != feed.url:
        url = _check_url(url)
        other = db.session.scalar(select(Feed.id).where(Feed.url == url, Feed.id != feed.id))
        if other:
            raise ValidationError({"url": "another feed has this address"})
        if url != feed.url:
            feed.url, feed.etag, feed.last_modified = url, None, None
    feed.title = title.strip()[:200]
    feed.keywords = _keywords(keywords)
    return feed


def set_feed_active(feed: Feed, active: bool, *, actor) -> Feed:
    """Pause, or resume (which also clears a disabled state and its counters)."""
    actor.require("news.manage")
    feed.is_active = active
    if active:
        feed.disabled_reason = None
        feed.error_count = 0
        feed.parse_failures = 0
        feed.network_failures = 0
        feed.next_poll_dt = now_utc()
    return feed


def get_feed(feed_id: int, *, actor) -> Feed:
    actor.require("news.view")
    feed = db.session.get(Feed, feed_id)
    if feed is None:
        from app.security.access import NotFound

        raise NotFound()
    return feed


def list_feeds(*, actor) -> list[Feed]:
    actor.require("news.view")
    return db.session.scalars(select(Feed).order_by(Feed.title)).all()


def add_allowed_host(host: str, note: str | None, *, actor) -> AllowedHost:
    actor.require("news.manage")
    host = (host or "").strip().lower().rstrip(".")
    if not host or any(c in host for c in "/:@ ") or len(host) > 255:
        raise ValidationError({"host": "give a bare host name such as intranet.customs.local"})
    existing = db.session.scalar(select(AllowedHost).where(AllowedHost.host == host))
    if existing:
        raise ValidationError({"host": "is already allowed"})
    row = AllowedHost(
        host=host, note=(note or "").strip()[:300] or None, created_by_id=actor.user_id
    )
    db.session.add(row)
    db.session.flush()
    return row


def remove_allowed_host(host_id: int, *, actor) -> None:
    actor.require("news.manage")
    row = db.session.get(AllowedHost, host_id)
    if row is not None:
        db.session.delete(row)
        db.session.flush()


def allowed_hosts() -> list[str]:
    configured = current_app.config.get("TOLLGATE_FEED_ALLOWED_HOSTS", []) or []
    stored = db.session.scalars(select(AllowedHost.host)).all()
    return [*configured, *stored]


def recent_fetches(feed: Feed, limit: int = 20) -> list[FeedFetch]:
    return db.session.scalars(
        select(FeedFetch)
        .where(FeedFetch.feed_id == feed.id)
        .order_by(FeedFetch.fetched_dt.desc(), FeedFetch.id.desc())
        .limit(limit)
    ).all()


# -- polling ----------------------------------------------------------------------------


def _interval(minutes) -> int:
    return int(min(MAX_INTERVAL_MINUTES, max(MIN_INTERVAL_MINUTES, minutes or 60)))


def due_feed_ids(now=None) -> list[int]:
    now = now or now_utc()
    return db.session.scalars(
        select(Feed.id)
        .where(
            Feed.is_active.is_(True),
            Feed.is_offline.is_(False),
            or_(Feed.next_poll_dt.is_(None), Feed.next_poll_dt <= now),
        )
        .order_by(Feed.next_poll_dt)
    ).all()


@dataclass
class FetchAttempt:
    """What one network fetch produced (no database work happens during it)."""

    result: fetcher.FetchResult | None = None
    error: fetcher.FetchError | None = None
    duration_ms: int = 0


def fetch_feed(
    url: str, etag: str | None, last_modified: str | None, hosts: list[str]
) -> FetchAttempt:
    """Network only: call with no transaction open."""
    config = current_app.config
    started = time.monotonic()
    attempt = FetchAttempt()
    try:
        attempt.result = fetcher.fetch(
            url,
            etag=etag,
            last_modified=last_modified,
            allowed_hosts=hosts,
            timeout=float(config.get("TOLLGATE_FEED_TIMEOUT", fetcher.DEFAULT_TIMEOUT)),
            max_bytes=int(config["TOLLGATE_FEED_MAX_BYTES"]),
        )
    except fetcher.FetchError as exc:
        attempt.error = exc
    attempt.duration_ms = int((time.monotonic() - started) * 1000)
    return attempt


def _retry_delay(seconds: float | None) -> timedelta | None:
    if seconds is None:
        return None
    return min(MAX_RETRY_AFTER, timedelta(seconds=max(0.0, seconds)))


def _network_failure_limit() -> int:
    limit = current_app.config.get("TOLLGATE_FEED_MAX_NETWORK_FAILURES")
    return max(1, int(limit or DEFAULT_NETWORK_FAILURE_LIMIT))


def _disable(feed: Feed, reason: str) -> None:
    """Stop polling ``feed``; the reason is shown on the feeds page until someone resumes it.

    Logged once, here, when the state changes: the polls before it were logged as fetches
    on the feed's page, not in the application log."""
    feed.is_active = False
    feed.disabled_reason = reason
    logger.warning("feed %s (%s) disabled: %s", feed.id, feed.url, reason)


def apply_fetch(feed: Feed, attempt: FetchAttempt, *, extractor=None) -> FeedFetch:
    """Record one poll: store new articles, adapt the interval, back off, or disable."""
    now = now_utc()
    feed.last_polled_dt = now
    log = FeedFetch(
        feed_id=feed.id,
        fetched_dt=now,
        duration_ms=attempt.duration_ms,
        outcome="error" if attempt.error is not None else "ok",
    )
    db.session.add(log)
    if attempt.error is not None:
        _failed(feed, log, attempt.error, now)
    else:
        _answered(feed, log, attempt.result, now, extractor)
    db.session.flush()
    return log


def _failed(feed: Feed, log: FeedFetch, err, now) -> None:
    """No document: count the failure, disable a blocked or long-silent host, back off."""
    log.outcome, log.http_status, log.message = "error", err.status, err.reason
    feed.error_count += 1
    feed.last_error = err.reason
    # Only "no answer at all" counts towards disabling: a server answering 503 is alive.
    feed.network_failures = (feed.network_failures or 0) + 1 if err.network else 0
    if isinstance(err, fetcher.BlockedAddress):
        _disable(feed, err.reason)
    elif err.network and feed.network_failures >= _network_failure_limit():
        _disable(
            feed,
            f"disabled after {feed.network_failures} polls in a row without an answer "
            f"from the host; last: {err.reason}",
        )
    # Exponential back-off from the normal interval, capped at a day.
    backoff = timedelta(
        minutes=min(MAX_INTERVAL_MINUTES, feed.interval_minutes * 2 ** min(feed.error_count, 10))
    )
    wait = max(backoff, _retry_delay(err.retry_after) or timedelta(0))
    feed.next_poll_dt = now + wait


def _answered(feed: Feed, log: FeedFetch, result, now, extractor) -> None:
    """The host answered: import what changed, then adapt the interval (busy feeds are
    polled more often, quiet ones less; never before the feed's own TTL or Retry-After)."""
    log.http_status = result.status
    feed.error_count = 0
    feed.network_failures = 0
    new_count, ttl_minutes = 0, None
    if result.not_modified:
        log.outcome = "not_modified"
        feed.last_success_dt = now
    else:
        new_count, ttl_minutes = _import_answer(feed, log, result, now, extractor)
    if new_count:
        feed.interval_minutes = _interval(feed.interval_minutes // 2)
    else:
        feed.interval_minutes = _interval(math.ceil(feed.interval_minutes * 1.5))
    wait = timedelta(minutes=max(feed.interval_minutes, ttl_minutes or 0))
    wait = max(wait, _retry_delay(result.retry_after) or timedelta(0))
    feed.next_poll_dt = now + wait


def _import_answer(feed: Feed, log: FeedFetch, result, now, extractor) -> tuple:
    """Import the document; a run of unparseable ones disables the feed. Returns (new
    articles, the feed's TTL in minutes or None)."""
    etag, last_modified = result.headers.get("etag"), result.headers.get("last-modified")
    new_count, ttl_minutes = 0, None
    outcome = import_bytes(
        result.body,
        feed=feed,
        source=result.url,
        headers=result.headers,
        extractor=extractor,
        log=log,
    )
    if outcome.status == "rejected":
        feed.parse_failures += 1
        feed.last_error = outcome.reason
        if feed.parse_failures >= PARSE_FAILURE_LIMIT:
            _disable(
                feed,
                f"disabled after {feed.parse_failures} consecutive "
                f"documents that could not be parsed; last: "
                f"{outcome.reason}",
            )
    else:
        feed.parse_failures = 0
        feed.last_error = outcome.warning
        feed.last_success_dt = now
        new_count = outcome.new
        ttl_minutes = outcome.ttl_minutes
    if etag or last_modified:
        feed.etag, feed.last_modified = (etag or None), (last_modified or None)
    return new_count, ttl_minutes


# -- import of documents (polled bytes or saved files) ---------------------------------


def offline_feed(name: str = "imported documents") -> Feed:
    """The pseudo-feed that documents imported from files belong to."""
    url = OFFLINE_PREFIX + name
    feed = db.session.scalar(select(Feed).where(Feed.url == url))
    if feed is None:
        feed = Feed(url=url, title=f"Offline: {name}"[:200], is_offline=True, keywords=[])
        db.session.add(feed)
        db.session.flush()
    return feed


def import_bytes(
    data: bytes,
    *,
    feed: Feed | None,
    source: str,
    headers: dict | None = None,
    extractor=None,
    log: FeedFetch | None = None,
    grouper=None,
) -> ImportOutcome:
    """Parse and store one document inside a savepoint: it is stored or rejected whole."""
    result = ImportOutcome(source=source, status="stored")
    try:
        doc = parse_document(data, headers)
    except DocumentRejected as exc:
        result.status, result.reason = "rejected", exc.reason
    else:
        result.skipped, result.warning = doc.skipped, doc.warning
        result.ttl_minutes = doc.ttl_minutes
        try:
            with db.session.begin_nested():
                stored = store_entries(feed, doc.entries, extractor=extractor, grouper=grouper)
        except Exception as exc:  # noqa: BLE001 - one bad document never stops a run
            current_app.logger.exception("storing %s failed", source)
            result.status = "rejected"
            result.reason = f"could not store: {type(exc).__name__}: {exc}"[:500]
        else:
            result.new, result.duplicates = len(stored.new), stored.duplicates
    if log is None and feed is not None and feed.id is not None:
        log = FeedFetch(feed_id=feed.id)
        db.session.add(log)
    if log is not None:
        log.outcome = "ok" if result.status == "stored" else "rejected"
        log.new_articles, log.duplicates = result.new, result.duplicates
        log.message = (
            result.reason
            or result.warning
            or (f"{len(result.skipped)} entries skipped" if result.skipped else None)
        )
    db.session.flush()
    return result


def import_file(path, *, feed: Feed | None = None, extractor=None, grouper=None) -> ImportOutcome:
    """Import one saved feed document; unreadable files are rejected, never raised."""
    from pathlib import Path

    path = Path(path)
    limit = int(current_app.config["TOLLGATE_FEED_MAX_BYTES"])
    try:
        if path.stat().st_size > limit:
            return ImportOutcome(
                source=str(path), status="rejected", reason=f"file larger than {limit} bytes"
            )
        data = path.read_bytes()
    except OSError as exc:
        return ImportOutcome(
            source=str(path), status="rejected", reason=f"cannot read file: {exc.strerror or exc}"
        )
    return import_bytes(
        data, feed=feed or offline_feed(), source=str(path), extractor=extractor, grouper=grouper
    )
