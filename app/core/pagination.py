"""Offset pagination over a SELECT, with the total counted by the database.

HTML pages are lenient (``page=0`` or ``page=x`` shows page 1, ``per_page=10000`` the
maximum); the JSON API is strict (``strict=True``): a value outside the declared range, or
not a whole number, is a ``ValidationError`` naming the parameter (a 422).
"""

from dataclasses import dataclass

from sqlalchemy import func, select

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
