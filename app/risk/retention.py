"""Retention review of declarations (app.core.retention): from the declaration date.
Anonymise removes the trader codes and their registry links (through the intelligence
service) and the named parties (and their names in the stored screening); items, channel
and control results stay (profile statistics, ML training).
Sources write no trail rows: ``ops.retention.decide`` does."""

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import or_

from app.core.retention import Overdue, RetentionSource, overdue, period, reindex, stored_name
from app.extensions import db

_TRADERS = ("declarant", "importer", "seller", "courier")


def _declarations_overdue(now: datetime, limit: int) -> Iterable[Overdue]:
    from app.risk.models import Declaration

    days = period("DECLARATION")
    named = or_(*(getattr(Declaration, f"{role}_code").is_not(None) for role in _TRADERS))
    old = Declaration.declaration_date < (now - days).date()
    order = (Declaration.declaration_date, Declaration.id)
    for decl in overdue(Declaration, "declaration", old, named, order_by=order, limit=limit):
        start = datetime.combine(decl.declaration_date, datetime.min.time(), tzinfo=now.tzinfo)
        yield Overdue(
            str(decl.id),
            start + days,
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


SOURCES = (
    RetentionSource(
        "declaration",
        "Declarations",
        _declarations_overdue,
        anonymise=_declaration_anonymise,
        setting="DECLARATION",
        starts="after the declaration date",
        order=40,
        policy="Anonymise removes the trader codes and their registry links; items, channel and "
        "control results stay for profile statistics and ML training.",
    ),
)
