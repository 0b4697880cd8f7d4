"""Retention review of intelligence reports and registry entities (app.core.retention).

- report: from its last change, or earlier at its own review date. Anonymise disposes of it
  (title, text and sanitised text removed, its entity mentions dropped; the reference stays).
  Keep moves its own review date.
- entity: from its last change. Anonymise replaces its name and removes aliases, identifiers
  and attributes; its links stay, anonymous.

``forget_mentions`` is for other domains' sources (a declaration's trader links).
Sources write no trail rows: ``ops.retention.decide`` does."""

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import delete, or_

from app.core.retention import Overdue, RetentionSource, overdue, period, reindex, stored_name
from app.extensions import db


def _reports_overdue(now: datetime, limit: int) -> Iterable[Overdue]:
    from app.intel.models import IntelReport

    days = period("REPORT")
    due = or_(IntelReport.review_date < now.date(), IntelReport.updated_dt < now - days)
    live = IntelReport.status != "disposed"
    order = (IntelReport.id,)
    for report in overdue(IntelReport, "report", live, due, order_by=order, limit=limit):
        own = datetime.combine(report.review_date, datetime.min.time(), tzinfo=now.tzinfo)
        yield Overdue(
            str(report.id),
            min(own, report.updated_dt + days),
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

    days = period("ENTITY")
    live = (Entity.merged_into_id.is_(None), Entity.updated_dt < now - days)
    order = (Entity.updated_dt, Entity.id)
    for entity in overdue(Entity, "entity", *live, order_by=order, limit=limit):
        yield Overdue(
            str(entity.id),
            entity.updated_dt + days,
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


SOURCES = (
    RetentionSource(
        "report",
        "Intelligence reports",
        _reports_overdue,
        anonymise=_report_anonymise,
        set_review_date=_report_review_date,
        setting="REPORT",
        starts="after the last change, or at the report's own review date",
        order=20,
        policy="Anonymise disposes of the report: title, text and sanitised text removed, "
        "entity mentions dropped, the reference kept. Keep sets the report's own review date.",
    ),
    RetentionSource(
        "entity",
        "Registry entities",
        _entities_overdue,
        anonymise=_entity_anonymise,
        setting="ENTITY",
        starts="after the last change",
        order=30,
        policy="Anonymise replaces the name and removes aliases, identifiers and attributes; "
        "its links and case roles stay, anonymous.",
    ),
)
