"""Open-source news mining: feeds, articles, extraction of customs terms and entities,
dependency networks and the promotion workbench."""

from app.core.registry import (
    DemoLoader,
    HomePanel,
    NavItem,
    add_demo_loader,
    add_home_panel,
    add_nav_item,
)


def init_app(app):
    from app.core.retention import register_sources
    from app.textmining import retention

    register_sources(app, retention.SOURCES)  # articles come up for review

    from app.jobs.registry import JobSpec, add_job
    from app.search.registry import add_search_source
    from app.textmining import cli, models, views, views_admin  # noqa: F401 - tables, routes
    from app.textmining.demo import load_textmining_demo
    from app.textmining.search import article_search_source
    from app.textmining.tasks import poll_due_feeds, watch_network

    app.register_blueprint(views.bp)
    cli.init_app(app)
    add_nav_item(
        app,
        NavItem(
            "News",
            "textmining.articles",
            "news.view",
            order=600,
            children=(
                ("Articles", "textmining.articles", "news.view"),
                ("Network", "textmining.network", "news.view"),
                ("Feeds", "textmining.feeds", "news.view"),
                ("Terms", "textmining.terms", "news.view"),
                ("Workbench", "textmining.workbench", "news.workbench"),
            ),
        ),
    )
    add_home_panel(
        app,
        HomePanel(
            "Latest news",
            "textmining/_home_panel.html",
            views.home_panel,
            permission="news.view",
            order=60,
        ),
    )
    add_search_source(app, article_search_source())
    add_job(
        app,
        JobSpec(
            "textmining.poll_feeds",
            poll_due_feeds,
            "interval",
            {"minutes": 1},
            "Poll the news feeds that are due",
        ),
    )
    add_job(
        app,
        JobSpec(
            "textmining.watch_network",
            watch_network,
            "cron",
            {"hour": 5, "minute": 30},
            "Signal dependency-network edges that appeared or grew sharply",
        ),
    )
    add_demo_loader(app, DemoLoader("news feeds and articles", load_textmining_demo, order=60))
