"""The dependency network: counts, association measures, filters, comparison, export."""

import io
import json
import math
from datetime import UTC, date, datetime

import networkx as nx
import pytest

from app.core.errors import ValidationError
from app.textmining import network as net
from tests.textmining import factories

D = lambda day: datetime(2026, 1, day, 12, tzinfo=UTC)  # noqa: E731


@pytest.fixture
def corpus(db, rules_extractor):
    """Ten articles: cocaine travels by container (4x, 1 by truck), heroin by truck (3x)."""
    feed_a, feed_b = factories.feed(title="A"), factories.feed(title="B")
    texts = [
        ("Cocaine was found in a container at the Port of Koper.", feed_a, D(2)),
        ("Cocaine seized in a container. It came from Ecuador.", feed_a, D(3)),
        ("A container with cocaine arrived on Tuesday.", feed_a, D(4)),
        ("Cocaine in a container, hidden in bananas.", feed_b, D(20)),
        ("Cocaine in a truck at Tabanovce.", feed_b, D(21)),
        ("Heroin in a truck at Kapitan Andreevo.", feed_b, D(22)),
        ("Heroin found. The truck came from Turkey.", feed_b, D(23)),
        ("A truck carried heroin at night.", feed_b, D(24)),
        ("Cigarettes in a van.", feed_a, D(25)),
        ("Customs held a press conference.", feed_a, D(26)),
    ]
    articles = [
        factories.article(t, feed_row=f, published=d, extractor=rules_extractor)
        for t, f, d in texts
    ]
    return {"articles": articles, "feed_a": feed_a, "feed_b": feed_b}


def _edge(graph, a, b):
    for e in graph.edges:
        if {e.source, e.target} == {a, b}:
            return e
    return None


def test_counts_and_association_measures(corpus):
    graph = net.build_network(net.NetworkFilter(min_count=1))
    assert graph.articles == 9  # the press conference has no terms
    assert graph.nodes["commodity:cocaine"] == 5 and graph.nodes["transport:container"] == 4
    e = _edge(graph, "commodity:cocaine", "transport:container")
    n, ab, a, b = 9, 4, 5, 4
    assert e.count == ab
    assert e.lift == pytest.approx((ab / n) / ((a / n) * (b / n)))
    pmi = math.log((ab / n) / ((a / n) * (b / n)))
    assert e.npmi == pytest.approx(pmi / -math.log(ab / n))
    conf = {e.source: e.confidence_st, e.target: e.confidence_ts}
    assert conf["commodity:cocaine"] == pytest.approx(4 / 5)  # cocaine → container
    assert conf["transport:container"] == pytest.approx(1.0)  # container → cocaine
    heroin_truck = _edge(graph, "commodity:heroin", "transport:truck")
    cocaine_truck = _edge(graph, "commodity:cocaine", "transport:truck")
    assert heroin_truck.count == 3 and cocaine_truck.count == 1
    assert heroin_truck.npmi > 0 > cocaine_truck.npmi  # truck goes with heroin, not cocaine


def test_json_shape_is_exactly_as_documented(corpus):
    body = net.build_network(net.NetworkFilter(min_count=2)).as_json()
    assert set(body) == {"nodes", "edges"}
    assert all(set(n) == {"id", "label", "category", "count"} for n in body["nodes"])
    assert all(set(e) == {"source", "target", "count", "lift", "npmi"} for e in body["edges"])
    node = next(n for n in body["nodes"] if n["id"] == "commodity:cocaine")
    assert node == {
        "id": "commodity:cocaine",
        "label": "cocaine",
        "category": "commodity",
        "count": 5,
    }
    ids = {n["id"] for n in body["nodes"]}
    assert all(e["source"] in ids and e["target"] in ids for e in body["edges"])


def test_min_support_and_category_pair(corpus):
    graph = net.build_network(
        net.NetworkFilter(min_count=3, category_a="commodity", category_b="transport")
    )
    pairs = {(e.source, e.target, e.count) for e in graph.edges}
    assert pairs == {
        ("commodity:cocaine", "transport:container", 4),
        ("commodity:heroin", "transport:truck", 3),
    }
    only_routes = net.build_network(net.NetworkFilter(min_count=1, category_a="route"))
    assert only_routes.edges and all(
        "route" in (net.category_of(e.source), net.category_of(e.target)) for e in only_routes.edges
    )


def test_sentence_scope_is_stricter(corpus):
    article = net.build_network(net.NetworkFilter(min_count=1))
    sentence = net.build_network(net.NetworkFilter(min_count=1, scope="sentence"))
    # "Cocaine seized in a container. It came from Ecuador." : same article, not same sentence
    assert _edge(article, "commodity:cocaine", "route:Ecuador")
    assert _edge(sentence, "commodity:cocaine", "route:Ecuador") is None
    assert _edge(sentence, "commodity:heroin", "transport:truck").count == 2


def test_period_and_source_filters(corpus):
    early = net.build_network(
        net.NetworkFilter(min_count=1, since=date(2026, 1, 1), until=date(2026, 1, 10))
    )
    assert early.articles == 3 and "commodity:heroin" not in early.nodes
    feed_b = net.build_network(net.NetworkFilter(min_count=1, feed_id=corpus["feed_b"].id))
    assert feed_b.articles == 5
    assert _edge(feed_b, "commodity:cocaine", "transport:container").count == 1


