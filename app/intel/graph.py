"""Link analysis: neighbourhood expansion, shortest paths, communities, exports, saved charts.

Everything reads links through ``service.link_query(actor)``, so a chart never shows a link
or an entity outside the actor's need-to-know. Paths are found by a bidirectional
breadth-first search issuing one indexed query per level (the whole graph is never loaded).
"""

import io
from datetime import date

import networkx as nx
from sqlalchemy import func, or_, select

from app.core.errors import ValidationError
from app.core.records import note_on_record, open_record
from app.extensions import db
from app.intel import provenance, service
from app.intel.models import LINK_TYPES, Entity, Link, SavedChart
from app.security import trail
from app.security.access import Actor, NotFound, visible_clause

#: neighbours shown per expansion before "show more"
DEFAULT_FANOUT = 25
MAX_FANOUT = 200
MAX_PATH_DEPTH = 8
#: a breadth-first level larger than this stops the search (super-nodes)
MAX_FRONTIER = 50_000
MAX_CHART_NODES = 2_000
#: defaults of TOLLGATE_GRAPH_ANALYSE_MAX_NODES / _MAX_LINKS: exact betweenness costs about
#: entities x (entities + links), a few seconds at these sizes (bench/sqlite_contention.py)
MAX_ANALYSE_NODES = 500
MAX_ANALYSE_LINKS = 5_000
_CHUNK = 900


def node_json(entity: Entity) -> dict:
    return {
        "data": {
            "id": f"e{entity.id}",
            "entity_id": entity.id,
            "label": entity.name,
            "type": entity.entity_type,
            "code": entity.handling_code,
        }
    }


def edge_json(link: Link, actor: Actor) -> dict:
    """A link as a chart edge; its provenance reads as ``actor`` may know it (the record's
    reference, or the restricted description: the seam rule)."""
    return {
        "data": {
            "id": f"l{link.id}",
            "link_id": link.id,
            "source": f"e{link.source_id}",
            "target": f"e{link.target_id}",
            "label": LINK_TYPES.get(link.link_type, link.link_type),
            "link_type": link.link_type,
            "grade": link.grade or "",
            "start": link.start_date.isoformat() if link.start_date else None,
            "end": link.end_date.isoformat() if link.end_date else None,
            "provenance": provenance.shown(
                actor, link.provenance_type, link.provenance_id, with_url=False
            )["label"],
        }
    }


def _check_types(link_types) -> list[str] | None:
    if not link_types:
        return None
    bad = [t for t in link_types if t not in LINK_TYPES]
    if bad:
        raise ValidationError({"type": f"unknown link type {bad[0]!r}"})
    return list(link_types)


def _filtered(stmt, link_types=None, date_from=None, date_to=None):
    if link_types:
        stmt = stmt.where(Link.link_type.in_(link_types))
    if date_from:
        stmt = stmt.where(or_(Link.end_date.is_(None), Link.end_date >= date_from))
    if date_to:
        stmt = stmt.where(or_(Link.start_date.is_(None), Link.start_date <= date_to))
    return stmt


def expand(entity_id: int, *, actor: Actor, offset=0, limit=DEFAULT_FANOUT, link_types=None):
    """An entity's neighbours, ``limit`` at a time (capped fan-out with "show more")."""
    entity = service.get_entity(entity_id, actor=actor, log=False)
    link_types = _check_types(link_types)
    limit = min(max(1, int(limit)), MAX_FANOUT)
    offset = max(0, int(offset))
    touching = _filtered(
        service.link_query(actor).where(
            or_(Link.source_id == entity.id, Link.target_id == entity.id)
        ),
        link_types,
    )
    total = db.session.scalar(
        select(func.count()).select_from(touching.with_only_columns(Link.id).subquery())
    )
    links = list(db.session.scalars(touching.order_by(Link.id).offset(offset).limit(limit)))
    other_ids = {lk.target_id if lk.source_id == entity.id else lk.source_id for lk in links}
    others = db.session.scalars(select(Entity).where(Entity.id.in_(other_ids))) if other_ids else []
    trail.record(
        actor, "view", "entity", entity.id, details={"expand": len(links), "offset": offset}
    )
    shown = offset + len(links)
    return {
        "elements": [
            node_json(entity),
            *(node_json(e) for e in others),
            *(edge_json(lk, actor) for lk in links),
        ],
        "entity_id": entity.id,
        "total": total,
        "shown": shown,
        "more": max(0, total - shown),
        "next_offset": shown,
    }


