"""The retention sources of the record types that hold personal data or intelligence: cases,
intelligence reports, registry entities, declarations and open-source articles (issue 17).

One list (``SOURCES``), registered by the operations domain's ``init_app``; each source names
its review period's setting (``TOLLGATE_RETENTION_<TYPE>_DAYS``, app/config.py), what starts
the period, and what a reviewer may do besides keeping the record (its policy):

- case: closed cases, from closing. Anonymise removes its parties (the persons and companies
  named); the seizure facts stay for statistics. Never deleted here.
- report: from its last change, or earlier at its own review date. Anonymise disposes of it
  (title, text and sanitised text removed, its entity mentions dropped; the reference stays).
  Keep moves its own review date.
- entity: from its last change. Anonymise replaces its name and removes aliases, identifiers
  and attributes; its links stay, anonymous.
- declaration: from the declaration date. Anonymise removes the trader codes and their
  registry links; items, channel and control results stay (profile statistics, ML training).
- article: from when it was collected. Delete removes it and its mentions (public text).

A record anonymised or deleted by a decision is not listed again. Each change asks the search
index to refresh the record. Sources write no trail rows: ``retention.decide`` writes one.
"""

from collections.abc import Iterable
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import String, cast, delete, or_, select

from app.core import signals
from app.extensions import db
from app.ops.models import ReviewItem
from app.ops.retention import Overdue, RetentionSource


def _days(name: str, default: int) -> int:
    return int(current_app.config.get(f"TOLLGATE_RETENTION_{name}_DAYS", default) or default)


def _not_decided(record_type: str, id_column):
    """Records not already anonymised or deleted by a review decision."""
    done = select(ReviewItem.record_id).where(
        ReviewItem.record_type == record_type,
        ReviewItem.status.in_(("anonymised", "deleted")),
    )
    return cast(id_column, String).not_in(done)


def _named(record, label: str) -> str:
    """The summary is stored for nobody in particular (the seam rule, app.security.seams):
    a handling-code-C record is described ("a restricted record of <unit>"), never named."""
    from app.security.seams import restricted_label

    return restricted_label(record) if record.handling_code == "C" else label


def _reindex(record_type: str, record_id) -> None:
    signals.search_index_requested.send(None, record_type=record_type, record_id=int(record_id))


# --- cases --------------------------------------------------------------------------------


def _cases_overdue(now: datetime, limit: int) -> Iterable[Overdue]:
    from app.cases.models import Case

    days = _days("CASE", 3650)
    stmt = (
        select(Case)
        .where(
            Case.closed_dt.is_not(None),
            Case.closed_dt < now - timedelta(days=days),
            _not_decided("case", Case.id),
        )
        .order_by(Case.closed_dt, Case.id)
        .limit(limit)
    )
    for case in db.session.scalars(stmt):
        yield Overdue(
            str(case.id),
            case.closed_dt + timedelta(days=days),
            f"{_named(case, case.reference)} · {case.kind} case closed {case.closed_dt:%Y-%m-%d} · "
            f"{len(case.parties)} parties",
        )


def _case_anonymise(record_id: str, actor) -> None:
    from app.cases.models import Case, CaseParty, JournalEntry

    case = db.session.get(Case, int(record_id))
    count = len(case.parties)
    db.session.execute(delete(CaseParty).where(CaseParty.case_id == case.id))
    db.session.add(
        JournalEntry(
            case=case,
            author_id=actor.user_id,
            author_name=actor.username,
            kind="system",
            text=f"Retention review: {count} parties removed (personal data past the "
            "retention period); the reason is in the access trail.",
        )
    )
    db.session.expire(case, ["parties"])
    _reindex("case", case.id)


# --- intelligence reports -------------------------------------------------------------------


def _reports_overdue(now: datetime, limit: int) -> Iterable[Overdue]:
    from app.intel.models import IntelReport

    period = timedelta(days=_days("REPORT", 1825))
    stmt = (
        select(IntelReport)
        .where(
            IntelReport.status != "disposed",
            or_(IntelReport.review_date < now.date(), IntelReport.updated_dt < now - period),
            _not_decided("report", IntelReport.id),
        )
        .order_by(IntelReport.id)
        .limit(limit)
    )
    for report in db.session.scalars(stmt):
        own = datetime.combine(report.review_date, datetime.min.time(), tzinfo=now.tzinfo)
        yield Overdue(
            str(report.id),
            min(own, report.updated_dt + period),
            f"{_named(report, report.reference)} · graded {report.grade} · "
            f"review date {report.review_date}",
        )


def _report_anonymise(record_id: str, actor) -> None:
    from app.intel.models import EntityMention, IntelReport

    report = db.session.get(IntelReport, int(record_id))
    report.title = f"Disposed report {report.reference}"
    report.body, report.sanitised_body, report.status = "", None, "disposed"
    db.session.execute(
        delete(EntityMention).where(
            EntityMention.record_type == "report", EntityMention.record_id == report.id
        )
    )
    _reindex("report", report.id)


def _report_review_date(record_id: str, when: datetime, actor) -> None:
    from app.intel.models import IntelReport

    db.session.get(IntelReport, int(record_id)).review_date = when.date()


# --- registry entities ------------------------------------------------------------------------


