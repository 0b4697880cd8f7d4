"""Intelligence reports: 3x5x2 grading, sanitised versions, dissemination, review."""

from datetime import date, timedelta

from sqlalchemy import func, select

from app.core.errors import ValidationError
from app.core.time import now_utc, today_utc
from app.extensions import db
from app.intel import grading, service
from app.intel.models import IntelReport, ReportDissemination
from app.security import trail
from app.security.access import Actor, get_for, visible_clause

#: reports are reviewed (retained or disposed of) at least this often (LED Art. 5)
DEFAULT_REVIEW_DAYS = 365
MAX_REVIEW_DAYS = 3 * 365


def _next_reference() -> str:
    year = now_utc().year
    prefix = f"IR-{year}-"
    last = db.session.scalar(
        select(func.max(IntelReport.reference)).where(IntelReport.reference.like(f"{prefix}%"))
    )
    number = int(last.rsplit("-", 1)[1]) + 1 if last else 1
    return f"{prefix}{number:06d}"


def _check_review_date(value, field="review_date") -> date:
    if value in (None, ""):
        return today_utc() + timedelta(days=DEFAULT_REVIEW_DAYS)
    if not isinstance(value, date):
        try:
            value = date.fromisoformat(str(value))
        except ValueError:
            raise ValidationError({field: "must be a date (YYYY-MM-DD)"}) from None
    if value <= today_utc():
        raise ValidationError({field: "must be in the future"})
    if value > today_utc() + timedelta(days=MAX_REVIEW_DAYS):
        raise ValidationError({field: f"at most {MAX_REVIEW_DAYS // 365} years ahead"})
    return value


def create_report(
    title,
    body,
    source_grade,
    intel_grade,
    *,
    actor: Actor,
    handling_code="C",
    handling_conditions=None,
    sanitised_body=None,
    review_date=None,
    entity_ids=(),
    links=(),
) -> IntelReport:
    """File a graded report, note the entities it names and the links it asserts.

    ``links``: dicts with source_id, target_id, link_type (optional start_date, end_date);
    they are graded with the report's grade and carry the report as provenance.
    """
    actor.require("intel.edit")
    errors = {}
    title = " ".join(str(title or "").split())
    if not title:
        errors["title"] = "is required"
    if not str(body or "").strip():
        errors["body"] = "is required"
    try:
        source_grade, intel_grade = grading.check_grade(source_grade, intel_grade)
    except ValidationError as exc:
        errors.update(exc.fields)
    if handling_code not in ("P", "C"):
        errors["handling_code"] = "must be P or C"
    if actor.unit_id is None:
        errors["unit"] = "reports belong to a unit; this account has none"
    if errors:
        raise ValidationError(errors)
    report = IntelReport(
        reference=_next_reference(),
        title=title[:300],
        body=str(body).strip(),
        source_grade=source_grade,
        intel_grade=intel_grade,
        handling_code=handling_code,
        handling_conditions=handling_conditions or None,
        sanitised_body=(sanitised_body or "").strip() or None,
        review_date=_check_review_date(review_date),
        unit_id=actor.unit_id,
        created_by_id=actor.user_id,
    )
    db.session.add(report)
    db.session.flush()
    trail.record(actor, "create", "report", report.id)
    for i, entity_id in enumerate(entity_ids or ()):
        try:
            service.get_entity(int(entity_id), actor=actor, log=False)
        except Exception:
            raise ValidationError({f"entity_ids[{i}]": "no such entity"}) from None
        service.record_mention(int(entity_id), "report", report.id, "subject", actor=actor)
    for i, spec in enumerate(links or ()):
        try:
            service.add_link(
                spec.get("source_id"),
                spec.get("target_id"),
                spec.get("link_type"),
                actor=actor,
                provenance_type="report",
                provenance_id=report.id,
                start_date=spec.get("start_date"),
                end_date=spec.get("end_date"),
                grade=source_grade + intel_grade,
                handling_code=handling_code,
            )
        except ValidationError as exc:
            raise ValidationError({f"links[{i}].{k}": v for k, v in exc.fields.items()}) from None
    service.request_index("report", report.id)
    return report


def get_report(report_id, *, actor: Actor, log=True) -> IntelReport:
    return get_for(actor, IntelReport, report_id, permission="intel.view", log=log)


def report_query(actor: Actor):
    actor.require("intel.view")
    return select(IntelReport).where(visible_clause(actor, IntelReport))


