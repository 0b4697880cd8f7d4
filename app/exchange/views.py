"""Pages' exports: an entity's neighbourhood or a chart as FtM (and a report as STIX): a
form with a justification (CSRF), answered with the file."""

from flask import Blueprint, g, request

from app.core.errors import ValidationError
from app.core.params import id_list
from app.core.web import permission_required
from app.exchange.http import STIX_MIMETYPE, download, ftm_file

bp = Blueprint("exchange", __name__, url_prefix="/exchange")


@bp.post("/entities/<int:entity_id>/ftm")
@permission_required("entity.view")
def entity_ftm(entity_id):
    from app.exchange import ftm_export  # followthemoney loads on first use, not at start

    out = ftm_export.export_neighbourhood(
        entity_id, actor=g.actor, justification=request.form.get("justification", "")
    )
    return ftm_file(out, f"tollgate-entity-{entity_id}.ftm.jsonl")


@bp.post("/chart/ftm")
@permission_required("entity.view")
def chart_ftm():
    from app.exchange import ftm_export

    raw = request.form.get("nodes", "")
    ids = id_list([v.strip().lstrip("e") for v in raw.split(",")], "nodes", strict=True)
    if not ids:
        raise ValidationError({"nodes": "the chart is empty"})
    out = ftm_export.export(
        ids, actor=g.actor, justification=request.form.get("justification", ""), what="chart"
    )
    return ftm_file(out, "tollgate-chart.ftm.jsonl")


@bp.post("/reports/<int:report_id>/stix")
@permission_required("intel.view")
def report_stix(report_id):
    from app.exchange import stix  # stix2 loads on first use, not at start

    out = stix.export_report(
        report_id, actor=g.actor, justification=request.form.get("justification", "")
    )
    return download(out.body, STIX_MIMETYPE, f"tollgate-report-{report_id}.stix.json")
