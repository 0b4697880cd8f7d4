"""Retention review of declarations (app.core.retention): from the declaration date.
Anonymise removes the trader codes and their registry links (through the intelligence
service) and the named parties (and their names in the stored screening); items, channel
and control results stay (profile statistics, ML training).
Sources write no trail rows: ``ops.retention.decide`` does."""

from collections.abc import Iterable
from datetime import datetime, timedelta

from sqlalchemy import or_, select

from app.core.retention import (
    Overdue,
    not_decided,
    period_days,
    register_sources,
    reindex,
    stored_name,
)
from app.extensions import db

_TRADERS = ("declarant", "importer", "seller", "courier")


def _declarations_overdue(now: datetime, limit: int) -> Iterable[Overdue]:
    from app.risk.models import Declaration

    days = period_days("DECLARATION", 1825)
    named = or_(*(getattr(Declaration, f"{role}_code").is_not(None) for role in _TRADERS))
    stmt = (
        select(Declaration)
        .where(
            Declaration.declaration_date < (now - timedelta(days=days)).date(),
            named,
            not_decided("declaration", Declaration.id),
        )
        .order_by(Declaration.declaration_date, Declaration.id)
        .limit(limit)
    )
    for decl in db.session.scalars(stmt):
        start = datetime.combine(decl.declaration_date, datetime.min.time(), tzinfo=now.tzinfo)
        yield Overdue(
            str(decl.id),
            start + timedelta(days=days),
            f"{stored_name(decl, f'Declaration {decl.number}')} of {decl.declaration_date} "
            f"at {decl.office}",
        )


def _declaration_anonymise(record_id: str, actor) -> None:
    from app.intel.retention import forget_mentions
    from app.risk.models import Declaration

    decl = db.session.get(Declaration, int(record_id))
    for role in _TRADERS:
        setattr(decl, f"{role}_code", None)
        setattr(decl, f"{role}_entity_id", None)
    # the named parties (persons and companies, issue 20) and what the screening kept of them
    decl.named_parties = []
    screening = (decl.assessment or {}).get("screening")
    if screening:
        matches = [{**m, "party": None} for m in screening.get("matches") or ()]
        decl.assessment = {**decl.assessment, "screening": {**screening, "matches": matches}}
    forget_mentions("declaration", decl.id)
    reindex("declaration", decl.id)


#: (record type, label, setting, default days, what starts the period, functions, policy)
SOURCES = (
    (
        "declaration",
        "Declarations",
        "DECLARATION",
        1825,
        "after the declaration date",
        {"list_overdue": _declarations_overdue, "anonymise": _declaration_anonymise},
        "Anonymise removes the trader codes and their registry links; items, channel and "
        "control results stay for profile statistics and ML training.",
    ),
)


def register(app) -> None:
    register_sources(app, SOURCES)
