"""The PostgreSQL full-text search backend (see ``app.search.backends`` for what both
backends share)."""

from sqlalchemy import Text, bindparam, delete, func, literal_column, select, text

from app.extensions import db
from app.search.backends import SearchBackend
from app.search.models import SearchDocument
from app.search.text import (
    close_words,
    fold,
    identifier_terms,
    max_edits,
    parse_query,
    vocabulary_words,
)

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
