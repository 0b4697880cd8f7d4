"""The one search box."""

import re
from datetime import UTC, date, datetime, time

from flask import Blueprint, current_app, g, render_template, request

from app.core.errors import ValidationError
from app.core.pagination import MAX_PAGE
from app.core.params import int_arg
from app.core.web import permission_required
from app.search import service
from app.search.registry import search_sources

bp = Blueprint("search", __name__)


_ISO_DAY = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")


def parse_date(value, field, *, end=False, strict=False):
    """A YYYY-MM-DD filter as an aware datetime (end of day for an upper bound). The page's
    empty date box means "no bound"; the API (``strict``) refuses an empty or partial date,
    as its description says (format: date)."""
    if value is None or (not value and not strict):
        return None
    try:
        if not _ISO_DAY.match(value):
            raise ValueError(value)
        day = date.fromisoformat(value)
    except ValueError:
        raise ValidationError({field: "must be a date (YYYY-MM-DD)"}) from None
    return datetime.combine(day, time.max if end else time.min, tzinfo=UTC)


def parse_args(args, *, strict=False):
    sources = search_sources(current_app)
    types = [t for t in args.getlist("type") if t] or None
    if types:
        bad = [t for t in types if t not in sources]
        if bad:
            raise ValidationError({"type": f"unknown record type {bad[0]!r}"})
    # The page clamps (page=x is page 1, page=10**30 the last there can be); the API refuses.
    page = int_arg(args, "page", 1, 1, MAX_PAGE, strict=strict)
    return {
        "types": types,
        "date_from": parse_date(args.get("from"), "from", strict=strict),
        "date_to": parse_date(args.get("to"), "to", end=True, strict=strict),
        "page": page,
    }


@bp.get("/search")
@permission_required("search.use")
def search_page():
    sources = {k: s for k, s in search_sources(current_app).items() if g.actor.can(s.permission)}
    q = request.args.get("q", "").strip()
    result, error = None, None
    try:
        options = parse_args(request.args)
        if q:
            result = service.search(g.actor, q, per_page=20, **options)
    except ValidationError as exc:
        error = str(exc)
    return render_template(
        "search/search.html",
        q=q,
        result=result,
        error=error,
        sources=sources,
        selected=request.args.getlist("type"),
        args=request.args,
    )
