"""One search over every domain's records, filtered by access before anything is counted.

Index writes never happen in web requests: a changed record sends
``search_index_requested``, which queues a row in the sender's transaction; the worker's
``apply_index_queue`` job (or ``tollgate search reindex``) writes the index.
"""

from dataclasses import dataclass, field
from datetime import datetime

from flask import current_app, has_request_context
from sqlalchemy import delete, select

from app.core.errors import ValidationError
from app.extensions import db
from app.search.backend_postgres import PostgresBackend
from app.search.backend_whoosh import WhooshBackend
from app.search.backends import SearchBackend
from app.search.models import SearchQueueItem
from app.search.registry import SearchDoc, search_sources
from app.security import trail
from app.security.access import Actor
from app.security.seams import redact_names

#: ranked hits considered per query before access filtering (deeper pages are not offered)
MAX_HITS = 2000
MAX_PER_PAGE = 100
QUEUE_BATCH = 500


def backend_name(app=None) -> str:
    app = app or current_app
    name = app.config.get("TOLLGATE_SEARCH_BACKEND", "auto")
    if name == "auto":
        return "postgres" if db.engine.dialect.name == "postgresql" else "whoosh"
    if name not in ("whoosh", "postgres"):
        raise ValueError(f"TOLLGATE_SEARCH_BACKEND={name!r}: use whoosh, postgres or auto")
    return name


def get_backend(name: str | None = None) -> SearchBackend:
    name = name or backend_name()
    if name == "postgres":
        if db.engine.dialect.name != "postgresql":
            raise ValueError("the postgres search backend needs a PostgreSQL database")
        return PostgresBackend()
    # a big rebuild is written by several processes (app/config.py: one per core, at most 2)
    procs = current_app.config.get("TOLLGATE_SEARCH_REINDEX_PROCS") or 1
    return WhooshBackend(current_app.config["TOLLGATE_SEARCH_DIR"], procs=int(procs))


@dataclass
class Hit:
    record_type: str
    record_id: int
    title: str
    snippet: str
    url: str
    label: str
    date: datetime | None = None
    facets: dict = field(default_factory=dict)


@dataclass
class SearchResult:
    query: str
    hits: list
    total: int
    page: int
    per_page: int
    counts: dict  # record_type -> visible hits

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))


def _snippet(doc: SearchDoc, limit=220, body=None) -> str:
    text = " ".join((doc.body if body is None else body or "").split())
    return text[:limit] + ("…" if len(text) > limit else "")


def search(
    actor: Actor,
    query,
    *,
    types=None,
    date_from=None,
    date_to=None,
    page=1,
    per_page=20,
    backend: str | None = None,
    log: bool = True,
) -> SearchResult:
    """Search the record types the actor may use; hits outside need-to-know are dropped
    before counting, so totals and facets never reveal them."""
    actor.require("search.use")
    query = " ".join(str(query or "").split())[:200]
    sources = search_sources(current_app)
    if types:
        unknown = [t for t in types if t not in sources]
        if unknown:
            raise ValidationError({"types": f"unknown record types: {', '.join(unknown)}"})
    allowed = [t for t in (types or sources) if actor.can(sources[t].permission)]
    if date_from and date_to and date_to < date_from:
        raise ValidationError({"date_to": "is before date_from"})
    page = max(1, int(page or 1))
    per_page = min(max(1, int(per_page or 20)), MAX_PER_PAGE)
    ranked = []
    if query and allowed:
        ranked = get_backend(backend).query(
            query, types=allowed, date_from=date_from, date_to=date_to, limit=MAX_HITS
        )
    by_type: dict[str, list[int]] = {}
    for record_type, record_id in ranked:
        by_type.setdefault(record_type, []).append(record_id)
    visible = set()
    for record_type, ids in by_type.items():
        if record_type in sources:
            visible.update((record_type, i) for i in sources[record_type].visible_ids(actor, ids))
    kept = [key for key in ranked if key in visible]
    counts: dict[str, int] = {}
    for record_type, _ in kept:
        counts[record_type] = counts.get(record_type, 0) + 1
    window = kept[(page - 1) * per_page : page * per_page]
    if has_request_context():
        hits = _hydrate(window, sources, actor)
    else:  # jobs and the CLI: sources build their URLs with url_for
        with current_app.test_request_context("/"):
            hits = _hydrate(window, sources, actor)
    if log and query:
        trail.record(
            actor,
            "search",
            None,
            None,
            query=query,
            details={"types": allowed, "results": len(kept)},
        )
    return SearchResult(
        query=query, hits=hits, total=len(kept), page=page, per_page=per_page, counts=counts
    )


