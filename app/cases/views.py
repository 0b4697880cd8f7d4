"""Case pages: lists, the seizure form, the case file and its actions. Thin: every rule is
in the services, which check permissions, need-to-know and write the access trail."""

from functools import partial

from flask import Blueprint, current_app, flash, g, redirect, render_template, request, url_for
from sqlalchemy import select
from sqlalchemy.orm import selectinload
from werkzeug.routing import BuildError

from app.cases import catalog, evidence, locales, places, queries, service
from app.cases import offences as offence_rules
from app.cases import parties as case_parties
from app.cases import seizures as seizure_rules
from app.cases.forms import (
    COMMON_FIELDS,
    AssignForm,
    CaseForm,
    ChecklistForm,
    CorrectDecisionForm,
    DecisionForm,
    EvidenceForm,
    ExportForm,
    ItemForm,
    JournalForm,
    LinkForm,
    MergeForm,
    PartyForm,
    PrintForm,
    SeizureForm,
    StatusForm,
    TaskForm,
    TaskStatusForm,
    entity_type_choices,
)
from app.cases.models import Case
from app.core import forms
from app.core.errors import ValidationError
from app.core.exports import csv_response
from app.core.registry import record_panels
from app.core.time import now_utc
from app.core.web import permission_required
from app.extensions import db
from app.security import trail
from app.security.access import can_see
from app.security.models import Unit, User
from app.security.seams import label_for, redact_names, restricted_label

bp = Blueprint("cases", __name__, url_prefix="/cases")


def _form_path(key: str) -> str:
    """A party's new-entity error (``parties[0].new_entity.name``) at the row's own input."""
    head, sep, rest = key.partition(".new_entity.")
    if not sep:
        return key
    return head + (
        ".new_name"
        if rest.startswith("name")
        else ".new_identifier"
        if rest.startswith("ident")
        else ".new_type"
    )


# --- lists -----------------------------------------------------------------------------


def _list(kind=None, endpoint="cases.index"):
    error = None
    try:
        stmt = queries.case_query(g.actor, request.args, kind=kind)
        page = queries.paginate_cases(stmt.options(selectinload(Case.assignee)), request.args)
    except ValidationError as exc:
        error, page = exc, None
    trail.record(
        g.actor, "search", "case", None, query=queries.describe_filters(request.args, kind)
    )
    units = db.session.scalars(select(Unit).order_by(Unit.code)).all()
    return render_template(
        "cases/list.html",
        page=page,
        error=error,
        kind=kind,
        units=units,
        endpoint=endpoint,
        args=request.args,
        catalog=catalog,
        sorts=queries.SORTS,
        export_form=ExportForm(),
        place_choices=places.choices(),
        export_args={**request.args.to_dict(), **({"kind": kind} if kind else {})},
    )


@bp.get("/")
@permission_required("case.view")
def index():
    return _list()


@bp.get("/seizures")
@permission_required("case.view")
def seizures():
    return _list("seizure", "cases.seizures")


@bp.get("/offences")
@permission_required("case.view")
def offences():
    return _list("offence", "cases.offences")


@bp.get("/audits")
@permission_required("case.view")
def audits():
    return _list("audit", "cases.audits")


@bp.post("/export")
@permission_required("case.export")
def export():
    form = ExportForm()
    if not form.validate_on_submit():
        flash("A justification is required to export cases.", "error")
        return redirect(url_for("cases.index", **request.args))
    done = forms.submit(
        form,
        lambda f: queries.case_query(g.actor, request.args),
        validate=False,
        redirecting=True,
        label=forms.spaced,
    )
    if not done:
        return redirect(url_for("cases.index"))
    stmt = done.value
    rows = db.session.scalars(stmt.options(selectinload(Case.assignee)).limit(100_000)).all()
    trail.record(
        g.actor,
        "export",
        "case",
        None,
        justification=form.justification.data,
        query=queries.describe_filters(request.args),
        details={"rows": len(rows), "ids": [c.id for c in rows[:1000]]},
    )
    return csv_response("cases.csv", queries.EXPORT_HEADER, (queries.export_row(c) for c in rows))


# --- opening cases ---------------------------------------------------------------------


def _lookup_url() -> str:
    """The registry's entity picker endpoint, when the intelligence domain provides it."""
    try:
        return url_for("intel.entity_lookup")
    except BuildError:
        return ""


def _party_form_choices(form):
    types = entity_type_choices()
    for entry in form.parties.entries if hasattr(form, "parties") else ():
        entry.form.new_type.choices = types


