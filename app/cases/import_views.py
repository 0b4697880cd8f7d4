"""The CSV import pages: upload, column mapping, dry run, import (routes on ``cases.bp``)."""

import secrets
from pathlib import Path

from flask import current_app, flash, g, redirect, render_template, session, url_for

from app.cases import catalog, import_columns, importer
from app.cases.forms import ImportRunForm, ImportUploadForm
from app.cases.views import bp
from app.core import forms
from app.core.errors import ValidationError
from app.core.web import permission_required
from app.extensions import db

SESSION_KEY = "case_import"


def _upload_dir() -> Path:
    path = Path(current_app.instance_path) / "case-imports"
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    return path


def _stored(token: str | None) -> Path | None:
    """The uploaded file of this session's import (tokens of other sessions do not resolve)."""
    if not token or session.get(SESSION_KEY) != token or not token.isalnum():
        return None
    path = _upload_dir() / token
    return path if path.is_file() else None


def _mapping_choices(header):
    return [("", "— not in the file —")] + [(h, h) for h in header]


@bp.route("/import", methods=["GET", "POST"])
@permission_required("case.create")
def import_upload():
    form = ImportUploadForm()
    upload = form.file.data
    data = upload.read() if getattr(upload, "filename", "") else b""
    # Whatever the file's header is refused for is said at the file input.
    done = forms.submit(form, lambda f: _header(data), rename=lambda key: "file")
    if done:
        token = secrets.token_hex(16)
        (_upload_dir() / token).write_bytes(data)
        session[SESSION_KEY] = token
        return _mapping_page(token, done.value, importer.suggest_mapping(done.value))
    return render_template("cases/import_upload.html", form=form, targets=import_columns.TARGETS)


def _header(data: bytes):
    if not data:
        raise ValidationError({"file": "choose a CSV file"})
    return importer.read_header(data)


def _mapping_page(token, header, mapping, report=None, run_form=None):
    run_form = run_form or ImportRunForm(token=token)
    return render_template(
        "cases/import_mapping.html",
        header=header,
        mapping=mapping,
        choices=_mapping_choices(header),
        targets=import_columns.TARGETS,
        form=run_form,
        report=report,
        catalog=catalog,
    )


@bp.post("/import/run")
@permission_required("case.create")
def import_run():
    from flask import request

    form = ImportRunForm()
    path = _stored(form.token.data)
    if not form.validate_on_submit() or path is None:
        flash("The uploaded file has expired; upload it again.", "error")
        return redirect(url_for("cases.import_upload"))
    data = path.read_bytes()
    header = importer.read_header(data)
    mapping = {t: request.form.get(f"map-{t}", "") for t in import_columns.TARGETS}
    mapping = {t: c for t, c in mapping.items() if c}
    # A refusal of the whole file is reported like the rows' errors (show=False).
    done = forms.submit(
        form,
        lambda f: importer.run_import(
            data,
            mapping,
            actor=g.actor,
            dry_run=f.dry_run.data,
            skip_duplicates=f.skip_duplicates.data,
            handling_code=f.handling_code.data,
            default_place_type=f.place_type.data or None,
        ),
        validate=False,
        show=False,
    )
    report = done.value or importer.ImportReport(errors=done.first_errors() or {})
    if report.errors or report.dry_run:
        db.session.rollback()
        if not report.errors:
            form.dry_run.data = False  # the next click imports what the dry run checked
        return _mapping_page(form.token.data, header, mapping, report, form)
    path.unlink(missing_ok=True)
    session.pop(SESSION_KEY, None)
    flash(
        f"Imported {report.cases} historical seizures with {report.items} items"
        + (f"; {len(report.duplicates)} duplicates skipped." if report.duplicates else "."),
        "info",
    )
    return redirect(url_for("cases.seizures", sort="opened"))
