"""The dependency network: canonical terms and entities linked by co-occurrence.

Nodes are ``category:canonical``; an edge counts the articles in which both occur (in the
same article, or in the same sentence), weighted by association measures:

* lift = P(A,B) / (P(A) P(B))
* NPMI = log(P(A,B) / (P(A) P(B))) / -log P(A,B)   (1: always together, 0: independent)
* confidence(A → B) = P(B | A), the association-rule reading.

Probabilities are over the articles of the selection that have at least one node.
"""

import io
import math
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from itertools import combinations

from sqlalchemy import func, select

from app.core.database import MAX_ID
from app.core.errors import ValidationError
from app.core.params import add_days, whole_number
from app.core.time import now_utc
from app.extensions import db
from app.textmining.models import Article, Mention
from app.textmining.terms_builtin import CATEGORIES

#: categories that become nodes (quantities are too specific to relate anything)
NODE_CATEGORIES = tuple(c for c in CATEGORIES if c != "quantity")
SCOPES = ("article", "sentence")
#: the category pairs the analyst filters by most (COMCEC §3.1.5.2)
PRESET_PAIRS = [
    ("commodity", "transport", "Commodity ↔ transport mode"),
    ("commodity", "route", "Commodity ↔ country / route"),
    ("commodity", "crossing", "Commodity ↔ border crossing / port"),
    ("commodity", "timeframe", "Commodity ↔ time frame"),
    ("commodity", "concealment", "Commodity ↔ modus operandi"),
    ("transport", "concealment", "Transport mode ↔ modus operandi"),
]


@dataclass
class NetworkFilter:
    since: date | None = None
    until: date | None = None
    feed_id: int | None = None
    category_a: str | None = None
    category_b: str | None = None
    scope: str = "article"
    min_count: int = 2
    limit: int = 150

    @classmethod
    def from_args(cls, args) -> "NetworkFilter":
        """Build from query-string arguments; bad values raise ValidationError by name."""
        errors = {}

        def parse_date(name):
            raw = (args.get(name) or "").strip()
            if not raw:
                return None
            try:
                return date.fromisoformat(raw)
            except ValueError:
                errors[name] = "must be a date like 2026-01-31"
                return None

        def parse_int(name, default, lo, hi):
            raw = (args.get(name) or "").strip()
            if not raw:
                return default
            value = whole_number(raw)  # ASCII digits: "²".isdigit() holds, int("²") fails
            if value is None or not lo <= value <= hi:
                errors[name] = f"must be a whole number from {lo} to {hi}"
                return default
            return value

        f = cls(
            since=parse_date("since"),
            until=parse_date("until"),
            feed_id=parse_int("feed", None, 1, MAX_ID),
            min_count=parse_int("min_count", 2, 1, 10_000),
            limit=parse_int("limit", 150, 1, 2000),
        )
        for name in ("category_a", "category_b"):
            value = (args.get(name) or "").strip() or None
            if value and value not in NODE_CATEGORIES:
                errors[name] = f"unknown category {value!r}"
                value = None
            setattr(f, name, value)
        scope = (args.get("scope") or "article").strip()
        if scope not in SCOPES:
            errors["scope"] = "must be article or sentence"
        else:
            f.scope = scope
        if f.since and f.until and f.since > f.until:
            errors["until"] = "must not be before since"
        if errors:
            raise ValidationError(errors)
        return f

    def query_args(self) -> dict:
        out = {"scope": self.scope, "min_count": self.min_count}
        for name in ("since", "until"):
            if getattr(self, name):
                out[name] = getattr(self, name).isoformat()
        if self.feed_id:
            out["feed"] = self.feed_id
        if self.category_a:
            out["category_a"] = self.category_a
        if self.category_b:
            out["category_b"] = self.category_b
        return out


@dataclass
class Edge:
    source: str
    target: str
    count: int
    lift: float
    npmi: float
    confidence_st: float
    confidence_ts: float
    support: float

    def as_json(self) -> dict:
        return {
            "source": self.source,
            "target": self.target,
            "count": self.count,
            "lift": round(self.lift, 4),
            "npmi": round(self.npmi, 4),
        }


