"""Offset pagination over a SELECT, with the total counted by the database."""

from dataclasses import dataclass

from sqlalchemy import func, select

from app.extensions import db

DEFAULT_PER_PAGE = 50
MAX_PER_PAGE = 200


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


def _int_arg(args, name, default, lo, hi):
    try:
        value = int(args.get(name, default))
    except (TypeError, ValueError):
        value = default
    return min(max(value, lo), hi)


def paginate(stmt, args, *, per_page: int = DEFAULT_PER_PAGE, scalars: bool = True) -> Page:
    """Run ``stmt`` for the page named in ``args`` (``page``, ``per_page``)."""
    per_page = _int_arg(args, "per_page", per_page, 1, MAX_PER_PAGE)
    page = _int_arg(args, "page", 1, 1, 1_000_000)
    total = db.session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery()))
    result = db.session.execute(stmt.limit(per_page).offset((page - 1) * per_page))
    items = result.scalars().all() if scalars else result.all()
    return Page(items=items, page=page, per_page=per_page, total=total or 0)
