"""Search backends behind one interface: Whoosh (embedded) and PostgreSQL full-text.

Both index the same ``SearchDoc`` fields and read queries the same way
(``app.search.text``): text folded to lower-case ASCII, identifiers matched on their
normalised form, and typos tolerated in every word of titles, names and bodies (the query
word is expanded to the indexed words within its edit allowance: Whoosh's lexicon, the
``search_term`` vocabulary on PostgreSQL). Both return ranked ``(record_type, record_id)`` pairs;
access filtering happens in ``app.search.service``, never here.
"""

import logging
import os
import shutil
import threading
from datetime import UTC, datetime
from itertools import islice

from sqlalchemy import Text, bindparam, delete, func, literal_column, select, text

from app.extensions import db
from app.search.models import SearchDocument
from app.search.text import (
    WORD,
    close_words,
    fold,
    has_digit,
    identifier_terms,
    max_edits,
    parse_query,
    query_tokens,
    vocabulary_words,
)

__all__ = ["fold", "max_edits", "query_tokens"]  # older imports of these names still work
log = logging.getLogger("tollgate.search")
#: indexed words a query word or identifier is completed to (Whoosh: "balk" -> "balkan")
PREFIX_TERMS = 50
#: a full rebuild of at least this many documents is written by ``procs`` processes
PARALLEL_FROM = 20_000
#: documents per job a parallel rebuild hands to a writer process
PARALLEL_BATCH = 500


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
    from whoosh.fields import DATETIME, ID, KEYWORD, STORED, TEXT, Schema

    analyzer = StandardAnalyzer(stoplist=None, minsize=1)
    # phrase=False: no positions are kept (no query uses phrases); a third of the
    # postings' bytes and of the rebuild's time went to them
    return Schema(
        key=ID(unique=True, stored=True, sortable=True),
        record_type=ID(stored=True),
        #: stored only: never searched (the key column finds hits), and its eight numeric
        #: terms per document made a tenth of the rebuild's postings
        record_id=STORED(),
        #: title and body in one field: a query word is one term to match, not one per
        #: field (a broad misspelled query walked six unions per word), and a word in both
        #: is one posting; the title is written twice so it still weighs more
        text=TEXT(analyzer=analyzer, phrase=False),
        names=TEXT(analyzer=analyzer, field_boost=2.0, phrase=False),
        #: identifiers and other words with digits: matched exactly or by prefix, kept out of
        #: the names lexicon that fuzzy matching walks
        idents=TEXT(analyzer=analyzer, field_boost=2.0, phrase=False),
        date=DATETIME(),
        facets=KEYWORD(commas=False, lowercase=True),
    )


