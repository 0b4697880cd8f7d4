"""Case pages added for issue 19: correcting a decision, the case file and the referral as
PDF, the map of seizures. Routes live on the cases blueprint; rules are in the services
(offences, casefile, seizure_map)."""

from urllib.parse import urlsplit

from flask import (
    current_app,
    flash,
    g,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from sqlalchemy import select

from app.cases import casefile, catalog, locales, offences, places, queries, service
from app.cases import seizure_map as seizure_map_data
from app.cases.forms import CorrectDecisionForm, PrintForm
from app.cases.views import bp
from app.cases.views_actions import _act
from app.core import forms
from app.core.errors import ValidationError
from app.core.web import CSP, permission_required
from app.extensions import db
from app.security import trail
from app.security.models import Unit


@bp.post("/<int:case_id>/decision/correct")
@permission_required("case.decision.correct")
def correct_decision(case_id):
    form = CorrectDecisionForm()
    amounts = {"evaded_duties": form.evaded_duties.data, "penalty": form.penalty.data}
    return _act(
        case_id,
        form,
        lambda: offences.correct_decision(
            case_id,
            actor=g.actor,
            reason=form.reason.data,
            legal_provision=form.legal_provision.data,
            decision_text=form.decision_text.data,
            **locales.read_amounts(amounts, locales.input_locale()),
        ),
        "Decision corrected.",
        "#decision",
    )


def _pdf(data: bytes, name: str):
    response = make_response(data)
    response.headers["Content-Type"] = "application/pdf"
    response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


def _printed(case_id, prefix, build):
    form = PrintForm(prefix=prefix)
    if not form.validate_on_submit():
        service.get_case(case_id, actor=g.actor, log=False)  # 404 outside need-to-know first
        flash("Say why you print it: the reason is recorded in the access trail.", "error")
        return redirect(url_for("cases.detail", case_id=case_id))
    done = forms.submit(
        form,
        lambda f: build(case_id, actor=g.actor, justification=f.justification.data),
        validate=False,
        redirecting=True,
        label=forms.spaced,
    )
    if not done:
        return redirect(url_for("cases.detail", case_id=case_id))
    return _pdf(*done.value)


@bp.post("/<int:case_id>/file.pdf")
@permission_required("case.view")
def case_file_pdf(case_id):
    return _printed(case_id, "file", casefile.case_file)


@bp.post("/<int:case_id>/referral.pdf")
@permission_required("case.view")
def referral_pdf(case_id):
    return _printed(case_id, "referral", casefile.referral)


@bp.get("/seizures/map")
@permission_required("case.view")
def seizure_map():
    """Seizures by place on a map, filtered like the list; base layer bundled (no internet)."""
    args = request.args
    error, data = None, {"points": [], "elsewhere": [], "total": 0}
    try:
        data = seizure_map_data.points(queries.case_query(g.actor, args, kind="seizure"))
    except ValidationError as exc:
        error = exc
    trail.record(
        g.actor, "search", "case", None, query="map " + queries.describe_filters(args, "seizure")
    )
    tile_url = current_app.config.get("TOLLGATE_MAP_TILE_URL") or ""
    response = make_response(
        render_template(
            "cases/seizure_map.html",
            data=data,
            error=error,
            args=args,
            kind="seizure",
            endpoint="cases.seizure_map",
            catalog=catalog,
            sorts=queries.SORTS,
            units=db.session.scalars(select(Unit).order_by(Unit.code)).all(),
            place_choices=places.choices(),
            tile_url=tile_url,
            tile_attribution=current_app.config.get("TOLLGATE_MAP_TILE_ATTRIBUTION") or "",
        )
    )
    if origin := _origin(tile_url):
        # the site's tile server, and only it, may serve images to this page
        response.headers["Content-Security-Policy"] = CSP.replace(
            "img-src 'self' data: blob:", f"img-src 'self' data: blob: {origin}"
        )
    return response


def _origin(url: str) -> str | None:
    parts = urlsplit(url)
    if parts.scheme in ("http", "https") and parts.netloc:
        return f"{parts.scheme}://{parts.netloc}"
    return None