def disseminate(
    report_id, recipient, purpose, *, actor: Actor, sanitised=True, unit_id=None, until=None
):
    """Release a report to a recipient; recorded as a disclosure with its purpose.

    Disseminated to a unit of this system (``unit_id``), the report is shared with it until
    ``until`` (``app.security.shares``): that unit can then open it. Such a release is of the
    full report (a share opens the record itself); a sanitised version goes to recipients
    outside the system."""
    actor.require("intel.disseminate")
    report = get_report(report_id, actor=actor, log=False)
    if unit_id is not None:
        return _disseminate_to_unit(report, unit_id, recipient, purpose, actor, sanitised, until)
    errors = {}
    recipient = " ".join(str(recipient or "").split())
    if not recipient:
        errors["recipient"] = "is required"
    if not str(purpose or "").strip():
        errors["purpose"] = "say why the recipient needs it"
    if sanitised and not report.sanitised_body:
        errors["version"] = "this report has no sanitised version yet"
    if report.status == "disposed":
        errors["report"] = "a disposed report cannot be disseminated"
    if errors:
        raise ValidationError(errors)
    row = ReportDissemination(
        report_id=report.id,
        recipient=recipient[:200],
        purpose=str(purpose).strip(),
        is_sanitised=bool(sanitised),
        created_by_id=actor.user_id,
    )
    db.session.add(row)
    db.session.flush()
    trail.record(
        actor,
        "disclose",
        "report",
        report.id,
        justification=str(purpose).strip(),
        details={"recipient": recipient, "version": "sanitised" if sanitised else "full"},
    )
    return row


def _disseminate_to_unit(report, unit_id, recipient, purpose, actor, sanitised, until):
    """A dissemination that is a share: the row, the share and one disclosure trail row."""
    from app.security import shares
    from app.security.models import Unit

    errors = {}
    if sanitised:
        errors["version"] = (
            "a unit of this system receives the full report (a share opens the record); "
            "send the sanitised version to recipients outside the system"
        )
    if report.status == "disposed":
        errors["report"] = "a disposed report cannot be disseminated"
    if not str(purpose or "").strip():
        errors["purpose"] = "say why the recipient needs it"
    unit = db.session.get(Unit, unit_id)
    if unit is None:
        errors["unit"] = "no such unit"
    if errors:
        raise ValidationError(errors)
    recipient = " ".join(str(recipient or "").split()) or f"{unit.code} · {unit.name}"
    row = ReportDissemination(
        report_id=report.id,
        recipient=recipient[:200],
        purpose=str(purpose).strip(),
        is_sanitised=False,
        created_by_id=actor.user_id,
    )
    db.session.add(row)
    db.session.flush()
    shares.create_share(
        "report",
        report.id,
        actor=actor,
        reason=purpose,
        expires=until,
        unit_id=unit.id,
        trail_details={"recipient": recipient, "version": "full", "dissemination_id": row.id},
    )
    return row


def disseminations(report: IntelReport) -> list[ReportDissemination]:
    return list(
        db.session.scalars(
            select(ReportDissemination)
            .where(ReportDissemination.report_id == report.id)
            .order_by(ReportDissemination.id)
        )
    )


def review_queue(actor: Actor, today: date | None = None) -> list[IntelReport]:
    """Reports past their review date that the actor may see."""
    today = today or today_utc()
    return list(
        db.session.scalars(
            report_query(actor)
            .where(
                IntelReport.review_date <= today,
                IntelReport.status != "disposed",
            )
            .order_by(IntelReport.review_date, IntelReport.id)
        )
    )


def review_report(report_id, outcome, *, actor: Actor, next_review=None) -> IntelReport:
    """Retain (with a new review date) or dispose of a report (its text is erased)."""
    actor.require("intel.edit")
    report = get_report(report_id, actor=actor, log=False)
    if report.status == "disposed":
        raise ValidationError({"outcome": "the report was already disposed of"})
    if outcome == "retain":
        if not next_review:
            raise ValidationError({"next_review": "is required to retain a report"})
        report.review_date = _check_review_date(next_review, "next_review")
        report.status = "reviewed"
        action = "update"
    elif outcome == "dispose":
        report.body = ""
        report.sanitised_body = None
        report.status = "disposed"
        action = "delete"
    else:
        raise ValidationError({"outcome": "must be retain or dispose"})
    report.reviewed_dt = now_utc()
    db.session.flush()
    trail.record(actor, action, "report", report.id, details={"review": outcome})
    service.request_index("report", report.id)
    return report


def grade_view(report: IntelReport) -> dict:
    """The 3x5x2 grade with the legacy equivalents shown beside it."""
    return {
        "grade": report.grade,
        "source": grading.SOURCE_GRADES[report.source_grade],
        "intel": grading.INTEL_GRADES[report.intel_grade],
        "5x5x5": grading.to_5x5x5(report.source_grade, report.intel_grade),
        "admiralty": grading.to_admiralty(report.source_grade, report.intel_grade),
    }