def _create_party(case, data: dict, name: str):
    new_entity = None
    if not data.get("entity_id"):
        identifiers = None
        if data.get("new_identifier"):
            scheme, sep, value = data["new_identifier"].partition(":")
            if not sep:
                raise ValidationError(
                    {f"{name}.new_identifier": "write it as scheme:value, e.g. plate:AB-123-CD"}
                )
            identifiers = {scheme.strip().lower(): value.strip()}
        new_entity = {
            "type": data.get("new_type"),
            "name": data.get("new_name"),
            "identifiers": identifiers,
        }
    return case_parties.add_party(
        case.id,
        actor=g.actor,
        role=data.get("role"),
        entity_id=data.get("entity_id") or None,
        new_entity=new_entity,
        _name=name,
        _log=False,
    )


def _seizure_input(values: dict, items: list[dict]) -> list[dict]:
    """The minimum record checked and the amounts read, every error at once; the title."""
    forms.gather(
        lambda: seizure_rules.check_minimum(values, items),
        lambda: items.__setitem__(slice(None), locales.read_items(items, locales.input_locale())),
        lambda: places.parse(values["place_ref"], "place_ref"),
    )
    if not values["title"]:
        area = items[0].get("commodity_area") if items else ""
        values["title"] = (
            f"Seizure of {catalog.COMMODITY_AREAS.get(area, 'goods').lower()}"
            f" at {places.resolve(values['place_ref']).label}"
        )
    return items


def _record_seizure(form, stored: list):
    """Open the seizure case with its parties and evidence; every error at once."""
    values = {name: getattr(form, name).data for name in seizure_rules.FORM_FIELDS}
    items = [row for row in (e.form.as_dict() for e in form.items.entries) if row]
    parties = [
        (i, row) for i, row in enumerate(e.form.as_dict() for e in form.parties.entries) if row
    ]
    items = _seizure_input(values, items)
    case = service.open_case(
        "seizure",
        actor=g.actor,
        items=items,
        handling_code=form.handling_code.data,
        template=form.template.data,
        assignee_id=g.actor.user_id,
        **values,
    )
    uploads = [u for u in form.evidence.data or [] if getattr(u, "filename", "")]

    def store(upload):
        stored.append(
            evidence.store_evidence(
                case.id,
                upload.stream,
                upload.filename,
                actor=g.actor,
                description=form.evidence_description.data,
                field=f"evidence ({upload.filename})",
            )
        )

    forms.gather(
        *(partial(_create_party, case, row, f"parties[{i}]") for i, row in parties),
        *(partial(store, upload) for upload in uploads),
    )
    return case


def _seizure_refused(form, stored: list) -> None:
    """The files written go (their rows were rolled back); a browser never re-fills a file
    input: say so rather than lose them quietly."""
    evidence.discard_files(stored)
    flash("The seizure was not recorded: correct the fields marked below.", "error")
    chosen = [u.filename for u in form.evidence.data or [] if getattr(u, "filename", "")]
    if chosen:
        form.evidence.errors = [
            f"Not kept: {', '.join(chosen)}. Choose the file(s) again before recording the seizure."
        ]
        flash(
            f"Your {len(chosen)} file(s) ({', '.join(chosen)}) were not saved: choose them again.",
            "error",
        )


@bp.route("/new/seizure", methods=["GET", "POST"])
@permission_required("case.create")
def new_seizure():
    form = SeizureForm()
    _party_form_choices(form)
    form.place_ref.choices = [("", "— choose —"), *places.choices()]
    if form.validate_on_submit():
        stored = []
        done = forms.submit(
            form,
            lambda f: _record_seizure(f, stored),
            validate=False,
            on_error=lambda: _seizure_refused(form, stored),
            rename=_form_path,
            label=forms.spaced,
        )
        if done:
            flash(f"Seizure {done.value.reference} recorded.", "info")
            return redirect(url_for("cases.detail", case_id=done.value.id))
    return render_template(
        "cases/seizure_form.html",
        form=form,
        today=now_utc().date().isoformat() + "T23:59",
        catalog=catalog,
        lookup_url=_lookup_url(),
        number_locale=locales.input_locale(),
        number_example=locales.example(locales.input_locale()),
    )


def _open_case(form, kind):
    names = COMMON_FIELDS + CaseForm_fields(kind)
    values = {n: getattr(form, n).data for n in names if n != "handling_code"}
    values = locales.read_amounts(values, locales.input_locale())
    if kind == "audit" and form.trader_entity_id.data:
        return service.open_audit_case(
            form.trader_entity_id.data,
            actor=g.actor,
            audit_type=values["audit_type"] or "desk",
            risk_areas=values["risk_areas"],
            period_start=values["period_start"],
            period_end=values["period_end"],
            title=values["title"] or None,
        )
    return service.open_case(
        kind,
        actor=g.actor,
        template=form.template.data,
        handling_code=form.handling_code.data,
        assignee_id=g.actor.user_id,
        **values,
    )


