"""Declarations in the UI: list, explained assessment, control results, channel raises,
history import and selectivity settings. Profile pages are in views_profiles.py."""

import json
from datetime import date

from flask import Blueprint, abort, flash, g, redirect, render_template, request, url_for
from sqlalchemy import exists, select

from app.core import forms
from app.core.errors import ValidationError
from app.core.pagination import keyset_paginate
from app.core.web import permission_required
from app.extensions import db
from app.risk import assessment, control, explanations, kpis, settings
from app.risk.forms import (
    ControlResultForm,
    DecideForm,
    ImportForm,
    RaiseForm,
    rates_form_class,
)
from app.risk.models import (
    CHANNEL_LABELS,
    CHANNELS,
    FRAUD_TYPES,
    ChannelRaise,
    ControlResult,
    Declaration,
    DeclarationItem,
)
from app.risk.parties import screening_for
from app.security import trail
from app.security.access import visible_clause

bp = Blueprint("risk", __name__, url_prefix="/risk")


@bp.app_template_filter("pct")
def pct(value, digits=1):
    return "—" if value is None else f"{100 * value:.{digits}f}%"


@bp.app_template_global("channel_label")
def channel_label(channel):
    return CHANNEL_LABELS.get(channel, channel or "—")


# --- declarations -------------------------------------------------------------------------


@bp.get("/declarations")
@permission_required("risk.declaration.view")
def declarations():
    args = request.args
    stmt = select(Declaration).where(visible_clause(g.actor, Declaration))
    filters = {}
    for key in (
        "number",
        "office",
        "importer",
        "hs",
        "channel",
        "result",
        "date_from",
        "date_to",
        "random",
        # the targeting KPIs' drill-downs (app/risk/kpis.py)
        "selected",
        "inspected",
        "profile",
        "hit_from",
        "hit_to",
    ):
        filters[key] = (args.get(key) or "").strip()
    if filters["number"]:
        stmt = stmt.where(Declaration.number.like(f"{filters['number']}%"))
    if filters["office"]:
        stmt = stmt.where(Declaration.office == filters["office"])
    if filters["importer"]:
        stmt = stmt.where(Declaration.importer_code == filters["importer"])
    if filters["channel"] in CHANNELS:
        stmt = stmt.where(Declaration.channel == filters["channel"])
    if filters["hs"].isdigit():
        stmt = stmt.where(
            exists().where(
                DeclarationItem.declaration_id == Declaration.id,
                DeclarationItem.hs_code.like(f"{filters['hs']}%"),
            )
        )
    if filters["random"] == "1":
        stmt = stmt.where(Declaration.is_random_selected.is_(True))
    stmt = kpis.drill_filters(stmt, filters)
    if filters["result"] in ("none", "compliant", "fraud"):
        has = exists().where(ControlResult.declaration_id == Declaration.id)
        if filters["result"] == "none":
            stmt = stmt.where(~has)
        else:
            flag = filters["result"] == "compliant"
            stmt = stmt.where(
                exists().where(
                    ControlResult.declaration_id == Declaration.id,
                    ControlResult.is_compliant.is_(flag),
                )
            )
    for key, op in (("date_from", "__ge__"), ("date_to", "__le__")):
        if filters[key]:
            try:
                value = date.fromisoformat(filters[key])
            except ValueError:
                flash(f"{key.replace('_', ' ')}: not a date (YYYY-MM-DD)", "error")
                continue
            stmt = stmt.where(getattr(Declaration.declaration_date, op)(value))
    # by key: the next page seeks past the last row shown (deep pages cost what page 1 does)
    keys = [(Declaration.declaration_date, True), (Declaration.id, True)]
    page = keyset_paginate(stmt, args, keys)
    query = "; ".join(f"{k}={v}" for k, v in filters.items() if v) or "all"
    trail.record(g.actor, "search", "declaration", None, query=query)
    return render_template("risk/declarations.html", page=page, filters=filters, channels=CHANNELS)