def _level(actor, frontier, link_types, date_from, date_to):
    """Links touching any entity of ``frontier`` (visible, filtered), as (id, src, tgt)."""
    ids = list(frontier)
    base = _filtered(service.link_query(actor), link_types, date_from, date_to)
    out = []
    for start in range(0, len(ids), _CHUNK):
        chunk = ids[start : start + _CHUNK]
        stmt = base.where(or_(Link.source_id.in_(chunk), Link.target_id.in_(chunk)))
        out += db.session.execute(
            stmt.with_only_columns(Link.id, Link.source_id, Link.target_id)
        ).all()
    return out


def shortest_path(
    source_id: int,
    target_id: int,
    *,
    actor: Actor,
    link_types=None,
    date_from=None,
    date_to=None,
    max_depth=MAX_PATH_DEPTH,
):
    """Fewest-links path between two entities through visible links (bidirectional BFS).

    Returns the chart elements of the path, or {"found": False} when there is none within
    ``max_depth`` links.
    """
    link_types = _check_types(link_types)
    for field, value in (("date_from", date_from), ("date_to", date_to)):
        if value is not None and not isinstance(value, date):
            raise ValidationError({field: "must be a date"})
    a = service.get_entity(source_id, actor=actor, log=False)
    b = service.get_entity(target_id, actor=actor, log=False)
    if a.id == b.id:
        raise ValidationError({"to": "choose two different entities"})
    parents = ({a.id: None}, {b.id: None})  # node -> (previous node, link id)
    frontiers = ({a.id}, {b.id})
    meet = None
    depth = 0
    while frontiers[0] and frontiers[1] and depth < max_depth and meet is None:
        side = 0 if len(frontiers[0]) <= len(frontiers[1]) else 1
        seen, other_seen = parents[side], parents[1 - side]
        nxt = set()
        for link_id, src, tgt in _level(actor, frontiers[side], link_types, date_from, date_to):
            for here, there in ((src, tgt), (tgt, src)):
                if here in frontiers[side] and there not in seen:
                    seen[there] = (here, link_id)
                    nxt.add(there)
                    if there in other_seen and meet is None:
                        meet = there
        frontiers = (nxt, frontiers[1]) if side == 0 else (frontiers[0], nxt)
        depth += 1
        if len(nxt) > MAX_FRONTIER:
            break
    trail.record(
        actor,
        "search",
        "entity",
        a.id,
        query=f"path {a.id} -> {b.id}",
        details={"found": meet is not None, "types": link_types or []},
    )
    if meet is None:
        return {"found": False, "elements": [node_json(a), node_json(b)], "length": None}
    nodes, links = [meet], []
    node = meet
    while parents[0][node] is not None:
        node, link_id = parents[0][node]
        nodes.insert(0, node)
        links.insert(0, link_id)
    node = meet
    while parents[1][node] is not None:
        node, link_id = parents[1][node]
        nodes.append(node)
        links.append(link_id)
    entities = {e.id: e for e in db.session.scalars(select(Entity).where(Entity.id.in_(nodes)))}
    link_rows = {lk.id: lk for lk in db.session.scalars(select(Link).where(Link.id.in_(links)))}
    return {
        "found": True,
        "length": len(links),
        "path": [f"e{n}" for n in nodes],
        "elements": [
            *(node_json(entities[n]) for n in nodes),
            *(edge_json(link_rows[i], actor) for i in links),
        ],
    }


def _chart_graph(actor: Actor, entity_ids) -> nx.MultiGraph:
    """The visible entities of a chart and the visible links among them."""
    ids = sorted({int(i) for i in entity_ids})[:MAX_CHART_NODES]
    graph = nx.MultiGraph()
    if not ids:
        return graph
    for start in range(0, len(ids), _CHUNK):
        chunk = ids[start : start + _CHUNK]
        for e in db.session.scalars(
            select(Entity).where(Entity.id.in_(chunk), visible_clause(actor, Entity))
        ):
            graph.add_node(e.id, label=e.name, type=e.entity_type)
    present = list(graph.nodes)
    for start in range(0, len(present), _CHUNK):
        chunk = present[start : start + _CHUNK]
        stmt = service.link_query(actor).where(
            or_(Link.source_id.in_(chunk), Link.target_id.in_(chunk))
        )
        for lk in db.session.scalars(stmt):
            if lk.source_id in graph and lk.target_id in graph:
                graph.add_edge(
                    lk.source_id,
                    lk.target_id,
                    key=lk.id,
                    link_type=lk.link_type,
                    grade=lk.grade or "",
                    start=lk.start_date.isoformat() if lk.start_date else "",
                    end=lk.end_date.isoformat() if lk.end_date else "",
                )
    return graph


