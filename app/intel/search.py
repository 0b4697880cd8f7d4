"""What the intelligence domain offers to search: entities and intelligence reports."""

from flask import url_for
from sqlalchemy import select

from app.extensions import db
from app.intel.models import Entity, IntelReport
from app.search.registry import SearchDoc, SearchSource, add_search_source
from app.security.access import visible_clause

BATCH = 1000


def _chunks(ids):
    ids = list(ids)
    for start in range(0, len(ids), BATCH):
        yield ids[start : start + BATCH]


def entity_documents(ids):
    def docs_for(stmt):
        for e in db.session.scalars(stmt.execution_options(yield_per=BATCH)):
            idents = [str(v) for v in (e.identifiers or {}).values()]
            attrs = " ".join(f"{k} {v}" for k, v in (e.attributes or {}).items())
            yield SearchDoc(
                record_type="entity",
                record_id=e.id,
                title=e.name,
                body=" ".join([e.type_label, *(e.aliases or []), *idents, attrs]),
                names=[e.name, *(e.aliases or []), *idents],
                date=e.created_dt,
                unit_id=e.unit_id,
                handling_code=e.handling_code,
                facets={"entity_type": e.entity_type},
            )

    base = select(Entity).where(Entity.merged_into_id.is_(None))
    if ids is None:
        yield from docs_for(base.order_by(Entity.id))
        return
    for chunk in _chunks(ids):
        yield from docs_for(base.where(Entity.id.in_(chunk)))


def entity_visible_ids(actor, ids):
    out = []
    for chunk in _chunks(ids):
        out += db.session.scalars(
            select(Entity.id).where(
                Entity.id.in_(chunk), Entity.merged_into_id.is_(None), visible_clause(actor, Entity)
            )
        )
    return out


def report_documents(ids):
    def docs_for(stmt):
        for r in db.session.scalars(stmt.execution_options(yield_per=BATCH)):
            yield SearchDoc(
                record_type="report",
                record_id=r.id,
                title=f"{r.reference} {r.title}",
                body=r.body or "",
                names=[r.reference],
                date=r.created_dt,
                unit_id=r.unit_id,
                handling_code=r.handling_code,
                facets={"grade": r.grade, "status": r.status},
            )

    base = select(IntelReport).where(IntelReport.status != "disposed")
    if ids is None:
        yield from docs_for(base.order_by(IntelReport.id))
        return
    for chunk in _chunks(ids):
        yield from docs_for(base.where(IntelReport.id.in_(chunk)))


def report_visible_ids(actor, ids):
    out = []
    for chunk in _chunks(ids):
        out += db.session.scalars(
            select(IntelReport.id).where(
                IntelReport.id.in_(chunk),
                IntelReport.status != "disposed",
                visible_clause(actor, IntelReport),
            )
        )
    return out


def register(app):
    add_search_source(
        app,
        SearchSource(
            record_type="entity",
            label="Entities",
            permission="entity.view",
            documents=entity_documents,
            visible_ids=entity_visible_ids,
            url=lambda i: url_for("intel.entity_detail", entity_id=i),
        ),
    )
    add_search_source(
        app,
        SearchSource(
            record_type="report",
            label="Intelligence reports",
            permission="intel.view",
            documents=report_documents,
            visible_ids=report_visible_ids,
            url=lambda i: url_for("intel.report_detail", report_id=i),
        ),
    )
