"""Actions on a case page: edit, status, assignment, journal, tasks, items, parties,
evidence, links, merge, decision and checklist. Each is a CSRF form posted back to the case;
the rules live in the services."""

import io

from flask import flash, g, redirect, render_template, request, send_file, url_for

from app.cases import case_tasks, catalog, evidence, locales, merging, places, service
from app.cases import offences as offence_rules
from app.cases import parties as case_parties
from app.cases.forms import (
    COMMON_FIELDS,
    AssignForm,
    CaseForm,
    ChecklistForm,
    DecisionForm,
    EvidenceForm,
    ItemForm,
    JournalForm,
    LinkForm,
    MergeForm,
    PartyForm,
    StatusForm,
    TaskForm,
    TaskStatusForm,
    entity_type_choices,
)
from app.cases.views import CaseForm_fields, _create_party, bp
from app.core import forms
from app.core.errors import ValidationError
from app.core.web import permission_required


def _back(case_id, anchor=""):
    return redirect(url_for("cases.detail", case_id=case_id) + anchor)


def _act(case_id, form, action, success, anchor=""):
    """Validate the CSRF form, run ``action()``, flash the outcome, go back to the case."""
    service.get_case(case_id, actor=g.actor, log=False)  # 404 outside need-to-know first
    if not form.validate_on_submit():
        for name, errors in form.errors.items():
            flash(f"{name}: {'; '.join(map(str, errors))}", "error")
        return _back(case_id, anchor)
    if forms.submit(form, lambda f: action(), validate=False, redirecting=True, label=forms.spaced):
        flash(success, "info")
    return _back(case_id, anchor)


@bp.route("/<int:case_id>/edit", methods=["GET", "POST"])
@permission_required("case.edit")
def edit(case_id):
    case = service.get_case(case_id, actor=g.actor, log=request.method == "GET")
    form = CaseForm(obj=case) if request.method == "GET" else CaseForm()
    form.template.choices = [(case.template or "", case.template or "")]
    as_written = f"{case.place} (as written, not on the list)" if case.place else "— choose —"
    form.place_ref.choices = [("", as_written), *places.choices()]
    if request.method == "GET":
        form.priority.data = str(case.priority)
        form.event_dt.data = case.event_dt.strftime("%Y-%m-%dT%H:%M") if case.event_dt else ""
        for name in ("evaded_duties", "penalty", "assessed_debt"):
            getattr(form, name).data = locales.show(getattr(case, name), locales.input_locale())
        for name in ("period_start", "period_end"):
            value = getattr(case, name)
            getattr(form, name).data = value.isoformat() if value else ""
        form.risk_areas.data = case.risk_areas or []
    names = COMMON_FIELDS + CaseForm_fields(case.kind)

    def save(f):
        values = {n: getattr(f, n).data for n in names if n != "handling_code"}
        values = locales.read_amounts(values, locales.input_locale())
        service.update_case(case.id, actor=g.actor, handling_code=f.handling_code.data, **values)

    if forms.submit(form, save, label=forms.spaced):
        flash("Case saved.", "info")
        return _back(case.id)
    return render_template(
        "cases/case_form.html",
        form=form,
        kind=case.kind,
        case=case,
        fields=CaseForm_fields(case.kind),
        catalog=catalog,
        number_locale=locales.input_locale(),
        number_example=locales.example(locales.input_locale()),
    )


@bp.post("/<int:case_id>/status")
@permission_required("case.edit")
def status(case_id):
    form = StatusForm()
    form.status.choices = list(catalog.STATUSES.items())
    form.resolution.choices = [("", "—")] + [
        (k, v) for r in catalog.RESOLUTIONS.values() for k, v in r.items()
    ]
    return _act(
        case_id,
        form,
        lambda: service.change_status(
            case_id,
            form.status.data,
            actor=g.actor,
            resolution=form.resolution.data or None,
            note=form.note.data,
        ),
        "Status changed.",
    )


@bp.post("/<int:case_id>/assign")
@permission_required("case.edit")
def assign(case_id):
    form = AssignForm()
    form.assignee_id.choices = [(request.form.get("assignee_id", ""), "")]
    return _act(
        case_id,
        form,
        lambda: service.assign_case(case_id, form.assignee_id.data or 0, actor=g.actor),
        "Assignee changed.",
    )


@bp.post("/<int:case_id>/journal")
@permission_required("case.edit")
def add_journal(case_id):
    form = JournalForm()
    return _act(
        case_id,
        form,
        lambda: service.add_journal_entry(case_id, form.text.data, actor=g.actor),
        "Journal entry added.",
        "#journal",
    )


