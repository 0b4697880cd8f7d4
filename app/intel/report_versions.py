"""Editing a filed intelligence report: the reading before each edit is kept as a
ReportVersion (corrections are new versions, never overwrites), with a reason; trailed.

A report disposed of (at review, or by the retention review) loses its text: its earlier
versions are erased in the same flush (``_erase_versions_of_disposed``), whoever disposes."""

from sqlalchemy import delete, event, func, select
from sqlalchemy.orm import Session

from app.core.database import lock_rows
from app.core.errors import ValidationError
from app.extensions import db
from app.intel import grading, service
from app.intel.models import IntelReport, ReportVersion
from app.security import trail
from app.security.access import Actor, get_for


@event.listens_for(Session, "before_flush")
def _erase_versions_of_disposed(session, flush_context, instances):
    disposed = [
        r.id
        for r in session.dirty
        if isinstance(r, IntelReport) and r.status == "disposed" and r.id is not None
    ]
    if disposed:
        session.execute(delete(ReportVersion).where(ReportVersion.report_id.in_(disposed)))


def versions_of(report: IntelReport) -> list[ReportVersion]:
    return list(
        db.session.scalars(
            select(ReportVersion)
            .where(ReportVersion.report_id == report.id)
            .order_by(ReportVersion.version)
        )
    )


def _checked(report, reason, title, body, source_grade, intel_grade, sanitised_body):
    errors = {}
    reason = " ".join(str(reason or "").split())
    title = " ".join(str(title or "").split())
    body = str(body or "").strip()
    if report.status == "disposed":
        errors["status"] = "a report disposed of is not edited"
    if not reason:
        errors["reason"] = "say why the report changes"
    if not title:
        errors["title"] = "is required"
    if not body:
        errors["body"] = "is required"
    try:
        source_grade, intel_grade = grading.check_grade(source_grade, intel_grade)
    except ValidationError as exc:
        errors.update(exc.fields)
    if errors:
        raise ValidationError(errors)
    sanitised = (sanitised_body or "").strip() or None
    return reason, (title[:300], body, source_grade, intel_grade, sanitised)


def edit_report(
    report_id,
    *,
    actor: Actor,
    reason,
    title,
    body,
    source_grade,
    intel_grade,
    sanitised_body=None,
) -> IntelReport:
    """A new version of a report the actor may open and edit (not one disposed of)."""
    actor.require("intel.edit")
    report = get_for(actor, IntelReport, report_id, permission="intel.edit", log=False)
    lock_rows(IntelReport, report.id)
    reason, after = _checked(report, reason, title, body, source_grade, intel_grade, sanitised_body)
    fields = ("title", "body", "source_grade", "intel_grade", "sanitised_body")
    before = tuple(getattr(report, f) for f in fields)
    if after == before:
        raise ValidationError({"reason": "nothing changes: the report already reads so"})
    number = db.session.scalar(
        select(func.count()).select_from(ReportVersion).where(ReportVersion.report_id == report.id)
    )
    db.session.add(
        ReportVersion(
            report_id=report.id,
            version=number + 1,
            reason=reason[:2000],
            changed_by_id=actor.user_id,
            **dict(zip(fields, before, strict=True)),
        )
    )
    for name, value in zip(fields, after, strict=True):
        setattr(report, name, value)
    db.session.flush()
    trail.record(actor, "update", "report", report.id, details={"version": number + 2})
    service.request_index("report", report.id)
    return report