def test_edge_articles(corpus):
    f = net.NetworkFilter()
    ids = net.edge_article_ids("commodity:heroin", "transport:truck", f)
    expected = [a.id for a in corpus["articles"][5:8]]
    assert sorted(ids) == sorted(expected) and ids[0] == expected[-1]  # newest first
    sentence = net.edge_article_ids(
        "commodity:heroin", "transport:truck", net.NetworkFilter(scope="sentence")
    )
    assert sorted(sentence) == [expected[0], expected[2]]
    with pytest.raises(ValidationError, match="category:canonical"):
        net.edge_article_ids("cocaine", "transport:truck", f)


def test_compare_periods(corpus):
    changes = net.compare_periods(
        net.NetworkFilter(min_count=1),
        (date(2026, 1, 1), date(2026, 1, 10)),
        (date(2026, 1, 11), date(2026, 1, 31)),
    )
    by = {(c.source, c.target): c for c in changes}
    assert by[("commodity:heroin", "transport:truck")].status == "new"
    assert by[("commodity:heroin", "transport:truck")].after == 3
    # cocaine-container fell from 3 to 1: neither new nor grown
    assert ("commodity:cocaine", "transport:container") not in by


def test_watch_job_signals_new_edges(db, rules_extractor):
    from app.core import signals
    from app.core.time import now_utc
    from app.textmining.tasks import watch_network

    for _ in range(3):
        factories.article(
            "Captagon pills in a truck.", published=now_utc(), extractor=rules_extractor
        )
    received = []

    def on_edge(sender, **kw):
        received.append((kw["source"], kw["target"], kw["before"], kw["after"]))

    signals.network_edge_grew.connect(on_edge)
    try:
        assert watch_network() >= 1
    finally:
        signals.network_edge_grew.disconnect(on_edge)
    assert ("commodity:captagon", "transport:truck", 0, 3) in received


@pytest.mark.parametrize("fmt", ["graphml", "gexf"])
def test_export_round_trips(corpus, fmt):
    graph = net.build_network(net.NetworkFilter(min_count=2))
    data, mimetype, ext = net.export_graph(graph, fmt)
    assert ext == fmt and fmt in mimetype
    reader = nx.read_graphml if fmt == "graphml" else nx.read_gexf
    g = reader(io.BytesIO(data))
    assert g.number_of_edges() == len(graph.edges)
    assert g.number_of_nodes() == len(graph.nodes)
    attrs = g.nodes["commodity:cocaine"]
    assert attrs.get("category") == "commodity" and int(attrs.get("count")) == 5


def test_export_refuses_unknown_format(corpus):
    with pytest.raises(ValidationError, match="graphml or gexf"):
        net.export_graph(net.build_network(), "dot")


@pytest.mark.parametrize(
    ("args", "field"),
    [
        ({"since": "yesterday"}, "since"),
        ({"min_count": "0"}, "min_count"),
        ({"category_a": "drugs"}, "category_a"),
        ({"scope": "paragraph"}, "scope"),
        ({"since": "2026-02-01", "until": "2026-01-01"}, "until"),
    ],
)
def test_filter_errors_name_the_field(args, field):
    with pytest.raises(ValidationError) as err:
        net.NetworkFilter.from_args(args)
    assert field in err.value.fields


def test_network_cli_json(runner, corpus):
    result = runner.invoke(args=["textmining", "network", "--json", "--since", "2026-01-15"])
    assert result.exit_code == 0, result.output
    body = json.loads(result.output)
    assert set(body) == {"nodes", "edges"}
    edge = next(
        e
        for e in body["edges"]
        if {e["source"], e["target"]} == {"commodity:heroin", "transport:truck"}
    )
    assert edge["count"] == 3 and set(edge) == {"source", "target", "count", "lift", "npmi"}
    text = runner.invoke(args=["textmining", "network"])
    assert "commodity:cocaine  --  transport:container" in text.output
    bad = runner.invoke(args=["textmining", "network", "--since", "soon"])
    assert bad.exit_code != 0 and "must be a date" in bad.output


def test_watch_job_alerts_the_owner_of_a_term_watch_naming_an_end(make, db, rules_extractor):
    """The nightly comparison reaches someone: a term watch on either end of a new edge raises
    an alert about the newest article behind it (before issue 21 nothing subscribed)."""
    from sqlalchemy import select

    from app.alerts import watches
    from app.alerts.models import Alert, AlertRecipient
    from app.core.time import now_utc
    from app.textmining.tasks import watch_network

    ids = [
        factories.article(
            "Captagon pills in a truck.", published=now_utc(), extractor=rules_extractor
        ).id
        for _ in range(3)
    ]
    unit = make.unit()
    reader = make.user(roles=["intelligence_officer"], unit=unit)
    other = make.user(roles=["intelligence_officer"], unit=unit)
    watches.watch_term(make.actor(reader), "Captagon", severity="medium")
    watches.watch_term(make.actor(other), "cocaine", severity="medium")
    db.session.flush()
    assert watch_network() >= 1
    [alert] = db.session.scalars(select(Alert).where(Alert.source_kind == "term")).all()
    assert alert.subject_type == "article" and alert.subject_id in ids
    assert "captagon" in alert.title.lower() and "truck" in alert.title.lower()
    assert db.session.scalars(
        select(AlertRecipient.user_id).where(AlertRecipient.alert_id == alert.id)
    ).all() == [reader.id]
