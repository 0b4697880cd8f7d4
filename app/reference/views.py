"""Administrator pages of the reference lists: view, add, edit, deactivate, load a file."""

from flask import Blueprint, abort, flash, g, redirect, render_template, url_for

from app.core.errors import ValidationError
from app.core.web import permission_required
from app.extensions import db
from app.reference import service
from app.reference.forms import ActiveForm, EntryForm, LoadForm

bp = Blueprint("reference", __name__, url_prefix="/admin/reference")

_FORM_FIELDS = ("code", "label", "kind", "country", "latitude", "longitude", "max_rate")


def _spec_or_404(list_name):
    spec = service.LISTS.get(list_name)
    if spec is None:
        abort(404)
    return spec


def _data(form) -> dict:
    return {name: getattr(form, name).data for name in _FORM_FIELDS}


def _show_errors(form, exc: ValidationError) -> None:
    for name, message in exc.fields.items():
        target = getattr(form, name, None)
        if target is not None and hasattr(target, "errors"):
            target.errors = [*target.errors, message]
        else:
            flash(f"{name}: {message}", "error")


@bp.get("/")
@permission_required("admin.reference")
def index():
    sizes = {name: len(service.entries(name)) for name in service.LISTS}
    return render_template("reference/index.html", lists=service.LISTS, sizes=sizes)


def _render_list(list_name, form=None, status=200):
    spec = _spec_or_404(list_name)
    return (
        render_template(
            "reference/list.html",
            list_name=list_name,
            spec=spec,
            rows=service.entries(list_name, active_only=False),
            changes=service.changes(list_name),
            form=form or EntryForm(),
            active_form=ActiveForm(),
            load_form=LoadForm(),
        ),
        status,
    )


@bp.get("/<list_name>")
@permission_required("admin.reference")
def list_page(list_name):
    return _render_list(list_name)


@bp.post("/<list_name>/add")
@permission_required("admin.reference")
def add(list_name):
    _spec_or_404(list_name)
    form = EntryForm()
    if not form.validate_on_submit():
        return _render_list(list_name, form, 422)
    try:
        row = service.add_entry(list_name, _data(form), actor=g.actor)
    except ValidationError as exc:
        db.session.rollback()
        _show_errors(form, exc)
        return _render_list(list_name, form, 422)
    db.session.commit()
    flash(f"{row.code} added.", "info")
    return redirect(url_for("reference.list_page", list_name=list_name))


@bp.route("/entry/<int:entry_id>", methods=["GET", "POST"])
@permission_required("admin.reference")
def edit(entry_id):
    row = service.get_entry(entry_id)
    spec = service.LISTS[row.list_name]
    form = EntryForm(obj=row)
    status = 200
    if form.is_submitted():
        status = 422
        if form.validate():
            try:
                service.update_entry(entry_id, _data(form), actor=g.actor)
            except ValidationError as exc:
                db.session.rollback()
                _show_errors(form, exc)
            else:
                db.session.commit()
                flash(f"{row.code} saved.", "info")
                return redirect(url_for("reference.list_page", list_name=row.list_name))
    return render_template("reference/edit.html", row=row, spec=spec, form=form), status


@bp.post("/entry/<int:entry_id>/active")
@permission_required("admin.reference")
def set_active(entry_id):
    row = service.get_entry(entry_id)
    form = ActiveForm()
    if not form.validate_on_submit() or form.active.data not in ("0", "1"):
        flash("Not changed: the form was incomplete.", "error")
    else:
        service.set_active(entry_id, form.active.data == "1", actor=g.actor)
        db.session.commit()
        flash(f"{row.code} {'activated' if row.is_active else 'deactivated'}.", "info")
    return redirect(url_for("reference.list_page", list_name=row.list_name))


@bp.post("/<list_name>/load")
@permission_required("admin.reference")
def load(list_name):
    _spec_or_404(list_name)
    form = LoadForm()
    if not form.validate_on_submit():
        flash("Not loaded: choose a CSV file.", "error")
        return redirect(url_for("reference.list_page", list_name=list_name))
    try:
        text = form.file.data.read().decode("utf-8")
        report = service.load_rows(list_name, text, actor=g.actor)
    except UnicodeDecodeError:
        flash("Not loaded: the file is not UTF-8 text.", "error")
    except ValidationError as exc:
        db.session.rollback()
        for where, message in exc.fields.items():
            flash(f"Not loaded: {where}: {message}", "error")
    else:
        db.session.commit()
        flash(f"{report['added']} added, {report['updated']} updated.", "info")
    return redirect(url_for("reference.list_page", list_name=list_name))
