"""Every JSON document a client sends is read here: API bodies, the pages' JSON calls
(``request.get_json``, through ``TollgateRequest``) and JSON typed into form fields (``loads``).

Each check answers bad input with a clear refusal instead of a 500, in this order:

1. size: more than ``TOLLGATE_JSON_MAX_BYTES`` is a 413, refused on the Content-Length before
   the body is read when the client declares it;
2. encoding: strict UTF-8 (RFC 8259 section 8.1), a 422 naming the byte;
3. nesting: deeper than ``TOLLGATE_JSON_MAX_DEPTH`` is a 422, counted by a linear scan that does
   not recurse, *before* ``json.loads``: its C decoder raises RecursionError (not ValueError, so
   ``get_json(silent=True)`` lets it through) at about 1,000 levels, and every recursive walk of
   a parsed document would fail the same way;
4. syntax: strict JSON, so ``NaN``, ``Infinity`` and ``1e999`` (which Python reads as the float
   infinity) are refused rather than stored or compared;
5. strings: NUL (PostgreSQL text cannot hold it) or a lone surrogate (``"\\ud800"``: no UTF-8
   encoding exists, so SQLite, PostgreSQL and every response encoder fail on it) in any string
   or key is a 422 naming its JSON path (``body.items[2].description``).
"""

import json
import math
import re
from itertools import accumulate

from flask import Request, current_app
from werkzeug.exceptions import RequestEntityTooLarge

from app.core.errors import ValidationError

#: nesting levels a document may have: Tollgate's deepest (a risk profile's condition tree,
#: at most 6 groups) needs about 20, and a tree a few dozen groups too deep is still read, so
#: that the editor names the group at fault; the decoder fails at about 1,000
DEFAULT_MAX_DEPTH = 128
#: bytes of one JSON body: a declaration batch at its item limit (TOLLGATE_API_BATCH_MAX_ITEMS,
#: 5,000) with 500-character descriptions is about 3.5 MB
DEFAULT_MAX_BYTES = 8 * 1024 * 1024

_NOT_BRACKET = re.compile(r"[^\[\]{}]++")
_STEP = {"[": 1, "{": 1, "]": -1, "}": -1}
_SUSPECT = re.compile(r"\\u(?:0000|[dD][89a-fA-F])")


def max_depth() -> int:
    return int(current_app.config.get("TOLLGATE_JSON_MAX_DEPTH", DEFAULT_MAX_DEPTH))


def max_bytes() -> int:
    return int(current_app.config.get("TOLLGATE_JSON_MAX_BYTES", DEFAULT_MAX_BYTES))


def nesting_depth(text: str) -> int:
    """How deep arrays and objects nest in ``text``, brackets inside strings not counted.

    Without the escapes ``\\\\`` and ``\\"`` (removed left to right, as the decoder reads them),
    every quote left opens or closes a string, so the text outside strings is every other
    piece between quotes. No loop in Python and no pattern that can backtrack: str.replace,
    split and a regular expression run in C, in one pass each (5.7 MB in about 40 ms). Where
    the text stops being JSON (a backslash outside a string) the decoder stops too, and the
    brackets it would have read before that point are counted the same way."""
    unescaped = text.replace("\\\\", "").replace('\\"', "")
    outside = "".join(unescaped.split('"')[::2])
    brackets = _NOT_BRACKET.sub("", outside)
    return max(accumulate(map(_STEP.__getitem__, brackets)), default=0)


def check_depth(text: str, where: str = "body", limit: int | None = None) -> None:
    limit = max_depth() if limit is None else limit
    # Fewer opening brackets than the limit (strings included) cannot nest deeper: most bodies
    # are settled by two counts.
    if text.count("[") + text.count("{") <= limit:
        return
    if nesting_depth(text) > limit:
        raise ValidationError({where: f"nests arrays and objects deeper than {limit} levels"})