def _hydrate(keys, sources, actor: Actor) -> list[Hit]:
    wanted: dict[str, list[int]] = {}
    for record_type, record_id in keys:
        wanted.setdefault(record_type, []).append(record_id)
    docs = {}
    for record_type, ids in wanted.items():
        for doc in sources[record_type].documents(ids):
            docs[(record_type, doc.record_id)] = doc
    hits = []
    for record_type, record_id in keys:
        doc = docs.get((record_type, record_id))
        if doc is None:
            continue  # deleted since it was indexed
        source = sources[record_type]
        hits.append(
            Hit(
                record_type,
                record_id,
                redact_names(actor, doc.title, doc.named),
                _snippet(doc, body=redact_names(actor, doc.body, doc.named)),
                source.url(record_id),
                source.label,
                doc.date,
                doc.facets,
            )
        )
    return hits


# --- index maintenance (worker, CLI, tests) ----------------------------------------------


def queue_index(record_type: str, record_id: int) -> None:
    """Queue a record for (re)indexing in the current transaction."""
    db.session.add(SearchQueueItem(record_type=record_type, record_id=int(record_id)))


def _on_index_requested(sender, record_type=None, record_id=None, **_):
    if record_type and record_id is not None:
        queue_index(record_type, record_id)


def apply_index_queue(backend: str | None = None, batch: int = QUEUE_BATCH) -> int:
    """Write queued updates to the index; returns how many records were refreshed.

    Only the worker calls this (Whoosh allows one writer); rows are removed in the same
    transaction after the index accepted them, so nothing queued is lost.
    """
    engine = get_backend(backend)
    sources = search_sources(current_app)
    done = 0
    while True:
        rows = db.session.scalars(
            select(SearchQueueItem).order_by(SearchQueueItem.id).limit(batch)
        ).all()
        if not rows:
            return done
        wanted: dict[str, set[int]] = {}
        for row in rows:
            wanted.setdefault(row.record_type, set()).add(row.record_id)
        docs, gone = [], []
        for record_type, ids in wanted.items():
            source = sources.get(record_type)
            if source is None:
                continue
            found = list(source.documents(sorted(ids)))
            docs.extend(found)
            gone.extend((record_type, i) for i in ids - {d.record_id for d in found})
        engine.upsert(docs)
        engine.delete(gone)
        db.session.execute(
            delete(SearchQueueItem).where(SearchQueueItem.id.in_([r.id for r in rows]))
        )
        db.session.commit()
        done += len(docs) + len(gone)


def reindex(backend: str | None = None, types=None, batch: int = 2000) -> dict[str, int]:
    """Rebuild the index from every search source; returns documents per record type."""
    engine = get_backend(backend)
    sources = search_sources(current_app)
    if types:
        unknown = [t for t in types if t not in sources]
        if unknown:
            raise ValidationError({"types": f"unknown record types: {', '.join(unknown)}"})
    else:
        engine.clear()
        db.session.execute(delete(SearchQueueItem))
    fresh = not types
    counts = {}
    try:
        for record_type, source in sources.items():
            if types and record_type not in types:
                continue
            counts[record_type] = 0
            chunk = []
            for doc in source.documents(None):
                chunk.append(doc)
                if len(chunk) >= batch:
                    counts[record_type] += engine.upsert(chunk, fresh=fresh)
                    chunk = []
            if chunk:
                counts[record_type] += engine.upsert(chunk, fresh=fresh)
            db.session.commit()
        engine.finish_rebuild()
        db.session.commit()
    except BaseException:
        engine.abort_rebuild()
        raise
    return counts


def queue_length() -> int:
    from sqlalchemy import func

    return db.session.scalar(select(func.count()).select_from(SearchQueueItem)) or 0
