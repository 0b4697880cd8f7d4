"""Declarations as a search source (app.search)."""

from datetime import UTC, datetime

from flask import url_for
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from app.extensions import db
from app.risk.models import Declaration
from app.search.registry import SearchDoc, SearchSource
from app.security.access import visible_clause


def declaration_documents(ids=None):
    # the items per batch, not one query per declaration (a rebuild reads them all)
    stmt = select(Declaration).options(selectinload(Declaration.items)).order_by(Declaration.id)
    if ids is not None:
        stmt = stmt.where(Declaration.id.in_(list(ids)))
    for decl in db.session.scalars(stmt.execution_options(yield_per=500)):
        items = decl.items
        parties = [code for _role, code, _ in decl.parties() if code]
        body = "; ".join(
            " ".join(
                filter(None, [i.hs_code, i.description, i.origin_country, i.departure_country])
            )
            for i in items
        )
        yield SearchDoc(
            record_type="declaration",
            record_id=decl.id,
            title=f"Declaration {decl.number} · office {decl.office} · {decl.channel or 'new'}",
            body=f"{body}. Parties: {', '.join(parties)}",
            names=[decl.number, *parties],
            date=datetime.combine(decl.declaration_date, datetime.min.time(), tzinfo=UTC),
            unit_id=decl.unit_id,
            handling_code=decl.handling_code,
            facets={"channel": decl.channel or "", "office": decl.office},
        )


def declaration_visible_ids(actor, ids):
    if not ids:
        return set()
    stmt = select(Declaration.id).where(
        Declaration.id.in_(list(ids)), visible_clause(actor, Declaration)
    )
    return set(db.session.scalars(stmt))


SOURCE = SearchSource(
    record_type="declaration",
    label="Declarations",
    permission="risk.declaration.view",
    documents=declaration_documents,
    visible_ids=declaration_visible_ids,
    url=lambda i: url_for("risk.declaration_detail", declaration_id=i),
)
