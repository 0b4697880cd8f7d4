"""Administrator pages of the reference lists: view, add, edit, deactivate, load a file."""

from flask import Blueprint, abort, flash, g, redirect, render_template, url_for

from app.core import forms
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
    done = forms.submit(
        form, lambda f: service.add_entry(list_name, _data(f), actor=g.actor), validate=False
    )
    if not done:
        return _render_list(list_name, form, 422)
    db.session.commit()
    flash(f"{done.value.code} added.", "info")
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
        if form.validate() and forms.submit(
            form,
            lambda f: service.update_entry(entry_id, _data(f), actor=g.actor),
            validate=False,
        ):
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
    except UnicodeDecodeError:
        flash("Not loaded: the file is not UTF-8 text.", "error")
        return redirect(url_for("reference.list_page", list_name=list_name))
    done = forms.submit(
        form,
        lambda f: service.load_rows(list_name, text, actor=g.actor),
        validate=False,
        redirecting=True,
        label=lambda where: f"Not loaded: {where}",
    )
    if done:
        db.session.commit()
        flash(f"{done.value['added']} added, {done.value['updated']} updated.", "info")
    return redirect(url_for("reference.list_page", list_name=list_name))
