"""Intelligence report pages: list, file, read (with grade mappings), disseminate, review."""

from flask import abort, flash, g, redirect, render_template, request, url_for

from app.core import forms
from app.core.database import valid_id
from app.core.errors import ValidationError
from app.core.pagination import paginate
from app.core.params import id_arg, id_value, whole_number
from app.core.web import permission_required
from app.intel import report_versions, reports, service
from app.intel.forms import DisseminateForm, ReportEditForm, ReportForm, ReviewForm
from app.intel.models import IntelReport
from app.intel.views import bp


def _ids(text: str) -> list[int]:
    ids = []
    for i, part in enumerate(p.strip() for p in (text or "").replace(";", ",").split(",")):
        if not part:
            continue
        if valid_id(whole_number(part)) is None:  # "²".isdigit() holds; int("²") fails
            raise ValidationError({"entity_ids": f"item {i + 1} ({part!r}) is not an entity id"})
        ids.append(int(part))
    return ids


@bp.get("/reports")
@permission_required("intel.view")
def reports_list():
    stmt = reports.report_query(g.actor).order_by(
        IntelReport.created_dt.desc(), IntelReport.id.desc()
    )
    page = paginate(stmt, request.args)
    service.record_search(
        g.actor, "report", None, page=page.page, returned=len(page.items), total=page.total
    )
    return render_template("intel/reports.html", page=page)


@bp.route("/reports/new", methods=["GET", "POST"])
@permission_required("intel.edit")
def report_new():
    form = ReportForm()
    if request.method == "GET" and (entity_id := valid_id(id_arg(request.args, "entity"))):
        form.entity_ids.data = str(entity_id)
    done = forms.submit(
        form,
        lambda f: reports.create_report(
            f.title.data,
            f.body.data,
            f.source_grade.data,
            f.intel_grade.data,
            actor=g.actor,
            handling_code=f.handling_code.data,
            handling_conditions=f.handling_conditions.data,
            sanitised_body=f.sanitised_body.data,
            review_date=f.review_date.data,
            entity_ids=_ids(f.entity_ids.data),
        ),
    )
    if done:
        report = done.value
        flash(f"Report {report.reference} filed ({report.grade}).", "info")
        return redirect(url_for("intel.report_detail", report_id=report.id))
    return render_template("intel/report_form.html", form=form)


@bp.get("/reports/<int:report_id>")
@permission_required("intel.view")
def report_detail(report_id):
    report = reports.get_report(report_id, actor=g.actor)
    return render_template(
        "intel/report.html",
        report=report,
        grade=reports.grade_view(report),
        entities=service.entities_mentioned_by("report", report.id, actor=g.actor),
        disseminations=reports.disseminations(report),
        form=_disseminate_form(report, formdata=None),
        review_form=ReviewForm(formdata=None),
        versions=report_versions.versions_of(report),
    )


@bp.route("/reports/<int:report_id>/edit", methods=["GET", "POST"])
@permission_required("intel.edit")
def report_edit(report_id):
    report = reports.get_report(report_id, actor=g.actor, log=False)
    form = ReportEditForm(obj=report) if request.method == "GET" else ReportEditForm()
    done = forms.submit(
        form,
        lambda f: report_versions.edit_report(
            report.id,
            actor=g.actor,
            reason=f.reason.data,
            title=f.title.data,
            body=f.body.data,
            source_grade=f.source_grade.data,
            intel_grade=f.intel_grade.data,
            sanitised_body=f.sanitised_body.data,
        ),
    )
    if done:
        flash(f"Report {report.reference} saved as a new version.", "info")
        return redirect(url_for("intel.report_detail", report_id=report.id))
    if done.errors and request.method == "POST":
        # the roll-back expired the report: read it again for the page
        report = reports.get_report(report_id, actor=g.actor, log=False)
    return render_template("intel/report_edit.html", form=form, report=report)


def _disseminate_form(report, **kwargs) -> DisseminateForm:
    """The form, its units being the other active units of this system."""
    from app.security.views_shares import unit_choices

    form = DisseminateForm(**kwargs)
    form.unit.choices = unit_choices(report.unit_id)
    return form


@bp.post("/reports/<int:report_id>/disseminate")
@permission_required("intel.disseminate")
def report_disseminate(report_id):
    report = reports.get_report(report_id, actor=g.actor, log=False)
    form = _disseminate_form(report)
    if not form.validate_on_submit():
        abort(400)
    done = forms.submit(
        form,
        lambda f: reports.disseminate(
            report_id,
            f.recipient.data,
            f.purpose.data,
            actor=g.actor,
            sanitised=f.version.data == "sanitised",
            unit_id=id_value(f.unit.data, "unit", strict=True) if f.unit.data else None,
            until=f.until.data,
        ),
        validate=False,
        redirecting=True,
    )
    if done:
        flash(f"Dissemination to {done.value.recipient} recorded in the access trail.", "info")
    return redirect(url_for("intel.report_detail", report_id=report_id))


@bp.get("/reports/review")
@permission_required("intel.view")
def review_queue():
    due = reports.review_queue(g.actor)
    service.record_search(g.actor, "report", "review queue", returned=len(due))
    return render_template("intel/review.html", reports=due, form=ReviewForm(formdata=None))


@bp.post("/reports/<int:report_id>/review")
@permission_required("intel.edit")
def report_review(report_id):
    form = ReviewForm()
    if not form.validate_on_submit():
        abort(400)
    if forms.submit(
        form,
        lambda f: reports.review_report(
            report_id, f.outcome.data, actor=g.actor, next_review=f.next_review.data
        ),
        validate=False,
        redirecting=True,
    ):
        flash("Review recorded.", "info")
    return redirect(
        request.form.get("back") == "queue"
        and url_for("intel.review_queue")
        or url_for("intel.report_detail", report_id=report_id)
    )
