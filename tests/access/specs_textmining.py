from tests.access.spec import Route


def build(world):
    from app.extensions import db
    from app.textmining.models import AllowedHost, Article, Feed, Mention, Term, WorkbenchDecision

    feed = Feed(url="http://127.0.0.1:9/feed.xml", title="Matrix feed", keywords=["cocaine"])
    db.session.add(feed)
    db.session.flush()
    article = Article(
        feed_id=feed.id,
        identity="a" * 64,
        title="Cocaine seized at port",
        text="Customs seized cocaine in a container.",
        content_hash="b" * 64,
        html="<p>Customs seized cocaine in a container.</p>",
    )
    db.session.add(article)
    db.session.flush()
    article.group_id = article.id
    db.session.add_all(
        [
            Mention(
                article_id=article.id,
                category="commodity",
                text="Cocaine",
                canonical="cocaine",
                start=0,
                end=7,
            ),
            Mention(
                article_id=article.id,
                category="transport",
                text="container",
                canonical="container",
                start=52,
                end=61,
            ),
            Mention(
                article_id=article.id,
                category="person",
                text="Ivan Petrov",
                canonical="Ivan Petrov",
                start=0,
                end=1,
            ),
        ]
    )
    term = Term(category="commodity", canonical="khat", synonyms=["qat"])
    host = AllowedHost(host="intranet.example")
    decision = WorkbenchDecision(category="person", canonical="Somebody", status="dismissed")
    db.session.add_all([term, host, decision])
    db.session.flush()
    world.news_feed, world.news_article, world.news_term = feed, article, term
    world.news_host, world.news_decision = host, decision
    world.news_decision_id = decision.id


def _dismissed_again(world):
    """Undo deletes the dismissal: each allowed role gets it back before its request."""
    from app.extensions import db
    from app.textmining.models import WorkbenchDecision

    if db.session.get(WorkbenchDecision, world.news_decision_id) is None:
        db.session.add(
            WorkbenchDecision(
                id=world.news_decision_id,
                category="person",
                canonical="Somebody",
                status="dismissed",
            )
        )
        db.session.commit()
    return {}


ROUTES = [
    Route("textmining.articles", perm="news.view"),
    Route("textmining.article", perm="news.view", args=lambda w: {"article_id": w.news_article.id}),
    Route("textmining.network", perm="news.view"),
    Route("textmining.network_data", perm="news.view"),
    Route(
        "textmining.edge_articles",
        perm="news.view",
        args=lambda w: {"source": "commodity:cocaine", "target": "transport:container"},
    ),
    Route("textmining.network_compare", perm="news.view"),
    Route("textmining.network_export", perm="news.view"),
    Route("textmining.feeds", perm="news.view"),
    Route("textmining.feed", perm="news.view", args=lambda w: {"feed_id": w.news_feed.id}),
    Route(
        "textmining.feed_new",
        perm="news.manage",
        body=lambda w: {"title": "New", "url": "https://example.org/rss"},
    ),
    Route(
        "textmining.feed_edit",
        perm="news.manage",
        args=lambda w: {"feed_id": w.news_feed.id},
        body=lambda w: {"title": "Matrix feed", "url": w.news_feed.url},
    ),
    Route("textmining.feed_pause", perm="news.manage", args=lambda w: {"feed_id": w.news_feed.id}),
    Route("textmining.feed_resume", perm="news.manage", args=lambda w: {"feed_id": w.news_feed.id}),
    Route(
        "textmining.feed_test",
        perm="news.manage",
        args=lambda w: {"feed_id": w.news_feed.id},
        note="the feed points at 127.0.0.1: the address guard refuses it without network",
    ),
    Route("textmining.host_add", perm="news.manage", body=lambda w: {"host": "mirror.example"}),
    Route("textmining.host_delete", perm="news.manage", args=lambda w: {"host_id": w.news_host.id}),
    Route("textmining.terms", perm="news.view"),
    Route(
        "textmining.term_new",
        perm="news.terms.edit",
        body=lambda w: {"category": "commodity", "canonical": "betel", "synonyms": "areca"},
    ),
    Route(
        "textmining.term_edit",
        perm="news.terms.edit",
        args=lambda w: {"term_id": w.news_term.id},
        body=lambda w: {"canonical": "khat", "synonyms": "qat\nmiraa", "is_active": "y"},
    ),
    Route("textmining.terms_seed", perm="news.terms.edit"),
    Route("textmining.terms_reextract", perm="news.terms.edit"),
    Route("textmining.workbench", perm="news.workbench"),
    Route(
        "textmining.workbench_decide",
        perm="news.workbench",
        args=lambda w: {"action": "dismiss"},
        body=lambda w: {"category": "person", "canonical": "Ivan Petrov"},
    ),
    Route(
        "textmining.workbench_dismiss_many",
        perm="news.workbench",
        body=lambda w: {"item": ["person|Ivan Petrov"]},
    ),
    Route(
        "textmining.workbench_undo",
        perm="news.workbench",
        args=lambda w: {"decision_id": w.news_decision_id},
        body=_dismissed_again,
    ),
]
