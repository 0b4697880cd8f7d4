"""Targeting KPIs: the page, each figure linked to the declarations behind it (the
declaration list's own filters, so need-to-know applies as there), and the CSV export with
a justification, trailed."""

from datetime import date

from flask import flash, g, redirect, render_template, request, url_for
from flask_wtf import FlaskForm
from wtforms import StringField
from wtforms.validators import DataRequired, Length

from app.core.exports import csv_response
from app.core.web import permission_required
from app.risk import kpis
from app.risk.models import CHANNELS
from app.risk.views import bp


class KpiExportForm(FlaskForm):
    justification = StringField(
        "Justification (recorded in the access trail)",
        validators=[DataRequired(), Length(max=1000)],
    )


def _period():
    def _date(key):
        try:
            return date.fromisoformat(request.args.get(key, ""))
        except ValueError:
            return None

    granularity = request.args.get("by", "week")
    if granularity not in ("day", "week", "month"):
        granularity = "week"
    return _date("since"), _date("until"), granularity


@bp.get("/kpis")
@permission_required("risk.profile.view")
def kpis_page():
    since, until, granularity = _period()
    data = kpis.targeting_kpis(g.actor, since, until, granularity)
    peak = max((p["declarations"] for p in data["periods"]), default=0)
    return render_template(
        "risk/kpis.html",
        k=data,
        peak=peak,
        channels=CHANNELS,
        export_form=KpiExportForm(),
        can_list=g.actor.can("risk.declaration.view"),
    )


@bp.post("/kpis/export")
@permission_required("risk.profile.view")
def export_kpis():
    """The KPIs of the page as CSV: figures only, no declaration named; trailed with the
    justification (refused without)."""
    since, until, granularity = _period()
    form = KpiExportForm()
    if not form.validate_on_submit():
        flash("A justification is required to export the KPIs.", "error")
        return redirect(url_for("risk.kpis_page", **request.args))
    data = kpis.targeting_kpis(g.actor, since, until, granularity)
    rows = kpis.export_rows(g.actor, data, form.justification.data)
    name = f"targeting-kpis-{data['since']}-{data['until']}.csv"
    return csv_response(name, kpis.EXPORT_HEADER, rows)