@dataclass
class Network:
    nodes: dict[str, int]
    edges: list[Edge]
    articles: int
    node_total: int = 0
    edge_total: int = 0
    filters: NetworkFilter = field(default_factory=NetworkFilter)

    def as_json(self) -> dict:
        """The documented shape: nodes (id, label, category, count), edges (source, target,
        count, lift, npmi); counts are articles."""
        return {
            "nodes": [
                {"id": node, "label": label_of(node), "category": category_of(node), "count": count}
                for node, count in self.nodes.items()
            ],
            "edges": [e.as_json() for e in self.edges],
        }


def node_id(category: str, canonical: str) -> str:
    return f"{category}:{canonical}"


def category_of(node: str) -> str:
    return node.split(":", 1)[0]


def label_of(node: str) -> str:
    return node.split(":", 1)[1] if ":" in node else node


def _pair_matches(a: str, b: str, cat_a: str | None, cat_b: str | None) -> bool:
    ca, cb = category_of(a), category_of(b)
    if cat_a and cat_b:
        return {ca, cb} == {cat_a, cat_b} if cat_a != cat_b else ca == cb == cat_a
    wanted = cat_a or cat_b
    if wanted:
        return wanted in (ca, cb)
    return True


def compute_network(units: dict[int, list[set[str]]], *, filters: NetworkFilter) -> Network:
    """Count nodes and co-occurring pairs. ``units`` maps an article to its node sets:
    one set (article scope) or one per sentence (sentence scope)."""
    node_counts: Counter = Counter()
    pair_counts: Counter = Counter()
    articles = 0
    for sets in units.values():
        nodes = set().union(*sets) if sets else set()
        if not nodes:
            continue
        articles += 1
        node_counts.update(nodes)
        pairs: set[tuple[str, str]] = set()
        for group in sets:
            if len(group) > 1:
                pairs.update(combinations(sorted(group), 2))
        pair_counts.update(pairs)
    edges = []
    n = articles or 1
    for (a, b), count in pair_counts.items():
        if count < filters.min_count or not _pair_matches(
            a, b, filters.category_a, filters.category_b
        ):
            continue
        ca, cb = node_counts[a], node_counts[b]
        p_ab, p_a, p_b = count / n, ca / n, cb / n
        pmi = math.log(p_ab / (p_a * p_b))
        npmi = 1.0 if p_ab >= 1.0 else pmi / -math.log(p_ab)
        edges.append(Edge(a, b, count, p_ab / (p_a * p_b), npmi, count / ca, count / cb, p_ab))
    edges.sort(key=lambda e: (-e.count, -e.npmi, e.source, e.target))
    edge_total = len(edges)
    edges = edges[: filters.limit]
    kept = {x for e in edges for x in (e.source, e.target)}
    nodes = {node: node_counts[node] for node in sorted(kept, key=lambda x: -node_counts[x])}
    return Network(
        nodes=nodes,
        edges=edges,
        articles=articles,
        node_total=len(node_counts),
        edge_total=edge_total,
        filters=filters,
    )


def _start(d: date) -> datetime:
    from datetime import UTC

    return datetime.combine(d, time.min, tzinfo=UTC)


def _article_filter(stmt, filters: NetworkFilter):
    when = func.coalesce(Article.published_dt, Article.created_dt)
    if filters.since:
        stmt = stmt.where(when >= _start(filters.since))
    if filters.until:
        stmt = stmt.where(when < _start(add_days(filters.until, 1)))
    if filters.feed_id:
        stmt = stmt.where(Article.feed_id == filters.feed_id)
    return stmt


def load_units(filters: NetworkFilter) -> dict[int, list[set[str]]]:
    """Node sets per article (per sentence for sentence scope) for the selection."""
    stmt = (
        select(Mention.article_id, Mention.category, Mention.canonical, Mention.sentence)
        .join(Article, Article.id == Mention.article_id)
        .where(Mention.category.in_(NODE_CATEGORIES))
    )
    stmt = _article_filter(stmt, filters)
    per_sentence: dict[int, dict[int, set[str]]] = defaultdict(lambda: defaultdict(set))
    for article_id, category, canonical, sentence in db.session.execute(stmt):
        key = sentence if filters.scope == "sentence" else 0
        per_sentence[article_id][key].add(node_id(category, canonical))
    return {aid: list(groups.values()) for aid, groups in per_sentence.items()}


