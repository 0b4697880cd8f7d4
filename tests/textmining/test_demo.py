"""Demo news: imported once, dates moved next to today, a meaningful network."""

from datetime import timedelta

from sqlalchemy import func, select

from app.core.time import now_utc
from app.textmining import network as net
from app.textmining.demo import demo_feed_ids, demo_files, load_textmining_demo
from app.textmining.models import Article, Term


def test_demo_is_idempotent_and_meaningful(db, app):
    assert len(demo_files()) >= 3
    load_textmining_demo({})
    db.session.commit()
    count = db.session.scalar(select(func.count(Article.id)))
    terms = db.session.scalar(select(func.count(Term.id)))
    assert count >= 40 and terms > 200
    load_textmining_demo({})
    db.session.commit()
    assert db.session.scalar(select(func.count(Article.id))) == count
    assert db.session.scalar(select(func.count(Term.id))) == terms
    assert len(demo_feed_ids()) == len(demo_files())

    newest = db.session.scalar(select(func.max(Article.published_dt)))
    assert now_utc() - timedelta(days=2) < newest < now_utc()

    graph = net.build_network(net.NetworkFilter(category_a="commodity", category_b="transport"))
    edges = {(e.source, e.target) for e in graph.edges}
    for pair in [
        ("commodity:cocaine", "transport:container"),
        ("commodity:heroin", "transport:truck"),
        ("commodity:captagon", "transport:truck"),
    ]:
        assert pair in edges, f"{pair} missing from the demo network"
    routes = net.build_network(net.NetworkFilter(category_a="commodity", category_b="route"))
    assert ("commodity:heroin", "route:Balkan route") in {
        (e.source, e.target) for e in routes.edges
    }
    first, second = net.default_periods()
    assert net.compare_periods(net.NetworkFilter(min_count=1), first, second)

    # the same Kapitan Andreevo story from two feeds is one near-duplicate group
    grouped = db.session.execute(
        select(Article.group_id, func.count(Article.id))
        .group_by(Article.group_id)
        .having(func.count(Article.id) > 1)
    ).all()
    assert grouped
