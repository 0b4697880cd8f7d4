"""Pagination over a SELECT, with the total counted by the database.

``paginate`` pages by number (OFFSET). ``keyset_paginate`` pages by key: the link to the
next page carries the sort key of the last row shown (``after=<cursor>``), the previous
page's link that of the first (``before=<cursor>``), so page 1,000 is one index seek like
page 1 instead of reading and dropping 50,000 rows. A page asked for by number still works
(a bookmark, a typed ``page=``), and so does a row whose sort key is NULL (the links fall
back to numbers from there).

HTML pages are lenient (``page=0`` or ``page=x`` shows page 1, ``per_page=10000`` the
maximum); the JSON API is strict (``strict=True``): a value outside the declared range, or
not a whole number, is a ``ValidationError`` naming the parameter (a 422).
"""

import base64
import binascii
import json
import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import and_, func, literal, or_, select, tuple_

from app.core.errors import ValidationError
from app.core.params import int_arg
from app.extensions import db

DEFAULT_PER_PAGE = 50
MAX_PER_PAGE = 200
MAX_PAGE = 1_000_000


@dataclass
class Page:
    items: list
    page: int
    per_page: int
    total: int
    #: cursors of the next and previous pages when paged by key (None: by number)
    after: str | None = None
    before: str | None = None

    def link_args(self, args, which: str) -> dict:
        """Query arguments of the ``"next"`` or ``"prev"`` page: ``args`` (the request's)
        without the paging ones, plus the cursor (or the page number)."""
        out = args.to_dict(flat=False) if hasattr(args, "to_dict") else dict(args)
        for name in ("page", "after", "before"):
            out.pop(name, None)
        if which == "next":
            if self.after:
                out["after"] = self.after
            else:
                out["page"] = self.page + 1
        elif self.page - 1 > 1:  # page 1 needs neither (the cheapest page of all)
            if self.before:
                out["before"] = self.before
            else:
                out["page"] = self.page - 1
        return out

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))

    @property
    def has_prev(self) -> bool:
        return self.page > 1

    @property
    def has_next(self) -> bool:
        return self.page < self.pages


# Kept under its old name for the modules that import it (cases' lists).
_int_arg = int_arg


def page_args(
    args, *, per_page: int = DEFAULT_PER_PAGE, max_per_page: int = MAX_PER_PAGE, strict=False
) -> tuple[int, int]:
    """``(page, per_page)`` from the query ``args``; see the module docstring for ``strict``.
    Every problem is reported at once (both parameters)."""
    errors: dict[str, str] = {}
    values = {}
    for name, default, hi in (("page", 1, MAX_PAGE), ("per_page", per_page, max_per_page)):
        try:
            values[name] = int_arg(args, name, default, 1, hi, strict=strict)
        except ValidationError as exc:
            errors.update(exc.fields)
    if errors:
        raise ValidationError(errors)
    return values["page"], values["per_page"]


def paginate(
    stmt,
    args,
    *,
    per_page: int = DEFAULT_PER_PAGE,
    scalars: bool = True,
    strict: bool = False,
) -> Page:
    """Run ``stmt`` for the page named in ``args`` (``page``, ``per_page``); ``strict`` for
    the API (422 on values outside 1..MAX_PAGE / 1..MAX_PER_PAGE instead of clamping)."""
    page, per_page = page_args(args, per_page=per_page, strict=strict)
    total = db.session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery()))
    result = db.session.execute(stmt.limit(per_page).offset((page - 1) * per_page))
    items = result.scalars().all() if scalars else result.all()
    return Page(items=items, page=page, per_page=per_page, total=total or 0)


# --- paging by key -----------------------------------------------------------------------

_CURSOR_FIELDS = ("after", "before")


def _encode_value(value):
    if isinstance(value, datetime):
        return {"dt": value.isoformat()}
    if isinstance(value, date):
        return {"d": value.isoformat()}
    if isinstance(value, Decimal):
        return {"n": str(value)}
    return value


def _decode_value(value, column):
    if isinstance(value, dict) and len(value) == 1:
        ((tag, text),) = value.items()
        value = {"dt": datetime.fromisoformat, "d": date.fromisoformat, "n": Decimal}[tag](text)
    try:
        expected = column.type.python_type
    except NotImplementedError:  # a type without one: the database compares what it gets
        return value
    if expected is float and isinstance(value, int):
        value = float(value)
    if not isinstance(value, expected) or isinstance(value, bool) is not (expected is bool):
        raise ValueError("wrong type")
    # what the databases cannot hold (a 64-bit integer, a finite float) is no key of a row
    if expected is int and not -(2**63) <= value < 2**63:
        raise ValueError("out of range")
    if expected is float and not math.isfinite(value):
        raise ValueError("out of range")
    return value


