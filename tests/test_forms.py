"""One form path (app.core.forms.submit) and the ``field`` / ``filter_select`` macros: a
service's ValidationError rolls the request back and shows each message at its field, tied to
the input for assistive technology (aria-invalid, aria-describedby)."""

from flask import get_flashed_messages, render_template_string
from flask_wtf import FlaskForm
from sqlalchemy import func, select
from wtforms import FieldList, FormField, StringField
from wtforms.validators import DataRequired

from app.core import forms
from app.core.errors import ValidationError
from app.security.models import Unit

FIELD = '{% from "macros.html" import field %}{{ field(f) }}'


class ItemForm(FlaskForm):
    class Meta:
        csrf = False

    quantity = StringField("Quantity")


class CaseForm(FlaskForm):
    title = StringField("Title", validators=[DataRequired()], description="A short title")
    items = FieldList(FormField(ItemForm), min_entries=2)


def _units(db, code):
    return db.session.scalar(select(func.count()).select_from(Unit).where(Unit.code == code))


def _post(app, data):
    return app.test_request_context("/", method="POST", data=data)


def test_service_error_rolls_back_and_lands_on_its_field(app, db):
    data = {"title": "Seizure", "items-0-quantity": "1", "items-1-quantity": "x"}
    with _post(app, data):
        form = CaseForm()

        def action(f):
            db.session.add(Unit(code="HALF-WRITTEN", name="written before the refusal"))
            db.session.flush()
            raise ValidationError(
                {"title": "is taken", "items[1].quantity": "must be a number", "office": "unknown"}
            )

        done = forms.submit(form, action)
        assert not done and done.errors["items[1].quantity"] == ["must be a number"]
        assert _units(db, "HALF-WRITTEN") == 0  # rolled back
        assert form.title.errors == ["is taken"]
        assert form.items.entries[1].form.quantity.errors == ["must be a number"]
        assert form.items.entries[0].form.quantity.errors == []
        # A message naming no field of the form is shown above it, named.
        assert get_flashed_messages(with_categories=True) == [("error", "office: unknown")]

        html = render_template_string(FIELD, f=form.title)
        assert 'aria-invalid="true"' in html
        assert 'aria-describedby="title-error-1 title-hint"' in html
        assert '<p class="error" id="title-error-1">is taken</p>' in html
        assert '<p class="hint" id="title-hint">A short title</p>' in html
        quantity = render_template_string(FIELD, f=form.items.entries[1].form.quantity)
        assert 'aria-describedby="items-1-quantity-error-1"' in quantity


def test_a_key_past_a_plain_field_lands_on_it_named(app, db):
    """``entity_ids[2]``: one of several ids typed in one field."""
    with _post(app, {"title": "x"}):
        form = CaseForm()
        assert forms.attach_errors(form, {"title[2]": "no such entity"}) == []
        assert form.title.errors == ["title[2]: no such entity"]


def test_success_returns_the_value_and_a_field_without_error_is_not_invalid(app, db):
    with _post(app, {"title": "Seizure"}):
        form = CaseForm()
        done = forms.submit(form, lambda f: f.title.data.upper())
        assert done and done.value == "SEIZURE"
        html = render_template_string(FIELD, f=form.title)
        assert "aria-invalid" not in html and 'aria-describedby="title-hint"' in html


def test_an_id_given_by_the_page_keeps_the_label_on_its_input(app, db):
    with _post(app, {"title": "Seizure"}):
        form = CaseForm()
        html = render_template_string(
            '{% from "macros.html" import field %}{{ field(f, id="case-title") }}', f=form.title
        )
        assert 'for="case-title"' in html and 'id="case-title"' in html


def test_redirecting_flashes_form_and_service_errors(app, db):
    with _post(app, {"title": ""}):
        done = forms.submit(CaseForm(), lambda f: None, redirecting=True)
        assert not done and "title" in done.errors
        assert get_flashed_messages() == ["title: This field is required."]
    checked = []
    with _post(app, {"title": "x"}):
        done = forms.submit(
            CaseForm(),
            lambda f: (_ for _ in ()).throw(ValidationError({"title": "is taken"})),
            redirecting=True,
            on_error=lambda: checked.append("need-to-know first"),
        )
        assert not done and checked == ["need-to-know first"]
        assert get_flashed_messages() == ["title: is taken"]


def test_filter_select_marks_the_current_value(app, db):
    source = (
        '{% from "macros.html" import filter_select %}'
        "{{ filter_select('severity', 'Severity', ['low', ('high', 'High')], blank='any') }}"
    )
    with app.test_request_context("/?severity=high"):
        html = render_template_string(source)
    assert '<option value="">any</option>' in html
    assert '<option value="high" selected>High</option>' in html
    assert '<option value="low">low</option>' in html
