"""Case statistics: the figures, their drill-down to the cases behind each, and the CSV
export with a justification."""

from flask import g, render_template, request

from app.cases import catalog
from app.cases.views import _flash_errors, bp
from app.core.errors import ValidationError
from app.core.web import permission_required

# --- statistics ------------------------------------------------------------------------


@bp.get("/statistics")
@permission_required("case.stats")
def statistics():
    from app.cases import fields
    from app.cases.stats import case_statistics

    try:
        months = fields.integer(request.args.get("months"), "months", minimum=1, maximum=120) or 12
    except ValidationError as exc:
        _flash_errors(exc)
        months = 12
    data = case_statistics(g.actor, months=months)
    return render_template("cases/statistics.html", s=data, months=months, catalog=catalog)
