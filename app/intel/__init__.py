"""Intelligence: entity registry, links, graded reports, entity resolution, link analysis."""

from app.core.registry import (
    DemoLoader,
    HomePanel,
    NavItem,
    RecordPanel,
    add_demo_loader,
    add_home_panel,
    add_nav_item,
    add_record_panel,
)


def init_app(app):
    from app.core.retention import register_sources
    from app.intel import retention

    register_sources(app, retention.SOURCES)  # reports and entities come up for review

    from app.intel import (  # noqa: F401
        api,
        models,  # noqa: F401  (tables)
        search,
        views,
        views_graph,
        views_reports,
        views_resolution,
    )
    from app.intel.demo import load_intel_demo
    from app.intel.receivers import connect

    connect()
    app.register_blueprint(views.bp)
    api.init_app(app)
    search.register(app)
    add_nav_item(
        app,
        NavItem(
            "Intelligence",
            "intel.entities",
            "entity.view",
            order=300,
            children=(
                ("Entities", "intel.entities", "entity.view"),
                ("Intelligence reports", "intel.reports_list", "intel.view"),
                ("Review queue", "intel.review_queue", "intel.view"),
                ("Link chart", "intel.chart", "entity.view"),
                ("Entity resolution", "intel.resolution_queue", "entity.merge"),
                ("Import CSV", "intel.import_csv", "entity.edit"),
            ),
        ),
    )
    add_home_panel(
        app,
        HomePanel(
            "Intelligence", "intel/_home_panel.html", _home_panel, permission="intel.view", order=40
        ),
    )
    add_record_panel(
        app,
        RecordPanel(
            "case",
            "Saved charts",
            "intel/_case_charts.html",
            _case_charts,
            permission="entity.view",
        ),
    )
    add_demo_loader(app, DemoLoader("intelligence entities and links", load_intel_demo, order=40))


def _home_panel(actor):
    """Reports past their review date and resolution candidates waiting for a judgement."""
    from app.intel import reports, resolution

    review = len(reports.review_queue(actor))
    matches = len(resolution.pending_matches(actor, limit=500)) if actor.can("entity.merge") else 0
    if not review and not matches:
        return None
    return {"review": review, "matches": matches}


def _case_charts(actor, case):
    """The link charts saved in a case, newest first (the case page has opened the case)."""
    from app.intel import graph

    charts = graph.charts_for_case(case.id, actor=actor)
    return {"charts": charts} if charts else None
