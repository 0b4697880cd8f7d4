"""Feeds, articles, mentions, term lists and workbench decisions.

News articles are open-source material (handling code P by nature): they are readable by
every role holding ``news.view`` and are therefore not ``Restricted`` records.
"""

from sqlalchemy import (
    JSON,
    Boolean,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.core.time import now_utc
from app.core.types import UTCDateTime
from app.extensions import db

MIN_INTERVAL_MINUTES = 5
MAX_INTERVAL_MINUTES = 24 * 60


class Feed(db.Model):
    __tablename__ = "news_feed"

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    #: http(s) URL polled by the worker; ``offline:<name>`` for documents imported from files
    url: Mapped[str] = mapped_column(String(1000), unique=True)
    #: the keywords this source is meant to catch (articles are tagged with those they match)
    keywords: Mapped[list] = mapped_column(JSON, default=list)
    #: False: paused by an administrator, or disabled (then ``disabled_reason`` says why)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    is_offline: Mapped[bool] = mapped_column(Boolean, default=False)
    disabled_reason: Mapped[str | None] = mapped_column(Text)
    #: adaptive polling interval, between 5 minutes and 24 hours
    interval_minutes: Mapped[int] = mapped_column(Integer, default=60)
    next_poll_dt = mapped_column(UTCDateTime, index=True)
    last_polled_dt = mapped_column(UTCDateTime)
    last_success_dt = mapped_column(UTCDateTime)
    #: validators for conditional GET
    etag: Mapped[str | None] = mapped_column(String(500))
    last_modified: Mapped[str | None] = mapped_column(String(100))
    #: consecutive fetch errors (network, HTTP status, guard) and parse failures
    error_count: Mapped[int] = mapped_column(Integer, default=0)
    parse_failures: Mapped[int] = mapped_column(Integer, default=0)
    #: consecutive polls the host gave no answer at all (refused, unresolved, timed out);
    #: at ``TOLLGATE_FEED_MAX_NETWORK_FAILURES`` the feed is disabled
    network_failures: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_dt = mapped_column(UTCDateTime, default=now_utc, nullable=False)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))

    @property
    def status(self) -> str:
        if self.disabled_reason:
            return "disabled"
        return "active" if self.is_active else "paused"

    def __repr__(self):
        return f"<Feed {self.id} {self.url}>"


class FeedFetch(db.Model):
    """One poll or import of a feed document, kept so an administrator sees what happened."""

    __tablename__ = "news_feed_fetch"

    id: Mapped[int] = mapped_column(primary_key=True)
    feed_id: Mapped[int] = mapped_column(ForeignKey("news_feed.id", ondelete="CASCADE"), index=True)
    fetched_dt = mapped_column(UTCDateTime, default=now_utc, nullable=False)
    #: ok, not_modified, error (fetch), rejected (document refused)
    outcome: Mapped[str] = mapped_column(String(20))
    http_status: Mapped[int | None] = mapped_column(Integer)
    new_articles: Mapped[int] = mapped_column(Integer, default=0)
    duplicates: Mapped[int] = mapped_column(Integer, default=0)
    message: Mapped[str | None] = mapped_column(Text)
    duration_ms: Mapped[int | None] = mapped_column(Integer)

    def __repr__(self):
        return f"<FeedFetch {self.feed_id} {self.outcome}>"


class AllowedHost(db.Model):
    """A host an administrator allows feeds to reach although it resolves to a private,
    loopback or link-local address (an intranet mirror, for instance)."""

    __tablename__ = "news_allowed_host"

    id: Mapped[int] = mapped_column(primary_key=True)
    host: Mapped[str] = mapped_column(String(255), unique=True)
    note: Mapped[str | None] = mapped_column(String(300))
    created_dt = mapped_column(UTCDateTime, default=now_utc, nullable=False)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))

    def __repr__(self):
        return f"<AllowedHost {self.host}>"


