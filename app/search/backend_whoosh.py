"""The embedded search backend: a Whoosh index in ``TOLLGATE_SEARCH_DIR`` (see
``app.search.backends`` for what both backends share)."""

import os
import shutil
import threading
from itertools import islice

from app.search.backends import SearchBackend, _naive_utc, log
from app.search.text import (
    WORD,
    close_words,
    fold,
    has_digit,
    identifier_terms,
    max_edits,
    parse_query,
)

#: indexed words a query word or identifier is completed to (Whoosh: "balk" -> "balkan")
PREFIX_TERMS = 50
#: a full rebuild of at least this many documents is written by ``procs`` processes
PARALLEL_FROM = 20_000
#: documents per job a parallel rebuild hands to a writer process
PARALLEL_BATCH = 500


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
