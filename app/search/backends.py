"""Search backends behind one interface: Whoosh (embedded) and PostgreSQL full-text.

Both index the same ``SearchDoc`` fields, fold text to lower-case ASCII (any script
transliterated) and tolerate typos in names: Whoosh with fuzzy terms, PostgreSQL with
trigram word similarity (pg_trgm). Both return ranked ``(record_type, record_id)`` pairs;
access filtering happens in ``app.search.service``, never here.
"""

import logging
import os
import re
import shutil
import threading
from datetime import UTC, datetime

from anyascii import anyascii
from sqlalchemy import bindparam, delete, select, text

from app.extensions import db
from app.search.models import SearchDocument

_WORD = re.compile(r"[a-z0-9]+")
log = logging.getLogger("tollgate.search")


def fold(value: str) -> str:
    """Lower-case ASCII (transliterated) text: what both backends index and query."""
    return anyascii(value or "").lower()


def query_tokens(query: str) -> list[str]:
    return _WORD.findall(fold(query))[:12]


def _has_digit(word: str) -> bool:
    return any(c.isdigit() for c in word)


def max_edits(token: str) -> int:
    """Typo allowance per word, the same on both backends. Identifiers and numbers (any
    digit) must match exactly: a container one digit off is another container."""
    if len(token) < 4 or any(c.isdigit() for c in token):
        return 0
    return 1 if len(token) <= 5 else 2