class WhooshBackend(SearchBackend):
    """Embedded index in ``TOLLGATE_SEARCH_DIR``. One writer: the worker (or the CLI)."""

    name = "whoosh"

    def __init__(self, directory: str, procs: int = 1):
        self.directory = directory
        #: writer processes of a big full rebuild (Whoosh indexes in pure Python)
        self.procs = procs

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

    _bulk = None  # the writer of a full rebuild, committed by finish_rebuild
    _held: list | None = None  # a rebuild's first documents, until the writer is chosen
    _bulk_count = 0

    @staticmethod
    def _fields(doc) -> dict:
        folded_names = fold(" ".join(doc.names))
        title = fold(doc.title)
        return {
            "key": f"{doc.record_type}:{doc.record_id}",
            "record_type": doc.record_type,
            "record_id": doc.record_id,
            "text": f"{title} {title} {fold(doc.body)}",
            "names": " ".join(w for w in WORD.findall(folded_names) if not has_digit(w)),
            "idents": " ".join(identifier_terms(doc.names)),
            "date": _naive_utc(doc.date),
            "facets": " ".join(f"{k}={v}" for k, v in (doc.facets or {}).items()),
        }

    def upsert(self, docs, *, fresh: bool = False) -> int:
        if fresh:
            return self._bulk_add(docs)
        writer = self._index().writer(limitmb=256)
        count = 0
        try:
            for doc in docs:
                writer.update_document(**self._fields(doc))
                count += 1
        except BaseException:
            writer.cancel()
            raise
        writer.commit()
        return count

    def _bulk_add(self, docs) -> int:
        """A rebuilt index has nothing to replace: one writer, no per-document delete. The
        first PARALLEL_FROM documents are held until it is clear whether the rebuild is big
        enough for ``procs`` writer processes (forking costs more than a small index)."""
        fields = [self._fields(doc) for doc in docs]
        count = len(fields)  # this call's documents (held ones were counted when given)
        if self._bulk is None:
            self._held = (self._held or []) + fields
            if self.procs < 2 or len(self._held) < PARALLEL_FROM:
                return count
            self._bulk = self._bulk_writer(self.procs)
            fields, self._held = self._held, None
        try:
            for item in fields:
                self._bulk.add_document(**item)
        except BaseException:
            self.abort_rebuild()
            raise
        self._bulk_count += len(fields)
        return count

    def _bulk_writer(self, procs: int):
        from whoosh.codec.whoosh3 import W3Codec

        codec = W3Codec()
        # No per-term field-length statistics: writing them looked the length of every
        # posting's document up (with a file-exists check per posting of an unscored
        # field), 30% of a rebuild. They only tighten Whoosh's score bounds; without them
        # the bounds are looser, never too low, so no hit is skipped.
        codec.length_stats = False
        if procs > 1:
            # one segment per process, not merged (merging is single-threaded Python)
            sub = {"codec": codec, "limitmb": 256}
            return self._index().writer(
                procs=procs,
                batchsize=PARALLEL_BATCH,
                multisegment=True,
                codec=codec,
                limitmb=256,
                subargs=sub,
            )
        return self._index().writer(limitmb=512, codec=codec)

    def finish_rebuild(self) -> None:
        if self._bulk is None and self._held:
            self._bulk = self._bulk_writer(1)
            for item in self._held:
                self._bulk.add_document(**item)
            self._bulk_count, self._held = len(self._held), None
        if self._bulk is None:
            return
        self._bulk.commit(merge=False)
        self._bulk = None
        written = self._index().doc_count_all()
        if written != self._bulk_count:
            # Whoosh's parallel writer leaves a process's segment out if its result comes
            # late: a rebuild that lost documents must not pass for complete
            raise RuntimeError(
                f"search reindex wrote {written} of {self._bulk_count} documents; run it again"
            )

    def abort_rebuild(self) -> None:
        self._held = None
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
        """One searcher per thread, refreshed (cheaply) when the index changed, with the
        vocabulary typo tolerance expands query words against (read once per refresh)."""
        ix = self._index()
        cache = _whoosh_local.__dict__.setdefault("searchers", {})
        held = cache.get(self.directory)
        if held is not None and held[0] is ix and held[1].up_to_date():
            return held[1], held[2]
        if held is not None:
            held[1].close()
        searcher = ix.searcher()  # first use in this thread, or the index changed since
        vocabulary = _WhooshVocabulary(self.directory, searcher.reader())
        cache[self.directory] = (ix, searcher, vocabulary)
        return searcher, vocabulary

    @staticmethod
    def _prefix(vocabulary, field: str, text: str, boost: float) -> list:
        """The first PREFIX_TERMS indexed words starting with ``text``: half an identifier
        ("XK00000") starts thousands, and a Whoosh Prefix over all of them took seconds."""
        from whoosh.query import Term

        words = islice(vocabulary.reader.expand_prefix(field, text), PREFIX_TERMS)
        return [Term(field, w.decode() if isinstance(w, bytes) else w, boost=boost) for w in words]

    def _ident_query(self, vocabulary, ident):
        from whoosh.query import Or, Term

        options = [Term("idents", ident, boost=1.5), Term("text", ident)]
        if len(ident) >= 4:
            options += self._prefix(vocabulary, "idents", ident, 0.7)
        return Or(options)

    def _word_query(self, vocabulary, tok):
        from whoosh.query import Or, Term

        options = [Term("text", tok), Term("names", tok, boost=1.5)]
        for word in vocabulary.close(tok):
            options += [Term(name, word, boost=0.8 * boost) for name, boost in _FIELD_BOOST]
        if len(tok) >= 4:
            options += self._prefix(vocabulary, "names", tok, 0.7)
        return Or(options)

    def _chunk_query(self, vocabulary, chunk):
        from whoosh.query import And, Or

        whole = self._ident_query(vocabulary, chunk.ident)
        pieces = [self._ident_query(vocabulary, i) for i in chunk.idents]
        pieces += [self._word_query(vocabulary, w) for w in chunk.words]
        return Or([whole, And(pieces)]) if pieces else whole

    def _build_query(self, vocabulary, parsed):
        from whoosh.query import And, Or, Term

        parts = [self._chunk_query(vocabulary, chunk) for chunk in parsed.chunks]
        parts += [self._word_query(vocabulary, tok) for tok in parsed.words]
        query = And(parts) if len(parts) > 1 else parts[0]
        if parsed.whole:
            query = Or([query, Term("idents", parsed.whole, boost=3.0)])
        return query

    def query(self, query, *, types, date_from=None, date_to=None, limit=2000):
        from whoosh.query import And, ConstantScoreQuery, DateRange, Or, Term

        parsed = parse_query(query)
        if not parsed or not types:
            return []
        searcher, vocabulary = self._searcher()
        # Types and dates are conditions of the query, not a Whoosh filter: a filter lists
        # every document of the allowed types on each search (all of them, usually),
        # while the intersection skips from one match of the words to the next.
        parts = [self._build_query(vocabulary, parsed)]
        indexed = {
            raw.decode() if isinstance(raw, bytes) else raw
            for raw in searcher.reader().lexicon("record_type")
        }
        if not indexed <= set(types):  # no condition when every indexed type is allowed
            kinds = [Term("record_type", t) for t in types]
            parts.append(ConstantScoreQuery(Or(kinds) if len(kinds) > 1 else kinds[0], 0.0))
        if date_from or date_to:
            dates = DateRange("date", _naive_utc(date_from), _naive_utc(date_to))
            parts.append(ConstantScoreQuery(dates, 0.0))
        hits = searcher.search(And(parts) if len(parts) > 1 else parts[0], limit=limit)
        keys = vocabulary.keys()
        if keys is not None:
            # the key column avoids unpickling stored fields for up to ``limit`` hits
            out = []
            for _score, docnum in hits.top_n:
                record_type, _, record_id = keys[docnum].partition(":")
                out.append((record_type, int(record_id)))
            return out
        return [(hit["record_type"], int(hit["record_id"])) for hit in hits]


