"""Factories for the news domain: stored articles through the real ingestion path."""

import itertools
from datetime import UTC, datetime

from app.extensions import db
from app.textmining.ingest import ParsedEntry, sanitize_html, store_entries
from app.textmining.models import Feed

_seq = itertools.count(1)


def feed(url=None, title="Test feed", keywords=(), **kw) -> Feed:
    n = next(_seq)
    row = Feed(
        url=url or f"https://news{n}.example/rss", title=title, keywords=list(keywords), **kw
    )
    db.session.add(row)
    db.session.flush()
    return row


def article(text, *, title="", feed_row=None, published=None, guid=None, url=None, extractor=None):
    """Store one article (sanitised, de-duplicated, extracted) and return it."""
    n = next(_seq)
    html = sanitize_html(f"<p>{text}</p>")
    entry = ParsedEntry(
        guid=guid or f"urn:test:{n}",
        url=url,
        title=title,
        html=html,
        text=text,
        published_dt=published or datetime(2026, 1, 10, tzinfo=UTC),
    )
    outcome = store_entries(feed_row, [entry], extractor=extractor)
    return outcome.new[0] if outcome.new else None
