"""Case statistics: the figures, each linked to the case list behind it (the list's own
filters, so need-to-know applies as everywhere), and the CSV export with a justification."""

from flask import flash, g, redirect, render_template, request, url_for

from app.cases import catalog, fields, stats
from app.cases.forms import ExportForm
from app.cases.views import bp
from app.core import forms
from app.core.errors import ValidationError
from app.core.exports import csv_response
from app.core.web import permission_required


def _months() -> int:
    try:
        return fields.integer(request.args.get("months"), "months", minimum=1, maximum=120) or 12
    except ValidationError as exc:
        forms.flash_errors(exc, label=forms.spaced)
        return 12


@bp.get("/statistics")
@permission_required("case.stats")
def statistics():
    months = _months()
    data = stats.case_statistics(g.actor, months=months)
    return render_template(
        "cases/statistics.html",
        s=data,
        months=months,
        catalog=catalog,
        export_form=ExportForm(),
    )


@bp.post("/statistics/export")
@permission_required("case.stats")
def export_statistics():
    """The figures of the page as CSV: counts and sums only, no case named; trailed with the
    justification (refused without)."""
    months = _months()
    form = ExportForm()
    if not form.validate_on_submit():
        flash("A justification is required to export the statistics.", "error")
        return redirect(url_for("cases.statistics", months=months))
    data = stats.case_statistics(g.actor, months=months)
    rows = stats.export_rows(g.actor, data, form.justification.data)
    return csv_response(f"case-statistics-{months}m.csv", stats.EXPORT_HEADER, rows)
