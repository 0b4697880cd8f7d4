"""News pages: articles and the dependency network (administration pages: views_admin)."""

from datetime import date

from flask import (
    Blueprint,
    Response,
    g,
    jsonify,
    render_template,
    request,
    url_for,
)
from sqlalchemy import distinct, func, select

from app.core import forms
from app.core.errors import ValidationError
from app.core.pagination import paginate
from app.core.params import id_arg
from app.core.web import permission_required
from app.extensions import db
from app.textmining import network as net
from app.textmining import service
from app.textmining.models import Article, Feed
from app.textmining.terms_builtin import CATEGORIES

bp = Blueprint("textmining", __name__, url_prefix="/news")


@bp.app_template_filter("category_label")
def category_label(value):
    return CATEGORIES.get(value, value)


# -- articles ---------------------------------------------------------------------------


@bp.get("/")
@permission_required("news.view")
def articles():
    args = request.args
    # An id no feed can have lists nothing; text that is not a number is ignored.
    feed_id = id_arg(args, "feed")
    stmt = service.articles_query(
        actor=g.actor,
        q=args.get("q", "").strip() or None,
        feed_id=feed_id,
        language=args.get("language") or None,
        category=args.get("category") or None,
        canonical=args.get("term") or None,
        keyword=args.get("keyword") or None,
        group_id=id_arg(args, "group"),
    )
    page = paginate(stmt, args, per_page=25)
    languages = db.session.scalars(
        select(distinct(Article.language)).where(Article.language.is_not(None))
    ).all()
    return render_template(
        "textmining/articles.html",
        page=page,
        args=args,
        feeds=db.session.scalars(select(Feed).order_by(Feed.title)).all(),
        languages=sorted(languages),
        categories=CATEGORIES,
        groups=service.group_sizes([a.id for a in page.items]),
    )


@bp.get("/articles/<int:article_id>")
@permission_required("news.view")
def article(article_id):
    item = service.get_article(article_id, actor=g.actor)
    title_segments, body_segments = service.highlight(item)
    paragraphs, current = [], []
    for seg in body_segments:
        # split plain text on blank lines so the body keeps its paragraphs
        if seg.mention is None and "\n\n" in seg.text:
            parts = seg.text.split("\n\n")
            for i, part in enumerate(parts):
                if part:
                    current.append(service.Segment(part))
                if i < len(parts) - 1:
                    paragraphs.append(current)
                    current = []
        else:
            current.append(seg)
    if current:
        paragraphs.append(current)
    by_category = {}
    for m in item.mentions:
        by_category.setdefault(m.category, {}).setdefault(m.canonical, m)
    return render_template(
        "textmining/article.html",
        article=item,
        title_segments=title_segments,
        paragraphs=paragraphs,
        by_category=by_category,
        group=service.group_members(item),
    )


# -- network ----------------------------------------------------------------------------


def _filters():
    return net.NetworkFilter.from_args(request.args)


@bp.get("/network")
@permission_required("news.view")
def network():
    try:
        filters = _filters()
    except ValidationError as exc:
        forms.flash_errors(exc)
        filters = net.NetworkFilter()
    graph = net.build_network(filters, actor=g.actor)
    return render_template(
        "textmining/network.html",
        graph=graph,
        filters=filters,
        presets=net.PRESET_PAIRS,
        categories=CATEGORIES,
        node_categories=net.NODE_CATEGORIES,
        feeds=db.session.scalars(select(Feed).order_by(Feed.title)).all(),
        data_url=url_for("textmining.network_data", **filters.query_args()),
    )


@bp.get("/network.json")
@permission_required("news.view")
def network_data():
    filters = _filters()
    graph = net.build_network(filters, actor=g.actor)
    body = graph.as_json()
    args = filters.query_args()
    for edge, raw in zip(body["edges"], graph.edges, strict=True):
        edge["confidence"] = round(max(raw.confidence_st, raw.confidence_ts), 4)
        edge["url"] = url_for(
            "textmining.edge_articles", source=raw.source, target=raw.target, **args
        )
    for node in body["nodes"]:
        category, _, canonical = node["id"].partition(":")
        node["url"] = url_for("textmining.articles", category=category, term=canonical)
    body["articles"] = graph.articles
    return jsonify(body)


@bp.get("/network/edge")
@permission_required("news.view")
def edge_articles():
    filters = _filters()
    source, target = request.args.get("source", ""), request.args.get("target", "")
    ids = net.edge_article_ids(source, target, filters)
    stmt = (
        select(Article)
        .where(Article.id.in_(ids))
        .order_by(func.coalesce(Article.published_dt, Article.created_dt).desc(), Article.id.desc())
    )
    page = paginate(stmt, request.args, per_page=25)
    return render_template(
        "textmining/edge.html",
        page=page,
        source=source,
        target=target,
        filters=filters,
        label_of=net.label_of,
        category_of=net.category_of,
    )


@bp.get("/network/compare")
@permission_required("news.view")
def network_compare():
    args = request.args
    default_first, default_second = net.default_periods()
    errors = {}

    def day(name, default):
        raw = (args.get(name) or "").strip()
        if not raw:
            return default
        try:
            return date.fromisoformat(raw)
        except ValueError:
            errors[name] = "must be a date like 2026-01-31"
            return default

    first = (day("first_from", default_first[0]), day("first_to", default_first[1]))
    second = (day("second_from", default_second[0]), day("second_to", default_second[1]))
    try:
        filters = _filters()
    except ValidationError as exc:
        errors.update(exc.fields)
        filters = net.NetworkFilter()
    for key, (lo, hi) in (("first_to", first), ("second_to", second)):
        if lo > hi:
            errors[key] = "must not be before the start of the period"
    if errors:
        forms.flash_errors(errors)
        changes = []
    else:
        changes = net.compare_periods(filters, first, second, actor=g.actor)
    return render_template(
        "textmining/compare.html",
        changes=changes[:300],
        first=first,
        second=second,
        filters=filters,
        presets=net.PRESET_PAIRS,
        label_of=net.label_of,
        category_of=net.category_of,
    )


@bp.get("/network/export")
@permission_required("news.view")
def network_export():
    filters = _filters()
    fmt = request.args.get("format", "graphml")
    data, mimetype, ext = net.export_graph(net.build_network(filters, actor=g.actor), fmt)
    return Response(
        data,
        mimetype=mimetype,
        headers={"Content-Disposition": f'attachment; filename="tollgate-news-network.{ext}"'},
    )


def home_panel(user):
    """Latest news for the home page (articles are open-source: no need-to-know filter)."""
    from datetime import timedelta

    from app.core.time import now_utc

    latest = db.session.scalars(
        select(Article)
        .order_by(func.coalesce(Article.published_dt, Article.created_dt).desc(), Article.id.desc())
        .limit(5)
    ).all()
    week = db.session.scalar(
        select(func.count(Article.id)).where(Article.created_dt >= now_utc() - timedelta(days=7))
    )
    return {"articles": latest, "week": week}