def analyse(
    entity_ids,
    *,
    actor: Actor,
    max_nodes: int = MAX_ANALYSE_NODES,
    max_links: int = MAX_ANALYSE_LINKS,
) -> dict:
    """Communities (Louvain) and betweenness centrality of the chart: brokers stand out.

    Bounded (``max_nodes`` entities sent, ``max_links`` links among them): the computation
    is quadratic, and a chart beyond the bounds is refused naming them rather than keeping a
    web worker busy for minutes."""
    actor.require("entity.view")
    wanted = {int(i) for i in entity_ids}
    if len(wanted) > max_nodes:
        raise ValidationError(
            {
                "nodes": f"{len(wanted):,} entities sent; at most {max_nodes:,} can be "
                "analysed at once: analyse part of the chart"
            }
        )
    graph = _chart_graph(actor, wanted)
    simple = nx.Graph(graph)
    if simple.number_of_edges() > max_links:
        raise ValidationError(
            {
                "nodes": f"these entities have {simple.number_of_edges():,} links among them; "
                f"at most {max_links:,} can be analysed at once: analyse part of the chart"
            }
        )
    if simple.number_of_nodes() == 0:
        return {"nodes": {}, "brokers": [], "communities": 0}
    communities = nx.community.louvain_communities(simple, seed=42)
    betweenness = nx.betweenness_centrality(simple, normalized=True)
    membership = {}
    for number, members in enumerate(sorted(communities, key=len, reverse=True)):
        for node in members:
            membership[node] = number
    nodes = {
        f"e{n}": {
            "community": membership.get(n, 0),
            "betweenness": round(betweenness.get(n, 0.0), 4),
            "degree": simple.degree(n),
        }
        for n in simple.nodes
    }
    brokers = sorted(simple.nodes, key=lambda n: -betweenness.get(n, 0.0))[:5]
    _record_chart_read(actor, "analyse", simple.nodes)
    return {
        "nodes": nodes,
        "communities": len(communities),
        "brokers": [
            {
                "id": f"e{n}",
                "label": simple.nodes[n]["label"],
                "betweenness": round(betweenness[n], 4),
            }
            for n in brokers
            if betweenness.get(n, 0) > 0
        ],
    }


def export(entity_ids, fmt: str, *, actor: Actor, justification: str) -> tuple[bytes, str]:
    """The chart as GraphML or GEXF (for Gephi); an export with its justification."""
    actor.require("entity.view")
    if fmt not in ("graphml", "gexf"):
        raise ValidationError({"format": "must be graphml or gexf"})
    if not str(justification or "").strip():
        raise ValidationError({"justification": "say why the chart leaves Tollgate"})
    graph = _chart_graph(actor, entity_ids)
    if graph.number_of_nodes() == 0:
        raise ValidationError({"nodes": "the chart is empty"})
    out = nx.Graph()
    for node, data in graph.nodes(data=True):
        out.add_node(f"e{node}", **data)
    for u, v, data in graph.edges(data=True):
        if out.has_edge(f"e{u}", f"e{v}"):
            prev = out.edges[f"e{u}", f"e{v}"]
            prev["link_type"] = f"{prev['link_type']}; {data['link_type']}"
        else:
            out.add_edge(f"e{u}", f"e{v}", **data)
    buf = io.BytesIO()
    if fmt == "graphml":
        nx.write_graphml(out, buf)
        mimetype = "application/graphml+xml"
    else:
        nx.write_gexf(out, buf)
        mimetype = "application/gexf+xml"
    trail.record(
        actor,
        "export",
        "entity",
        None,
        justification=justification,
        details={
            "format": fmt,
            "entities": sorted(graph.nodes)[:500],
            "count": graph.number_of_nodes(),
        },
    )
    return buf.getvalue(), mimetype


