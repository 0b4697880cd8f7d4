"""Administrator pages of the screening lists: load a version, see versions and their diffs."""

import json
import re
import tempfile
from datetime import date
from pathlib import Path

from flask import Blueprint, abort, flash, g, redirect, render_template, url_for

from app.core.errors import ValidationError
from app.core.web import permission_required
from app.extensions import db
from app.screening import admin, loader, service
from app.screening.forms import LoadForm, SettingsForm

bp = Blueprint("screening", __name__, url_prefix="/admin/screening")

#: a threshold as typed: "0.7", "0.85", "1" (no exponents, no locale separators)
_SCORE = re.compile(r"^(0(\.\d{1,4})?|1(\.0{1,4})?|\.\d{1,4})$")


def _score(raw: str | None, field: str) -> float | None:
    text = (raw or "").strip()
    if not text:
        return None
    if not _SCORE.match(text) or float(text) <= 0:
        raise ValidationError({field: "a score above 0 and at most 1, e.g. 0.75"})
    return float(text)


def _day(raw: str | None) -> date:
    try:
        return date.fromisoformat((raw or "").strip())
    except ValueError:
        raise ValidationError({"version_date": "a date, YYYY-MM-DD"}) from None


def _flash_errors(exc: ValidationError) -> None:
    for where, message in list(exc.fields.items())[:20]:
        flash(f"Not loaded: {where}: {message}", "error")


@bp.get("/")
@permission_required("admin.reference")
def index():
    return render_template("screening/index.html", lists=admin.lists(), form=LoadForm())


def _mapping(form) -> dict | None:
    upload = form.mapping.data
    if not upload or not getattr(upload, "filename", ""):
        return None
    try:
        return json.loads(upload.read().decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValidationError({"mapping": f"is not JSON ({exc})"}) from None


@bp.post("/load")
@permission_required("admin.reference")
def load():
    form = LoadForm()
    if not form.validate_on_submit():
        for name, errors in form.errors.items():
            flash(f"Not loaded: {name}: {'; '.join(errors)}", "error")
        return redirect(url_for("screening.index"))
    with tempfile.TemporaryDirectory(prefix="tollgate-screening-") as tmp:
        path = Path(tmp) / "list"
        form.file.data.save(str(path))
        try:
            mapping = _mapping(form)
            version = loader.load_list(
                path,
                name=form.name.data,
                source=form.source.data,
                version_date=_day(form.version_date.data),
                sensitivity=form.sensitivity.data,
                threshold=_score(form.threshold.data, "threshold"),
                file_format="csv" if mapping is not None else "ftm",
                mapping=mapping,
                file_name=form.file.data.filename,
                actor=g.actor,
            )
        except ValidationError as exc:
            db.session.rollback()
            _flash_errors(exc)
            return redirect(url_for("screening.index"))
    db.session.commit()
    service.invalidate()
    flash(
        f"Loaded {version.entry_count} entries: {version.added} added, {version.removed} "
        f"removed, {version.changed} changed.",
        "info",
    )
    return redirect(url_for("screening.version_page", version_id=version.id))


@bp.get("/<int:list_id>")
@permission_required("admin.reference")
def list_page(list_id):
    lst = admin.get_list(list_id) or abort(404)
    form = SettingsForm(threshold=f"{lst.threshold:g}", is_active=lst.is_active)
    return render_template(
        "screening/list.html", lst=lst, versions=admin.versions(list_id), form=form
    )


@bp.post("/<int:list_id>/settings")
@permission_required("admin.reference")
def settings(list_id):
    admin.get_list(list_id) or abort(404)
    form = SettingsForm()
    try:
        if not form.validate_on_submit():
            raise ValidationError({"threshold": "a score above 0 and at most 1"})
        admin.update_settings(
            list_id,
            threshold=_score(form.threshold.data, "threshold"),
            is_active=bool(form.is_active.data),
            actor=g.actor,
        )
    except ValidationError as exc:
        db.session.rollback()
        for where, message in exc.fields.items():
            flash(f"Not changed: {where}: {message}", "error")
    else:
        db.session.commit()
        service.invalidate()
        flash("Settings saved.", "info")
    return redirect(url_for("screening.list_page", list_id=list_id))


@bp.get("/version/<int:version_id>")
@permission_required("admin.reference")
def version_page(version_id):
    version = admin.get_version(version_id) or abort(404)
    lst = admin.get_list(version.list_id)
    return render_template("screening/version.html", version=version, lst=lst)