@bp.post("/<int:case_id>/tasks")
@permission_required("case.edit")
def add_task(case_id):
    form = TaskForm()
    form.assignee_id.choices = [(request.form.get("assignee_id", ""), "")]
    return _act(
        case_id,
        form,
        lambda: case_tasks.add_task(
            case_id,
            form.title.data,
            actor=g.actor,
            assignee_id=form.assignee_id.data or None,
            due_date=form.due_date.data or None,
        ),
        "Task added.",
        "#tasks",
    )


@bp.post("/<int:case_id>/tasks/<int:task_id>")
@permission_required("case.edit")
def task_status(case_id, task_id):
    form = TaskStatusForm()
    return _act(
        case_id,
        form,
        lambda: case_tasks.complete_task(
            case_id, task_id, actor=g.actor, status=form.status.data or "done"
        ),
        "Task updated.",
        "#tasks",
    )


@bp.post("/<int:case_id>/items")
@permission_required("case.edit")
def add_item(case_id):
    form = ItemForm()
    return _act(
        case_id,
        form,
        lambda: service.add_items(
            case_id,
            locales.read_items([form.item.form.as_dict() or {}], locales.input_locale()),
            actor=g.actor,
        ),
        "Item added.",
        "#items",
    )


@bp.post("/<int:case_id>/parties")
@permission_required("case.edit")
def add_party(case_id):
    form = PartyForm()
    form.party.form.new_type.choices = entity_type_choices()
    case = service.get_case(case_id, actor=g.actor, log=False)
    return _act(
        case_id,
        form,
        lambda: _create_party(case, form.party.form.as_dict() or {}, "party"),
        "Party added.",
        "#parties",
    )


@bp.post("/<int:case_id>/parties/<int:party_id>/remove")
@permission_required("case.edit")
def remove_party(case_id, party_id):
    return _act(
        case_id,
        ChecklistForm(),
        lambda: case_parties.remove_party(case_id, party_id, actor=g.actor),
        "Party removed.",
        "#parties",
    )


@bp.post("/<int:case_id>/evidence")
@permission_required("case.edit")
def upload_evidence(case_id):
    form = EvidenceForm()

    def action():
        upload = form.file.data
        if not getattr(upload, "filename", ""):
            raise ValidationError({"file": "choose a file"})
        evidence.store_evidence(
            case_id,
            upload.stream,
            upload.filename,
            actor=g.actor,
            description=form.description.data,
        )

    return _act(case_id, form, action, "Evidence uploaded.", "#evidence")


@bp.get("/<int:case_id>/evidence/<int:evidence_id>")
@permission_required("case.view")
def download_evidence(case_id, evidence_id):
    row, path, name = evidence.open_evidence(case_id, evidence_id, actor=g.actor)
    # Read into memory (files are capped at a few MB): no file handle outlives the request.
    response = send_file(
        io.BytesIO(path.read_bytes()),
        mimetype=row.content_type,
        as_attachment=True,
        download_name=name,
        max_age=0,
        conditional=False,
        etag=False,
    )
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.post("/<int:case_id>/links")
@permission_required("case.edit")
def add_link(case_id):
    form = LinkForm()
    return _act(
        case_id,
        form,
        lambda: service.add_link(
            case_id, form.target_type.data, form.target_id.data, actor=g.actor, note=form.note.data
        ),
        "Link added.",
        "#links",
    )


@bp.post("/<int:case_id>/merge")
@permission_required("case.edit")
def merge(case_id):
    form = MergeForm()

    def action():
        if not form.confirm.data:
            raise ValidationError({"confirm": "tick the box to confirm the merge"})
        # Unknown and invisible references answer alike (no existence oracle).
        duplicate = service.case_for_reference(
            form.duplicate.data, actor=g.actor, field="duplicate"
        )
        merging.merge_cases(case_id, duplicate.id, actor=g.actor, note=form.note.data)

    return _act(case_id, form, action, "Duplicate merged into this case.")


@bp.post("/<int:case_id>/decision")
@permission_required("case.decide")
def decide(case_id):
    form = DecisionForm()
    amounts = {"evaded_duties": form.evaded_duties.data, "penalty": form.penalty.data}
    return _act(
        case_id,
        form,
        lambda: offence_rules.decide_offence(
            case_id,
            actor=g.actor,
            legal_provision=form.legal_provision.data,
            decision_text=form.decision_text.data,
            **locales.read_amounts(amounts, locales.input_locale()),
        ),
        "Decision recorded.",
        "#decision",
    )


@bp.post("/<int:case_id>/checklist")
@permission_required("case.edit")
def checklist(case_id):
    form = ChecklistForm()
    return _act(
        case_id,
        form,
        lambda: case_tasks.set_checklist(case_id, request.form.getlist("done"), actor=g.actor),
        "Checklist saved.",
        "#audit",
    )
