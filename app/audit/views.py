"""Pages of the audit domain: ratings, trader report, audit selection, ML models."""

from datetime import date, timedelta

from flask import Blueprint, abort, flash, g, redirect, render_template, request, url_for

from app.audit import debts, lifecycle, selection, service
from app.audit.forms import (
    ConfirmForm,
    DebtForm,
    RecomputeForm,
    SelectionForm,
    SettingsForm,
    TrainForm,
)
from app.audit.models import BANDS, DEBT_KINDS, TRADER_ROLES
from app.core import forms
from app.core.errors import ValidationError
from app.core.pagination import paginate
from app.core.time import now_utc
from app.core.web import permission_required

bp = Blueprint("audit", __name__, url_prefix="/audit")


def last_quarter(today: date) -> tuple[date, date]:
    """The last full calendar quarter before ``today``: the default audited period."""
    first = date(today.year, 3 * ((today.month - 1) // 3) + 1, 1)
    end = first - timedelta(days=1)
    return date(end.year, 3 * ((end.month - 1) // 3) + 1, 1), end


def home_panel(actor):
    """Home panel for auditors: band counts, the last proposal, the riskiest traders."""
    counts = service.band_counts()
    if not counts:
        return None
    proposals = selection.list_selections(actor=actor, limit=3) if actor.can("audit.select") else []
    return {
        "counts": counts,
        "recent": service.recent_ratings(6, actor=actor),
        "proposals": proposals,
    }


@bp.get("/")
@permission_required("audit.rating.view")
def ratings():
    role = request.args.get("role") or None
    band = request.args.get("band") or None
    query = (request.args.get("q") or "").strip() or None
    try:
        stmt = service.list_ratings(actor=g.actor, role=role, band=band, query=query)
    except ValidationError as exc:
        flash(str(exc), "error")
        return redirect(url_for("audit.ratings"))
    page = paginate(stmt, request.args)
    return render_template(
        "audit/ratings.html",
        page=page,
        names=service.trader_names([r.entity_id for r in page.items], actor=g.actor),
        roles=TRADER_ROLES,
        bands=BANDS,
        role=role,
        band=band,
        q=query or "",
        counts=service.band_counts(),
        form=ConfirmForm(),
        recompute_form=RecomputeForm(formdata=None),
    )


@bp.post("/ratings/recompute")
@permission_required("audit.select")
def recompute():
    form = RecomputeForm()
    if not form.validate_on_submit():
        if "csrf_token" in form.errors:
            abort(400)
        flash("Evaluation date: " + "; ".join(form.as_of.errors or ["not a date"]), "error")
        return redirect(url_for("audit.ratings"))
    summary = service.compute_ratings(actor=g.actor, as_of=form.as_of.data)
    flash(service.describe_summary(summary), "info")
    return redirect(url_for("audit.ratings"))


@bp.get("/traders/<role>/<code>")
@permission_required("audit.rating.view")
def trader(role, code):
    if role not in TRADER_ROLES:
        abort(404)
    report = service.trader_report(role, code, actor=g.actor)
    entity_id = report["current"].entity_id
    name = service.trader_names([entity_id], actor=g.actor).get(entity_id) if entity_id else None
    return render_template("audit/trader.html", report=report, roles=TRADER_ROLES, name=name)


@bp.get("/entities/<int:entity_id>")
@permission_required("audit.rating.view")
def entity_rating(entity_id):
    """The rating report of a registry entity (for a link from the entity page)."""
    rating = service.rating_of_entity(entity_id)
    if rating is None:
        abort(404)
    return redirect(url_for("audit.trader", role=rating.role, code=rating.trader_code))


@bp.route("/selection/new", methods=["GET", "POST"])
@permission_required("audit.select")
def selection_new():
    form = SelectionForm()
    settings = service.get_settings()
    if request.method == "GET":
        start, end = last_quarter(now_utc().date())
        form.period_start.data = form.period_start.data or start
        form.period_end.data = form.period_end.data or end
        if form.random_share.data is None:
            form.random_share.data = round(settings.exploration_share, 2)
    done = forms.submit(
        form,
        lambda f: selection.propose(
            actor=g.actor,
            capacity=f.capacity.data,
            period_start=f.period_start.data,
            period_end=f.period_end.data,
            random_share=None if f.random_share.data is None else float(f.random_share.data),
            role=f.role.data,
            audit_type=f.audit_type.data,
            rank_by=f.rank_by.data,
        ),
    )
    if done:
        return redirect(url_for("audit.selection_view", selection_id=done.value.id))
    return render_template(
        "audit/selection_new.html",
        form=form,
        recent=selection.list_selections(actor=g.actor),
        settings=settings,
    )


@bp.get("/selection/<int:selection_id>")
@permission_required("audit.select")
def selection_view(selection_id):
    proposal = selection.get_selection(selection_id, actor=g.actor)
    from app.cases.catalog import RISK_AREAS

    return render_template(
        "audit/selection.html",
        selection=proposal,
        form=ConfirmForm(),
        risk_areas=RISK_AREAS,
        names=selection.trader_names(proposal, actor=g.actor),
    )


def _act(form, action):
    """A validated form's service call; a refusal rolls back and is flashed (redirect)."""
    return forms.submit(form, action, validate=False, redirecting=True)


@bp.post("/selection/<int:selection_id>/confirm")
@permission_required("audit.select")
def selection_confirm(selection_id):
    form = ConfirmForm()
    form.validate_on_submit() or abort(400)
    line_ids = request.form.getlist("line")
    areas = {}
    for key in request.form:
        if key.startswith("areas-"):
            areas[key[6:]] = request.form.getlist(key)
    done = _act(
        form,
        lambda f: selection.confirm(
            selection_id, actor=g.actor, line_ids=line_ids, risk_areas=areas
        ),
    )
    if not done:
        return redirect(url_for("audit.selection_view", selection_id=selection_id))
    opened = sum(1 for line in done.value.lines if line.case_id)
    flash(f"{opened} audit case{'s' if opened != 1 else ''} opened.", "info")
    return redirect(url_for("audit.selection_view", selection_id=selection_id))


@bp.get("/models")
@permission_required("risk.model.manage")
def models():
    active = lifecycle.active_model()
    settings = service.get_settings()
    settings_form = SettingsForm(obj=settings)
    return render_template(
        "audit/models.html",
        models=lifecycle.list_models(),
        active=active,
        drift=lifecycle.drift_report(active) if active else None,
        train_form=TrainForm(),
        settings_form=settings_form,
        form=ConfirmForm(),
    )


@bp.get("/models/<int:version>")
@permission_required("risk.model.manage")
def model_view(version):
    model = lifecycle.get_model(version)
    return render_template(
        "audit/model.html", model=model, drift=lifecycle.drift_report(model), form=ConfirmForm()
    )


@bp.post("/models/train")
@permission_required("risk.model.manage")
def model_train():
    form = TrainForm()
    if not form.validate_on_submit():
        flash("; ".join(f"{k}: {', '.join(v)}" for k, v in form.errors.items()), "error")
        return redirect(url_for("audit.models"))
    done = _act(
        form,
        lambda f: lifecycle.train_from_history(
            actor=g.actor, test_share=float(f.test_share.data), note=f.note.data or None
        ),
    )
    if not done:
        return redirect(url_for("audit.models"))
    model = done.value
    flash(
        f"Model v{model.version} trained: precision at 5% "
        f"{model.metrics['precision_at_5']:.2f} on the held-out period.",
        "info",
    )
    return redirect(url_for("audit.model_view", version=model.version))


@bp.post("/models/<int:version>/activate")
@permission_required("risk.model.manage")
def model_activate(version):
    ConfirmForm().validate_on_submit() or abort(400)
    model = lifecycle.activate_model(version, actor=g.actor)
    flash(f"Model v{model.version} is now active.", "info")
    return redirect(url_for("audit.models"))


@bp.post("/models/rollback")
@permission_required("risk.model.manage")
def model_rollback():
    form = ConfirmForm()
    form.validate_on_submit() or abort(400)
    done = _act(form, lambda f: lifecycle.rollback_model(actor=g.actor))
    if done:
        flash(f"Rolled back: model v{done.value.version} is active again.", "info")
    return redirect(url_for("audit.models"))


@bp.post("/settings")
@permission_required("risk.model.manage")
def settings_update():
    form = SettingsForm()
    if not form.validate_on_submit():
        flash("; ".join(f"{k}: {', '.join(v)}" for k, v in form.errors.items()), "error")
        return redirect(url_for("audit.models"))
    if _act(
        form,
        lambda f: service.update_settings(
            actor=g.actor,
            exploration_share=float(f.exploration_share.data),
            recent_audit_months=f.recent_audit_months.data,
            rating_window_months=f.rating_window_months.data,
        ),
    ):
        flash("Settings saved.", "info")
    return redirect(url_for("audit.models"))


@bp.get("/cases")
@permission_required("case.view")
def audit_cases():
    """Post-clearance audit cases: trader, type, audited period, status, debts by kind."""
    from app.cases.catalog import AUDIT_TYPES, RISK_AREAS, STATUSES

    page, by_case, totals = debts.audit_cases(actor=g.actor, args=request.args)
    return render_template(
        "audit/cases.html",
        page=page,
        debts=by_case,
        totals=totals,
        kinds=DEBT_KINDS,
        audit_types=AUDIT_TYPES,
        risk_areas=RISK_AREAS,
        statuses=STATUSES,
    )


@bp.get("/cases/<int:case_id>")
@permission_required("case.view")
def audit_case(case_id, form=None):
    """One audit case's audited period, risk areas, checklist and debts."""
    from app.cases.catalog import AUDIT_TYPES, RISK_AREAS

    case = debts.audit_case(case_id, actor=g.actor)
    return render_template(
        "audit/case.html",
        case=case,
        form=form or DebtForm(formdata=None),
        lines=debts.debt_lines(case.id),
        totals=debts.debts_by_case([case.id]).get(case.id, {}),
        kinds=DEBT_KINDS,
        audit_types=AUDIT_TYPES,
        risk_areas=RISK_AREAS,
    )


@bp.post("/cases/<int:case_id>/debts")
@permission_required("case.edit")
def record_debt(case_id):
    """Record one debt of a kind on the audit case (errors shown next to the fields)."""
    form = DebtForm()
    if not form.validate_on_submit():
        if "csrf_token" in form.errors:
            abort(400)
        return audit_case(case_id, form=form)
    done = forms.submit(
        form,
        lambda f: debts.record_debt(
            case_id, actor=g.actor, kind=f.kind.data, amount=f.amount.data, note=f.note.data
        ),
        validate=False,
    )
    if not done:
        return audit_case(case_id, form=form)
    flash("Debt recorded.", "info")
    return redirect(url_for("audit.audit_case", case_id=case_id))
