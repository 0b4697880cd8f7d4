"""One form path (issue 21): a web view hands a submitted form to ``app.core.forms.submit``,
which rolls back and puts a service's ValidationError messages next to their fields. A view
that catches ValidationError itself is a second path; this test names each one left, and why.
"""

import ast
from pathlib import Path

import pytest
from flask import get_flashed_messages
from flask_wtf import FlaskForm
from wtforms import FieldList, FormField, StringField

from app.core import forms
from app.core.errors import ValidationError

ROOT = Path(__file__).resolve().parent.parent

# (module, function) -> why it may catch ValidationError itself. None is a form: GET pages
# reading their query string, JSON endpoints, ids a page wrote itself.
ALLOWED = {
    ("app/cases/views.py", "_list"): "a list page's query-string filters, error on the page",
    ("app/alerts/views.py", "inbox"): "the inbox's query-string filters, flashed",
    ("app/alerts/views.py", "figure_alerts"): "a figure's query-string drill-down, flashed",
    ("app/audit/views.py", "ratings"): "the ratings list's query-string filters, flashed",
    ("app/textmining/views.py", "network"): "the network's query-string filters",
    ("app/textmining/views.py", "network_compare"): "the comparison's query-string periods",
    ("app/cases/views_file.py", "seizure_map"): "the map's query-string filters, as the list",
    ("app/cases/views_stats.py", "_months"): "a query-string number with a fallback",
    ("app/intel/views.py", "_offered"): "an id offered again: one that is not an id offers nothing",
    ("app/intel/views_resolution.py", "_pair"): "ids the page wrote in hidden inputs: a bad one "
    "is a forged request (400), nothing to correct",
    ("app/intel/views_graph.py", "json_errors"): "the chart's JSON endpoints answer 422 with the "
    "fields, as the API does",
    ("app/intel/views_graph.py", "wrapped"): "the same (json_errors' inner function)",
    ("app/intel/views_graph.py", "chart_load"): "a JSON read: a chart not to be had is a 404",
    ("app/risk/views_profiles.py", "profile_preview"): "the rule editor's live JSON check, "
    "not a form: it answers the errors by path",
}

# Owned by other work in progress (issue 21 split): screening (H3) and search (H2).
NOT_YET = ("app/screening/", "app/search/")


def _view_modules():
    for path in sorted((ROOT / "app").rglob("*.py")):
        rel = path.relative_to(ROOT).as_posix()
        is_view = path.name.startswith("views") or path.name == "import_views.py"
        if is_view and not rel.startswith(NOT_YET):
            yield rel, path


def _names_validation_error(node) -> bool:
    if node is None:
        return False
    if isinstance(node, ast.Tuple):
        return any(_names_validation_error(e) for e in node.elts)
    if isinstance(node, ast.Attribute):
        return node.attr == "ValidationError"
    return isinstance(node, ast.Name) and node.id == "ValidationError"


def _catchers(tree) -> set[str]:
    """Each function (the outermost one) holding an ``except ValidationError``."""
    found = set()
    for top in ast.walk(tree):
        if not isinstance(top, ast.FunctionDef | ast.AsyncFunctionDef):
            continue
        for node in ast.walk(top):
            if isinstance(node, ast.ExceptHandler) and _names_validation_error(node.type):
                found.add(top.name)
    return found


def _found() -> set[tuple[str, str]]:
    return {
        (rel, name)
        for rel, path in _view_modules()
        for name in _catchers(ast.parse(path.read_text(encoding="utf-8")))
    }


def test_no_view_catches_validation_error_outside_the_allow_list():
    extra = sorted(_found() - set(ALLOWED))
    assert extra == [], (
        f"views catching ValidationError themselves: {extra}; hand the form to "
        "app.core.forms.submit (docs/DEVELOPING.md, Forms) or allow-list it here with a reason"
    )


def test_the_allow_list_names_only_catchers_that_still_exist():
    stale = sorted(set(ALLOWED) - _found())
    assert stale == []


def test_the_check_sees_a_catch_in_a_nested_function():
    tree = ast.parse(
        "def view():\n"
        "    def inner():\n"
        "        try:\n            pass\n"
        "        except (KeyError, errors.ValidationError):\n            pass\n"
    )
    assert _catchers(tree) == {"view", "inner"}


class _PartyForm(FlaskForm):
    class Meta:
        csrf = False

    role = StringField("Role")
    new_name = StringField("Name")


class _SeizureForm(FlaskForm):
    evaded_duties = StringField("Evaded duties")
    parties = FieldList(FormField(_PartyForm), min_entries=1)


def _raise(fields):
    raise ValidationError(fields)


def _refuse(fields):
    def action(form):
        raise ValidationError(fields)

    return action


def test_gather_raises_every_message_at_once_and_returns_results():
    assert forms.gather(lambda: 1, lambda: 2) == [1, 2]
    with pytest.raises(ValidationError) as caught:
        forms.gather(
            lambda: 1,
            lambda: _raise({"a": "first"}),
            lambda: _raise({"a": "second", "b": "other"}),
        )
    assert caught.value.fields == {"a": "first", "b": "other"}


def test_rename_puts_a_service_key_on_the_form_s_own_input(app, db):
    with app.test_request_context("/", method="POST", data={"parties-0-role": "x"}):
        form = _SeizureForm()
        done = forms.submit(
            form,
            _refuse({"parties[0].new_entity.name": "is required"}),
            validate=False,
            rename=lambda key: key.replace(".new_entity.name", ".new_name"),
        )
        assert not done
        assert form.parties.entries[0].form.new_name.errors == ["is required"]
        assert get_flashed_messages() == []


def test_a_key_stopping_at_a_subform_is_shown_above_the_form_not_lost(app, db):
    """A FormField's errors cannot be set (they are its subform's): before, this raised."""
    with app.test_request_context("/", method="POST", data={}):
        form = _SeizureForm()
        done = forms.submit(form, _refuse({"parties[0].new_entity": "bad"}), validate=False)
        assert not done
        assert get_flashed_messages() == ["parties[0].new_entity: bad"]


def test_label_names_a_key_in_words_where_the_message_is_away_from_its_field(app, db):
    with app.test_request_context("/", method="POST", data={}):
        forms.submit(
            _SeizureForm(),
            _refuse({"evaded_duties": "is not a number"}),
            validate=False,
            redirecting=True,
            label=forms.spaced,
        )
        assert get_flashed_messages() == ["evaded duties: is not a number"]
