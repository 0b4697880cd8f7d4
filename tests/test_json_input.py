"""The JSON reader every body goes through (``app.core.json_input``): its nesting scan, its
string checks and its size limit, tested on their own (issue 16, item 4; the HTTP-level
regressions are in tests/test_hostile_input.py)."""

import json
import time

import pytest
from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.test import EnvironBuilder

from app.core import json_input
from app.core.errors import ValidationError


@pytest.mark.parametrize(
    ("text", "depth"),
    [
        ("1", 0),
        ("[]", 1),
        ('{"a": [1, {"b": []}]}', 4),
        ('["[[[[", "]]]]"]', 1),  # brackets inside strings do not count
        ('["\\"[[[", "x\\\\", [[]]]', 3),  # nor do escaped quotes end a string
        ('"unterminated [[[[', 0),
    ],
)
def test_nesting_depth_ignores_strings(text, depth):
    assert json_input.nesting_depth(text) == depth


def test_the_limit_is_inclusive(app):
    with app.app_context():
        assert json_input.loads("[" * 128 + "]" * 128) is not None
        with pytest.raises(ValidationError) as exc:
            json_input.loads("[" * 129 + "]" * 129)
        assert exc.value.fields == {"body": "nests arrays and objects deeper than 128 levels"}


def test_the_scan_is_linear_on_quotes_that_never_close(app):
    """A pattern that can fail would rescan the rest of the text from every later quote:
    quadratic on this body (hours at 1 MB). The scan does it in one pass."""
    text = "[" * 100 + '"' + '\\"[' * 300_000
    started = time.perf_counter()
    assert json_input.nesting_depth(text) == 100
    elapsed = time.perf_counter() - started
    print(f"scanned {len(text):,} characters in {elapsed * 1000:.1f} ms")


@pytest.mark.parametrize(
    ("value", "found"),
    [
        ({"a": "ok", "b": ["x", "y\x00"]}, ("body.b[1]", "must not contain NUL characters")),
        ({"a": ["\ud800"]}, ("body.a[0]", "surrogate")),
        ({"k\udfff": 1}, ("body", "has a key")),
        ({"fine": ["text", 1, None, {"x": "\U0001f600"}]}, None),  # a paired surrogate is fine
    ],
)
def test_bad_strings_are_located_in_document_order(value, found):
    result = json_input.first_bad_string(value)
    if found is None:
        assert result is None
    else:
        assert result[0] == found[0] and found[1] in result[1], result


def test_a_chunked_body_without_length_is_measured_after_reading(app, monkeypatch):
    """No Content-Length to refuse on (chunked transfer): the bytes read are counted."""
    monkeypatch.setitem(app.config, "TOLLGATE_JSON_MAX_BYTES", 100)
    body = json.dumps({"x": "y" * 500}).encode()
    environ = EnvironBuilder(
        method="POST", data=body, content_type="application/json"
    ).get_environ()
    del environ["CONTENT_LENGTH"]
    environ["wsgi.input_terminated"] = True
    with app.app_context():
        with pytest.raises(RequestEntityTooLarge):
            json_input.TollgateRequest(environ).get_json()
        # Within the limit the same request class reads it.
        monkeypatch.setitem(app.config, "TOLLGATE_JSON_MAX_BYTES", 1_000)
        environ["wsgi.input"].seek(0)
        assert json_input.TollgateRequest(environ).get_json() == {"x": "y" * 500}


def test_silent_callers_still_get_none_for_text_that_is_not_json(app):
    environ = EnvironBuilder(method="POST", data=b"{not json", content_type="application/json")
    with app.app_context():
        request = json_input.TollgateRequest(environ.get_environ())
        assert request.get_json(silent=True) is None
        with pytest.raises(ValidationError) as exc:
            request.get_json()  # the strict call is not answered from the silent cache
        assert exc.value.fields["body"].startswith("is not valid JSON")
