"""The link chart page and its JSON endpoints (session-authenticated, CSRF on POST)."""

import functools
from datetime import date

from flask import Response, abort, current_app, g, jsonify, render_template, request

from app.core.database import MAX_ID, valid_id
from app.core.errors import ValidationError
from app.core.params import id_value, whole_number
from app.core.web import permission_required
from app.extensions import db
from app.intel import graph
from app.intel.forms import SaveChartForm
from app.intel.models import LINK_TYPES
from app.intel.views import bp


def json_errors(view):
    """Chart calls come from page scripts: answer bad input with JSON naming the field."""

    @functools.wraps(view)
    def wrapped(*args, **kwargs):
        try:
            return view(*args, **kwargs)
        except ValidationError as exc:
            db.session.rollback()
            body = {"error": {"status": 422, "message": str(exc), "fields": exc.fields}}
            return jsonify(body), 422

    return wrapped


def _date_arg(name):
    value = request.args.get(name, "")
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise ValidationError({name: "must be a date (YYYY-MM-DD)"}) from None


def _int_arg(source, name, *, required=True, default=None):
    """An entity id (``e12`` as the chart names its nodes, or ``12``) or a count; held within
    0..MAX_ID, where an id no entity has is simply not found (404) and an offset past the end
    shows nothing more, instead of overflowing the database's integers (a 500)."""
    value = source.get(name, "")
    if value in ("", None):
        if required:
            raise ValidationError({name: "is required"})
        return default
    number = whole_number(str(value).lstrip("e"))
    if number is None:
        raise ValidationError({name: "must be a number"})
    return min(max(number, 0), MAX_ID)


def _node_ids(values) -> list[int]:
    if isinstance(values, str):
        values = values.split(",")
    values = values or []
    if not isinstance(values, list):
        raise ValidationError({"nodes": "must be a list of entity ids"})
    ids = []
    for i, value in enumerate(values):
        value = str(value).strip().lstrip("e")
        if value:
            if valid_id(whole_number(value)) is None:
                raise ValidationError({f"nodes[{i}]": "is not an entity id"})
            ids.append(int(value))
    return ids


def _payload() -> dict:
    """JSON body of a chart call (forms are accepted too, e.g. by plain clients)."""
    data = request.get_json(silent=True)
    if isinstance(data, dict):
        return data
    return request.form.to_dict()


@bp.get("/chart")
@permission_required("entity.view")
def chart():
    start = request.args.get("entity", "")
    chart_id = request.args.get("chart", "")
    return render_template(
        "intel/chart.html",
        # Only ids a record can have reach the page's script (it loads them by URL).
        start=valid_id(whole_number(start)),
        chart_id=valid_id(whole_number(chart_id)),
        link_types=LINK_TYPES,
        save_form=SaveChartForm(formdata=None),
        can_save=g.actor.can("case.edit"),
    )


@bp.get("/graph/expand")
@permission_required("entity.view")
@json_errors
def graph_expand():
    return jsonify(
        graph.expand(
            _int_arg(request.args, "entity"),
            actor=g.actor,
            offset=_int_arg(request.args, "offset", required=False, default=0),
            limit=_int_arg(request.args, "limit", required=False, default=graph.DEFAULT_FANOUT),
            link_types=[t for t in request.args.getlist("type") if t] or None,
        )
    )


@bp.get("/graph/path")
@permission_required("entity.view")
@json_errors
def graph_path():
    return jsonify(
        graph.shortest_path(
            _int_arg(request.args, "from"),
            _int_arg(request.args, "to"),
            actor=g.actor,
            link_types=[t for t in request.args.getlist("type") if t] or None,
            date_from=_date_arg("date_from"),
            date_to=_date_arg("date_to"),
        )
    )


@bp.post("/graph/analyse")
@permission_required("entity.view")
@json_errors
def graph_analyse():
    nodes = _node_ids(_payload().get("nodes"))
    # A long computation that only reads: commit what the request wrote so far (the session's
    # last-seen time) so that SQLite's write lock is not held while it runs.
    db.session.commit()
    config = current_app.config
    return jsonify(
        graph.analyse(
            nodes,
            actor=g.actor,
            max_nodes=config.get("TOLLGATE_GRAPH_ANALYSE_MAX_NODES", graph.MAX_ANALYSE_NODES),
            max_links=config.get("TOLLGATE_GRAPH_ANALYSE_MAX_LINKS", graph.MAX_ANALYSE_LINKS),
        )
    )


@bp.post("/graph/timeline")
@permission_required("entity.view")
@json_errors
def graph_timeline():
    return jsonify(graph.timeline(_node_ids(_payload().get("nodes")), actor=g.actor))


@bp.post("/graph/export")
@permission_required("entity.view")
def graph_export():
    data = request.form
    fmt = data.get("format", "graphml")
    body, mimetype = graph.export(
        _node_ids(data.get("nodes", "")),
        fmt,
        actor=g.actor,
        justification=data.get("justification", ""),
    )
    return Response(
        body,
        mimetype=mimetype,
        headers={"Content-Disposition": f"attachment; filename=tollgate-chart.{fmt}"},
    )


@bp.post("/graph/save")
@permission_required("case.edit")
@json_errors
def graph_save():
    data = _payload()
    chart = graph.save_chart(
        id_value(data.get("case_id"), "case_id", strict=True),
        data.get("title"),
        _node_ids(data.get("nodes")),
        actor=g.actor,
        positions=data.get("positions") if isinstance(data.get("positions"), dict) else None,
    )
    return jsonify({"id": chart.id, "case_id": chart.case_id, "title": chart.title})


@bp.get("/charts/<int:chart_id>")
@permission_required("entity.view")
def chart_load(chart_id):
    try:
        return jsonify(graph.load_chart(chart_id, actor=g.actor))
    except ValidationError:
        abort(404)
