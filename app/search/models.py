"""The index update queue (applied by the one worker) and the PostgreSQL search documents."""

from sqlalchemy import JSON, String, Text, UniqueConstraint
from sqlalchemy.dialects.postgresql import TSVECTOR
from sqlalchemy.orm import Mapped, mapped_column

from app.core.time import now_utc
from app.core.types import UTCDateTime
from app.extensions import db


class SearchQueueItem(db.Model):
    """A record whose index entry must be refreshed (written in the changer's transaction)."""

    __tablename__ = "search_queue"

    id: Mapped[int] = mapped_column(primary_key=True)
    record_type: Mapped[str] = mapped_column(String(40))
    record_id: Mapped[int] = mapped_column()
    requested_dt = mapped_column(UTCDateTime, default=now_utc, nullable=False)

    def __repr__(self):
        return f"<SearchQueueItem {self.record_type}:{self.record_id}>"


class SearchDocument(db.Model):
    """One indexed record for the PostgreSQL full-text backend (unused with Whoosh).

    Text is stored folded to lower-case ASCII; the full-text and trigram indexes are created
    by ``app.search.backend_postgres.PostgresBackend.ensure_schema`` (PostgreSQL only).
    """

    __tablename__ = "search_document"
    __table_args__ = (UniqueConstraint("record_type", "record_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    record_type: Mapped[str] = mapped_column(String(40), index=True)
    record_id: Mapped[int] = mapped_column()
    title: Mapped[str] = mapped_column(Text, default="")
    #: names and identifiers (typo-tolerant trigram matching)
    names: Mapped[str] = mapped_column(Text, default="")
    body: Mapped[str] = mapped_column(Text, default="")
    date = mapped_column(UTCDateTime, index=True)
    facets: Mapped[dict] = mapped_column(JSON, default=dict)
    #: to_tsvector of title, names and body, kept so ranking does not recompute it for
    #: every match (PostgreSQL; unused text on SQLite)
    fts = mapped_column(Text().with_variant(TSVECTOR(), "postgresql"), nullable=True)


class SearchTerm(db.Model):
    """Vocabulary of indexed name/title words (PostgreSQL backend): query words are expanded
    to the terms within a small edit distance, as Whoosh's fuzzy terms do."""

    __tablename__ = "search_term"

    term: Mapped[str] = mapped_column(String(60), primary_key=True)