@bp.route("/new/<any(offence, audit, investigation):kind>", methods=["GET", "POST"])
@permission_required("case.create")
def new_case(kind):
    form = CaseForm()
    form.template.choices = [(k, t["label"]) for k, t in catalog.templates_for(kind).items()]
    done = forms.submit(form, lambda f: _open_case(f, kind), label=forms.spaced)
    if done:
        flash(f"{catalog.KINDS[kind]} case {done.value.reference} opened.", "info")
        return redirect(url_for("cases.detail", case_id=done.value.id))
    return render_template(
        "cases/case_form.html",
        form=form,
        kind=kind,
        case=None,
        lookup_url=_lookup_url(),
        fields=CaseForm_fields(kind),
        catalog=catalog,
        number_locale=locales.input_locale(),
        number_example=locales.example(locales.input_locale()),
    )


def CaseForm_fields(kind):  # noqa: N802 - reads as "the CaseForm fields of a kind"
    from app.cases.forms import CASE_FIELDS_BY_KIND

    return CASE_FIELDS_BY_KIND[kind]


# --- the case file -----------------------------------------------------------------------


def _unit_users(case):
    return db.session.scalars(
        select(User)
        .where(User.unit_id == case.unit_id, User.is_active.is_(True))
        .order_by(User.full_name)
    ).all()


@bp.get("/<int:case_id>")
@permission_required("case.view")
def detail(case_id):
    case = service.get_case(case_id, actor=g.actor)
    users = _unit_users(case)
    user_choices = [("", "— nobody —")] + [
        (str(u.id), f"{u.full_name} ({u.username})") for u in users
    ]
    status_form = StatusForm()
    status_form.status.choices = [
        (s, catalog.STATUSES[s]) for s in catalog.TRANSITIONS[case.status]
    ]
    status_form.resolution.choices = [("", "—"), *catalog.RESOLUTIONS[case.kind].items()]
    assign_form = AssignForm(assignee_id=str(case.assignee_id or ""))
    assign_form.assignee_id.choices = user_choices
    task_form = TaskForm()
    task_form.assignee_id.choices = user_choices
    party_form = PartyForm()
    party_form.party.form.new_type.choices = entity_type_choices()
    merged_into = db.session.get(Case, case.merged_into_id) if case.merged_into_id else None
    if merged_into is not None and not can_see(g.actor, merged_into):
        merged_into = restricted_label(merged_into)  # the seam rule: not named, no link
    # A shared case names its parties and linked records only as far as the reader may open
    # them (the seam rule).
    party_names = {
        p.id: label_for(g.actor, "entity", p.entity_id, p.entity_name) for p in case.parties
    }
    link_labels = {
        lk.id: label_for(g.actor, lk.target_type, lk.target_id, lk.label) for lk in case.links
    }
    named = [("entity", p.entity_id, p.entity_name) for p in case.parties] + [
        (lk.target_type, lk.target_id, lk.label) for lk in case.links
    ]
    journal_texts = {j.id: redact_names(g.actor, j.text, named) for j in case.journal}
    return render_template(
        "cases/detail.html",
        case=case,
        panels=record_panels(current_app, g.actor, "case", case),
        catalog=catalog,
        status_form=status_form,
        assign_form=assign_form,
        task_form=task_form,
        journal_form=JournalForm(),
        item_form=ItemForm(),
        party_form=party_form,
        evidence_form=EvidenceForm(),
        link_form=LinkForm(),
        merge_form=MergeForm(),
        checklist_form=ChecklistForm(),
        decision_form=locales.with_amounts(DecisionForm(obj=case), case),
        correct_form=locales.with_amounts(CorrectDecisionForm(obj=case), case),
        print_form=PrintForm(prefix="file"),
        referral_form=PrintForm(prefix="referral"),
        number_locale=locales.input_locale(),
        number_example=locales.example(locales.input_locale()),
        task_status_form=TaskStatusForm(),
        threshold=offence_rules.evaded_duty_threshold(),
        merged_into=merged_into,
        party_names=party_names,
        link_labels=link_labels,
        journal_texts=journal_texts,
        users={u.id: u for u in users},
        lookup_url=_lookup_url(),
        similar=case_parties.similar_cases(case, actor=g.actor),
        seizure_missing=seizure_rules.describe(seizure_rules.case_missing(case)),
    )