def build_network(filters: NetworkFilter | None = None, *, actor=None) -> Network:
    """The network of the selected articles (news.view)."""
    if actor is not None:
        actor.require("news.view")
    filters = filters or NetworkFilter()
    return compute_network(load_units(filters), filters=filters)


def edge_article_ids(source: str, target: str, filters: NetworkFilter) -> list[int]:
    """Articles behind one edge, newest first, under the same filters and scope."""
    units = {}
    for node in (source, target):
        category, _, canonical = node.partition(":")
        if category not in NODE_CATEGORIES or not canonical:
            raise ValidationError(
                {"source" if node == source else "target": "must look like category:canonical"}
            )
        stmt = (
            select(Mention.article_id, Mention.sentence)
            .join(Article, Article.id == Mention.article_id)
            .where(Mention.category == category, Mention.canonical == canonical)
        )
        rows = db.session.execute(_article_filter(stmt, filters)).all()
        units[node] = {
            (r.article_id, r.sentence if filters.scope == "sentence" else 0) for r in rows
        }
    both = {aid for aid, _ in units[source] & units[target]}
    if not both:
        return []
    order = db.session.scalars(
        select(Article.id)
        .where(Article.id.in_(both))
        .order_by(Article.published_dt.desc(), Article.id.desc())
    ).all()
    return list(order)


@dataclass
class EdgeChange:
    source: str
    target: str
    before: int
    after: int
    npmi: float

    @property
    def status(self) -> str:
        return "new" if self.before == 0 else "grew"


def compare_periods(
    filters: NetworkFilter,
    first: tuple[date, date],
    second: tuple[date, date],
    *,
    min_growth: float = 1.5,
    actor=None,
) -> list[EdgeChange]:
    """Edges of the second period that did not exist in the first, or grew by ``min_growth``
    (and by at least ``filters.min_count`` articles)."""
    if actor is not None:
        actor.require("news.view")
    unlimited = {**filters.__dict__, "limit": 100_000}

    def period(bounds, min_count):
        f = NetworkFilter(
            **{**unlimited, "since": bounds[0], "until": bounds[1], "min_count": min_count}
        )
        return {(e.source, e.target): e for e in build_network(f).edges}

    before = period(first, 1)
    after = period(second, filters.min_count)
    changes = []
    for key, edge in after.items():
        old = before[key].count if key in before else 0
        if old == 0 or (edge.count >= old * min_growth and edge.count - old >= filters.min_count):
            changes.append(EdgeChange(edge.source, edge.target, old, edge.count, edge.npmi))
    changes.sort(key=lambda c: (-(c.after - c.before), -c.after, c.source, c.target))
    return changes


def to_graph(network: Network):
    import networkx as nx

    graph = nx.Graph()
    for node, count in network.nodes.items():
        graph.add_node(node, label=label_of(node), category=category_of(node), count=count)
    for e in network.edges:
        graph.add_edge(
            e.source,
            e.target,
            weight=e.count,
            count=e.count,
            lift=e.lift,
            npmi=e.npmi,
            confidence=max(e.confidence_st, e.confidence_ts),
        )
    return graph


def export_graph(network: Network, fmt: str) -> tuple[bytes, str, str]:
    """Serialise as GraphML or GEXF: (bytes, mimetype, file extension)."""
    import networkx as nx

    graph = to_graph(network)
    buffer = io.BytesIO()
    if fmt == "graphml":
        nx.write_graphml(graph, buffer)
        return buffer.getvalue(), "application/graphml+xml", "graphml"
    if fmt == "gexf":
        nx.write_gexf(graph, buffer)
        return buffer.getvalue(), "application/gexf+xml", "gexf"
    raise ValidationError({"format": "must be graphml or gexf"})


def default_periods(today: date | None = None, days: int = 30):
    """The last ``days`` days against the ``days`` before them."""
    today = today or now_utc().date()
    second = (today - timedelta(days=days - 1), today)
    first = (second[0] - timedelta(days=days), second[0] - timedelta(days=1))
    return first, second