def _naive_utc(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    if value.tzinfo is not None:
        value = value.astimezone(UTC).replace(tzinfo=None)
    return value


class SearchBackend:
    name = "base"

    def upsert(self, docs, *, fresh: bool = False) -> int:
        raise NotImplementedError

    def delete(self, keys) -> None:
        raise NotImplementedError

    def clear(self) -> None:
        raise NotImplementedError

    def query(
        self, query: str, *, types, date_from=None, date_to=None, limit=2000
    ) -> list[tuple[str, int]]:
        raise NotImplementedError

    def count(self) -> int:
        raise NotImplementedError

    def finish_rebuild(self) -> None:
        """Called after a full reindex (PostgreSQL rebuilds its index once, here)."""

    def abort_rebuild(self) -> None:
        """Called when a full reindex failed half-way."""


# --- Whoosh ------------------------------------------------------------------------------

_whoosh_lock = threading.Lock()
_whoosh_local = threading.local()
_whoosh_indexes: dict[str, object] = {}


def _whoosh_schema():
    from whoosh.analysis import StandardAnalyzer
    from whoosh.fields import DATETIME, ID, KEYWORD, NUMERIC, TEXT, Schema

    analyzer = StandardAnalyzer(stoplist=None, minsize=1)
    return Schema(
        key=ID(unique=True, stored=True, sortable=True),
        record_type=ID(stored=True),
        record_id=NUMERIC(stored=True, bits=64),
        title=TEXT(analyzer=analyzer, field_boost=2.0),
        names=TEXT(analyzer=analyzer, field_boost=2.0),
        #: identifiers and other words with digits: matched exactly or by prefix, kept out of
        #: the names lexicon that fuzzy matching walks
        idents=TEXT(analyzer=analyzer, field_boost=2.0),
        body=TEXT(analyzer=analyzer),
        date=DATETIME(),
        facets=KEYWORD(commas=False, lowercase=True),
    )


class WhooshBackend(SearchBackend):
    """Embedded index in ``TOLLGATE_SEARCH_DIR``. One writer: the worker (or the CLI)."""

    name = "whoosh"

    def __init__(self, directory: str):
        self.directory = directory

    def _index(self):
        from whoosh import index

        with _whoosh_lock:
            ix = _whoosh_indexes.get(self.directory)
            if ix is None:
                os.makedirs(self.directory, exist_ok=True)
                schema = _whoosh_schema()
                ix = index.open_dir(self.directory) if index.exists_in(self.directory) else None
                if ix is not None and set(ix.schema.names()) != set(schema.names()):
                    # an index written by an older Tollgate: start afresh (reindex to fill it)
                    log.warning(
                        "search index at %s has an old schema; it was emptied, run "
                        "`tollgate search reindex`",
                        self.directory,
                    )
                    ix = None
                if ix is None:
                    ix = index.create_in(self.directory, schema)
                _whoosh_indexes[self.directory] = ix
            return ix

    _bulk = None  # the one writer of a full rebuild, committed by finish_rebuild

    def upsert(self, docs, *, fresh: bool = False) -> int:
        if fresh:
            # a rebuilt index has nothing to replace: one writer, no per-document delete
            if self._bulk is None:
                self._bulk = self._index().writer(limitmb=512)
            writer, write = self._bulk, self._bulk.add_document
        else:
            writer = self._index().writer(limitmb=256)
            write = writer.update_document
        count = 0
        try:
            for doc in docs:
                write(
                    key=f"{doc.record_type}:{doc.record_id}",
                    record_type=doc.record_type,
                    record_id=doc.record_id,
                    title=fold(doc.title),
                    names=" ".join(
                        w for w in _WORD.findall(fold(" ".join(doc.names))) if not _has_digit(w)
                    ),
                    idents=" ".join(
                        w for w in _WORD.findall(fold(" ".join(doc.names))) if _has_digit(w)
                    ),
                    body=fold(doc.body),
                    date=_naive_utc(doc.date),
                    facets=" ".join(f"{k}={v}" for k, v in (doc.facets or {}).items()),
                )
                count += 1
        except BaseException:
            writer.cancel()
            self._bulk = None
            raise
        if not fresh:
            writer.commit()
        return count

    def finish_rebuild(self) -> None:
        if self._bulk is not None:
            self._bulk.commit()
            self._bulk = None

    def abort_rebuild(self) -> None:
        if self._bulk is not None:
            self._bulk.cancel()
            self._bulk = None

    def delete(self, keys) -> None:
        keys = list(keys)
        if not keys:
            return
        writer = self._index().writer()
        for record_type, record_id in keys:
            writer.delete_by_term("key", f"{record_type}:{record_id}")
        writer.commit()

    def clear(self) -> None:
        with _whoosh_lock:
            _whoosh_indexes.pop(self.directory, None)
            _whoosh_local.__dict__.get("searchers", {}).pop(self.directory, None)
            if os.path.isdir(self.directory):
                shutil.rmtree(self.directory)

    def count(self) -> int:
        with self._index().searcher() as searcher:
            return searcher.doc_count()

    def _searcher(self):
        """One searcher per thread, refreshed (cheaply) when the index changed."""
        ix = self._index()
        cache = _whoosh_local.__dict__.setdefault("searchers", {})
        held = cache.get(self.directory)
        if held is not None and held[0] is ix and held[1].up_to_date():
            return held[1]
        if held is not None:
            held[1].close()
        searcher = ix.searcher()  # first use in this thread, or the index changed since
        cache[self.directory] = (ix, searcher)
        return searcher

    def _variants(self, reader, token: str) -> list[str]:
        """Indexed name words within the typo allowance of ``token`` (same first letter),
        by optimal string alignment distance, like the PostgreSQL backend."""
        from rapidfuzz.distance import OSA

        edits = max_edits(token)
        if not edits:
            return []
        out = []
        for raw in reader.expand_prefix("names", token[0]):
            term = raw.decode() if isinstance(raw, bytes) else raw
            if (
                term != token
                and abs(len(term) - len(token)) <= edits
                and OSA.distance(term, token, score_cutoff=edits) <= edits
            ):
                out.append(term)
                if len(out) >= 50:
                    break
        return out

    def _build_query(self, reader, tokens):
        from whoosh.query import And, Or, Prefix, Term

        parts = []
        for tok in tokens:
            if _has_digit(tok):
                options = [Term("idents", tok, boost=1.5), Term("title", tok), Term("body", tok)]
                if len(tok) >= 4:
                    options.append(Prefix("idents", tok, boost=0.7))
                parts.append(Or(options))
                continue
            options = [Term("title", tok), Term("names", tok, boost=1.5), Term("body", tok)]
            options += [Term("names", v, boost=0.8) for v in self._variants(reader, tok)]
            if len(tok) >= 4:
                options.append(Prefix("names", tok, boost=0.7))
            parts.append(Or(options))
        return And(parts)

    def query(self, query, *, types, date_from=None, date_to=None, limit=2000):
        from whoosh.query import And, DateRange, Or, Term

        tokens = query_tokens(query)
        if not tokens or not types:
            return []
        filters = [Or([Term("record_type", t) for t in types])]
        if date_from or date_to:
            filters.append(DateRange("date", _naive_utc(date_from), _naive_utc(date_to)))
        searcher = self._searcher()
        hits = searcher.search(
            self._build_query(searcher.reader(), tokens), limit=limit, filter=And(filters)
        )
        reader = searcher.reader()
        if reader.has_column("key"):
            # the key column avoids unpickling stored fields for up to ``limit`` hits
            keys = reader.column_reader("key")
            out = []
            for _score, docnum in hits.top_n:
                record_type, _, record_id = keys[docnum].partition(":")
                out.append((record_type, int(record_id)))
            return out
        return [(hit["record_type"], int(hit["record_id"])) for hit in hits]


# --- PostgreSQL --------------------------------------------------------------------------

_FTS_EXPR = (
    "to_tsvector('simple', coalesce(title, '') || ' ' || coalesce(names, '') || ' ' "
    "|| coalesce(body, ''))"
)


class PostgresBackend(SearchBackend):
    """Full-text search (tsvector, GIN) over the ``search_document`` table.

    Typo tolerance: each query word is expanded to the indexed name/title words within a
    small edit distance (``search_term`` vocabulary), like Whoosh's fuzzy terms. Every web
    host sees the same index; writes happen in the worker like Whoosh's.
    """

    name = "postgres"
    _ready: set = set()

    def ensure_schema(self) -> None:
        """The GIN full-text index; idempotent (also after Alembic migrations)."""
        url = str(db.engine.url)
        if url in self._ready:
            return
        exists = db.session.execute(
            text("SELECT 1 FROM pg_indexes WHERE indexname = 'ix_search_document_fts'")
        ).first()
        if exists is None:
            # Web processes starting together would race on CREATE INDEX IF NOT EXISTS (a
            # unique violation in pg_class): one creates it under a transaction lock.
            db.session.execute(
                text("SELECT pg_advisory_xact_lock(hashtext('tollgate.search.fts'))")
            )
            db.session.execute(
                text(
                    f"CREATE INDEX IF NOT EXISTS ix_search_document_fts ON search_document "
                    f"USING gin ({_FTS_EXPR})"
                )
            )
        self._ready.add(url)

    def upsert(self, docs, *, fresh: bool = False) -> int:
        from sqlalchemy.dialects.postgresql import insert

        from app.search.models import SearchTerm

        if not fresh:  # a rebuild creates the index once at the end (finish_rebuild)
            self.ensure_schema()
        rows = [
            {
                "record_type": d.record_type,
                "record_id": d.record_id,
                "title": fold(d.title),
                "names": fold(" ".join(d.names)),
                "body": fold(d.body),
                "date": d.date,
                "facets": d.facets or {},
            }
            for d in docs
        ]
        table = SearchDocument.__table__
        stmt = insert(table)
        stmt = stmt.on_conflict_do_update(
            index_elements=["record_type", "record_id"],
            set_={c: stmt.excluded[c] for c in ("title", "names", "body", "date", "facets")},
        )
        term_stmt = insert(SearchTerm.__table__).on_conflict_do_nothing()
        for start in range(0, len(rows), 1000):
            chunk = rows[start : start + 1000]
            db.session.execute(stmt, chunk)  # executemany: one compiled statement
            terms = sorted(
                {
                    w[:60]
                    for r in chunk
                    for w in _WORD.findall(r["title"] + " " + r["names"])
                    if len(w) >= 4
                }
            )
            if terms:
                db.session.execute(term_stmt, [{"term": t} for t in terms])
        return len(rows)

    def delete(self, keys) -> None:
        for record_type, record_id in keys:
            db.session.execute(
                delete(SearchDocument).where(
                    SearchDocument.record_type == record_type, SearchDocument.record_id == record_id
                )
            )

    def clear(self) -> None:
        from app.search.models import SearchTerm

        # Bulk loading without the GIN index and building it once is several times faster.
        db.session.execute(text("DROP INDEX IF EXISTS ix_search_document_fts"))
        self._ready.discard(str(db.engine.url))
        db.session.execute(delete(SearchDocument))
        db.session.execute(delete(SearchTerm))

    def finish_rebuild(self) -> None:
        self.ensure_schema()

    def count(self) -> int:
        from sqlalchemy import func

        return db.session.scalar(select(func.count()).select_from(SearchDocument)) or 0

    def _variants(self, token: str) -> list[str]:
        """Indexed words within the typo allowance of ``token`` (same first letter)."""
        from rapidfuzz.distance import OSA

        from app.search.models import SearchTerm

        edits = max_edits(token)
        if not edits:
            return []
        candidates = db.session.scalars(
            select(SearchTerm.term).where(
                SearchTerm.term >= token[0],
                SearchTerm.term < token[0] + "\x7f",
                func_length(SearchTerm.term).between(len(token) - edits, len(token) + edits),
            )
        )
        return [
            t
            for t in candidates
            if t != token and OSA.distance(t, token, score_cutoff=edits) <= edits
        ][:50]

    def query(self, query, *, types, date_from=None, date_to=None, limit=2000):
        self.ensure_schema()
        tokens = query_tokens(query)
        if not tokens or not types:
            return []
        params = {"types": list(types), "limit": limit}
        where = ["record_type IN :types"]
        every = []
        for i, tok in enumerate(tokens):
            options = [tok, *self._variants(tok)]
            if len(tok) >= 4:
                options.append(f"{tok}:*")
            params[f"t{i}"] = " | ".join(options)
            every.append(f"({params[f't{i}']})")
            where.append(f"{_FTS_EXPR} @@ to_tsquery('simple', :t{i})")
        params["all"] = " & ".join(every)
        if date_from:
            where.append("date >= :date_from")
            params["date_from"] = date_from
        if date_to:
            where.append("date <= :date_to")
            params["date_to"] = date_to
        sql = (
            f"SELECT record_type, record_id FROM search_document WHERE {' AND '.join(where)} "  # noqa: S608 - fixed fragments, values bound
            f"ORDER BY ts_rank({_FTS_EXPR}, to_tsquery('simple', :all)) DESC, record_id "
            f"LIMIT :limit"
        )
        stmt = text(sql).bindparams(bindparam("types", expanding=True))
        return [(r.record_type, int(r.record_id)) for r in db.session.execute(stmt, params)]


def func_length(column):
    from sqlalchemy import func

    return func.length(column)