def decode(data: bytes, where: str = "body") -> str:
    """``data`` as strict UTF-8 (a byte-order mark is tolerated, as RFC 8259 allows)."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ValidationError({where: f"is not valid UTF-8 (byte {exc.start})"}) from None


class _NotJSON(ValueError):
    pass


def _constant(name):
    raise _NotJSON(f"{name} is not a JSON number")


def _finite(text):
    value = float(text)
    if not math.isfinite(value):
        raise _NotJSON(f"{text} is beyond the range of a number")
    return value


def loads(text: str | bytes, where: str = "body"):
    """Parse one JSON document after the checks above; a ValidationError naming ``where`` (or
    the JSON path inside it) otherwise. The size limit is the caller's (``TollgateRequest``)."""
    if isinstance(text, bytes):
        text = decode(text, where)
    else:
        _check_encodable(text, where)
    check_depth(text, where)
    try:
        value = json.loads(text, parse_constant=_constant, parse_float=_finite)
    except _NotJSON as exc:
        raise ValidationError({where: f"is not valid JSON: {exc}"}) from None
    except ValueError as exc:  # JSONDecodeError, or an integer of more than 4,300 digits
        raise ValidationError({where: f"is not valid JSON: {exc}"}) from None
    # Only an escape (\u0000, \ud800) can put NUL or a lone surrogate into a parsed string:
    # strict decoding refused raw surrogates and the parser raw control characters. The walk
    # is for documents holding such an escape (or a pair: an emoji written as \ud83d\ude00).
    if _SUSPECT.search(text) and (problem := first_bad_string(value, where)):
        path, message = problem
        raise ValidationError({path: message})
    return value


def _check_encodable(text: str, where: str) -> None:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise ValidationError(
            {where: f"holds a lone surrogate at character {exc.start}: not valid Unicode"}
        ) from None


def _string_problem(text: str) -> str | None:
    if "\x00" in text:
        return "must not contain NUL characters"
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return "must not contain a lone surrogate (\\ud800-\\udfff): it is not valid Unicode"
    return None


def first_bad_string(value, path: str = "body") -> tuple[str, str] | None:
    """``(json path, message)`` of the first string, in document order, holding NUL or a lone
    surrogate; a bad key names the object holding it. None when every string is clean.
    Walked with a stack, not recursion, though ``check_depth`` already bounds the depth."""
    stack = [(path, value)]
    while stack:
        where, item = stack.pop()
        if isinstance(item, str):
            if message := _string_problem(item):
                return where, message
        elif isinstance(item, dict):
            children = []
            for key, child in item.items():
                if message := _string_problem(key):
                    return where, f"has a key that {message}"
                children.append((f"{where}.{key}", child))
            stack.extend(reversed(children))
        elif isinstance(item, list):
            stack.extend(reversed([(f"{where}[{i}]", child) for i, child in enumerate(item)]))
    return None


class TollgateRequest(Request):
    """``get_json`` through ``loads``: the checks above apply to every JSON body a view reads.

    A refusal is raised even with ``silent=True``: silent is the view asking for None in place
    of a body that is not JSON at all, not for a hostile document to be waved through."""

    def get_json(self, force=False, silent=False, cache=True):
        if not (force or self.is_json):
            return super().get_json(force=force, silent=silent, cache=cache)
        if cache and self._cached_json[silent] is not Ellipsis:
            return self._cached_json[silent]
        limit = max_bytes()
        if self.content_length is not None and self.content_length > limit:
            raise RequestEntityTooLarge(f"A JSON body may have at most {limit} bytes.")
        data = self.get_data(cache=cache)
        if len(data) > limit:  # chunked: no Content-Length to refuse on
            raise RequestEntityTooLarge(f"A JSON body may have at most {limit} bytes.")
        try:
            value = loads(data)
        except ValidationError as exc:
            if not (silent and _is_syntax(exc)):
                raise
            if cache:  # only the silent answer is known; a strict call re-parses and raises
                self._cached_json = (self._cached_json[0], None)
            return None
        if cache:
            self._cached_json = (value, value)
        return value


def _is_syntax(exc: ValidationError) -> bool:
    """Plain syntax errors stay silent for ``silent=True`` callers (who report "not JSON"
    themselves); the size, depth, encoding and string refusals do not."""
    return list(exc.fields) == ["body"] and exc.fields["body"].startswith("is not valid JSON")