@bp.get("/declarations/<int:declaration_id>")
@permission_required("risk.declaration.view")
def declaration_detail(declaration_id):
    decl = assessment.get_declaration(declaration_id, actor=g.actor)
    raises = db.session.scalars(
        select(ChannelRaise)
        .where(ChannelRaise.declaration_id == decl.id)
        .order_by(ChannelRaise.requested_dt)
    ).all()
    raise_form = RaiseForm()
    raise_form.to_channel.choices = [
        (c, CHANNEL_LABELS[c])
        for c in CHANNELS
        if CHANNELS.index(c) > CHANNELS.index(decl.channel or "green")
    ]
    return render_template(
        "risk/declaration.html",
        decl=decl,
        explanation=assessment.explain(decl),
        ml_by_line=explanations.by_line(decl),
        control_history=control.history(decl),
        raises=raises,
        raise_form=raise_form,
        decide_form=DecideForm(),
        result_form=ControlResultForm(),
        fraud_types=FRAUD_TYPES,
        reproduced=assessment.reproduce_draw(decl) if decl.random_seed else None,
        screening=screening_for(g.actor, decl.assessment),
    )


def _control_data(form) -> dict:
    return {
        "inspected": form.inspected.data,
        "compliant": form.compliant.data or None if form.inspected.data else None,
        "fraud_type": form.fraud_type.data or None,
        "revenue_recovered": form.revenue_recovered.data or 0,
        "goods_seized": form.goods_seized.data,
        "critical": form.critical.data,
        "findings": form.findings.data,
        "reason": form.reason.data,
    }


@bp.route("/declarations/<int:declaration_id>/control", methods=["GET", "POST"])
@permission_required("risk.control.record")
def declaration_control(declaration_id):
    posted = request.method == "POST"
    # A POST's trail row is written by record_control_result (with the version and reason).
    decl = assessment.get_declaration(
        declaration_id, actor=g.actor, action="update" if posted else "view", log=not posted
    )
    form = ControlResultForm()
    if posted:
        done = forms.submit(
            form,
            lambda f: control.record_control_result(
                decl.id, _control_data(f), actor=g.actor, decl=decl
            ),
            on_error=lambda: trail.record(g.actor, "view", "declaration", decl.id),
        )
        if done:
            message = f"Control result version {done.value.version} recorded; profile "
            message += "statistics follow it."
            if done.value.seizure_case_id:
                message += " A seizure case was opened."
            flash(message, "info")
            return redirect(url_for("risk.declaration_detail", declaration_id=decl.id))
    elif decl.control_result is not None:
        r = decl.control_result
        form.inspected.data = r.is_inspected
        form.compliant.data = "" if r.is_compliant is None else str(r.is_compliant).lower()
        form.fraud_type.data = r.fraud_type or ""
        form.revenue_recovered.data = r.revenue_recovered
        form.goods_seized.data = r.is_goods_seized
        form.critical.data = r.is_critical
        form.findings.data = r.findings
    has_result = decl.control_result is not None
    return render_template("risk/control.html", decl=decl, form=form, has_result=has_result)


@bp.post("/declarations/<int:declaration_id>/raise")
@permission_required("risk.channel.raise")
def declaration_raise(declaration_id):
    form = RaiseForm()
    form.to_channel.choices = [(c, c) for c in CHANNELS]
    if not form.validate_on_submit():
        assessment.get_declaration(declaration_id, actor=g.actor)
        flash("Say to which lane and why.", "error")
        return redirect(url_for("risk.declaration_detail", declaration_id=declaration_id))
    if forms.submit(
        form,
        lambda f: assessment.request_raise(
            declaration_id, f.to_channel.data, f.reason.data, actor=g.actor
        ),
        validate=False,
        redirecting=True,
    ):
        flash("Raise requested; a supervisor must approve it.", "info")
    return redirect(url_for("risk.declaration_detail", declaration_id=declaration_id))


@bp.get("/raises")
@permission_required("risk.channel.approve")
def raises():
    rows = db.session.scalars(
        select(ChannelRaise)
        .join(Declaration)
        .where(ChannelRaise.status == "pending", visible_clause(g.actor, Declaration))
        .order_by(ChannelRaise.requested_dt)
    ).all()
    return render_template("risk/raises.html", rows=rows, form=DecideForm())