def _check_case(case_id, actor: Actor, action="view"):
    # The case is opened by the cases domain (app.core.records): intel imports nothing of it.
    try:
        return open_record("case", int(case_id), actor=actor, action=action)
    except NotFound:
        raise ValidationError({"case_id": f"no case {case_id} that you may open"}) from None


def save_chart(case_id, title, entity_ids, *, actor: Actor, positions=None) -> SavedChart:
    """Save the chart's entities (and their layout) in a case the actor may edit."""
    actor.require("entity.view")
    actor.require("case.edit")
    title = " ".join(str(title or "").split())
    if not title:
        raise ValidationError({"title": "is required"})
    try:
        case_id = int(case_id)
    except (TypeError, ValueError):
        raise ValidationError({"case_id": "must be a case number (id)"}) from None
    case = _check_case(case_id, actor, action="update")
    graph = _chart_graph(actor, entity_ids or [])
    if graph.number_of_nodes() == 0:
        raise ValidationError({"nodes": "the chart is empty"})
    keep = {f"e{n}" for n in graph.nodes}
    positions = {
        k: v
        for k, v in (positions or {}).items()
        if k in keep
        and isinstance(v, dict)
        and all(isinstance(v.get(c), int | float) for c in ("x", "y"))
    }
    chart = SavedChart(
        case_id=case.id,
        title=title[:200],
        created_by_id=actor.user_id,
        elements={
            "nodes": sorted(graph.nodes),
            "links": sorted(k for _, _, k in graph.edges(keys=True)),
            "positions": positions,
        },
    )
    db.session.add(chart)
    db.session.flush()
    note_on_record(
        "case",
        case.id,
        f"Link chart saved: {chart.title} ({graph.number_of_nodes()} entities).",
        actor=actor,
    )
    trail.record(actor, "update", "case", case.id, details={"chart": chart.id})
    return chart


def load_chart(chart_id: int, *, actor: Actor) -> dict:
    """A saved chart's elements, re-checked against the actor's access today."""
    actor.require("entity.view")
    chart = db.session.get(SavedChart, chart_id)
    if chart is None:
        raise NotFound()
    open_record("case", chart.case_id, actor=actor)
    graph = _chart_graph(actor, chart.elements.get("nodes", []))
    wanted_links = set(chart.elements.get("links", []))
    entities = (
        {
            e.id: e
            for e in db.session.scalars(select(Entity).where(Entity.id.in_(list(graph.nodes))))
        }
        if graph.number_of_nodes()
        else {}
    )
    link_ids = [k for _, _, k in graph.edges(keys=True) if k in wanted_links]
    links = list(db.session.scalars(select(Link).where(Link.id.in_(link_ids)))) if link_ids else []
    return {
        "id": chart.id,
        "title": chart.title,
        "case_id": chart.case_id,
        "positions": chart.elements.get("positions", {}),
        "elements": [
            *(node_json(e) for e in entities.values()),
            *(edge_json(lk, actor) for lk in links),
        ],
    }


def charts_for_case(case_id: int, *, actor: Actor) -> list[SavedChart]:
    """Charts saved in a case (the caller has already opened the case)."""
    actor.require("entity.view")
    return list(
        db.session.scalars(
            select(SavedChart)
            .where(SavedChart.case_id == case_id)
            .order_by(SavedChart.created_dt.desc())
        )
    )


def _record_chart_read(actor: Actor, what: str, nodes) -> None:
    """One trail row per chart computation (not one per entity), naming what it read."""
    ids = sorted(nodes)
    trail.record(actor, "view", "entity", None, details={what: len(ids), "entities": ids[:500]})


def timeline(entity_ids, *, actor: Actor) -> list[dict]:
    """Dated links among the chart's entities, oldest first."""
    graph = _chart_graph(actor, entity_ids)
    if graph.number_of_nodes():
        _record_chart_read(actor, "timeline", graph.nodes)
    rows = []
    for u, v, data in graph.edges(data=True):
        if data["start"] or data["end"]:
            rows.append(
                {
                    "start": data["start"],
                    "end": data["end"],
                    "source": graph.nodes[u]["label"],
                    "target": graph.nodes[v]["label"],
                    "link_type": data["link_type"],
                }
            )
    return sorted(rows, key=lambda r: r["start"] or r["end"])