def encode_cursor(page: int, values) -> str:
    data = json.dumps([page, [_encode_value(v) for v in values]], separators=(",", ":"))
    return base64.urlsafe_b64encode(data.encode()).decode().rstrip("=")


def decode_cursor(text: str, keys) -> tuple[int, list]:
    """``(page, values)`` of a cursor; ValueError for anything this list did not make."""
    try:
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
        page, values = json.loads(raw.decode())
    except (binascii.Error, UnicodeDecodeError, ValueError, TypeError) as exc:
        raise ValueError("not a cursor") from exc
    if type(page) is not int or not 1 <= page <= MAX_PAGE or not isinstance(values, list):
        raise ValueError("not a cursor")
    if len(values) != len(keys):
        raise ValueError("not a cursor of this list")
    try:
        return page, [_decode_value(v, col) for v, (col, _desc) in zip(values, keys, strict=True)]
    except (KeyError, TypeError, ValueError, ArithmeticError) as exc:
        raise ValueError("not a cursor of this list") from exc


def _beyond(keys, values, forward: bool):
    """Rows after (``forward``) or before the row whose sort key is ``values``."""
    directions = {desc for _col, desc in keys}
    if len(directions) == 1:  # one row-value comparison: an index seek on both databases
        # each value bound with its column's type (UTCDateTime stores naive UTC on SQLite)
        cols = tuple_(*[c for c, _ in keys])
        vals = tuple_(*[literal(v, c.type) for (c, _), v in zip(keys, values, strict=True)])
        return cols < vals if directions.pop() is forward else cols > vals
    clauses = []
    for i, (col, desc) in enumerate(keys):
        equal = [c == v for (c, _), v in zip(keys[:i], values[:i], strict=True)]
        step = col < values[i] if desc is forward else col > values[i]
        clauses.append(and_(*equal, step))
    return or_(*clauses)


def _row_key(item, keys):
    values = [getattr(item, col.key) for col, _desc in keys]
    return None if any(v is None for v in values) else values


def keyset_paginate(
    stmt,
    args,
    keys: list,
    *,
    per_page: int = DEFAULT_PER_PAGE,
    strict: bool = False,
    count: Callable | None = None,
) -> Page:
    """A page of ``stmt`` ordered by ``keys`` (``[(column, descending), ...]``, unique
    together: end with the primary key), by cursor (``after`` / ``before``) or by number.

    ``count(stmt)`` returns the total (default: all rows counted). An unreadable cursor is
    a 422 naming it with ``strict`` (the API), page 1 otherwise."""
    page, per_page = page_args(args, per_page=per_page, strict=strict)
    forward, cursor = True, None
    for name in _CURSOR_FIELDS:
        if args.get(name):
            try:
                cursor = decode_cursor(args.get(name), keys)
            except ValueError as exc:
                if strict:
                    raise ValidationError({name: "is not a cursor of this list"}) from exc
                page = 1
            forward = name == "after"
            break
    order = [col.desc() if desc else col.asc() for col, desc in keys]
    ordered = stmt.order_by(None).order_by(*order)
    if cursor is None:
        items = db.session.scalars(ordered.limit(per_page).offset((page - 1) * per_page)).all()
    else:
        page, values = cursor
        if forward:
            items = db.session.scalars(
                ordered.where(_beyond(keys, values, True)).limit(per_page)
            ).all()
        else:
            backward = [col.asc() if desc else col.desc() for col, desc in keys]
            where = _beyond(keys, values, False)
            items = db.session.scalars(
                stmt.order_by(None).order_by(*backward).where(where).limit(per_page)
            ).all()[::-1]
    if count is None:
        total = db.session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery()))
    else:
        total = count(stmt)
    result = Page(items=list(items), page=page, per_page=per_page, total=total or 0)
    if items and (last := _row_key(items[-1], keys)) is not None:
        result.after = encode_cursor(page + 1, last)
    if items and page > 1 and (first := _row_key(items[0], keys)) is not None:
        result.before = encode_cursor(page - 1, first)
    return result