_FIELD_BOOST = (("text", 1.0), ("names", 1.5))


#: typo vocabulary of each index segment (immutable, so read once per process)
_segment_vocabularies: dict[tuple[str, str], dict[str, list[str]]] = {}


def _segment_vocabulary(directory: str, reader) -> dict[str, list[str]]:
    """Words (no digits) of titles, names and bodies in one segment, by first letter and
    by second letter (keys ``"1x"``, ``"2x"``)."""
    segment = reader.segment()
    if segment is None:  # an empty index
        return {}
    key = (directory, segment.segment_id())
    held = _segment_vocabularies.get(key)
    if held is None:
        words = set()
        for name, _boost in _FIELD_BOOST:
            for raw in reader.lexicon(name):
                word = raw.decode() if isinstance(raw, bytes) else raw
                if len(word) >= 3 and word[0].isalpha() and not has_digit(word):
                    words.add(word)
        held = {}
        for word in words:
            held.setdefault("1" + word[0], []).append(word)
            held.setdefault("2" + word[1], []).append(word)
        with _whoosh_lock:
            _segment_vocabularies[key] = held
    return held


class _WhooshVocabulary:
    """The typo vocabulary of an index reader: a query word's variants are looked up
    in its segments' words sharing its first or its second letter ("sigarettes" finds
    "cigarettes"), with rapidfuzz at C speed."""

    def __init__(self, directory: str, reader):
        self.directory = directory
        self.reader = reader
        self._keys = None

    def keys(self):
        """The ``key`` column's reader, opened once per searcher: opening it reads every
        document's offset (14 ms a query at 10,000 documents, growing with the index)."""
        if self._keys is None and self.reader.has_column("key"):
            self._keys = self.reader.column_reader("key")
        return self._keys

    def close(self, token: str) -> list[str]:
        if not max_edits(token):
            return []
        found: list[str] = []
        for leaf, _offset in self.reader.leaf_readers():
            buckets = _segment_vocabulary(self.directory, leaf)
            found += close_words(token, buckets.get("1" + token[0], ()))
            found += close_words(token, buckets.get("2" + token[1], ()))
        return list(dict.fromkeys(found))[:50]


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
        """The GIN full-text index and the vocabulary's letter indexes; idempotent (also
        after Alembic migrations)."""
        url = str(db.engine.url)
        if url in self._ready:
            return
        exists = db.session.scalar(
            text(
                "SELECT count(*) FROM pg_indexes WHERE indexname IN "
                "('ix_search_document_tsv', 'ix_search_term_first', 'ix_search_term_second')"
            )
        )
        if exists != 3:
            # Web processes starting together would race on CREATE INDEX IF NOT EXISTS (a
            # unique violation in pg_class): one creates it under a transaction lock.
            db.session.execute(
                text("SELECT pg_advisory_xact_lock(hashtext('tollgate.search.fts'))")
            )
            # rows written before the stored tsvector (the migration fills them too)
            db.session.execute(
                text(f"UPDATE search_document SET fts = {_FTS_EXPR} WHERE fts IS NULL")  # noqa: S608 - fixed text
            )
            db.session.execute(text("DROP INDEX IF EXISTS ix_search_document_fts"))
            db.session.execute(
                text(
                    "CREATE INDEX IF NOT EXISTS ix_search_document_tsv ON search_document "
                    "USING gin (fts)"
                )
            )
            for name, position in (("first", 1), ("second", 2)):
                db.session.execute(
                    text(
                        f"CREATE INDEX IF NOT EXISTS ix_search_term_{name} ON search_term "
                        f"(substr(term, {position}, 1), length(term))"
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
                # normalised identifiers ride along with the names ("mscu1234566")
                "names": " ".join([fold(" ".join(d.names)), *identifier_terms(d.names)]),
                "body": fold(d.body),
                "date": d.date,
                "facets": d.facets or {},
            }
            for d in docs
        ]
        for row in rows:  # what _FTS_EXPR reads, made once per document and kept
            row["fts_text"] = f"{row['title']} {row['names']} {row['body']}"
        table = SearchDocument.__table__
        stmt = insert(table).values(
            fts=func.to_tsvector(literal_column("'simple'"), bindparam("fts_text", type_=Text))
        )
        stmt = stmt.on_conflict_do_update(
            index_elements=["record_type", "record_id"],
            set_={c: stmt.excluded[c] for c in ("title", "names", "body", "date", "facets", "fts")},
        )
        term_stmt = insert(SearchTerm.__table__).on_conflict_do_nothing()
        for start in range(0, len(rows), 1000):
            chunk = rows[start : start + 1000]
            db.session.execute(stmt, chunk)  # executemany: one compiled statement
            words = vocabulary_words(*(f"{r['title']} {r['names']} {r['body']}" for r in chunk))
            terms = sorted({w[:60] for w in words})
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
        db.session.execute(text("DROP INDEX IF EXISTS ix_search_document_tsv"))
        self._ready.discard(str(db.engine.url))
        db.session.execute(delete(SearchDocument))
        db.session.execute(delete(SearchTerm))

    def finish_rebuild(self) -> None:
        self.ensure_schema()
        # fresh statistics: before them the planner took every row for 2,500 and
        # intersected the GIN matches with a scan of the record_type index (all rows)
        db.session.execute(text("ANALYZE search_document"))

    def count(self) -> int:
        from sqlalchemy import func

        return db.session.scalar(select(func.count()).select_from(SearchDocument)) or 0

    def _variants(self, token: str) -> list[str]:
        """Indexed words within the typo allowance of ``token`` (same first letter)."""
        from app.search.models import SearchTerm

        edits = max_edits(token)
        if not edits:
            return []
        from sqlalchemy import func, or_

        # same first or second letter (the expression indexes of ensure_schema):
        # "sigarettes" still finds "cigarettes"
        candidates = db.session.scalars(
            select(SearchTerm.term).where(
                or_(
                    func.substr(SearchTerm.term, 1, 1) == token[0],
                    func.substr(SearchTerm.term, 2, 1) == token[1],
                ),
                func_length(SearchTerm.term).between(len(token) - edits, len(token) + edits),
            )
        ).all()
        return close_words(token, candidates)

    @staticmethod
    def _ident_tsquery(ident: str) -> str:
        return " | ".join([ident, *([f"{ident}:*"] if len(ident) >= 4 else [])])

    def _word_tsquery(self, tok: str) -> str:
        options = [tok, *self._variants(tok)]
        if len(tok) >= 4:
            options.append(f"{tok}:*")
        return " | ".join(options)

    def _chunk_tsquery(self, chunk) -> str:
        pieces = [self._ident_tsquery(i) for i in chunk.idents]
        pieces += [self._word_tsquery(w) for w in chunk.words]
        whole = self._ident_tsquery(chunk.ident)
        if not pieces:
            return whole
        return f"{whole} | ({' & '.join(f'({p})' for p in pieces)})"

    def tsquery(self, parsed) -> str:
        """The parsed query as one ``to_tsquery('simple', ...)`` text. Every part is
        ``[a-z0-9]+`` (folded, split), so nothing in it is tsquery syntax."""
        parts = [self._chunk_tsquery(chunk) for chunk in parsed.chunks]
        parts += [self._word_tsquery(tok) for tok in parsed.words]
        query = " & ".join(f"({p})" for p in parts)
        if parsed.whole:
            query = f"({query}) | {parsed.whole}"
        return query

    def query(self, query, *, types, date_from=None, date_to=None, limit=2000):
        self.ensure_schema()
        parsed = parse_query(query)
        if not parsed or not types:
            return []
        params = {"types": list(types), "limit": limit, "q": self.tsquery(parsed)}
        where = ["record_type IN :types", "fts @@ to_tsquery('simple', :q)"]
        if date_from:
            where.append("date >= :date_from")
            params["date_from"] = date_from
        if date_to:
            where.append("date <= :date_to")
            params["date_to"] = date_to
        sql = (
            f"SELECT record_type, record_id FROM search_document WHERE {' AND '.join(where)} "  # noqa: S608 - fixed fragments, values bound
            "ORDER BY ts_rank(fts, to_tsquery('simple', :q)) DESC, record_id "
            f"LIMIT :limit"
        )
        stmt = text(sql).bindparams(bindparam("types", expanding=True))
        return [(r.record_type, int(r.record_id)) for r in db.session.execute(stmt, params)]


def func_length(column):
    from sqlalchemy import func

    return func.length(column)