class Article(db.Model):
    __tablename__ = "news_article"

    id: Mapped[int] = mapped_column(primary_key=True)
    feed_id: Mapped[int | None] = mapped_column(
        ForeignKey("news_feed.id", ondelete="SET NULL"), index=True
    )
    #: sha256 of "guid:…", else "url:…", else "hash:<content hash>": an article is stored once
    identity: Mapped[str] = mapped_column(String(64), unique=True)
    guid: Mapped[str | None] = mapped_column(Text)
    url: Mapped[str | None] = mapped_column(String(2000))
    title: Mapped[str] = mapped_column(String(500), default="")
    #: sanitised HTML (nh3 allow-list); ``text`` is its plain-text form
    html: Mapped[str] = mapped_column(Text, default="")
    text: Mapped[str] = mapped_column(Text, default="")
    content_hash: Mapped[str] = mapped_column(String(64), index=True)
    #: MinHash signature of the text's word-bigram shingles, for near-duplicate grouping
    fingerprint: Mapped[list] = mapped_column(JSON, default=list)
    #: id of the first article of its near-duplicate group (itself when alone)
    group_id: Mapped[int | None] = mapped_column(Integer, index=True)
    language: Mapped[str | None] = mapped_column(String(8), index=True)
    language_score: Mapped[float | None] = mapped_column()
    published_dt = mapped_column(UTCDateTime, index=True)
    created_dt = mapped_column(UTCDateTime, default=now_utc, nullable=False, index=True)
    #: the feed keywords the article matched
    keywords: Mapped[list] = mapped_column(JSON, default=list)
    extracted_dt = mapped_column(UTCDateTime)
    #: which pipeline extracted the mentions ("rules" or "rules+en_core_web_sm-3.8.0")
    extractor: Mapped[str | None] = mapped_column(String(80))

    feed = relationship(Feed)
    mentions = relationship(
        "Mention", back_populates="article", cascade="all, delete-orphan", order_by="Mention.start"
    )

    @property
    def when(self):
        return self.published_dt or self.created_dt

    def __repr__(self):
        return f"<Article {self.id} {self.title[:40]!r}>"


class Mention(db.Model):
    """A span of an article recognised as a term or entity, normalised to a canonical name."""

    __tablename__ = "news_mention"

    id: Mapped[int] = mapped_column(primary_key=True)
    article_id: Mapped[int] = mapped_column(
        ForeignKey("news_article.id", ondelete="CASCADE"), index=True
    )
    category: Mapped[str] = mapped_column(String(20), index=True)
    text: Mapped[str] = mapped_column(String(300))
    canonical: Mapped[str] = mapped_column(String(300), index=True)
    #: character offsets in the article's extraction text (title + blank line + text)
    start: Mapped[int] = mapped_column(Integer)
    end: Mapped[int] = mapped_column(Integer)
    sentence: Mapped[int] = mapped_column(Integer, default=0)
    #: "rules" (term lists, patterns) or "model" (statistical NER)
    source: Mapped[str] = mapped_column(String(10), default="rules")
    #: a registry entity whose name matches (set automatically; confirmed in the workbench)
    entity_id: Mapped[int | None] = mapped_column(Integer, index=True)

    article = relationship(Article, back_populates="mentions")

    def __repr__(self):
        return f"<Mention {self.category}:{self.canonical}>"


class Term(db.Model):
    """One canonical customs term with its synonyms and street names (EntityRuler input)."""

    __tablename__ = "news_term"
    __table_args__ = (UniqueConstraint("category", "canonical"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    category: Mapped[str] = mapped_column(String(20), index=True)
    canonical: Mapped[str] = mapped_column(String(200))
    synonyms: Mapped[list] = mapped_column(JSON, default=list)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    is_builtin: Mapped[bool] = mapped_column(Boolean, default=False)
    updated_dt = mapped_column(UTCDateTime, default=now_utc, onupdate=now_utc, nullable=False)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))

    def __repr__(self):
        return f"<Term {self.category}:{self.canonical}>"


class WorkbenchDecision(db.Model):
    """An analyst's decision on a proposed entity (person, organisation, vehicle, vessel)."""

    __tablename__ = "news_workbench_decision"
    __table_args__ = (UniqueConstraint("category", "canonical"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    category: Mapped[str] = mapped_column(String(20))
    canonical: Mapped[str] = mapped_column(String(300))
    #: promoted (new registry entity), linked (existing entity), dismissed
    status: Mapped[str] = mapped_column(String(12))
    entity_id: Mapped[int | None] = mapped_column(Integer)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    decided_dt = mapped_column(UTCDateTime, default=now_utc, nullable=False)

    def __repr__(self):
        return f"<WorkbenchDecision {self.category}:{self.canonical} {self.status}>"