def _entities_overdue(now: datetime, limit: int) -> Iterable[Overdue]:
    from app.intel.models import Entity

    period = timedelta(days=_days("ENTITY", 1825))
    stmt = (
        select(Entity)
        .where(
            Entity.merged_into_id.is_(None),
            Entity.updated_dt < now - period,
            _not_decided("entity", Entity.id),
        )
        .order_by(Entity.updated_dt, Entity.id)
        .limit(limit)
    )
    for entity in db.session.scalars(stmt):
        yield Overdue(
            str(entity.id),
            entity.updated_dt + period,
            f"{entity.type_label} #{entity.id} · last changed {entity.updated_dt:%Y-%m-%d}",
        )


def _entity_anonymise(record_id: str, actor) -> None:
    from app.intel.models import Entity, EntityIdentifier, EntityToken

    entity = db.session.get(Entity, int(record_id))
    entity.name = f"Anonymised {entity.entity_type} {entity.id}"
    entity.aliases, entity.identifiers, entity.attributes = [], {}, {}
    entity.fingerprint = ""
    for model in (EntityIdentifier, EntityToken):
        db.session.execute(delete(model).where(model.entity_id == entity.id))
    _reindex("entity", entity.id)


# --- declarations ---------------------------------------------------------------------------

_TRADERS = ("declarant", "importer", "seller", "courier")


def _declarations_overdue(now: datetime, limit: int) -> Iterable[Overdue]:
    from app.risk.models import Declaration

    days = _days("DECLARATION", 1825)
    named = or_(*(getattr(Declaration, f"{role}_code").is_not(None) for role in _TRADERS))
    stmt = (
        select(Declaration)
        .where(
            Declaration.declaration_date < (now - timedelta(days=days)).date(),
            named,
            _not_decided("declaration", Declaration.id),
        )
        .order_by(Declaration.declaration_date, Declaration.id)
        .limit(limit)
    )
    for decl in db.session.scalars(stmt):
        start = datetime.combine(decl.declaration_date, datetime.min.time(), tzinfo=now.tzinfo)
        yield Overdue(
            str(decl.id),
            start + timedelta(days=days),
            f"{_named(decl, f'Declaration {decl.number}')} of {decl.declaration_date} "
            f"at {decl.office}",
        )


def _declaration_anonymise(record_id: str, actor) -> None:
    from app.intel.models import EntityMention
    from app.risk.models import Declaration

    decl = db.session.get(Declaration, int(record_id))
    for role in _TRADERS:
        setattr(decl, f"{role}_code", None)
        setattr(decl, f"{role}_entity_id", None)
    db.session.execute(
        delete(EntityMention).where(
            EntityMention.record_type == "declaration", EntityMention.record_id == decl.id
        )
    )
    _reindex("declaration", decl.id)


# --- open-source articles -----------------------------------------------------------------


def _articles_overdue(now: datetime, limit: int) -> Iterable[Overdue]:
    from app.textmining.models import Article

    period = timedelta(days=_days("ARTICLE", 365))
    stmt = (
        select(Article)
        .where(Article.created_dt < now - period, _not_decided("article", Article.id))
        .order_by(Article.created_dt, Article.id)
        .limit(limit)
    )
    for article in db.session.scalars(stmt):
        yield Overdue(
            str(article.id),
            article.created_dt + period,
            f"Article #{article.id} collected {article.created_dt:%Y-%m-%d}: {article.title}",
        )


def _article_delete(record_id: str, actor) -> None:
    from app.textmining.models import Article

    db.session.delete(db.session.get(Article, int(record_id)))
    _reindex("article", record_id)


#: (record type, label, setting, default days, what starts the period, functions, policy)
SOURCES = (
    (
        "case",
        "Cases",
        "CASE",
        3650,
        "after closing",
        {"list_overdue": _cases_overdue, "anonymise": _case_anonymise},
        "Anonymise removes the parties (persons and companies named); the seizure facts stay "
        "for statistics. Cases are not deleted here.",
    ),
    (
        "report",
        "Intelligence reports",
        "REPORT",
        1825,
        "after the last change, or at the report's own review date",
        {
            "list_overdue": _reports_overdue,
            "anonymise": _report_anonymise,
            "set_review_date": _report_review_date,
        },
        "Anonymise disposes of the report: title, text and sanitised text removed, entity "
        "mentions dropped, the reference kept. Keep sets the report's own review date.",
    ),
    (
        "entity",
        "Registry entities",
        "ENTITY",
        1825,
        "after the last change",
        {"list_overdue": _entities_overdue, "anonymise": _entity_anonymise},
        "Anonymise replaces the name and removes aliases, identifiers and attributes; its "
        "links and case roles stay, anonymous.",
    ),
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
    (
        "article",
        "Open-source articles",
        "ARTICLE",
        365,
        "after it was collected",
        {"list_overdue": _articles_overdue, "delete": _article_delete},
        "Delete removes the article and its mentions (public text, kept only while useful).",
    ),
)


def register(app) -> None:
    """Register every source of ``SOURCES`` with its period from the configuration."""
    from app.ops.retention import add_retention_source

    for record_type, label, setting, default, start, functions, policy in SOURCES:
        days = int(app.config.get(f"TOLLGATE_RETENTION_{setting}_DAYS", default) or default)
        add_retention_source(
            app,
            RetentionSource(
                record_type=record_type,
                label=label,
                policy=f"Reviewed {days} days {start} (TOLLGATE_RETENTION_{setting}_DAYS). "
                + policy,
                **functions,
            ),
        )
