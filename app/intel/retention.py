"""Retention review of intelligence reports and registry entities (app.core.retention).

- report: from its last change, or earlier at its own review date. Anonymise disposes of it
  (title, text and sanitised text removed, its entity mentions dropped; the reference stays).
  Keep moves its own review date.
- entity: from its last change. Anonymise replaces its name and removes aliases, identifiers
  and attributes; its links stay, anonymous.

``forget_mentions`` is for other domains' sources (a declaration's trader links).
Sources write no trail rows: ``ops.retention.decide`` does."""

from collections.abc import Iterable
from datetime import datetime, timedelta

from sqlalchemy import delete, or_, select

from app.core.retention import (
    Overdue,
    not_decided,
    period_days,
    register_sources,
    reindex,
    stored_name,
)
from app.extensions import db


def _reports_overdue(now: datetime, limit: int) -> Iterable[Overdue]:
    from app.intel.models import IntelReport

    period = timedelta(days=period_days("REPORT", 1825))
    stmt = (
        select(IntelReport)
        .where(
            IntelReport.status != "disposed",
            or_(IntelReport.review_date < now.date(), IntelReport.updated_dt < now - period),
            not_decided("report", IntelReport.id),
        )
        .order_by(IntelReport.id)
        .limit(limit)
    )
    for report in db.session.scalars(stmt):
        own = datetime.combine(report.review_date, datetime.min.time(), tzinfo=now.tzinfo)
        yield Overdue(
            str(report.id),
            min(own, report.updated_dt + period),
            f"{stored_name(report, report.reference)} · graded {report.grade} · "
            f"review date {report.review_date}",
        )


def _report_anonymise(record_id: str, actor) -> None:
    from app.intel.models import IntelReport

    report = db.session.get(IntelReport, int(record_id))
    report.title = f"Disposed report {report.reference}"
    report.body, report.sanitised_body, report.status = "", None, "disposed"
    forget_mentions("report", report.id)
    reindex("report", report.id)


def _report_review_date(record_id: str, when: datetime, actor) -> None:
    from app.intel.models import IntelReport

    db.session.get(IntelReport, int(record_id)).review_date = when.date()


def _entities_overdue(now: datetime, limit: int) -> Iterable[Overdue]:
    from app.intel.models import Entity

    period = timedelta(days=period_days("ENTITY", 1825))
    stmt = (
        select(Entity)
        .where(
            Entity.merged_into_id.is_(None),
            Entity.updated_dt < now - period,
            not_decided("entity", Entity.id),
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
    reindex("entity", entity.id)


def forget_mentions(record_type: str, record_id: int) -> None:
    """Drop the registry links of a record being anonymised (flush-time delete, no trail:
    the retention decision is the trail row)."""
    from app.intel.models import EntityMention

    db.session.execute(
        delete(EntityMention).where(
            EntityMention.record_type == record_type, EntityMention.record_id == record_id
        )
    )


#: (record type, label, setting, default days, what starts the period, functions, policy)
SOURCES = (
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
)


def register(app) -> None:
    register_sources(app, SOURCES)