@bp.post("/raises/<int:raise_id>/decide")
@permission_required("risk.channel.approve")
def raise_decide(raise_id):
    form = DecideForm()
    row = db.session.get(ChannelRaise, raise_id)
    if row is None:
        abort(404)
    if not form.validate_on_submit() or form.decision.data not in ("approve", "reject"):
        assessment.get_declaration(row.declaration_id, actor=g.actor)
        flash("Choose approve or reject.", "error")
        return redirect(url_for("risk.raises"))
    if forms.submit(
        form,
        lambda f: assessment.decide_raise(
            raise_id, f.decision.data == "approve", f.note.data, actor=g.actor
        ),
        validate=False,
        redirecting=True,
    ):
        flash(f"Raise {form.decision.data}d.", "info")
    return redirect(url_for("risk.declaration_detail", declaration_id=row.declaration_id))


# --- import and settings ------------------------------------------------------------------


def _parse_mapping(text: str) -> dict:
    text = (text or "").strip()
    if not text:
        return {}
    if text.startswith("{"):
        try:
            data = json.loads(text)
        except ValueError as exc:
            raise ValidationError({"mapping": f"is not valid JSON: {exc}"}) from None
        if not isinstance(data, dict):
            raise ValidationError({"mapping": "must map field names to column names"})
        return data
    mapping = {}
    for n, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        if "=" not in line:
            raise ValidationError({"mapping": f"line {n}: write field = Column name"})
        key, value = line.split("=", 1)
        mapping[key.strip()] = value.strip()
    return mapping


@bp.route("/import", methods=["GET", "POST"])
@permission_required("risk.profile.edit")
def import_page():
    from app.risk.importer import FIELDS, import_declarations

    form = ImportForm()
    report = errors = None
    if form.validate_on_submit():
        # A refusal is the import's report, listed by the page (show=False).
        done = forms.submit(
            form,
            lambda f: import_declarations(
                f.file.data.stream,
                mapping=_parse_mapping(f.mapping.data),
                actor=g.actor,
                dry_run=f.dry_run.data,
                on_duplicate=f.on_duplicate.data,
            ),
            validate=False,
            show=False,
        )
        report = done.value
        errors = done.first_errors()
        if done:
            flash(
                ("Checked: " if report.dry_run else "Imported: ")
                + f"{report.declarations} declarations, {report.items} items, "
                f"{report.control_results} control results.",
                "info",
            )
    return render_template(
        "risk/import.html", form=form, report=report, errors=errors, fields=FIELDS
    )


@bp.get("/settings")
@permission_required("risk.profile.view")
def settings_page():
    form = rates_form_class()()
    rates = settings.selectivity_rates()
    state = settings.engine_state()
    for c in CHANNELS:
        getattr(form, f"target_{c}").data = round(100 * rates[c]["target_rate"], 3)
        getattr(form, f"random_{c}").data = round(100 * rates[c]["min_random_rate"], 3)
    form.ml_threshold.data = state.ml_threshold
    form.ml_channel.data = state.ml_channel
    return _settings_template(form, state)


def _settings_template(form, state, refused=False):
    return render_template(
        "risk/settings.html",
        form=form,
        channels=CHANNELS,
        state=state,
        can_edit=g.actor.can("risk.profile.activate"),
        refused=refused,
        history=settings.history(),
    )


def _settings_field(key: str) -> str:
    """A service error's field on the form: ``red.target_rate`` -> ``target_red``."""
    channel, _, part = key.partition(".")
    prefix = {"target_rate": "target_", "min_random_rate": "random_"}.get(part)
    return prefix + channel if prefix else key


@bp.post("/settings")
@permission_required("risk.profile.activate")
def settings_save():
    form = rates_form_class()()
    done = forms.submit(form, _save_settings, rename=_settings_field)
    if done:
        flash("Selectivity settings saved; every web process applies them now.", "info")
        return redirect(url_for("risk.settings_page"))
    # The messages no field takes (sums over lanes) are flashed above the table.
    return _settings_template(form, settings.engine_state(), refused=True), 422


def _save_settings(form):
    values = {
        c: {
            "target_rate": (getattr(form, f"target_{c}").data or 0) / 100,
            "min_random_rate": (getattr(form, f"random_{c}").data or 0) / 100,
        }
        for c in CHANNELS
    }
    settings.save_settings(
        values,
        form.ml_threshold.data,
        form.ml_channel.data,
        rotate_seed=form.rotate_seed.data,
        actor=g.actor,
    )
